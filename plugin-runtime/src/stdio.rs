//! `plugin.GRPCStdio`: the plugin's stdout and stderr, carried to the host over gRPC.
//!
//! Plugin side: once the handshake is printed, file descriptors 1 and 2 are pointed at pipes, so
//! `println!`, `eprintln!` and anything a child process or C library writes go to the host instead
//! of being drained and discarded. The log channel keeps a duplicate of the original stderr.
//!
//! Host side: the stream is read in its own task (a grpc-go or grpcio server sends no headers
//! before the first write, so awaiting the call inline would hang) and copied to the sinks the host
//! configured.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::Error;
use crate::exit::ExitWatch;
use crate::generated::plugin::grpc_stdio_client::GrpcStdioClient;
use crate::generated::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::generated::plugin::{StdioData, stdio_data::Channel};

/// How much is read from a pipe at once. go-plugin uses 1 KiB; larger chunks cost nothing here
/// and cut the per-message overhead for chatty plugins.
const CHUNK: usize = 32 * 1024;

/// Chunks queued for the host before writers in the plugin block (go-plugin blocks at once).
const QUEUE: usize = 64;

/// The connection the host is reading this process's stdio through ([`ConnectionInfo::id`]), 0
/// while no one is. A process has one stdout and one stderr, so one place says where they drain.
///
/// [`ConnectionInfo::id`]: crate::transport::ConnectionInfo
static DRAINING_CONNECTION: AtomicU64 = AtomicU64::new(0);

/// Whether a blocking write to stdout or stderr in a call on `connection` may wait for that very
/// connection to send what is queued: when it carries the stdio stream (a Go host opens it on the
/// one connection it has) or when no stream is open yet (it may open there). Not when the host
/// reads stdio over a connection of its own, as ours does.
pub(crate) fn may_drain_through(connection: Option<u64>) -> bool {
    drains_through(DRAINING_CONNECTION.load(Ordering::Acquire), connection)
}

/// [`may_drain_through`] for stdio streamed through `draining` (0: not streamed).
fn drains_through(draining: u64, connection: Option<u64>) -> bool {
    draining == 0 || connection.is_none_or(|id| id == draining)
}

/// The plugin's redirected stdio, waiting for the host to ask for it.
#[derive(Debug)]
pub(crate) struct StdioService {
    queue: Arc<Mutex<mpsc::Receiver<Result<StdioData, Status>>>>,
    taken: Arc<AtomicBool>,
    stopping: watch::Receiver<bool>,
}

/// The feeding side of [`StdioService`]: takes over fds 1 and 2 once the handshake is out.
#[derive(Debug)]
pub(crate) struct StdioFeed {
    tx: mpsc::Sender<Result<StdioData, Status>>,
    pipes: Vec<RawFd>,
}

/// Duplicates the current stderr so logs keep reaching the host's log parser after fd 2 is
/// redirected.
pub(crate) fn duplicate_stderr() -> Result<OwnedFd, Error> {
    std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|err| Error::io("failed to duplicate stderr", err))
}

impl StdioService {
    /// `stopping` ends the stream (cleanly, so the host sees everything sent before it) when the
    /// plugin shuts down.
    pub(crate) fn new(stopping: watch::Receiver<bool>) -> (Self, StdioFeed) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let service = StdioService {
            queue: Arc::new(Mutex::new(rx)),
            taken: Arc::new(AtomicBool::new(false)),
            stopping,
        };
        (
            service,
            StdioFeed {
                tx,
                pipes: Vec::new(),
            },
        )
    }
}

impl StdioFeed {
    /// Points fds 1 and 2 at pipes and starts forwarding what arrives there to the queue the host
    /// drains through `StreamStdio`. Must run inside a tokio runtime.
    pub(crate) fn redirect(&mut self) -> Result<(), Error> {
        for (fd, channel) in [
            (libc::STDOUT_FILENO, Channel::Stdout),
            (libc::STDERR_FILENO, Channel::Stderr),
        ] {
            let (read, write) =
                std::io::pipe().map_err(|err| Error::io("failed to create stdio pipe", err))?;
            // SAFETY: both descriptors are valid and owned; dup2 atomically replaces `fd`.
            if unsafe { libc::dup2(write.as_raw_fd(), fd) } < 0 {
                return Err(Error::io(
                    "failed to redirect stdio",
                    std::io::Error::last_os_error(),
                ));
            }
            drop(write);
            let read = OwnedFd::from(read);
            self.pipes.push(read.as_raw_fd());
            // A thread of its own, not a task: a plugin that blocks runtime workers in
            // `println!` on a full pipe must not also stop the reader that empties the pipe.
            let tx = self.tx.clone();
            std::thread::Builder::new()
                .name(format!(
                    "plugin-stdio-{}",
                    channel.as_str_name().to_lowercase()
                ))
                .spawn(move || forward(std::fs::File::from(read), channel, tx))
                .map_err(|err| Error::io("failed to start the stdio thread", err))?;
        }
        Ok(())
    }

