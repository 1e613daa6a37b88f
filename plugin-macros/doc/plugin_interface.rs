use go_plugin::{PluginError, plugin_interface};

/// A key-value store, wire-compatible with go-plugin's `examples/grpc`.
#[plugin_interface(package = "proto", service = "KV")]
pub trait Kv {
    /// Reads the value stored under `key`.
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError>;
    /// Stores `value` under `key`.
    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError>;
}

struct Memory;

impl Kv for Memory {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        Err(PluginError::not_found(format!("no such key: {key}")))
    }

    async fn put(&self, _key: String, _value: Vec<u8>) -> Result<(), PluginError> {
        Ok(())
    }
}

fn main() {
    // In a plugin: serve an implementation.
    let server = KvPlugin::server(Memory);
    assert_eq!(server.name(), "proto.KV");
    // For a Go or Python author: the equivalent .proto.
    assert!(KV_PROTO.contains("rpc Get(GetRequest) returns (GetResponse);"));
}
