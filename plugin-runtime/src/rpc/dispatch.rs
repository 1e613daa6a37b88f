//! The server side of every call: decoding the request, running the implementation in its
//! [`CallContext`], catching its panic, encoding the answer. Generated servers call these through
//! `__private`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::Status;
use tonic::body::Body;

use super::context::CallContext;
use super::stream::ResponseStream;
use crate::net::MAX_MESSAGE_SIZE;

/// Serves one unary call: decodes `Req`, runs `handler`, encodes its answer. Used by generated
/// servers.
pub fn serve_unary<Req, Resp, F, Fut>(request: http::Request<Body>, handler: F) -> BoxFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Req) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
{
    struct Handler<F>(Option<F>);

    impl<Req, Resp, F, Fut> tonic::server::UnaryService<Req> for Handler<F>
    where
        Req: Send + 'static,
        F: FnOnce(Req) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        type Response = Resp;
        type Future = Answer<Resp>;

        fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
            answer(self.0.take(), request)
        }
    }

    Box::pin(async move {
        let codec = tonic_prost::ProstCodec::<Resp, Req>::default();
        let mut grpc = tonic::server::Grpc::new(codec)
            .apply_max_message_size_config(Some(MAX_MESSAGE_SIZE), Some(MAX_MESSAGE_SIZE));
        Ok(grpc.unary(Handler(Some(handler)), request).await)
    })
}

/// `request` with its caller's cancellation kept an error. tonic's decoder ends a request stream
/// cleanly when the caller resets it with `CANCEL`, so a handler would take a cancelled upload for
/// a complete one and answer it; grpc-go's handlers see `Canceled`, and so do ours (as
/// `Cancelled`, "the request stream was cut off").
fn cancel_is_an_error(request: http::Request<Body>) -> http::Request<Body> {
    request.map(|body| Body::new(CancelIsAnError { body }))
}

/// A request body whose `Cancelled` error tonic's decoder passes on (see [`cancel_is_an_error`]).
struct CancelIsAnError {
    body: Body,
}

impl http_body::Body for CancelIsAnError {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, Status>>> {
        Pin::new(&mut self.body).poll_frame(cx).map_err(|status| {
            if status.code() == tonic::Code::Cancelled {
                Status::aborted(format!(
                    "the caller cancelled the call ({})",
                    status.message()
                ))
            } else {
                status
            }
        })
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// What a served call's future is.
pub(crate) type Answer<T> =
    Pin<Box<dyn Future<Output = Result<tonic::Response<T>, Status>> + Send + 'static>>;

/// Runs a generated handler for one call of any kind, as every call runs: after one yield
/// ([`yield_before_user_code`]) when a blocking write to stdout may wait on the call's own
/// connection, inside the call's [`CallContext`], its panic caught ([`CatchPanic`]).
pub(crate) fn answer<I, T, F, Fut>(handler: Option<F>, request: tonic::Request<I>) -> Answer<T>
where
    I: Send + 'static,
    F: FnOnce(I) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, Status>> + Send + 'static,
{
    let context = CallContext::of(request.extensions()).cloned();
    let must_yield = CallContext::stdio_may_drain_through(context.as_ref());
    Box::pin(async move {
        let handler = handler.ok_or_else(|| Status::internal("handler called twice"))?;
        if must_yield {
            yield_before_user_code().await;
        }
        let call = CallContext::scope(context, handler(request.into_inner()));
        CatchPanic::new(call).await.map(tonic::Response::new)
    })
}

pin_project_lite::pin_project! {
    /// A handler's future whose panic becomes an `Internal` status ("plugin panicked: …") for its
    /// call alone: the caller learns at once what happened, and the plugin keeps serving. (The
    /// panic hook still writes the panic to the log channel.)
    pub(crate) struct CatchPanic<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchPanic<F> {
    pub(crate) fn new(inner: F) -> Self {
        CatchPanic { inner }
    }
}

impl<T, F> Future for CatchPanic<F>
where
    F: Future<Output = Result<T, Status>>,
{
    type Output = Result<T, Status>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_owned());
                Poll::Ready(Err(Status::internal(format!("plugin panicked: {message}"))))
            }
        }
    }
}

