//! What the doctor asks of the operating system, one file per OS family behind one small API, as
//! the runtime's `sys` does: SIGINT, the plugins' socket directory and a Unix-socket connect. The
//! orphan check's plugin is watched through the runtime's own process handles
//! (`go_plugin::inspect::WatchedProcess`). Each part also says, in words for the report, what it
//! cannot do where an OS lacks it, so a check is SKIPped with the reason instead of the doctor not
//! building.
//!
//! | | Linux | macOS, the BSDs, other Unix | Windows |
//! |---|---|---|---|
//! | kill the orphan check's intermediate host | SIGKILL | SIGKILL | `TerminateProcess` |
//! | SIGINT to the plugin | `kill` | `kill` | none: `signal.sigint` is SKIPped |
//! | Unix sockets, a 0700 socket directory | yes | yes | none: go-plugin listens on TCP there |
//!
//! The only module where `unsafe` is allowed.
#![allow(unsafe_code)]

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;
