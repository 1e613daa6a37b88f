//! Every call into the operating system about processes, descriptors, pipes and signals, behind
//! one small internal API that each OS family implements in a folder of its own: process handles
//! (`process`), a process's descendants and the holders of a pipe (`tree`), the parent seen from
//! a child (`parent`), the standard streams (`stdio`), users, groups and file modes (`users`),
//! signals (`signals`), and what an `accept` error means (`net`).
//!
//! - `unix/`: what every Unix shares (signals, pipes, users, `poll`), with one file per kernel
//!   for what differs: Linux's pidfds and `/proc`, the kqueue of macOS and the BSDs, and a
//!   generic path for the rest. The generic path can be forced on Linux
//!   ([`unix::generic_forced`]), so the code macOS and the BSDs fall back on is run in CI, not
//!   only compiled.
//!
//! - `windows/`: process handles, a Job Object per plugin, the parent's handle, console events,
//!   `SetStdHandle`.
//!
//! This is the only module where `unsafe` is allowed; the layers above see safe functions and
//! types only.
#![allow(unsafe_code)]

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub(crate) use windows::*;

/// How an accept loop should take a failed `accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AcceptError {
    /// Out of descriptors or memory: retry after a pause (Go's `net/http` server does the same).
    OutOfResources,
    /// A connection that failed before it was accepted, or an interrupted call: retry at once.
    Passing,
    /// The listener itself is broken: the loop ends.
    Fatal,
}

/// Which signal a plugin or host handles: on Unix SIGINT and SIGTERM, on Windows the console's
/// Ctrl-C and Ctrl-Break.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    /// SIGINT; Ctrl-C.
    Interrupt,
    /// SIGTERM; Ctrl-Break.
    Terminate,
}

impl Kind {
    /// The status a shell reports for a process this signal ended, 130 or 143 (128 and the
    /// signal's POSIX number), on every OS.
    pub(crate) fn exit_status(self) -> i32 {
        128 + match self {
            Kind::Interrupt => 2,
            Kind::Terminate => 15,
        }
    }
}
