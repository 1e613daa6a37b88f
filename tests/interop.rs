//! Wire compatibility with the real go-plugin, in both directions, with real processes:
//! go-plugin's own example programs and Go programs of ours built against go-plugin v1.8.0 and
//! v1.4.10, and Python plugins and clients written from go-plugin's guide for non-Go plugins.
//!
//! Needs Go and Python 3 (with venv): `tests/interop/setup.sh`, run once by the first cell,
//! downloads the pinned Go modules and Python packages and builds everything. Without Go or
//! Python the cells fail with a message naming what to install; they never skip.
//! `tests/interop/README.md` lists the cells and what each proves.
#![allow(
    unsafe_code,
    reason = "These tests signal real processes through libc, as the behaviour under test is about processes."
)]

#[path = "interop/harness.rs"]
mod harness;

#[path = "interop/cells/go_host.rs"]
mod go_host;

#[path = "interop/cells/rust_host.rs"]
mod rust_host;

#[path = "interop/cells/python.rs"]
mod python;

#[path = "interop/cells/negotiation.rs"]
mod negotiation;

#[path = "interop/cells/generated_stubs.rs"]
mod generated_stubs;

#[path = "interop/cells/lifecycle.rs"]
mod lifecycle;

#[path = "interop/cells/reattach.rs"]
mod reattach;

#[path = "interop/cells/tls.rs"]
mod tls;

#[path = "interop/cells/broker.rs"]
mod broker;

#[path = "interop/cells/streaming.rs"]
mod streaming;

#[path = "interop/cells/load.rs"]
mod load;

#[path = "interop/cells/trace.rs"]
mod trace;
