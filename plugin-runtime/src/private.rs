//! What generated code uses. Not a public API: it changes without notice, together with the
//! macro crate, which the runtime pins to its exact version.

pub use crate::rpc::callback::{dial_callback, serve_callback};
pub use crate::rpc::dispatch::{
    BoxFuture, serve_client_streaming, serve_server_streaming, serve_streaming, serve_unary,
    serve_unimplemented,
};
pub use crate::rpc::stream::ResponseStream;
pub use http;
pub use prost;
pub use tonic;
pub use tonic::body::Body;
pub use tonic::server::NamedService;
pub use tower::Service;

/// The codecs of generated messages.
pub mod wire {
    pub use crate::wire::*;
}

/// The `.proto` definitions of user types.
pub mod proto {
    pub use crate::definitions::*;
}

// Calls and streams of generated code: functions here rather than hidden methods on the public
// `Connection` and `Stream`, whose signatures would name types users cannot.

use crate::error::Error;
use crate::rpc::connection::Connection;
use crate::rpc::stream::Stream;
pub use crate::rpc::stream::{Requests, Responses};

/// Makes one unary call.
pub async fn unary<Req, Resp>(
    connection: &Connection,
    request: Req,
    path: &'static str,
) -> Result<Resp, Error>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    connection.unary(request, path).await
}

/// Starts a server-streaming call.
pub async fn server_streaming<Req, Resp>(
    connection: &Connection,
    request: Req,
    path: &'static str,
) -> Result<Responses<Resp>, Error>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    connection.server_streaming(request, path).await
}

/// Makes a client-streaming call.
pub async fn client_streaming<Req, Resp>(
    connection: &Connection,
    requests: Requests<Req>,
    path: &'static str,
) -> Result<Resp, Error>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    connection.client_streaming(requests, path).await
}

/// Starts a bidirectional call.
pub async fn streaming<Req, Resp>(
    connection: &Connection,
    requests: Requests<Req>,
    path: &'static str,
) -> Result<Responses<Resp>, Error>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    connection.streaming(requests, path).await
}

/// A client's stream of results, each taken out of its response message.
pub fn stream_from_responses<T: Send + 'static, M: Send + 'static>(
    responses: Responses<M>,
    unwrap: fn(M) -> T,
) -> Stream<T> {
    Stream::from_responses(responses, unwrap)
}

/// A client's stream of arguments, each put in a request message.
pub fn stream_into_requests<T: Send + 'static, M: Send + 'static>(
    stream: Stream<T>,
    wrap: fn(T) -> M,
) -> Requests<M> {
    stream.into_requests(wrap)
}

/// A server's stream of arguments, each taken out of its request message.
pub fn stream_from_requests<T: Send + 'static, M: Send + 'static>(
    requests: tonic::Streaming<M>,
    unwrap: fn(M) -> T,
) -> Stream<T> {
    Stream::from_requests(requests, unwrap)
}

/// A server's stream of results, each put in a response message.
pub fn stream_into_responses<T: Send + 'static, M: Send + 'static>(
    stream: Stream<T>,
    wrap: fn(T) -> M,
) -> ResponseStream<M> {
    stream.into_responses(wrap)
}
