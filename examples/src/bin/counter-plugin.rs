//! A counter plugin like go-plugin's examples/bidirectional plugin: `put` asks the host's
//! `AddHelper` (a callback the host serves through the broker) to add the new value to the count
//! stored in `kv_<key>`, and stores the sum as `{"Value":N}`.

use std::process::ExitCode;

use examples::{AddHelper, Counter, CounterPlugin, HANDSHAKE, store};
use go_plugin::{PluginError, ServeConfig, serve};

struct FileCounter;

impl Counter for FileCounter {
    async fn get(&self, key: String) -> Result<i64, PluginError> {
        store::read_count(&key).await
    }

    async fn put(
        &self,
        add_server: impl AddHelper,
        key: String,
        value: i64,
    ) -> Result<(), PluginError> {
        let count = store::read_count(&key).await?;
        let sum = add_server.sum(count, value).await?;
        tracing::info!(key = %key, count, value, sum, "put");
        store::write_count(&key, sum).await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = ServeConfig::new(HANDSHAKE).plugin(CounterPlugin::server(FileCounter));
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "counter-plugin failed");
            ExitCode::FAILURE
        }
    }
}
