//! One live plugin as the host sees it: its connection, its process and how it ended.
//!
//! Every handle to a plugin — the [`Client`](crate::Client), each [`Connection`](crate::Connection)
//! and every client dispensed from it — holds the session. The plugin is stopped when the last
//! handle goes away (so `Client::start(…).await?.dispense::<P>()?` keeps its plugin alive for as
//! long as the dispensed client lives) or when [`Session::kill`] is called.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use super::controller;
use super::log::StderrTail;
use super::process::PluginProcess;
use super::stdio::Sink;
use crate::error::Error;
use crate::net::channel::{Channel, Dial};
use crate::net::mux::{Mux, Role};
use crate::net::tls::Tls;
use crate::net::transport;
use crate::protocol::handshake::Network;
use crate::protocol::handshake::PROTOCOL_GRPC;
use crate::protocol::reattach::{ReattachAddress, ReattachConfig};
use crate::rpc::broker::Broker;
use crate::rpc::exit::{ExitNotifier, ExitWatch};

/// How long the host waits for a plugin to exit after `Shutdown` before it kills it; go-plugin
/// hard-codes the same 2 s.
pub(crate) const DEFAULT_GRACE: Duration = Duration::from_secs(2);

/// How long [`Session::kill`] waits for a killed plugin to be reaped, beyond the grace period.
pub(crate) const REAP_MARGIN: Duration = Duration::from_secs(1);

/// How long the plugin's stdout and stderr get to reach EOF once it has gone, before the host
/// looks for other processes still holding them: the readers see the EOF within microseconds
/// unless one does.
const PIPE_EOF: Duration = Duration::from_millis(50);

/// A plugin with an address: launched and handshaken (`launch`), or found running (`reattach`).
/// [`Session::connect`] turns it into the session that owns it.
pub(crate) struct Target {
    pub(crate) address: Network,
    /// The TLS the plugin's connections use, in both roles.
    pub(crate) tls: Tls,
    /// Whether every connection is a stream of one yamux session (go-plugin's multiplexing).
    pub(crate) multiplex: bool,
    pub(crate) version: u32,
    /// The plugin's pid, 0 when unknown.
    pub(crate) pid: u32,
    pub(crate) exit: ExitWatch,
    /// The process the host may signal, if any.
    pub(crate) process: Option<PluginProcess>,
    /// Whether the plugin runs on its own (go-plugin's test mode): never stopped by the host.
    pub(crate) test: bool,
    /// Held for as long as the session lives when nothing reports the plugin's exit.
    pub(crate) notifier: Option<ExitNotifier>,
    /// The last lines of a launched plugin's stderr.
    pub(crate) tail: Option<StderrTail>,
}

/// What the host configured for every connection.
pub(crate) struct Attach {
    pub(crate) sync_stdout: Sink,
    pub(crate) sync_stderr: Sink,
    pub(crate) grace: Duration,
    /// Calls go through tonic's `Channel` rather than straight onto h2: for measuring one beside
    /// the other (`inspect::through_tonic_channel`).
    pub(crate) through_tonic: bool,
}

/// The one owner of a live plugin: its connection, its broker and, when the host may signal it,
/// its process, which is killed with everything it started when the last handle goes.
#[derive(Debug)]
pub(crate) struct Session {
    channel: Channel,
    /// Makes one more connection to the plugin, as the channel's are made.
    dial: DebugDial,
    tail: Option<StderrTail>,
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
    /// Connects to the plugin (lazily, as go-plugin does, unless the connection is multiplexed:
    /// then the one connection is made at once) and starts the tasks every connection has.
    pub(crate) async fn connect(target: Target, config: Attach) -> Result<Arc<Session>, Error> {
        let (dial, broker): (Dial, Broker) = if target.multiplex {
            let io = transport::connect(&target.address, &Tls::default())
                .await
                .map_err(|err| Error::io("failed to connect to the plugin", err))?;
            let (mux, mut inbound) = Mux::start(io, Role::Client);
            let broker = Broker::new(target.tls.clone(), true, Some(target.exit.clone()), None);
            broker.set_mux(mux.clone());
            let router = broker.clone();
            tokio::spawn(async move {
                while let Some(stream) = inbound.recv().await {
                    // The host serves nothing on the main connection: a stream nobody knocked for
                    // is refused.
                    drop(router.route(stream));
                }
            });
            let tls = target.tls.clone();
            let dial = transport::dialing(move || {
                let (mux, tls) = (mux.clone(), tls.clone());
                async move { tls.connect(mux.open().await?).await }
            });
            (dial, broker)
        } else {
            let dial = transport::dialer(&target.address, &target.tls);
            let broker = Broker::new(target.tls.clone(), false, Some(target.exit.clone()), None);
            (dial, broker)
        };
        let (channel, stdio_channel) = if target.multiplex {
            let channel = Channel::dial_with(Arc::clone(&dial));
            (channel.clone(), channel)
        } else {
            let channel = if config.through_tonic {
                transport::dial_tonic(&target.address, &target.tls)
            } else {
                Channel::dial_with(Arc::clone(&dial))
            };
            // Stdio on a connection of its own: a call that blocks the plugin in `println!` then
            // never waits on its own connection's task, and our plugins skip a yield per call that
            // guards against that (`CallContext::stdio_may_drain_through`).
            (channel, Channel::dial_with(Arc::clone(&dial)))
        };
        tokio::spawn(super::stdio::copy_to_sinks(
            stdio_channel,
            target.exit.clone(),
            config.sync_stdout,
            config.sync_stderr,
        ));
        tokio::spawn(crate::rpc::broker::open_stream(
            channel.clone(),
            broker.clone(),
        ));
        Ok(Arc::new(Session::new(
            channel,
            dial,
            broker,
            target,
            config.grace,
        )))
    }

    fn new(channel: Channel, dial: Dial, broker: Broker, target: Target, grace: Duration) -> Self {
        let reattach = ReattachConfig {
            protocol: PROTOCOL_GRPC.to_owned(),
            protocol_version: target.version,
            address: ReattachAddress::from_network(&target.address),
            pid: target.pid,
            test: target.test,
        };
        Session {
            channel,
            dial: DebugDial(dial),
            tail: target.tail,
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

    /// One more connection to the plugin, made as its channel's are.
    pub(crate) fn dial(
        &self,
    ) -> impl Future<Output = std::io::Result<crate::net::io::BoxedIo>> + use<> {
        (self.dial.0)()
    }

    /// The last lines the plugin wrote to stderr, when it was launched by this host.
    pub(crate) fn last_stderr(&self) -> String {
        self.tail
            .as_ref()
            .map(StderrTail::render)
            .unwrap_or_default()
    }

    pub(crate) fn exit(&self) -> &ExitWatch {
        &self.exit
    }

    pub(crate) fn broker(&self) -> &Broker {
        &self.broker
    }

    /// The plugin's pid, 0 when unknown.
    pub(crate) fn pid(&self) -> u32 {
        self.reattach.pid
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
        if let Some(descendants) = descendants {
            descendants.kill();
        }
        process.pipes_closed_within(PIPE_EOF).await;
        process.kill();
    }
}

/// A [`Dial`] in a `Debug` struct.
struct DebugDial(Dial);

impl std::fmt::Debug for DebugDial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dial")
    }
}
