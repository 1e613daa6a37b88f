//! Both ends of a gRPC connection between host and plugin: Unix socket or TCP, HTTP/2 windows
//! sized for large messages, and (with AutoMTLS or user TLS) the TLS layer.
//!
//! The host dials with [`dial`]; the plugin serves with [`serve`]. Brokered connections use the
//! same two functions, so every connection between the two processes has the same settings.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::transport::server::Connected;

use super::channel::{Channel, Dial};
use super::{CONNECTION_WINDOW, STREAM_WINDOW};

mod authority;

#[cfg(feature = "unstable-inspect")]
pub(crate) use authority::rewrite_connection;

use crate::sys::net::AcceptError;

pub(crate) use super::io::BoxedIo;
use super::listener::Listener;
use super::tls::Tls;
use crate::protocol::handshake::Network;

/// How many accepted connections wait for the server before the accept loop pauses.
const ACCEPT_QUEUE: usize = 16;

/// How long a connection may take to complete its TLS handshake before it is dropped.
const TLS_HANDSHAKE: Duration = Duration::from_secs(10);

/// One accepted connection, as the gRPC server sees it, with what the layer above wants each of
/// its calls to find in the request's extensions (its `ConnectInfo`).
pub(crate) struct ServerIo<C> {
    io: BoxedIo,
    info: C,
    /// Makes any `:authority` acceptable to h2, as grpc-go accepts it.
    inbound: authority::Inbound,
}

impl<C> ServerIo<C> {
    fn new(io: BoxedIo, info: C) -> Self {
        ServerIo {
            io,
            info,
            inbound: authority::Inbound::default(),
        }
    }
}

impl<C: Clone + Send + Sync + 'static> Connected for ServerIo<C> {
    type ConnectInfo = C;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.info.clone()
    }
}

/// Makes the `ConnectInfo` of each accepted connection.
pub(crate) type ConnectInfo<C> = Arc<dyn Fn() -> C + Send + Sync>;

/// Where a server's connections come from.
pub(crate) enum Incoming {
    /// Accepted on a socket of its own.
    Listener(Listener),
    /// Streams of a multiplexed session, already routed to this server.
    Streams(tokio::sync::mpsc::UnboundedReceiver<BoxedIo>),
}

impl<C: Unpin> AsyncRead for ServerIo<C> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let this = &mut *self;
        this.inbound.poll_read(this.io.as_mut(), cx, buf)
    }
}

impl<C: Unpin> AsyncWrite for ServerIo<C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.io.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.io.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.io.as_mut().poll_shutdown(cx)
    }
}

/// A channel to `address` that connects on first use, as go-plugin's host does (its dial is
/// lazy too: a plugin that died after its handshake shows up at the first call), over TLS when
/// `tls` dials with it.
pub(crate) fn dial(address: &Network, tls: &Tls) -> Channel {
    Channel::dial_with(dialer(address, tls))
}

/// A channel whose connections `connect` makes (on first use, and again after one breaks).
pub(crate) fn dial_with<F, Fut>(connect: F) -> Channel
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::io::Result<BoxedIo>> + Send + 'static,
{
    Channel::dial_with(dialing(connect))
}

/// What makes connections to `address` through `tls`: [`dial`]'s, for one more connection.
pub(crate) fn dialer(address: &Network, tls: &Tls) -> Dial {
    let (address, tls) = (address.clone(), tls.clone());
    dialing(move || {
        let (address, tls) = (address.clone(), tls.clone());
        async move { connect(&address, &tls).await }
    })
}

/// `connect` as a [`Dial`].
pub(crate) fn dialing<F, Fut>(connect: F) -> Dial
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = std::io::Result<BoxedIo>> + Send + 'static,
{
    Arc::new(move || Box::pin(connect()))
}

/// A channel to `address` as [`dial`]'s, whose calls go through tonic's `Channel` (a worker task
/// and hyper's client) instead of straight onto h2: kept to measure the two side by side.
pub(crate) fn dial_tonic(address: &Network, tls: &Tls) -> Channel {
    let dial = dialer(address, tls);
    let channel = tonic::transport::Endpoint::from_static("http://plugin")
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
            let connection = dial();
            async move { connection.await.map(hyper_util::rt::TokioIo::new) }
        }));
    Channel::tonic(channel)
}

/// One connection to `address`, through `tls`.
pub(crate) async fn connect(address: &Network, tls: &Tls) -> std::io::Result<BoxedIo> {
    match address {
        Network::Unix(path) => tls.connect(connect_unix(path).await?).await,
        Network::Tcp(address) => {
            let stream = TcpStream::connect(tcp_target(address)).await?;
            stream.set_nodelay(true)?;
            tls.connect(stream).await
        }
    }
}

/// A connection to the Unix socket at `path`.
#[cfg(unix)]
pub(crate) async fn connect_unix(
    path: &std::path::Path,
) -> std::io::Result<tokio::net::UnixStream> {
    tokio::net::UnixStream::connect(path).await
}

/// No Unix sockets here: go-plugin uses TCP on Windows.
#[cfg(not(unix))]
pub(crate) async fn connect_unix(path: &std::path::Path) -> std::io::Result<TcpStream> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!(
            "dial unix {}: Unix sockets are not supported on this OS",
            path.display()
        ),
    ))
}

