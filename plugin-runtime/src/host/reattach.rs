//! Finding a plugin that is already running, from its [`ReattachConfig`]: go-plugin's reattach,
//! with its error when the plugin is gone, and an exit the host hears about from the kernel
//! (through a handle on the plugin's process) instead of polling its pid every second, except
//! where the OS offers no handle.

use std::time::Duration;

use super::process::PluginProcess;
use super::session::Target;
use crate::error::Error;
use crate::net::tls::Tls;
use crate::protocol::handshake::Network;
use crate::protocol::reattach::ReattachConfig;
use crate::rpc::exit::{self, ExitNotifier};
use crate::sys::process::{ProcessHandle, exists, gone};

/// How often a reattached plugin's pid is checked where the OS offers no handle on it (what
/// go-plugin does everywhere).
const PID_POLL: Duration = Duration::from_secs(1);

/// How long the reachability check may take.
const DIAL_CHECK: Duration = Duration::from_secs(5);

/// The running plugin `config` describes, or go-plugin's `reattachment process not found`.
pub(crate) async fn find(config: &ReattachConfig, tls: Tls) -> Result<Target, Error> {
    let handle = match config.pid {
        0 => Watch::None,
        pid => match ProcessHandle::open(pid) {
            Ok(handle) if !handle.has_exited() => Watch::Handle(handle),
            Err(err) if err.kind() == std::io::ErrorKind::Unsupported && exists(pid) => {
                Watch::Pid(pid)
            }
            _ => return Err(Error::ProcessNotFound),
        },
    };
    let address = config.network();
    if !reachable(&address).await {
        return Err(Error::ProcessNotFound);
    }

    let (notifier, exit) = exit::channel();
    let mut keep = None;
    let mut process = None;
    match handle {
        Watch::Handle(handle) => {
            // The handle that watches the exit is the one signals go through: a pid reused
            // after the plugin exited is never signalled.
            let watcher = ProcessHandle::open(config.pid).map_err(|_| Error::ProcessNotFound)?;
            tokio::spawn(report_exit(watcher, notifier));
            if !config.test {
                process = Some(PluginProcess::reattached(handle));
            }
        }
        Watch::Pid(pid) => {
            // Dropping a `PluginProcess` kills it: a plugin in debug mode gets none.
            let reattached = (!config.test).then(|| PluginProcess::reattached_pid(pid));
            let reaped = reattached.as_ref().map(PluginProcess::reaped);
            tokio::spawn(async move {
                gone(pid, PID_POLL).await;
                if let Some(reaped) = reaped {
                    reaped.store(true, std::sync::atomic::Ordering::Release);
                }
                tracing::debug!("reattached plugin process exited");
                notifier.exited(None);
            });
            process = reattached;
        }
        Watch::None => keep = Some(notifier),
    }
    Ok(Target {
        tls,
        multiplex: false,
        address,
        version: config.protocol_version,
        pid: config.pid,
        exit,
        process,
        test: config.test,
        notifier: keep,
        tail: None,
    })
}

/// Whether something accepts connections at `address`.
async fn reachable(address: &Network) -> bool {
    let connect = async {
        match address {
            Network::Unix(path) => crate::net::transport::connect_unix(path).await.is_ok(),
            Network::Tcp(address) => {
                tokio::net::TcpStream::connect(crate::net::transport::tcp_target(address))
                    .await
                    .is_ok()
            }
        }
    };
    tokio::time::timeout(DIAL_CHECK, connect)
        .await
        .unwrap_or(false)
}

/// How the reattached plugin's exit is noticed.
enum Watch {
    /// No pid given (a plugin in a debugger): never.
    None,
    /// Through a handle on its process.
    Handle(ProcessHandle),
    /// By its pid, looked at now and then (the OS has no handles).
    Pid(u32),
}

/// Reports the plugin's exit when its handle tells. Not our child, so how it ended is not known.
async fn report_exit(handle: ProcessHandle, notifier: ExitNotifier) {
    handle.exited().await;
    tracing::debug!("reattached plugin process exited");
    notifier.exited(None);
}
