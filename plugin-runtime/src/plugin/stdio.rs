//! `plugin.GRPCStdio` on the plugin side: once the handshake is printed, file descriptors 1 and 2
//! are pointed at pipes, so `println!`, `eprintln!` and anything a child process or C library
//! writes go to the host instead of being drained and discarded. The log channel keeps a
//! duplicate of the original stderr.

use std::fs::File;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{Mutex, mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::generated::plugin::grpc_stdio_server::{GrpcStdio, GrpcStdioServer};
use crate::generated::plugin::{StdioData, stdio_data::Channel};
use crate::rpc::context::{CallContext, StdioRoute};
use crate::sys::stdio::{Output, pending_bytes, redirect};

/// How much is read from a pipe at once. go-plugin uses 1 KiB; larger chunks cost nothing here
/// and cut the per-message overhead for chatty plugins.
const CHUNK: usize = 32 * 1024;

/// Chunks queued for the host before writers in the plugin block (go-plugin blocks at once).
const QUEUE: usize = 64;

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
    /// A copy of each pipe's reading end, to ask how much is still in it.
    pipes: Vec<File>,
    /// Chunks read from a pipe and not yet queued: neither in the pipe nor in the queue.
    in_hand: Arc<AtomicUsize>,
}

/// Duplicates the current stderr so logs keep reaching the host's log parser after fd 2 is
/// redirected.
pub(crate) fn duplicate_stderr() -> Result<File, Error> {
    crate::sys::stdio::duplicate_stderr()
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
                in_hand: Arc::new(AtomicUsize::new(0)),
            },
        )
    }
}

impl StdioFeed {
    /// Points fds 1 and 2 at pipes and starts forwarding what arrives there to the queue the host
    /// drains through `StreamStdio`. Must run inside a tokio runtime.
    pub(crate) fn redirect(&mut self) -> Result<(), Error> {
        for (output, channel) in [
            (Output::Stdout, Channel::Stdout),
            (Output::Stderr, Channel::Stderr),
        ] {
            let read =
                redirect(output).map_err(|err| Error::io("failed to redirect stdio", err))?;
            self.pipes.push(
                read.try_clone()
                    .map_err(|err| Error::io("failed to redirect stdio", err))?,
            );
            // A thread of its own, not a task: a plugin that blocks runtime workers in
            // `println!` on a full pipe must not also stop the reader that empties the pipe.
            let tx = self.tx.clone();
            let in_hand = Arc::clone(&self.in_hand);
            std::thread::Builder::new()
                .name(format!(
                    "plugin-stdio-{}",
                    channel.as_str_name().to_lowercase()
                ))
                .spawn(move || forward(read, channel, tx, &in_hand))
                .map_err(|err| Error::io("failed to start the stdio thread", err))?;
        }
        Ok(())
    }

    /// Whether everything written so far has left the pipes and the queue (best effort: a chunk
    /// being handed to the host's stream is not counted, nor one in the instant between its read
    /// and the count of chunks in hand, which is why the caller asks twice).
    pub(crate) fn is_drained(&self) -> bool {
        let queued = self.tx.max_capacity() - self.tx.capacity();
        queued == 0
            && self.in_hand.load(Ordering::Acquire) == 0
            && self.pipes.iter().all(|pipe| pending_bytes(pipe) == 0)
    }
}

fn forward(
    mut reader: File,
    channel: Channel,
    tx: mpsc::Sender<Result<StdioData, Status>>,
    in_hand: &AtomicUsize,
) {
    use std::io::Read;
    let mut buf = vec![0u8; CHUNK];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return,
            Ok(n) => {
                in_hand.fetch_add(1, Ordering::AcqRel);
                let data = StdioData {
                    channel: channel as i32,
                    data: buf[..n].to_vec(),
                };
                let sent = tx.blocking_send(Ok(data));
                in_hand.fetch_sub(1, Ordering::AcqRel);
                if sent.is_err() {
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
        // Calls on this connection may now block on a stdout that drains through it.
        let route = StdioRoute::streaming_on(CallContext::of(request.extensions()));
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
                    () = crate::rpc::raised(&mut stopping) => break,
                }
            }
            // The host went away: let a reconnecting host pick up where it left off.
            route.ended();
            taken.store(false, Ordering::Release);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}
