//! A streamer plugin like go-plugin's examples/streaming plugin: `Configure` names a file,
//! `Write` replaces its contents with the chunks it is sent, `Read` sends it back in chunks of
//! the configured size.

use std::process::ExitCode;
use std::sync::Mutex;

use examples::{HANDSHAKE, Streamer, StreamerPlugin};
use go_plugin::{PluginError, ServeConfig, Stream, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Default)]
struct FileStreamer {
    /// The file and the chunk size, once configured.
    config: Mutex<Option<(String, usize)>>,
}

impl FileStreamer {
    fn config(&self) -> Result<(String, usize), PluginError> {
        self.config
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))?
            .clone()
            .ok_or_else(|| {
                PluginError::with_code(go_plugin::Code::FailedPrecondition, "call Configure first")
            })
    }
}

impl Streamer for FileStreamer {
    async fn configure(&self, path: String, chunk_size: i64) -> Result<(), PluginError> {
        let chunk = usize::try_from(chunk_size)
            .ok()
            .filter(|&chunk| chunk > 0)
            .ok_or_else(|| PluginError::invalid_argument(format!("chunk size {chunk_size}")))?;
        tracing::debug!(path = %path, chunk_size, "configure");
        *self
            .config
            .lock()
            .map_err(|_| PluginError::internal("poisoned"))? = Some((path, chunk));
        Ok(())
    }

    async fn read(&self) -> Result<Stream<Vec<u8>>, PluginError> {
        let (path, chunk) = self.config()?;
        tracing::debug!(path = %path, "read");
        let mut file = tokio::fs::File::open(&path).await?;
        let (sender, chunks) = Stream::channel(4);
        tokio::spawn(async move {
            loop {
                let mut buffer = vec![0; chunk];
                let n = match file.read(&mut buffer).await {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(err) => {
                        let _ = sender.send(Err(err.into())).await;
                        break;
                    }
                };
                buffer.truncate(n);
                if sender.send(Ok(buffer)).await.is_err() {
                    break;
                }
            }
        });
        Ok(chunks)
    }

    async fn write(&self, mut bytes_to_write: Stream<Vec<u8>>) -> Result<(), PluginError> {
        let (path, _) = self.config()?;
        let mut file = tokio::fs::File::create(&path).await?;
        let mut written = 0;
        while let Some(chunk) = bytes_to_write.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            written += chunk.len();
        }
        file.flush().await?;
        tracing::debug!(path = %path, written, "write finished");
        Ok(())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let config =
        ServeConfig::new(HANDSHAKE).plugin(StreamerPlugin::server(FileStreamer::default()));
    match serve(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "streamer-plugin failed");
            ExitCode::FAILURE
        }
    }
}
