//! A KV plugin that keeps each value in a file `kv_<key>` in its working directory, like
//! go-plugin's examples/grpc plugins. Started by a host (ours or go-plugin's); by hand only in
//! debug mode (`kv-plugin --debug`), which prints a reattach configuration for a host to use.

use std::process::ExitCode;

use examples::{HANDSHAKE, Kv, KvPlugin, store};
use go_plugin::{PluginError, ServeConfig, serve};

/// Appended to every stored value, as go-plugin's plugins do, so a reader can tell which plugin
/// wrote it.
const SIGNATURE: &[u8] = b"\n\nWritten from plugin-rust";

struct FileKv {
    /// `KV_PLUGIN_ECHO` set: also print each put to stdout and stderr (for stdio tests).
    echo: bool,
}

impl Kv for FileKv {
    async fn get(&self, key: String) -> Result<Vec<u8>, PluginError> {
        tracing::debug!(key = %key, "get");
        store::read(&key).await
    }

    async fn put(&self, key: String, value: Vec<u8>) -> Result<(), PluginError> {
        tracing::info!(key = %key, bytes = value.len(), "put");
        if self.echo {
            println!("kv-plugin stdout: put {key}");
            eprintln!("kv-plugin stderr: put {key}");
        }
        let mut stored = value;
        stored.extend_from_slice(SIGNATURE);
        store::write(&key, &stored).await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let kv = FileKv {
        echo: std::env::var_os("KV_PLUGIN_ECHO").is_some(),
    };
    // `kv-plugin --debug`: run by hand and print where a host can reattach.
    let config = ServeConfig::new(HANDSHAKE)
        .plugin(KvPlugin::server(kv))
        .debug(go_plugin::debug_requested());
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "kv-plugin failed");
            ExitCode::FAILURE
        }
    }
}
