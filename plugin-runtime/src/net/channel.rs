//! The host's side of a connection: [`Channel`], tonic's gRPC client carried straight over an
//! `h2` connection.
//!
//! Why not tonic's `transport::Channel` (still carried, for a channel a user brings): it hands
//! every call to a worker task through `tower::buffer`, and hyper's client hands it on to the
//! connection's task, which spawns a task per call to wait for the response and sends it back.
//! Here the calling task opens the stream, writes its request into h2 and reads the response
//! itself; the one task in between is the connection's, which moves frames between h2 and the
//! socket. hyper's client has no way to skip its hops, so this file drives h2 itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::client::SendRequest;
use h2::{RecvStream, SendStream};
use http_body::{Body as _, Frame};
use tokio::sync::oneshot;
use tonic::Status;
use tonic::body::Body;

use super::io::BoxedIo;
use super::{CONNECTION_WINDOW, STREAM_WINDOW};
use crate::sync::lock;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Makes one connection to the other process.
pub(crate) type Dial =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = std::io::Result<BoxedIo>> + Send>> + Send + Sync>;

/// A gRPC channel to the other process: the plugin, or a service brokered by either side.
///
/// Cloning is cheap; clones share one HTTP/2 connection. It implements tonic's `GrpcService`, so
/// a client tonic-build generated from a `.proto` takes it as it takes tonic's own channel:
/// `GreeterClient::new(connection.channel())`.
#[derive(Clone)]
pub struct Channel {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    H2(Arc<Shared>),
    Tonic(tonic::transport::Channel),
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Inner::H2(_) => f.write_str("Channel(h2)"),
            Inner::Tonic(channel) => f.debug_tuple("Channel").field(channel).finish(),
        }
    }
}

/// What the clones of an h2 channel share.
struct Shared {
    dial: Dial,
    /// The live connection, once made; replaced when it has closed.
    live: Mutex<Option<Live>>,
    /// One dial at a time.
    dialing: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct Live {
    send: SendRequest<Bytes>,
    /// Set by the connection's task when the connection has ended.
    closed: Arc<AtomicBool>,
}

impl Channel {
    /// A channel whose connections `dial` makes: on first use (go-plugin's dial is lazy too: a
    /// plugin that died after its handshake shows up at the first call), and again after one
    /// has closed.
    pub(crate) fn dial_with(dial: Dial) -> Self {
        Channel {
            inner: Inner::H2(Arc::new(Shared {
                dial,
                live: Mutex::new(None),
                dialing: tokio::sync::Mutex::new(()),
            })),
        }
    }

    /// A channel that carries its calls over tonic's `channel`.
    pub(crate) fn tonic(channel: tonic::transport::Channel) -> Self {
        Channel {
            inner: Inner::Tonic(channel),
        }
    }
}

impl Shared {
    /// The live connection's sender, if there is one.
    fn live(&self) -> Option<SendRequest<Bytes>> {
        lock(&self.live)
            .as_ref()
            .filter(|live| !live.closed.load(Ordering::Acquire))
            .map(|live| live.send.clone())
    }

    /// The live connection's sender, connecting first when there is none.
    async fn sender(&self) -> Result<SendRequest<Bytes>, Status> {
        if let Some(send) = self.live() {
            return Ok(send);
        }
        let _dialing = self.dialing.lock().await;
        if let Some(send) = self.live() {
            return Ok(send);
        }
        let io = (self.dial)().await.map_err(|err| {
            let status = Status::unavailable(format!("failed to connect: {err}"));
            with_source(status, err)
        })?;
        let (send, connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .enable_push(false)
            .max_send_buffer_size(SEND_BUFFER)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(connection_error)?;
        let closed = Arc::new(AtomicBool::new(false));
        let ended = Arc::clone(&closed);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection to the other process ended");
            }
            ended.store(true, Ordering::Release);
        });
        *lock(&self.live) = Some(Live {
            send: send.clone(),
            closed,
        });
        Ok(send)
    }

    /// Sends `request` and waits for the response's headers; the body goes on being sent beside
    /// the response when it is longer than one poll.
    async fn call(self: Arc<Self>, request: http::Request<Body>) -> Result<Response, Status> {
        let send = self.sender().await?;
        let mut send = send.ready().await.map_err(connection_error)?;
        let (mut parts, body) = request.into_parts();
        if parts.uri.scheme().is_none() {
            parts.uri = with_origin(std::mem::take(&mut parts.uri));
        }
        let end = body.is_end_stream();
        let (response, stream) = send
            .send_request(http::Request::from_parts(parts, ()), end)
            .map_err(connection_error)?;
        // A unary request is all there in the first poll: sent here, with no task of its own.
        let mut cancel = None;
        if !end {
            let mut pump = Pump {
                body,
                stream,
                unconfirmed: 0,
                cancel: None,
            };
            if poll_once(&mut pump).await.is_pending() {
                let (tx, rx) = oneshot::channel();
                pump.cancel = Some(rx);
                cancel = Some(tx);
                tokio::spawn(pump);
            }
        }
        let response = response.await.map_err(stream_error)?;
        Ok(response.map(|stream| ResponseBody {
            inner: BodyInner::H2(RecvBody {
                stream,
                data_done: false,
                _cancel: cancel,
            }),
        }))
    }
}

