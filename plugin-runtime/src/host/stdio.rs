//! `plugin.GRPCStdio` on the host side: the stream is read in its own task (a grpc-go or grpcio
//! server sends no headers before the first write, so awaiting the call inline would hang) and
//! copied to the sinks the host configured.

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::generated::plugin::grpc_stdio_client::GrpcStdioClient;
use crate::generated::plugin::stdio_data::Channel;
use crate::rpc::exit::ExitWatch;

/// Where the host copies a plugin's stdio; `None` discards (go-plugin's default).
pub(crate) type Sink = Option<Box<dyn AsyncWrite + Send + Unpin>>;

/// Host side: reads `StreamStdio` until the plugin goes away, copying each chunk to its sink.
/// A plugin without the service (older go-plugin, the Python example) is tolerated. A stream that
/// breaks while the plugin lives (rather than being ended by it) is opened again, so a plugin
/// never ends up blocked on a stdout nobody drains.
pub(crate) async fn copy_to_sinks(
    channel: crate::net::channel::Channel,
    exit: ExitWatch,
    mut stdout: Sink,
    mut stderr: Sink,
) {
    let mut backoff = RETRY_FIRST;
    loop {
        let mut client = GrpcStdioClient::new(channel.clone())
            .max_decoding_message_size(crate::net::MAX_MESSAGE_SIZE);
        match client.stream_stdio(()).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                loop {
                    let chunk = match stream.message().await {
                        Ok(Some(chunk)) => chunk,
                        Ok(None) => {
                            // The plugin ended the stream on purpose: there is nothing more.
                            tracing::trace!("received EOF, stopping recv loop");
                            return;
                        }
                        Err(status) => {
                            tracing::trace!(error = %status, "stdio stream broke");
                            break;
                        }
                    };
                    backoff = RETRY_FIRST;
                    let sink = match Channel::try_from(chunk.channel) {
                        Ok(Channel::Stdout) => &mut stdout,
                        Ok(Channel::Stderr) => &mut stderr,
                        _ => {
                            tracing::warn!(channel = chunk.channel, "unknown channel, dropping");
                            continue;
                        }
                    };
                    if let Some(writer) = sink
                        && (writer.write_all(&chunk.data).await.is_err()
                            || writer.flush().await.is_err())
                    {
                        *sink = None;
                    }
                }
            }
            Err(status) if status.code() == tonic::Code::Unimplemented => {
                tracing::warn!("stdio service not available, stdout/stderr syncing unavailable");
                return;
            }
            Err(status) => tracing::debug!(error = %status, "stdio stream not available"),
        }
        tokio::select! {
            _ = exit.wait() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(RETRY_MAX);
    }
}

/// How soon a broken stdio stream is opened again, doubling up to `RETRY_MAX`.
const RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(20);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(1);
