//! Both ends of a gRPC connection between host and plugin: Unix socket or TCP, HTTP/2 windows
//! sized for large messages, and (with AutoMTLS or user TLS) the TLS layer.
//!
//! The host dials with [`dial`]; the plugin serves with [`serve`]. Brokered connections use the
//! same two functions, so every connection between the two processes has the same settings.

use std::pin::Pin;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Routes;
use tonic::transport::server::Connected;
use tonic::transport::{Channel, Endpoint, Server};

use crate::handshake::Network;
use crate::listener::Listener;
use crate::tls::Tls;

/// HTTP/2 flow-control windows. The defaults (64 KiB) make a 1 MiB message wait for many
/// window updates; these let a large message flow in one go.
pub(crate) const STREAM_WINDOW: u32 = 8 << 20;
pub(crate) const CONNECTION_WINDOW: u32 = 16 << 20;

/// How many accepted connections wait for the server before the accept loop pauses.
const ACCEPT_QUEUE: usize = 16;

/// How long a connection may take to complete its TLS handshake before it is dropped.
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

/// Anything a connection runs over: a socket, or a TLS session on one.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A connection of any kind.
pub(crate) type BoxedIo = Pin<Box<dyn Io>>;

/// One accepted connection, as the gRPC server sees it.
pub(crate) struct ServerIo(BoxedIo);

impl Connected for ServerIo {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for ServerIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for ServerIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.0.as_mut().poll_shutdown(cx)
    }
}

/// A channel to `address` that connects on first use, as go-plugin's host does (its dial is
/// lazy too: a plugin that died after its handshake shows up at the first call), over TLS when
/// `tls` dials with it.
pub(crate) fn dial(address: &Network, tls: &Tls) -> Channel {
    let endpoint = Endpoint::from_static("http://plugin")
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true);
    let address = address.clone();
    let tls = tls.clone();
    endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
        let address = address.clone();
        let tls = tls.clone();
        async move { connect(&address, &tls).await.map(TokioIo::new) }
    }))
}

async fn connect(address: &Network, tls: &Tls) -> std::io::Result<BoxedIo> {
    match address {
        Network::Unix(path) => tls.connect(UnixStream::connect(path).await?).await,
        Network::Tcp(address) => {
            let stream = TcpStream::connect(tcp_target(address)).await?;
            stream.set_nodelay(true)?;
            tls.connect(stream).await
        }
    }
}

/// Go dials `:1234` as the local host; so do we.
pub(crate) fn tcp_target(address: &str) -> String {
    if address.starts_with(':') {
        format!("127.0.0.1{address}")
    } else {
        address.to_owned()
    }
}

/// Serves `routes` on every connection `listener` accepts until `shutdown` resolves, over TLS
/// when `tls` serves with it.
pub(crate) async fn serve(
    routes: Routes,
    listener: Listener,
    tls: Tls,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (accepted, incoming) = tokio::sync::mpsc::channel(ACCEPT_QUEUE);
    let accepting = tokio::spawn(accept_loop(listener, tls, accepted));
    let result = server()
        .add_routes(routes)
        .serve_with_incoming_shutdown(ReceiverStream::new(incoming), shutdown)
        .await;
    // The listener (and with it the socket file) goes when the loop does.
    accepting.abort();
    let _ = accepting.await;
    result
}

/// The gRPC server every connection is served by.
fn server() -> Server {
    Server::builder()
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true)
}

/// Accepts connections and hands them to the server; ends when the server stops taking them.
/// TLS handshakes run beside the loop, so a slow or hostile peer delays nobody else.
async fn accept_loop(
    listener: Listener,
    tls: Tls,
    accepted: tokio::sync::mpsc::Sender<std::io::Result<ServerIo>>,
) {
    loop {
        let io: BoxedIo = match &listener {
            Listener::Unix { listener, .. } => match listener.accept().await {
                Ok((stream, _)) => Box::pin(stream),
                Err(err) => {
                    if accept_failed(err).await {
                        return;
                    }
                    continue;
                }
            },
            Listener::Tcp { listener } => match listener.accept().await {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    Box::pin(stream)
                }
                Err(err) => {
                    if accept_failed(err).await {
                        return;
                    }
                    continue;
                }
            },
        };
        if !tls.serves() {
            if accepted.send(Ok(ServerIo(io))).await.is_err() {
                return;
            }
            continue;
        }
        let tls = tls.clone();
        let accepted = accepted.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(TLS_HANDSHAKE, tls.accept(io)).await {
                Ok(Ok(io)) => {
                    let _ = accepted.send(Ok(ServerIo(io))).await;
                }
                Ok(Err(err)) => {
                    tracing::debug!(error = %err, "plugin server: TLS handshake failed")
                }
                Err(_) => tracing::debug!("plugin server: TLS handshake timed out"),
            }
        });
    }
}

/// Whether an accept error ends the loop. A connection that failed before it was accepted, or
/// running out of descriptors, is passing: Go's `net/http` server retries the same way.
async fn accept_failed(err: std::io::Error) -> bool {
    tracing::debug!(error = %err, "plugin server: accept failed");
    match err.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            false
        }
        Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO | libc::EPERM) => false,
        _ => true,
    }
}
