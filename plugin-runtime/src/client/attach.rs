//! Attaching to a plugin that has an address: dial it, start copying its stdio, open the broker
//! stream. A launched plugin is attached right after its handshake; a reattached one is attached
//! without being launched.

use std::time::Duration;

use super::process::PluginProcess;
use crate::exit::ExitWatch;
use crate::handshake::Network;
use crate::session::Session;
use crate::stdio::Sink;

/// What attaching needs.
pub(crate) struct Attach {
    pub(crate) address: Network,
    pub(crate) version: u32,
    pub(crate) exit: ExitWatch,
    pub(crate) process: Option<PluginProcess>,
    pub(crate) sync_stdout: Sink,
    pub(crate) sync_stderr: Sink,
    pub(crate) grace: Duration,
}

/// Connects to the plugin (lazily, as go-plugin does) and starts the tasks every connection has.
pub(crate) fn attach(config: Attach) -> Session {
    let channel = crate::transport::dial(&config.address);
    tokio::spawn(crate::stdio::copy_to_sinks(
        channel.clone(),
        config.exit.clone(),
        config.sync_stdout,
        config.sync_stderr,
    ));
    tokio::spawn(crate::broker::open_stream(channel.clone()));
    Session::new(
        channel,
        config.exit,
        config.process,
        config.version,
        config.grace,
    )
}
