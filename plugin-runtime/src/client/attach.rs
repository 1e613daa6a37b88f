//! Attaching to a plugin that has an address: dial it, start copying its stdio, run the broker
//! stream. A launched plugin is attached right after its handshake; a reattached one is attached
//! without being launched.

use std::time::Duration;

use super::process::PluginProcess;
use crate::Error;
use crate::broker::Broker;
use crate::exit::{ExitNotifier, ExitWatch};
use crate::handshake::Network;
use crate::mux::{Mux, Role};
use crate::session::Session;
use crate::stdio::Sink;
use crate::tls::Tls;
use crate::transport;

/// A plugin with an address: launched and handshaken, or found running.
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
}

/// What the host configured for every connection.
pub(crate) struct Attach {
    pub(crate) sync_stdout: Sink,
    pub(crate) sync_stderr: Sink,
    pub(crate) grace: Duration,
}

/// Connects to the plugin (lazily, as go-plugin does, unless the connection is multiplexed:
/// then the one connection is made at once) and starts the tasks every connection has.
pub(crate) async fn attach(target: Target, config: Attach) -> Result<Session, Error> {
    let (channel, stdio_channel, broker) = if target.multiplex {
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
        let channel = transport::dial_with(move || {
            let (mux, tls) = (mux.clone(), tls.clone());
            async move { tls.connect(mux.open().await?).await }
        });
        (channel.clone(), channel, broker)
    } else {
        let channel = transport::dial(&target.address, &target.tls);
        // Stdio on a connection of its own: a call that blocks the plugin in `println!` then
        // never waits on its own connection's task, and our plugins skip a yield per call that
        // guards against that (`stdio::may_drain_through`).
        let stdio_channel = transport::dial(&target.address, &target.tls);
        let broker = Broker::new(target.tls.clone(), false, Some(target.exit.clone()), None);
        (channel, stdio_channel, broker)
    };
    tokio::spawn(crate::stdio::copy_to_sinks(
        stdio_channel,
        target.exit.clone(),
        config.sync_stdout,
        config.sync_stderr,
    ));
    tokio::spawn(crate::broker::open_stream(channel.clone(), broker.clone()));
    Ok(Session::new(channel, broker, target, config.grace))
}
