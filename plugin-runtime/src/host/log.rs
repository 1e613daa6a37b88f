//! The plugin's log channel on the host side: plugin stderr read line by line, each line turned
//! into a record by go-plugin's rules and re-emitted as a `tracing` event (`mirror_stderr`), and
//! the last lines kept to explain a plugin that dies before its handshake (`StderrTail`).

mod mirror;
mod tail;

pub(crate) use mirror::{DEFAULT_BUFFER, mirror_stderr};
pub(crate) use tail::StderrTail;

#[cfg(test)]
mod hostile;
#[cfg(test)]
mod tests;
