//! Every call into the operating system about processes, descriptors, pipes and signals, behind
//! one small internal API: process handles ([`process`]), a process's descendants and the
//! holders of a pipe ([`tree`]), the parent seen from a child ([`parent`]), file descriptors 1
//! and 2 ([`stdio`]), users, groups and file modes ([`users`]), signals ([`signals`]), and what
//! an `accept` error means ([`net`]).
//!
//! The implementation is Linux's (pidfds, `/proc`). This is the only module where `unsafe` is
//! allowed; the layers above see safe functions and types only.
#![allow(unsafe_code)]

pub(crate) mod net;
pub(crate) mod parent;
pub(crate) mod process;
pub(crate) mod signals;
pub(crate) mod stdio;
pub(crate) mod tree;
pub(crate) mod users;
