//! The interfaces shared by the example hosts and plugins, mirroring go-plugin's examples, and
//! the greeter provider for OpenTofu ([`greeter`]).

use go_plugin::{HandshakeConfig, PluginError, plugin_interface};

pub mod greeter;

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

/// Where the example plugins keep values: a file `kv_<key>` in the working directory, as
/// go-plugin's example plugins do, so a `put` and a later `get` in two runs agree.
pub mod store {
    use go_plugin::PluginError;

    /// The stored bytes of `key`; `NotFound` when nothing was stored.
    pub async fn read(key: &str) -> Result<Vec<u8>, PluginError> {
        match tokio::fs::read(file_name(key)?).await {
            Ok(value) => Ok(value),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(PluginError::not_found(format!("no value for key {key:?}")))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn write(key: &str, value: &[u8]) -> Result<(), PluginError> {
        tokio::fs::write(file_name(key)?, value).await?;
        Ok(())
    }

    /// Keys become file names, so they must not reach outside the working directory.
    fn file_name(key: &str) -> Result<String, PluginError> {
        if key.is_empty() || key.contains('/') || key.contains('\0') {
            return Err(PluginError::invalid_argument(format!(
                "key {key:?} cannot be used as a file name"
            )));
        }
        Ok(format!("kv_{key}"))
    }
}
