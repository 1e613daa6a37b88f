//! Logs across the process boundary, in hclog's JSON line format.
//!
//! A plugin writes its `tracing` events to stderr as hclog JSON ([`HclogLayer`],
//! [`init_plugin_logging`]); the host reads plugin stderr, turns each line back into a record by
//! go-plugin's rules, and re-emits it as a `tracing` event (`mirror_stderr`). Either side works
//! with a Go peer: Go hosts parse our plugins' lines, and Go plugins' hclog output (or plain
//! text, or a panic) comes out of our host at the right levels.

mod format;
mod mirror;
mod parse;
mod tail;
mod timestamp;

pub(crate) use format::install_plugin_subscriber;
pub use format::{HclogLayer, init_plugin_logging};
pub(crate) use mirror::{DEFAULT_BUFFER, mirror_stderr};
pub(crate) use parse::StderrParser;
pub(crate) use tail::StderrTail;

#[cfg(test)]
mod hostile;
#[cfg(test)]
mod tests;
