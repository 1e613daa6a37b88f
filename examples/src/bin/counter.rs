//! The counter host, like go-plugin's examples/bidirectional host: `counter put KEY N` adds `N`
//! to the count under `KEY` (the plugin calls back into this host's `AddHelper` to do the sum),
//! `counter get KEY` prints it.
//!
//! The plugin command comes from `COUNTER_PLUGIN` (run through `sh -c`, as go-plugin's example
//! does) and defaults to the `counter-plugin` binary beside this one. `COUNTER_MULTIPLEX=1`
//! asks for go-plugin's broker multiplexing (`GRPCBrokerMultiplex`), `COUNTER_AUTO_MTLS=1` for
//! AutoMTLS. Logs go to stderr; `RUST_LOG` sets their level (default `warn`).

use std::process::ExitCode;

use examples::{AddHelper, Counter, CounterPlugin, HANDSHAKE};
use go_plugin::{Client, ClientConfig, PluginError};

/// The host's side of the sum, handed to the plugin with every `put`.
struct Adder;

impl AddHelper for Adder {
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        a.checked_add(b)
            .ok_or_else(|| PluginError::invalid_argument(format!("{a} + {b} overflows")))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    examples::host::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            println!("Error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let flag = |name: &str| std::env::var_os(name).is_some_and(|value| value == "1");
    let config = ClientConfig::new(
        HANDSHAKE,
        examples::host::plugin_command("COUNTER_PLUGIN", "counter-plugin")?,
    )
    .grpc_broker_multiplex(flag("COUNTER_MULTIPLEX"))
    .auto_mtls(flag("COUNTER_AUTO_MTLS"))
    .sync_stdout(tokio::io::stderr())
    .sync_stderr(tokio::io::stderr());
    let client = Client::start(config).await.map_err(|err| err.to_string())?;
    let result = call(&client, &args).await;
    client.kill().await;
    result
}

async fn call(client: &Client, args: &[&str]) -> Result<(), String> {
    let counter = client
        .dispense::<CounterPlugin>()
        .map_err(|err| err.to_string())?;
    match args {
        ["get", key] => {
            let count = counter
                .get((*key).to_owned())
                .await
                .map_err(|err| err.to_string())?;
            println!("{count}");
        }
        ["put", key, value] => {
            let value = value
                .parse()
                .map_err(|_| format!("{value:?} is not a whole number"))?;
            counter
                .put(Adder, (*key).to_owned(), value)
                .await
                .map_err(|err| err.to_string())?;
        }
        _ => return Err("Please only use 'get' or 'put'".to_owned()),
    }
    Ok(())
}
