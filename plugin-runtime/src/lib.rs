//! Serve and launch [HashiCorp go-plugin](https://github.com/hashicorp/go-plugin) compatible
//! gRPC plugins whose interface is an ordinary Rust trait.
//!
//! New here? The [guide] goes through plugins, hosts, messages, errors, callbacks and streams,
//! TLS, debugging, testing and logging, and maps go-plugin's names to this crate's items.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Our one build without the `tls` feature is the compile-fail cases' project (tests/ui), where
// warnings do not fail the build: what the feature's absence leaves unused must fail it there.
// (Registry builds cap lints, so users are not affected.)
#![cfg_attr(not(feature = "tls"), deny(unused))]

// A map for contributors. The runtime is in layers; each imports only the ones below it, and a
// test (`layers`) keeps it so:
//
//   sys/       the operating system: process handles, descendants and pipe holders, the parent
//              process, fds 1 and 2, users and modes, signals. The only place `unsafe` lives.
//   protocol/  go-plugin's formats, pure: handshake line and negotiation, reattach JSON, hclog.
//   net/       bytes between two processes: listeners, the connection builder, the host's HTTP/2
//              client (`Channel`, calls written into h2 by the calling task), TLS and AutoMTLS,
//              yamux, the `:authority` rewriter. Knows nothing of brokers or interfaces.
//   rpc/       gRPC on top: interfaces, `Stream<T>`, `Connection` and its calls, the server side
//              of every call and its `CallContext`, callbacks, the broker.
//   host/      launch, reattach, attach, the session that owns the plugin process, kill,
//   plugin/    serve, debug mode, the host watch, stdio, the controller, the plugin's logging.
//              host/ and plugin/ sit side by side and never import each other.
//
// Beside the layers: `error` (the crate's errors, used by every layer), `sync` (the one lock
// helper of the std mutexes) and `generated` (go-plugin's own protos, from proto/'s codegen) at
// the bottom; at the top, with this file's
// re-exports, `inspect` and `__private` (private.rs: what generated code uses, with the message
// codecs of `wire` and the `.proto` definitions of `definitions`).

mod definitions;
mod error;
mod generated;
pub mod guide;
mod host;
#[cfg(test)]
mod hostile;
#[cfg(feature = "unstable-inspect")]
pub mod inspect;
#[cfg(test)]
mod layers;
mod net;
mod plugin;
mod protocol;
mod rpc;
mod sync;
mod sys;
mod wire;

pub use error::{ChecksumError, Code, Error, PluginError, ReattachError, Status};
#[cfg(feature = "tls")]
pub use error::{DerError, TlsError};
pub use go_plugin_macros::{Proto, plugin_interface};
pub use host::{
    Client, ClientConfig, Hash, PluginExitedError, PluginState, RestartPolicy, SecureConfig,
    cleanup_clients, cleanup_clients_on_signal,
};
pub use net::MAX_MESSAGE_SIZE;
pub use net::channel::{Channel, ResponseBody, ResponseFuture};
pub use net::listener::Transport;
pub use net::tls::TlsConfig;
/// The OpenTelemetry API this crate uses (the `opentelemetry` feature): trace context passes
/// between a program and this crate only through the same version of it.
#[cfg(feature = "opentelemetry")]
pub use opentelemetry;
pub use plugin::{ServeConfig, debug_requested, init_plugin_logging, serve};
pub use protocol::handshake::HandshakeConfig;
pub use protocol::hclog::HclogLayer;
pub use protocol::reattach::{ReattachAddress, ReattachConfig};
pub use rpc::broker::{Broker, BrokeredServer};
pub use rpc::connection::Connection;
pub use rpc::interface::{PluginInterface, PluginServer};
pub use rpc::stream::{Stream, StreamSender};
/// The rustls this crate uses, for building a [`TlsConfig`].
#[cfg(feature = "tls")]
pub use rustls;
/// The tonic this crate uses: [`Status`], [`Code`] and [`Connection::channel`] are tonic's, and a
/// hand-written service served with [`PluginServer::new`] is a tonic service.
pub use tonic;
/// The `tracing-opentelemetry` this crate uses (the `opentelemetry` feature), for a subscriber's
/// OpenTelemetry layer: the spans it records are the ones this crate reads the context of.
#[cfg(feature = "opentelemetry")]
pub use tracing_opentelemetry;

/// The AutoMTLS handshake, for the `tests` crate's checks against Go's crypto/tls. Not a public
/// API (the `unstable-inspect` feature): it changes without notice.
#[cfg(all(feature = "tls", feature = "unstable-inspect", unix))]
#[doc(hidden)]
pub use net::mtls::testing as __tls_testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
