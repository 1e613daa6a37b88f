//! The interfaces shared by the example hosts and plugins, mirroring go-plugin's examples.

use plugin_runtime::{HandshakeConfig, PluginError, plugin_interface};

/// The handshake every go-plugin example uses: protocol version 1, cookie `BASIC_PLUGIN=hello`.
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");

/// go-plugin's examples/grpc key/value service, `proto.KV`, byte-for-byte on the wire.
#[plugin_interface(package = "proto", service = "KV")]
pub trait Kv {
    /// The value stored under `key`.
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
    /// Stores `value` under `key`.
    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
}
