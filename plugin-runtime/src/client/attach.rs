//! Attaching to a plugin that has an address: dial it, start copying its stdio, open the broker
//! stream. A launched plugin is attached right after its handshake; a reattached one is attached
//! without being launched.

use std::time::Duration;

use super::process::PluginProcess;
use crate::exit::{ExitNotifier, ExitWatch};
use crate::handshake::Network;
use crate::session::Session;
use crate::stdio::Sink;
use crate::tls::Tls;

/// A plugin with an address: launched and handshaken, or found running.
pub(crate) struct Target {
    pub(crate) address: Network,
    /// The TLS the plugin's connections use, in both roles.
    pub(crate) tls: Tls,
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

/// Connects to the plugin (lazily, as go-plugin does) and starts the tasks every connection has.
pub(crate) fn attach(target: Target, config: Attach) -> Session {
    let channel = crate::transport::dial(&target.address, &target.tls);
    tokio::spawn(crate::stdio::copy_to_sinks(
        channel.clone(),
        target.exit.clone(),
        config.sync_stdout,
        config.sync_stderr,
    ));
    tokio::spawn(crate::broker::open_stream(channel.clone()));
    Session::new(channel, target, config.grace)
}
