//! One live plugin as the host sees it: its connection, its process and how it ended.
//!
//! Every handle to a plugin — the [`Client`](crate::Client), each [`Connection`](crate::Connection)
//! and every client dispensed from it — holds the session. The plugin is stopped when the last
//! handle goes away (so `Client::start(…).await?.dispense::<P>()?` keeps its plugin alive for as
//! long as the dispensed client lives) or when [`Session::kill`] is called.

use std::time::Duration;

use tokio::sync::Mutex;
use tonic::transport::Channel;

use crate::client::process::PluginProcess;
use crate::controller;
use crate::exit::ExitWatch;

/// How long the host waits for a plugin to exit after `Shutdown` before it kills it; go-plugin
/// hard-codes the same 2 s.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How long [`Session::kill`] waits for a killed plugin to be reaped, beyond the grace period.
pub(crate) const REAP_MARGIN: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Session {
    channel: Channel,
    exit: ExitWatch,
    /// The process the host may signal: `None` when it may not (a reattached plugin in test mode).
    process: Option<PluginProcess>,
    version: u32,
    grace: Duration,
    kill_lock: Mutex<()>,
}

impl Session {
    pub(crate) fn new(
        channel: Channel,
        exit: ExitWatch,
        process: Option<PluginProcess>,
        version: u32,
        grace: Duration,
    ) -> Self {
        Session {
            channel,
            exit,
            process,
            version,
            grace,
            kill_lock: Mutex::new(()),
        }
    }

    pub(crate) fn channel(&self) -> &Channel {
        &self.channel
    }

    pub(crate) fn exit(&self) -> &ExitWatch {
        &self.exit
    }

    pub(crate) fn version(&self) -> u32 {
        self.version
    }

    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(PluginProcess::pid)
    }

    /// Asks the plugin to shut down, waits for it to exit, and kills it when the grace period
    /// has passed. The grace period bounds the `Shutdown` call and the wait together.
    pub(crate) async fn kill(&self) {
        let _guard = self.kill_lock.lock().await;
        if self.exit.has_exited() {
            return;
        }
        let Some(process) = &self.process else {
            // Not ours to stop: a plugin in test mode outlives its hosts by design.
            return;
        };
        // Taken now: once the plugin has exited, its children are no longer its.
        let descendants = process.descendants();
        let deadline = tokio::time::Instant::now() + self.grace;
        let delivered = controller::request_shutdown(self.channel.clone(), self.grace).await;
        if delivered
            && tokio::time::timeout_at(deadline, self.exit.wait())
                .await
                .is_ok()
        {
            tracing::debug!("plugin exited");
        } else {
            tracing::warn!("plugin failed to exit gracefully");
            process.kill();
            // SIGKILL is not refused; only a process stuck in the kernel takes longer than this.
            let _ = tokio::time::timeout(REAP_MARGIN, self.exit.wait()).await;
        }
        descendants.kill();
        process.kill();
    }
}
