//! The KV host, like go-plugin's examples/grpc host: `kv put KEY VALUE`, `kv get KEY`.
//!
//! The plugin command comes from `KV_PLUGIN` (run through `sh -c`, as go-plugin's example does)
//! and defaults to the `kv-plugin` binary beside this one. `kv proto` prints the `.proto` text of
//! the interface, for writing the plugin in another language. `KV_VERSIONS` (for example `2,3`)
//! lists the protocol versions offered, as go-plugin's examples/negotiated host does with
//! `negotiated-plugin` (default: `1`). `KV_AUTO_MTLS=1` turns on go-plugin's AutoMTLS, as
//! Terraform does for its providers. Logs go to stderr; `RUST_LOG` sets their level (default
//! `warn`).

use std::process::ExitCode;

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig, PluginInterface};

#[tokio::main]
async fn main() -> ExitCode {
    examples::host::init_logging();

    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let operation = match args.as_slice() {
        ["proto"] => {
            print!("{}", KvPlugin::PROTO);
            return Ok(());
        }
        ["get", key] => Operation::Get(key),
        ["put", key, value] => Operation::Put(key, value),
        [other, ..] if !matches!(*other, "get" | "put") => {
            return Err(format!("please only use 'get' or 'put', given: {other:?}"));
        }
        _ => return Err("usage: kv get KEY | kv put KEY VALUE | kv proto".to_owned()),
    };

    let config = ClientConfig::new(
        HANDSHAKE,
        examples::host::plugin_command("KV_PLUGIN", "kv-plugin")?,
    )
    .versions(versions()?)
    .auto_mtls(std::env::var_os("KV_AUTO_MTLS").is_some_and(|value| value == "1"))
    .sync_stdout(tokio::io::stderr())
    .sync_stderr(tokio::io::stderr());
    let client = Client::start(config).await.map_err(|err| err.to_string())?;
    let result = call(&client, operation).await;
    client.kill().await;
    result
}

enum Operation<'a> {
    Get(&'a str),
    Put(&'a str, &'a str),
}

async fn call(client: &Client, operation: Operation<'_>) -> Result<(), String> {
    let kv = client
        .dispense::<KvPlugin>()
        .map_err(|err| err.to_string())?;
    match operation {
        Operation::Get(key) => {
            let value = kv
                .get(key.to_owned())
                .await
                .map_err(|err| err.to_string())?;
            println!("{}", String::from_utf8_lossy(&value));
        }
        Operation::Put(key, value) => {
            kv.put(key.to_owned(), value.as_bytes().to_vec())
                .await
                .map_err(|err| err.to_string())?;
        }
    }
    Ok(())
}

/// The versions in `KV_VERSIONS`, or the handshake's.
fn versions() -> Result<Vec<u32>, String> {
    match std::env::var("KV_VERSIONS") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| format!("KV_VERSIONS: {v:?} is not a version number"))
            })
            .collect(),
        _ => Ok(vec![HANDSHAKE.protocol_version]),
    }
}
