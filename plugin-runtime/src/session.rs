//! One live plugin as the host sees it: its connection, its process and how it ended.
//!
//! Every handle to a plugin — the [`Client`](crate::Client), each [`Connection`](crate::Connection)
//! and every client dispensed from it — holds the session. The plugin is stopped when the last
//! handle goes away (so `Client::start(…).await?.dispense::<P>()?` keeps its plugin alive for as
//! long as the dispensed client lives) or when [`Session::kill`] is called.

use std::time::Duration;

use tokio::sync::Mutex;
use tonic::transport::Channel;

use crate::broker::Broker;
use crate::client::attach::Target;
use crate::client::process::PluginProcess;
use crate::controller;
use crate::exit::{ExitNotifier, ExitWatch};
use crate::handshake::PROTOCOL_GRPC;
use crate::reattach::{ReattachAddress, ReattachConfig};

/// How long the host waits for a plugin to exit after `Shutdown` before it kills it; go-plugin
/// hard-codes the same 2 s.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How long [`Session::kill`] waits for a killed plugin to be reaped, beyond the grace period.
pub(crate) const REAP_MARGIN: Duration = Duration::from_secs(1);

/// How long the plugin's stdout and stderr get to reach EOF once it has gone, before the host
/// looks for other processes still holding them: the readers see the EOF within microseconds
/// unless one does.
const PIPE_EOF: Duration = Duration::from_millis(50);

#[derive(Debug)]
pub(crate) struct Session {
    channel: Channel,
    exit: ExitWatch,
    /// The process the host may signal: `None` when it may not (a reattached plugin in test mode).
    process: Option<PluginProcess>,
    reattach: ReattachConfig,
    grace: Duration,
    kill_lock: Mutex<()>,
    broker: Broker,
    /// Keeps the plugin counted as running when nothing can tell that it exited.
    _notifier: Option<ExitNotifier>,
}

impl Session {
    pub(crate) fn new(channel: Channel, broker: Broker, target: Target, grace: Duration) -> Self {
        let reattach = ReattachConfig {
            protocol: PROTOCOL_GRPC.to_owned(),
            protocol_version: target.version,
            address: ReattachAddress::from_network(&target.address),
            pid: target.pid,
            test: target.test,
        };
        Session {
            channel,
            exit: target.exit,
            process: target.process,
            reattach,
            grace,
            kill_lock: Mutex::new(()),
            broker,
            _notifier: target.notifier,
        }
    }

    pub(crate) fn channel(&self) -> &Channel {
        &self.channel
    }

    pub(crate) fn exit(&self) -> &ExitWatch {
        &self.exit
    }

    pub(crate) fn broker(&self) -> &Broker {
        &self.broker
    }

    pub(crate) fn version(&self) -> u32 {
        self.reattach.protocol_version
    }

    pub(crate) fn reattach_config(&self) -> ReattachConfig {
        self.reattach.clone()
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
        process.pipes_closed_within(PIPE_EOF).await;
        process.kill();
    }
}
