//! Serve and launch [HashiCorp go-plugin](https://github.com/hashicorp/go-plugin) compatible
//! gRPC plugins whose interface is an ordinary Rust trait.
//!
//! New here? The [guide] goes through plugins, hosts, messages, errors, callbacks and streams,
//! TLS, debugging, testing and logging, and maps go-plugin's names to this crate's items.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
// Our one build without the `tls` feature is the compile-fail cases' project (tests/ui), where
// warnings do not fail the build: what the feature's absence leaves unused must fail it there.
// (Registry builds cap lints, so users are not affected.)
#![cfg_attr(not(feature = "tls"), deny(unused))]

mod broker;
mod cleanup;
mod client;
mod controller;
mod definitions;
mod error;
mod exit;
mod generated;
pub mod guide;
mod handshake;
#[cfg(test)]
mod hostile;
pub mod inspect;
mod interface;
mod listener;
mod log;
#[cfg(feature = "tls")]
mod mtls;
mod mux;
mod pidfd;
mod reattach;
mod secure;
mod serve;
mod session;
mod stdio;
mod stream;
mod tls;
mod transport;
mod wire;

pub use broker::{Broker, BrokeredServer};
pub use cleanup::{cleanup_clients, cleanup_clients_on_signal};
pub use client::{Client, ClientConfig};
pub use error::{Code, Error, PluginError, Status};
pub use go_plugin_macros::{Proto, plugin_interface};
pub use handshake::HandshakeConfig;
pub use interface::{Connection, PluginInterface, PluginServer};
pub use listener::Transport;
pub use log::{HclogLayer, init_plugin_logging};
pub use reattach::{ReattachAddress, ReattachConfig, ReattachError};
/// The rustls this crate uses, for building a [`TlsConfig`].
#[cfg(feature = "tls")]
pub use rustls;
pub use secure::{ChecksumError, Hash, SecureConfig};
pub use serve::{ServeConfig, debug_requested, serve};
pub use stream::{Stream, StreamSender};
pub use tls::TlsConfig;

/// The largest message either side accepts or sends: go-plugin's hosts use `math.MaxInt32`.
pub const MAX_MESSAGE_SIZE: usize = i32::MAX as usize;

/// The AutoMTLS handshake, for the `tests` crate's checks against Go's crypto/tls. Not a public
/// API: it changes without notice.
#[cfg(feature = "tls")]
#[doc(hidden)]
pub use mtls::testing as __tls_testing;

/// What generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::interface::{
        BoxFuture, dial_callback, serve_callback, serve_unary, serve_unimplemented,
    };
    /// The codecs of generated messages.
    pub mod wire {
        pub use crate::wire::*;
    }
    /// The `.proto` definitions of user types.
    pub mod proto {
        pub use crate::definitions::*;
    }
    pub use crate::stream::{
        ResponseStream, serve_client_streaming, serve_server_streaming, serve_streaming,
    };
    pub use http;
    pub use prost;
    pub use tonic;
    pub use tonic::body::Body;
    pub use tonic::server::NamedService;
    pub use tower::Service;

    // Calls and streams of generated code.
    use crate::stream::{Requests, Responses};
    use crate::{Connection, Error, Stream};

    /// Generated clients: one unary call.
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

    /// Generated clients: starts a server-streaming call.
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

    /// Generated clients: one client-streaming call.
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

    /// Generated clients: starts a bidirectional call.
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

    /// Generated clients: the response messages of a call as the method's values.
    pub fn stream_from_responses<T: Send + 'static, M: Send + 'static>(
        responses: Responses<M>,
        unwrap: fn(M) -> T,
    ) -> Stream<T> {
        Stream::from_responses(responses, unwrap)
    }

    /// Generated clients: the method's values as request messages.
    pub fn stream_into_requests<T: Send + 'static, M: Send + 'static>(
        stream: Stream<T>,
        wrap: fn(T) -> M,
    ) -> Requests<M> {
        stream.into_requests(wrap)
    }

    /// Generated servers: a client stream's messages as the method's values.
    pub fn stream_from_requests<T: Send + 'static, M: Send + 'static>(
        streaming: tonic::Streaming<M>,
        unwrap: fn(M) -> T,
    ) -> Stream<T> {
        Stream::from_requests(streaming, unwrap)
    }

    /// Generated servers: the method's values as response messages.
    pub fn stream_into_responses<T: Send + 'static, M: Send + 'static>(
        stream: Stream<T>,
        wrap: fn(T) -> M,
    ) -> ResponseStream<M> {
        stream.into_responses(wrap)
    }
}