/// Lets the worker run what decoding the request woke before the implementation runs.
///
/// Reading a large request releases HTTP/2 flow-control capacity, which wakes the connection's
/// task into this worker's LIFO slot, which other workers cannot steal. If the implementation
/// then blocks the worker — `println!` on a stdout pipe the host drains through that very
/// connection — the connection never runs again and the plugin deadlocks. One yield empties the
/// slot first (seen in 3 of 30 runs of the stdout flood test without it, none of 30 with it).
///
/// It costs a wake of another worker per call (about 15% of a small call's latency), so it is
/// skipped when the stdio stream is open on another connection
/// ([`CallContext::stdio_may_drain_through`]), as our host opens it: a task woken by decoding
/// this call's request is this call's own connection, which stdio does not need.
pub(crate) async fn yield_before_user_code() {
    tokio::task::yield_now().await;
}

/// Answers a call to a method the service does not have with `Unimplemented`, as tonic does.
pub fn serve_unimplemented(request: http::Request<Body>) -> BoxFuture {
    // grpc-go's words: `unknown method Get for service proto.KV`.
    let mut parts = request.uri().path().trim_start_matches('/').splitn(2, '/');
    let (service, method) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let status = Status::unimplemented(format!("unknown method {method} for service {service}"));
    Box::pin(async move { Ok(status.into_http()) })
}

/// The future a generated server returns for each call.
pub type BoxFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send + 'static>>;

/// The gRPC server for one call's codec, with this crate's message limits.
fn grpc<Req, Resp>() -> tonic::server::Grpc<tonic_prost::ProstCodec<Resp, Req>>
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
{
    tonic::server::Grpc::new(tonic_prost::ProstCodec::<Resp, Req>::default())
        .apply_max_message_size_config(Some(MAX_MESSAGE_SIZE), Some(MAX_MESSAGE_SIZE))
}

/// Serves one server-streaming call. Generated servers call it through `__private`.
pub fn serve_server_streaming<Req, Resp, F, Fut>(
    request: http::Request<tonic::body::Body>,
    handler: F,
) -> BoxFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(Req) -> Fut + Send + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, Status>> + Send + 'static,
{
    struct Handler<F>(Option<F>);

    impl<Req, Resp, F, Fut> tonic::server::ServerStreamingService<Req> for Handler<F>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(Req) -> Fut + Send + 'static,
        Fut: Future<Output = Result<ResponseStream<Resp>, Status>> + Send + 'static,
    {
        type Response = Resp;
        type ResponseStream = ResponseStream<Resp>;
        type Future = Answer<ResponseStream<Resp>>;

        fn call(&mut self, request: tonic::Request<Req>) -> Self::Future {
            answer(self.0.take(), request)
        }
    }

    Box::pin(async move {
        Ok(grpc::<Req, Resp>()
            .server_streaming(Handler(Some(handler)), request)
            .await)
    })
}

/// Serves one client-streaming call. Generated servers call it through `__private`.
pub fn serve_client_streaming<Req, Resp, F, Fut>(
    request: http::Request<tonic::body::Body>,
    handler: F,
) -> BoxFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(tonic::Streaming<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
{
    struct Handler<F>(Option<F>);

    impl<Req, Resp, F, Fut> tonic::server::ClientStreamingService<Req> for Handler<F>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(tonic::Streaming<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Resp, Status>> + Send + 'static,
    {
        type Response = Resp;
        type Future = Answer<Resp>;

        fn call(&mut self, request: tonic::Request<tonic::Streaming<Req>>) -> Self::Future {
            answer(self.0.take(), request)
        }
    }

    Box::pin(async move {
        Ok(grpc::<Req, Resp>()
            .client_streaming(Handler(Some(handler)), cancel_is_an_error(request))
            .await)
    })
}

/// Serves one bidirectional call. Generated servers call it through `__private`.
pub fn serve_streaming<Req, Resp, F, Fut>(
    request: http::Request<tonic::body::Body>,
    handler: F,
) -> BoxFuture
where
    Req: prost::Message + Default + Send + 'static,
    Resp: prost::Message + Send + 'static,
    F: FnOnce(tonic::Streaming<Req>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<ResponseStream<Resp>, Status>> + Send + 'static,
{
    struct Handler<F>(Option<F>);

    impl<Req, Resp, F, Fut> tonic::server::StreamingService<Req> for Handler<F>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(tonic::Streaming<Req>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<ResponseStream<Resp>, Status>> + Send + 'static,
    {
        type Response = Resp;
        type ResponseStream = ResponseStream<Resp>;
        type Future = Answer<ResponseStream<Resp>>;

        fn call(&mut self, request: tonic::Request<tonic::Streaming<Req>>) -> Self::Future {
            answer(self.0.take(), request)
        }
    }

    Box::pin(async move {
        Ok(grpc::<Req, Resp>()
            .streaming(Handler(Some(handler)), cancel_is_an_error(request))
            .await)
    })
}
