//! The greeter provider for OpenTofu and Terraform (`example.com/acme/greeter`, version 0.1.0):
//! a managed resource `greeter_hello` and a data source `greeter_info`, served over the
//! provider protocol version 6 (`tfplugin6.Provider`).
//!
//! - [`tfplugin6`]: the protocol's messages, declared from its field numbers and types.
//! - [`value`]: go-cty's msgpack and JSON encodings of object values, with null and unknown.
//! - [`provider`]: the provider's behaviour, request in, response out.
//! - [`service`]: the `#[plugin_interface]` trait for `tfplugin6.Provider` (whole-message
//!   methods, `#[rpc(whole)]`) and its implementation; the binary `terraform-provider-greeter`
//!   serves it.

use go_plugin::HandshakeConfig;

pub mod provider;
pub mod service;
pub mod tfplugin6;
pub mod value;

/// The handshake OpenTofu and Terraform use for providers: their magic cookie, served under
/// protocol version 6 (they offer 5 and 6, and pick the version the provider answers).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(
    6,
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

/// The provider's source address.
pub const ADDRESS: &str = "example.com/acme/greeter";

/// The provider's version.
pub const VERSION: &str = "0.1.0";
