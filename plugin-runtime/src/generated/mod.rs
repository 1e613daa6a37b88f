//! Protobuf code for go-plugin's own services, checked in so that building needs no `protoc`.
//!
//! `plugin.rs` is generated from `proto/plugin/*.proto` by `cargo run -p plugin-proto`; never
//! edit it by hand. The `drift` test of `plugin-proto` fails when it is stale.

/// go-plugin's internal services (proto package `plugin`): `GRPCBroker`, `GRPCController` and
/// `GRPCStdio`, as clients and servers.
// Generated code is not written to our lints: its items are `pub` inside a private module and
// not all of them are used. Today only `unreachable_pub` fires; the rest keep a newer tonic
// from breaking `clippy -D warnings` between regenerations.
#[allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    missing_debug_implementations,
    clippy::all
)]
pub mod plugin {
    include!("plugin.rs");
}