/// `uri` with the scheme and authority every call carries (`http://plugin`, as the host has
/// always sent), for clients that give a path only (tonic's `Grpc::new`).
fn with_origin(uri: http::Uri) -> http::Uri {
    let mut parts = uri.into_parts();
    parts.scheme = Some(http::uri::Scheme::HTTP);
    parts.authority = Some(http::uri::Authority::from_static("plugin"));
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    http::Uri::from_parts(parts).unwrap_or_default()
}

/// How much request data h2 may hold unsent for the connection.
const SEND_BUFFER: usize = 1 << 20;

/// How much of a request a pump writes into h2 before it waits for the peer's window.
const UNCONFIRMED: usize = 64 << 10;

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// Moves a request body into its h2 stream, waiting for the peer's window when it has run
/// ahead; stops when the response side is dropped or the peer resets the stream.
struct Pump {
    body: Body,
    stream: SendStream<Bytes>,
    /// Bytes written since the window was last seen open.
    unconfirmed: usize,
    /// Resolves when the call's response side is gone.
    cancel: Option<oneshot::Receiver<()>>,
}

impl Future for Pump {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        loop {
            if let Some(cancel) = &mut this.cancel
                && Pin::new(cancel).poll(cx).is_ready()
            {
                this.stream.send_reset(h2::Reason::CANCEL);
                return Poll::Ready(());
            }
            if this.stream.poll_reset(cx).is_ready() {
                return Poll::Ready(());
            }
            if this.unconfirmed > UNCONFIRMED {
                this.stream.reserve_capacity(1);
                if this.stream.capacity() == 0 {
                    match ready!(this.stream.poll_capacity(cx)) {
                        Some(Ok(_)) => {}
                        None | Some(Err(_)) => return Poll::Ready(()),
                    }
                }
                this.unconfirmed = 0;
            }
            let frame = match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                None => {
                    let _ = this.stream.send_data(Bytes::new(), true);
                    return Poll::Ready(());
                }
                Some(Err(err)) => {
                    tracing::debug!(error = %err, "request body failed");
                    this.stream.send_reset(h2::Reason::INTERNAL_ERROR);
                    return Poll::Ready(());
                }
                Some(Ok(frame)) => frame,
            };
            match frame.into_data() {
                Ok(data) => {
                    this.unconfirmed += data.len();
                    let end = this.body.is_end_stream();
                    if this.stream.send_data(data, end).is_err() || end {
                        return Poll::Ready(());
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let _ = this.stream.send_trailers(trailers);
                    }
                    return Poll::Ready(());
                }
            }
        }
    }
}

/// A response's body, as h2 delivers it: data (its window given back as it is read), then
/// trailers.
struct RecvBody {
    stream: RecvStream,
    data_done: bool,
    /// Stops the request's pump when the response is dropped.
    _cancel: Option<oneshot::Sender<()>>,
}

/// The body of a response on a [`Channel`].
pub struct ResponseBody {
    inner: BodyInner,
}

enum BodyInner {
    /// Read from h2.
    H2(RecvBody),
    /// Read through tonic's channel.
    Tonic(Body),
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseBody")
    }
}

