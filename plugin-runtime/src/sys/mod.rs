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
