//! A guide to plugins and hosts with this crate, chapter by chapter, for people new to go-plugin
//! and for people who know it from Go.
//!
//! The chapters, in reading order:
//!
//! 1. [Writing a plugin](plugin): an interface trait, its implementation, `serve`.
//! 2. [Writing a host](host): launching a plugin, dispensing its interface, stopping it.
//! 3. [Message structs](messages): prost structs as arguments and results, and traits that match
//!    an existing `.proto` field for field.
//! 4. [Errors and codes](errors): [`PluginError`](crate::PluginError), gRPC codes, and what a host
//!    sees when a plugin fails, panics, lacks a method or rejects the cookie.
//! 5. [Callbacks and streams](callbacks_and_streams): an `impl OtherInterface` argument served
//!    through the broker, and [`Stream<T>`](crate::Stream).
//! 6. [TLS and AutoMTLS](tls).
//! 7. [Reattaching and debugging](debugging): a plugin in debug mode, under a debugger, and
//!    `TF_REATTACH_PROVIDERS`.
//! 8. [Testing a plugin](testing): in-process and as a process.
//! 9. [Logging](logging): hclog JSON on the plugin's stderr, `tracing` on both sides.
//! 10. [Traces](traces): trace context across the process boundary (the `opentelemetry`
//!     feature).
//! 11. [From go-plugin](go_plugin_concepts): go-plugin's names and this crate's items.
//!
//! Every example is compiled as a doctest, and those that can run in the test process (or start
//! a plugin process of their own) are run. The shared interface in most of them is go-plugin's
//! examples/grpc `proto.KV` service, as in `examples/` of the repository.
//!
//! This module holds only documentation.

#[doc = include_str!("plugin.md")]
pub mod plugin {}

#[doc = include_str!("host.md")]
pub mod host {}

#[doc = include_str!("messages.md")]
pub mod messages {}

#[doc = include_str!("errors.md")]
pub mod errors {}

#[doc = include_str!("callbacks_and_streams.md")]
pub mod callbacks_and_streams {}

#[doc = include_str!("tls.md")]
pub mod tls {}

#[doc = include_str!("debugging.md")]
pub mod debugging {}

#[doc = include_str!("testing.md")]
pub mod testing {}

#[doc = include_str!("logging.md")]
pub mod logging {}

// The chapter's examples use the feature's reexports.
#[cfg_attr(feature = "opentelemetry", doc = include_str!("traces.md"))]
#[cfg_attr(
    not(feature = "opentelemetry"),
    doc = "Trace context across the process boundary: built with the `opentelemetry` feature."
)]
pub mod traces {}

#[doc = include_str!("go_plugin_concepts.md")]
pub mod go_plugin_concepts {}
