//! go-plugin's `CleanupClients`: one call stops every plugin this process started, for a host
//! that is about to exit, and a helper that does it when the host is interrupted or terminated.

use std::sync::{Arc, Mutex, Weak};

use super::supervise::Plugin;
use crate::error::Error;
use crate::sys::signals::{Kind, Signal};

/// Every plugin this process started and has not dropped. Touched only when a plugin starts and
/// on cleanup, never on a call.
static PLUGINS: Mutex<Vec<Weak<Plugin>>> = Mutex::new(Vec::new());

/// Records a started plugin, forgetting those that are gone. A supervised plugin is one entry
/// across its restarts: cleanup stops it, and with it its supervision.
pub(crate) fn register(plugin: &Arc<Plugin>) {
    let Ok(mut plugins) = PLUGINS.lock() else {
        return;
    };
    plugins.retain(|plugin| plugin.strong_count() > 0);
    plugins.push(Arc::downgrade(plugin));
}

/// Stops every plugin this process started that is still running, all at once, each as
/// [`Client::kill`](crate::Client::kill) does (`Shutdown`, the grace period, then SIGKILL).
///
/// Like go-plugin's `CleanupClients`, for a host about to exit; unlike it, it can be called more
/// than once, and plugins started afterwards work as usual.
pub async fn cleanup_clients() {
    let live: Vec<Arc<Plugin>> = match PLUGINS.lock() {
        Ok(mut plugins) => std::mem::take(&mut *plugins)
            .iter()
            .filter_map(Weak::upgrade)
            .collect(),
        Err(_) => return,
    };
    let mut kills = tokio::task::JoinSet::new();
    for plugin in live {
        kills.spawn(async move { plugin.kill().await });
    }
    kills.join_all().await;
}

/// Stops every plugin ([`cleanup_clients`]) when this process receives SIGINT or SIGTERM, then
/// exits with the status a shell reports for that signal (130 or 143).
///
/// Plugins share the host's process group, so a Ctrl-C at the terminal reaches them too; they
/// ignore it and wait for the host, which with this helper stops them cleanly instead of
/// leaving them to notice that it died. Must be called inside a tokio runtime.
pub fn cleanup_clients_on_signal() -> Result<(), Error> {
    let mut interrupt =
        Signal::handle(Kind::Interrupt).map_err(|err| Error::io("failed to handle SIGINT", err))?;
    let mut terminate = Signal::handle(Kind::Terminate)
        .map_err(|err| Error::io("failed to handle SIGTERM", err))?;
    tokio::spawn(async move {
        let status = tokio::select! {
            _ = interrupt.recv() => Kind::Interrupt.exit_status(),
            _ = terminate.recv() => Kind::Terminate.exit_status(),
        };
        tracing::debug!(status, "host interrupted, stopping its plugins");
        cleanup_clients().await;
        std::process::exit(status);
    });
    Ok(())
}
