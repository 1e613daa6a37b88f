//! One plugin binary serving two protocol versions of the KV interface, like go-plugin's
//! examples/negotiated plugin (whose version 2 is net/rpc; here both are gRPC). The host's
//! `PLUGIN_PROTOCOL_VERSIONS` decides which one answers; each marks what it writes and reads.

use std::process::ExitCode;

use examples::{Kv, KvPlugin, store};
use go_plugin::{HandshakeConfig, PluginError, ServeConfig, serve};

/// go-plugin's negotiated example has no default version: the host must name one.
const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(0, "BASIC_PLUGIN", "hello");

struct VersionedKv {
    version: u32,
}

impl Kv for VersionedKv {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        let mut value = store::read(&key).await?;
        value.extend_from_slice(format!("Read by plugin version {}\n", self.version).as_bytes());
        Ok(value)
    }

    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError> {
        let mut stored = value;
        stored.extend_from_slice(
            format!("\n\nWritten from plugin version {}\n", self.version).as_bytes(),
        );
        store::write(&key, &stored).await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = ServeConfig::new(HANDSHAKE)
        .version(2, [KvPlugin::server(VersionedKv { version: 2 })])
        .version(3, [KvPlugin::server(VersionedKv { version: 3 })]);
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "negotiated-plugin failed");
            ExitCode::FAILURE
        }
    }
}
