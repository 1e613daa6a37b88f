//! Finding a plugin that is already running, from its [`ReattachConfig`]: go-plugin's reattach,
//! with its error when the plugin is gone, and an exit the host hears about from the kernel
//! (through the plugin's pidfd) instead of polling its pid every second.

use std::time::Duration;

use super::process::PluginProcess;
use super::session::Target;
use crate::error::Error;
use crate::net::tls::Tls;
use crate::protocol::handshake::Network;
use crate::protocol::reattach::ReattachConfig;
use crate::rpc::exit::{self, ExitNotifier};
use crate::sys::process::PidFd;

/// How long the reachability check may take.
const DIAL_CHECK: Duration = Duration::from_secs(5);

/// The running plugin `config` describes, or go-plugin's `reattachment process not found`.
pub(crate) async fn find(config: &ReattachConfig, tls: Tls) -> Result<Target, Error> {
    let handle = match config.pid {
        0 => None,
        pid => match PidFd::open(pid) {
            Ok(handle) if !handle.has_exited() => Some(handle),
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
        Some(handle) => {
            // The handle that watches the exit is the one signals go through: a pid reused
            // after the plugin exited is never signalled.
            let watcher = PidFd::open(config.pid).map_err(|_| Error::ProcessNotFound)?;
            tokio::spawn(report_exit(watcher, notifier));
            if !config.test {
                process = Some(PluginProcess::reattached(handle));
            }
        }
        None => keep = Some(notifier),
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
            Network::Unix(path) => tokio::net::UnixStream::connect(path).await.is_ok(),
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

/// Reports the plugin's exit when its pidfd becomes readable. Not our child, so how it ended
/// is not known.
async fn report_exit(handle: PidFd, notifier: ExitNotifier) {
    handle.exited().await;
    tracing::debug!("reattached plugin process exited");
    notifier.exited(None);
}
