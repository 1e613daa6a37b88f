//! go-plugin's broker multiplexing (`PLUGIN_MULTIPLEX_GRPC`, go-plugin 1.6 and later): one
//! connection between host and plugin carries a yamux session, and every gRPC connection — the
//! main one and each brokered one, in either direction — is a stream of that session. The host
//! is the yamux client, the plugin the server; TLS, when on, runs inside each stream.
//!
//! The `yamux` crate speaks the protocol of hashicorp/yamux (version 0 framing, 256 KiB initial
//! windows, client streams odd, server streams even). Its connection is driven by one task,
//! which opens outbound streams on request and hands inbound ones to whoever routes them.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::task::Poll;

use tokio::sync::{mpsc, oneshot};
use tokio_util::compat::{FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};

use crate::net::io::BoxedIo;

/// A handle on a running yamux session.
#[derive(Clone, Debug)]
pub(crate) struct Mux {
    open: mpsc::UnboundedSender<oneshot::Sender<std::io::Result<BoxedIo>>>,
}

/// Which end of the session this side is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Role {
    /// The host: it dials the plugin's socket.
    Client,
    /// The plugin: it accepted the host's connection.
    Server,
}

impl Mux {
    /// Runs a yamux session on `io`; the streams the other side opens arrive on the receiver.
    pub(crate) fn start(io: BoxedIo, role: Role) -> (Mux, mpsc::UnboundedReceiver<BoxedIo>) {
        let mode = match role {
            Role::Client => yamux::Mode::Client,
            Role::Server => yamux::Mode::Server,
        };
        let connection = yamux::Connection::new(io.compat(), yamux::Config::default(), mode);
        let (open, requests) = mpsc::unbounded_channel();
        let (inbound_tx, inbound) = mpsc::unbounded_channel();
        tokio::spawn(drive(connection, requests, inbound_tx));
        (Mux { open }, inbound)
    }

    /// Opens a stream to the other side.
    pub(crate) async fn open(&self) -> std::io::Result<BoxedIo> {
        let (reply, opened) = oneshot::channel();
        self.open
            .send(reply)
            .map_err(|_| closed("the multiplexed connection is closed"))?;
        opened
            .await
            .map_err(|_| closed("the multiplexed connection is closed"))?
    }
}

fn closed(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, what.to_owned())
}

type Session = yamux::Connection<tokio_util::compat::Compat<BoxedIo>>;

/// Drives the session until it ends: opens requested streams, hands out inbound ones.
async fn drive(
    mut connection: Session,
    mut requests: mpsc::UnboundedReceiver<oneshot::Sender<std::io::Result<BoxedIo>>>,
    inbound: mpsc::UnboundedSender<BoxedIo>,
) {
    let mut waiting: VecDeque<oneshot::Sender<std::io::Result<BoxedIo>>> = VecDeque::new();
    let ended = poll_fn(|cx| {
        while let Poll::Ready(Some(reply)) = requests.poll_recv(cx) {
            waiting.push_back(reply);
        }
        while !waiting.is_empty() {
            match connection.poll_new_outbound(cx) {
                Poll::Ready(Ok(stream)) => {
                    if let Some(reply) = waiting.pop_front() {
                        let _ = reply.send(Ok(Box::pin(stream.compat())));
                    }
                }
                Poll::Ready(Err(err)) => return Poll::Ready(Some(err)),
                Poll::Pending => break,
            }
        }
        loop {
            match connection.poll_next_inbound(cx) {
                Poll::Ready(Some(Ok(stream))) => {
                    // Nobody routing inbound streams any more: the stream is refused by
                    // dropping it.
                    let _ = inbound.send(Box::pin(stream.compat()));
                }
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(err)),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await;
    if let Some(err) = &ended {
        tracing::debug!(error = %err, "multiplexed connection ended");
    }
    for reply in waiting {
        let _ = reply.send(Err(closed("the multiplexed connection ended")));
    }
}