type Response = http::Response<ResponseBody>;

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        match &mut self.inner {
            BodyInner::Tonic(body) => Pin::new(body).poll_frame(cx),
            BodyInner::H2(body) => {
                if !body.data_done {
                    match ready!(body.stream.poll_data(cx)) {
                        Some(Ok(data)) => {
                            let _ = body.stream.flow_control().release_capacity(data.len());
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                        Some(Err(err)) => return Poll::Ready(Some(Err(stream_error(err)))),
                        None => body.data_done = true,
                    }
                }
                match ready!(body.stream.poll_trailers(cx)) {
                    Ok(Some(trailers)) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                    Ok(None) => Poll::Ready(None),
                    Err(err) => Poll::Ready(Some(Err(stream_error(err)))),
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.inner {
            BodyInner::Tonic(body) => body.is_end_stream(),
            BodyInner::H2(body) => body.stream.is_end_stream(),
        }
    }
}

/// `status` with `err` as its source.
fn with_source(mut status: Status, err: impl std::error::Error + Send + Sync + 'static) -> Status {
    status.set_source(Arc::new(err));
    status
}

/// The connection failed (or was closed): gRPC says `Unavailable`, as grpc-go does.
fn connection_error(err: h2::Error) -> Status {
    if err.is_reset() && !err.is_go_away() {
        return stream_error(err);
    }
    unavailable(err)
}

/// One stream failed: reset by the peer, or its connection lost.
fn stream_error(err: h2::Error) -> Status {
    if err.is_io() || err.is_go_away() {
        return unavailable(err);
    }
    let code = match err.reason() {
        Some(h2::Reason::REFUSED_STREAM) => tonic::Code::Unavailable,
        Some(h2::Reason::CANCEL) => tonic::Code::Cancelled,
        Some(h2::Reason::ENHANCE_YOUR_CALM) => tonic::Code::ResourceExhausted,
        Some(h2::Reason::INADEQUATE_SECURITY) => tonic::Code::PermissionDenied,
        Some(_) => tonic::Code::Internal,
        None => tonic::Code::Unknown,
    };
    with_source(Status::new(code, format!("h2 protocol error: {err}")), err)
}

/// A lost or closed connection, as grpc-go reports it.
fn unavailable(err: h2::Error) -> Status {
    with_source(Status::unavailable(format!("connection error: {err}")), err)
}

/// The future of a call on a [`Channel`].
pub struct ResponseFuture {
    inner: ResponseFutureInner,
}

enum ResponseFutureInner {
    H2(Pin<Box<dyn Future<Output = Result<Response, Status>> + Send>>),
    Tonic(tonic::transport::channel::ResponseFuture),
}

impl std::fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl Future for ResponseFuture {
    type Output = Result<Response, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.inner {
            ResponseFutureInner::H2(call) => call.as_mut().poll(cx).map_err(Into::into),
            ResponseFutureInner::Tonic(call) => Pin::new(call)
                .poll(cx)
                .map_ok(|response| {
                    response.map(|body| ResponseBody {
                        inner: BodyInner::Tonic(body),
                    })
                })
                .map_err(Into::into),
        }
    }
}

impl tower::Service<http::Request<Body>> for Channel {
    type Response = Response;
    type Error = BoxError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.inner {
            // The connection is made, and a stream slot waited for, within the call.
            Inner::H2(_) => Poll::Ready(Ok(())),
            Inner::Tonic(channel) => {
                tower::Service::<http::Request<Body>>::poll_ready(channel, cx).map_err(Into::into)
            }
        }
    }

    fn call(&mut self, request: http::Request<Body>) -> ResponseFuture {
        #[cfg(feature = "opentelemetry")]
        let request = {
            let mut request = request;
            super::trace_context::inject(request.headers_mut());
            request
        };
        let inner = match &mut self.inner {
            Inner::H2(shared) => {
                ResponseFutureInner::H2(Box::pin(Arc::clone(shared).call(request)))
            }
            Inner::Tonic(channel) => ResponseFutureInner::Tonic(channel.call(request)),
        };
        ResponseFuture { inner }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use tokio::net::{UnixListener, UnixStream};
    use tokio::sync::oneshot;
    use tokio_stream::wrappers::UnixListenerStream;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_client::HealthClient;

    use super::*;

    /// A health server on `socket` until the returned sender is used or dropped.
    fn serve_health(socket: &Path) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let _ = std::fs::remove_file(socket);
        let listener = UnixListener::bind(socket).expect("bind");
        let (_reporter, service) = tonic_health::server::health_reporter();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming_shutdown(UnixListenerStream::new(listener), async {
                    let _ = stopped.await;
                })
                .await
                .expect("serve");
        });
        (stop, server)
    }

    fn channel_to(socket: PathBuf) -> Channel {
        Channel::dial_with(Arc::new(move || {
            let socket = socket.clone();
            Box::pin(async move { Ok(Box::pin(UnixStream::connect(socket).await?) as BoxedIo) })
        }))
    }

    async fn check(channel: &Channel) -> Result<(), Status> {
        let request = HealthCheckRequest {
            service: String::new(),
        };
        HealthClient::new(channel.clone())
            .check(request)
            .await
            .map(drop)
    }

    #[tokio::test]
    async fn a_closed_connection_is_dialled_again_at_the_next_call() {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("health.sock");
        let channel = channel_to(socket.clone());

        let (stop, server) = serve_health(&socket);
        check(&channel).await.expect("first server");
        stop.send(()).expect("stop");
        server.await.expect("server task");

        let (_stop, _server) = serve_health(&socket);
        // The old connection's end may reach the channel a moment after the server has gone.
        let mut answered = check(&channel).await;
        for _ in 0..50 {
            if answered.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            answered = check(&channel).await;
        }
        answered.expect("the second server answers on a new connection");
    }

    #[tokio::test]
    async fn nothing_listening_is_unavailable() {
        let dir = tempfile::tempdir().expect("temp dir");
        let channel = channel_to(dir.path().join("nobody.sock"));
        let status = check(&channel).await.expect_err("nobody listens");
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert!(
            status.message().starts_with("failed to connect: "),
            "{status:?}"
        );
    }
}