    /// Whether everything written so far has left the pipes and the queue (best effort: a chunk
    /// being handed to the host's stream is not counted).
    pub(crate) fn is_drained(&self) -> bool {
        let queued = self.tx.max_capacity() - self.tx.capacity();
        queued == 0 && self.pipes.iter().all(|&fd| pending_bytes(fd) == 0)
    }
}

fn pending_bytes(fd: RawFd) -> usize {
    let mut pending: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; a closed descriptor just makes the call fail.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut pending) };
    if rc < 0 { 0 } else { pending.max(0) as usize }
}

fn forward(
    mut reader: std::fs::File,
    channel: Channel,
    tx: mpsc::Sender<Result<StdioData, Status>>,
) {
    use std::io::Read;
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
            Ok(n) => {
                let data = StdioData {
                    channel: channel as i32,
                    data: buf[..n].to_vec(),
                };
                if tx.blocking_send(Ok(data)).is_err() {
                    return;
                }
            }
        }
    }
}

impl StdioService {
    pub(crate) fn into_server(self) -> GrpcStdioServer<Self> {
        GrpcStdioServer::new(self)
    }
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for StdioService {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        // Data handed out once is never sent again; a second reader would only steal chunks.
        if self.taken.swap(true, Ordering::AcqRel) {
            return Err(Status::already_exists("stdio is already being streamed"));
        }
        // A request from outside our transport has no id: u64::MAX matches none of its
        // connections (and `may_drain_through` answers yes for a call without an id).
        let connection = request
            .extensions()
            .get::<crate::transport::ConnectionInfo>()
            .map_or(u64::MAX, |info| info.id);
        DRAINING_CONNECTION.store(connection, Ordering::Release);
        let queue = Arc::clone(&self.queue);
        let taken = Arc::clone(&self.taken);
        let mut stopping = self.stopping.clone();
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(async move {
            let mut queue = queue.lock().await;
            loop {
                tokio::select! {
                    item = queue.recv() => match item {
                        Some(item) => if tx.send(item).await.is_err() { break },
                        None => break,
                    },
                    () = tx.closed() => break,
                    () = crate::controller::raised(&mut stopping) => break,
                }
            }
            // The host went away: let a reconnecting host pick up where it left off.
            let _ = DRAINING_CONNECTION.compare_exchange(
                connection,
                0,
                Ordering::AcqRel,
                Ordering::Acquire,
            );
            taken.store(false, Ordering::Release);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Where the host copies a plugin's stdio; `None` discards (go-plugin's default).
pub(crate) type Sink = Option<Box<dyn AsyncWrite + Send + Unpin>>;

/// Host side: reads `StreamStdio` until the plugin goes away, copying each chunk to its sink.
/// A plugin without the service (older go-plugin, the Python example) is tolerated. A stream that
/// breaks while the plugin lives (rather than being ended by it) is opened again, so a plugin
/// never ends up blocked on a stdout nobody drains.
pub(crate) async fn copy_to_sinks(
    channel: tonic::transport::Channel,
    exit: ExitWatch,
    mut stdout: Sink,
    mut stderr: Sink,
) {
    let mut backoff = RETRY_FIRST;
    loop {
        let mut client = GrpcStdioClient::new(channel.clone())
            .max_decoding_message_size(crate::MAX_MESSAGE_SIZE);
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

#[cfg(test)]
mod tests {
    use super::drains_through;

    #[test]
    fn a_call_yields_unless_stdio_streams_through_another_connection() {
        // No stream yet: it may open on the call's connection.
        assert!(drains_through(0, Some(7)));
        // A Go host: stdio and calls share its one connection.
        assert!(drains_through(7, Some(7)));
        // A call from outside our transport: nothing known, so the careful answer.
        assert!(drains_through(7, None));
        // Our host: stdio on a connection of its own.
        assert!(!drains_through(7, Some(8)));
    }
}
