//! Windows, as go-plugin runs there and beyond: process handles where Unix has pidfds (waits,
//! `TerminateProcess`), a Job Object holding the plugin and everything it starts
//! (`KILL_ON_JOB_CLOSE`: `kill()` takes the tree, and a host that dies takes its plugins with
//! it), the parent watched through its process handle, Ctrl-C and Ctrl-Break for signals, and the
//! standard handles pointed at pipes for stdio. No Unix sockets: go-plugin listens on TCP there.

pub(crate) mod net;
pub(crate) mod parent;
pub(crate) mod process;
pub(crate) mod signals;
pub(crate) mod stdio;
pub(crate) mod tree;
pub(crate) mod users;

/// The last error of the calling thread as an `io::Error`.
fn last_error() -> std::io::Error {
    std::io::Error::last_os_error()
}

/// A `BOOL` result: nonzero is success.
fn check(ok: windows_sys::core::BOOL) -> std::io::Result<()> {
    if ok == 0 { Err(last_error()) } else { Ok(()) }
}
