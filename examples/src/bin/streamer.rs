//! The streamer host, like go-plugin's examples/streaming host: `streamer FILE` configures the
//! plugin with FILE and chunks of 10 bytes, writes "Lorem ipsum dolor sit amet" through a client
//! stream, reads it back through a server stream and prints it.
//!
//! The plugin command comes from `STREAMER_PLUGIN` (run through `sh -c`) and defaults to the
//! `streamer-plugin` binary beside this one. Logs go to stderr; `RUST_LOG` sets their level
//! (default `warn`).

use std::process::ExitCode;

use examples::{HANDSHAKE, Streamer, StreamerPlugin};
use go_plugin::{Client, ClientConfig, Stream};

const TEXT: &[u8] = b"Lorem ipsum dolor sit amet";
const CHUNK: usize = 10;

#[tokio::main]
async fn main() -> ExitCode {
    examples::host::init_logging();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: streamer FILE");
        return ExitCode::FAILURE;
    };
    match run(path).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(path: &str) -> Result<(), String> {
    let client = Client::start(ClientConfig::new(
        HANDSHAKE,
        examples::host::plugin_command("STREAMER_PLUGIN", "streamer-plugin")?,
    ))
    .await
    .map_err(|err| err.to_string())?;
    let result = stream(&client, path).await;
    client.kill().await;
    result
}

async fn stream(client: &Client, path: &str) -> Result<(), String> {
    let streamer = client
        .dispense::<StreamerPlugin>()
        .map_err(|err| err.to_string())?;
    let fail = |err: go_plugin::PluginError| err.to_string();
    streamer
        .configure(path.to_owned(), CHUNK as i64)
        .await
        .map_err(fail)?;
    let chunks: Vec<Vec<u8>> = TEXT.chunks(CHUNK).map(<[u8]>::to_vec).collect();
    streamer.write(Stream::iter(chunks)).await.map_err(fail)?;
    let read: Vec<Vec<u8>> = streamer
        .read()
        .await
        .map_err(fail)?
        .collect()
        .await
        .map_err(fail)?;
    tracing::debug!(chunks = read.len(), "read back");
    println!("{}", String::from_utf8_lossy(&read.concat()));
    Ok(())
}
