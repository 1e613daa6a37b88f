//! The plugin's own logs, as hclog lines on the original stderr: what [`init_plugin_logging`]
//! installs, and what `serve` installs when the plugin's author has installed nothing.

use std::fs::File;
use std::sync::Arc;

use crate::error::Error;
use crate::protocol::hclog::{HclogLayer, install};

/// Installs a global `tracing` subscriber that writes hclog JSON lines to the original stderr,
/// so the host shows the plugin's logs at their levels. It also routes `log` crate records.
///
/// Call it at the start of `main`, before serving. The filter comes from `RUST_LOG` (the host's
/// environment is passed on to plugins); when that is unset or empty, DEBUG and above is logged,
/// with the HTTP/2 and gRPC transport crates held at INFO.
///
/// Fails if stderr cannot be duplicated or a global subscriber is already installed.
pub fn init_plugin_logging() -> Result<(), Error> {
    install(HclogLayer::new()?)
}

/// Serve side: the subscriber of [`init_plugin_logging`], writing to `stderr_copy` (a duplicate
/// of the original stderr taken before fd 2 is redirected).
///
/// Does nothing when a global subscriber is already installed: the plugin's author has chosen
/// their own logging, perhaps with [`init_plugin_logging`] itself.
pub(crate) fn install_plugin_subscriber(stderr_copy: File) {
    let _ = install(HclogLayer::with_writer(Arc::new(stderr_copy)));
}
