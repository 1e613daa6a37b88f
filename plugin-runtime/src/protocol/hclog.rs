//! hclog's JSON line format, the log channel between plugin and host: a plugin writes its
//! `tracing` events as hclog lines ([`HclogLayer`]), a host turns each line of plugin stderr back
//! into a record by go-plugin's rules ([`StderrParser`]). Either side works with a Go peer.

mod format;
mod parse;
#[cfg(test)]
pub(crate) mod testing;
mod timestamp;

pub use format::HclogLayer;
pub(crate) use format::install;
pub(crate) use parse::{Record, StderrParser};