/// Go dials `:1234` as the local host; so do we.
pub(crate) fn tcp_target(address: &str) -> String {
    if address.starts_with(':') {
        format!("127.0.0.1{address}")
    } else {
        address.to_owned()
    }
}

/// Serves `routes` on every connection from `incoming` until `shutdown` resolves, over TLS when
/// `tls` serves with it; the calls on each connection find what `info` made for it in their
/// extensions.
pub(crate) async fn serve<C: Clone + Send + Sync + Unpin + 'static>(
    routes: Routes,
    incoming: Incoming,
    tls: Tls,
    info: ConnectInfo<C>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (accepted, connections) = tokio::sync::mpsc::channel(ACCEPT_QUEUE);
    let accepting = match incoming {
        Incoming::Listener(listener) => tokio::spawn(accept_loop(listener, tls, info, accepted)),
        Incoming::Streams(streams) => tokio::spawn(forward_streams(streams, tls, info, accepted)),
    };
    // With the `opentelemetry` feature, a call that carries a trace context runs in a span
    // continuing it.
    #[cfg(feature = "opentelemetry")]
    let mut server = server().layer(super::trace_context::ContinueTraceLayer);
    #[cfg(not(feature = "opentelemetry"))]
    let mut server = server();
    let result = server
        .add_routes(routes)
        .serve_with_incoming_shutdown(ReceiverStream::new(connections), shutdown)
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

/// The first connection `listener` accepts, as it is (no TLS: a multiplexed session is clear,
/// its streams are not).
pub(crate) async fn accept_one(listener: &Listener) -> std::io::Result<BoxedIo> {
    loop {
        match listener.accept().await {
            Ok(io) => return Ok(io),
            Err(err) => {
                if accept_failed(std::io::Error::new(err.kind(), err.to_string())).await {
                    return Err(err);
                }
            }
        }
    }
}

/// Accepts connections and hands them to the server; ends when the server stops taking them.
async fn accept_loop<C: Send + 'static>(
    listener: Listener,
    tls: Tls,
    info: ConnectInfo<C>,
    accepted: tokio::sync::mpsc::Sender<std::io::Result<ServerIo<C>>>,
) {
    loop {
        let io = match listener.accept().await {
            Ok(io) => io,
            Err(err) => {
                if accept_failed(err).await {
                    return;
                }
                continue;
            }
        };
        if !hand_over(io, &tls, &info, &accepted).await {
            return;
        }
    }
}

/// Hands multiplexed streams routed to this server over, as the accept loop does connections.
async fn forward_streams<C: Send + 'static>(
    mut streams: tokio::sync::mpsc::UnboundedReceiver<BoxedIo>,
    tls: Tls,
    info: ConnectInfo<C>,
    accepted: tokio::sync::mpsc::Sender<std::io::Result<ServerIo<C>>>,
) {
    while let Some(io) = streams.recv().await {
        if !hand_over(io, &tls, &info, &accepted).await {
            return;
        }
    }
}

/// Gives one connection to the server, after its TLS handshake when there is one; `false` once
/// the server takes no more. Handshakes run beside the loop, so a slow or hostile peer delays
/// nobody else.
async fn hand_over<C: Send + 'static>(
    io: BoxedIo,
    tls: &Tls,
    info: &ConnectInfo<C>,
    accepted: &tokio::sync::mpsc::Sender<std::io::Result<ServerIo<C>>>,
) -> bool {
    if !tls.serves() {
        let io = ServerIo::new(io, info());
        return accepted.send(Ok(io)).await.is_ok();
    }
    let tls = tls.clone();
    let info = Arc::clone(info);
    let server = accepted.clone();
    tokio::spawn(async move {
        match tokio::time::timeout(TLS_HANDSHAKE, tls.accept(io)).await {
            Ok(Ok(io)) => {
                let _ = server.send(Ok(ServerIo::new(io, info()))).await;
            }
            Ok(Err(err)) => tracing::debug!(error = %err, "plugin server: TLS handshake failed"),
            Err(_) => tracing::debug!("plugin server: TLS handshake timed out"),
        }
    });
    !accepted.is_closed()
}

/// Whether an accept error ends the loop. A connection that failed before it was accepted, or
/// running out of descriptors, is passing: Go's `net/http` server retries the same way.
async fn accept_failed(err: std::io::Error) -> bool {
    tracing::debug!(error = %err, "plugin server: accept failed");
    match crate::sys::net::accept_error(&err) {
        AcceptError::OutOfResources => {
            tokio::time::sleep(Duration::from_millis(10)).await;
            false
        }
        AcceptError::Passing => false,
        AcceptError::Fatal => true,
    }
}

/// `routes` answering a call to a service they do not have with grpc-go's words,
/// `unknown service pkg.Service`, instead of tonic's empty `Unimplemented`.
pub(crate) fn naming_unknown_services(mut routes: Routes) -> Routes {
    let router = std::mem::take(routes.axum_router_mut());
    *routes.axum_router_mut() = router.fallback(|uri: http::Uri| async move {
        let service = uri
            .path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        tonic::Status::unimplemented(format!("unknown service {service}"))
            .into_http::<tonic::body::Body>()
    });
    routes
}
