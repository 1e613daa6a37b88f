//! [`Connection`]: a gRPC connection to the other process, and the four kinds of call generated
//! clients make on it, each reporting a plugin that exited as [`Error::PluginExited`].

use std::sync::Arc;

use tonic::Status;

use super::broker::Broker;
use super::exit::{self, ExitSince, ExitWatch};
use super::stream::{AbortableCodec, FailureWatch, Requests, Responses};
use crate::error::Error;
use crate::net::MAX_MESSAGE_SIZE;
use crate::net::channel::Channel;

/// What keeps a plugin running while a connection to it is held: the host's session, type-erased
/// so that this layer does not know it.
pub(crate) type KeepAlive = Arc<dyn std::fmt::Debug + Send + Sync>;

/// The broker a connection's callbacks are served through.
#[derive(Clone)]
pub(crate) enum Brokers {
    /// One broker, for as long as the connection lives.
    Fixed(Broker),
    /// The broker of whichever process serves now (a supervised plugin's, which changes when it
    /// is restarted).
    Current(Arc<dyn Fn() -> Option<Broker> + Send + Sync>),
}

impl std::fmt::Debug for Brokers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Brokers::Fixed(broker) => f.debug_tuple("Fixed").field(broker).finish(),
            Brokers::Current(_) => f.write_str("Current"),
        }
    }
}

/// A gRPC connection to a plugin (or, through the broker, to a host service).
///
/// Cloning is cheap; clones share the one HTTP/2 connection. A connection from a
/// [`Client`](crate::Client) keeps its plugin running; calls made after the plugin process has
/// exited fail with [`Error::PluginExited`].
#[derive(Clone, Debug)]
pub struct Connection {
    channel: Channel,
    grpc: tonic::client::Grpc<Channel>,
    exit: Option<ExitWatch>,
    /// Keeps the plugin running while the connection is held.
    _keep_alive: Option<KeepAlive>,
    broker: Option<Brokers>,
    /// Each call's deadline, if any.
    timeout: Option<std::time::Duration>,
}

impl Connection {
    /// A connection on `channel` that reports the plugin's exit when `exit` is known, keeps
    /// `keep_alive` while it lives, and makes brokered services with `broker`.
    pub(crate) fn new(
        channel: Channel,
        exit: Option<ExitWatch>,
        keep_alive: Option<KeepAlive>,
        broker: Option<Brokers>,
    ) -> Self {
        let grpc = tonic::client::Grpc::new(channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        Connection {
            channel,
            grpc,
            exit,
            _keep_alive: keep_alive,
            broker,
            timeout: None,
        }
    }

    /// A connection to a brokered service: it reports the plugin's exit when `exit` is known,
    /// and makes further brokered services with `broker`.
    pub(crate) fn brokered(channel: Channel, exit: Option<ExitWatch>, broker: Broker) -> Self {
        Self::new(channel, exit, None, Some(Brokers::Fixed(broker)))
    }

    /// A connection over any tonic channel, for example one made by hand to a plugin started
    /// elsewhere. Such a connection does not know when the plugin exits, and has no broker.
    pub fn from_channel(channel: tonic::transport::Channel) -> Self {
        Self::new(Channel::tonic(channel), None, None, None)
    }

    /// This connection with a deadline for each call made on it: sent to the plugin as
    /// `grpc-timeout` (its handler is cancelled when it passes) and enforced here, where the call
    /// fails with `DeadlineExceeded`. Dropping a call's future cancels it the same way.
    #[must_use]
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The deadline of each call, if one is set.
    pub fn timeout(&self) -> Option<std::time::Duration> {
        self.timeout
    }

    /// A request carrying this connection's deadline.
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(timeout) = self.timeout {
            request.set_timeout(timeout);
        }
        request
    }

    /// Runs a call within this connection's deadline.
    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match self.timeout {
            None => call.await,
            Some(timeout) => tokio::time::timeout(timeout, call)
                .await
                .unwrap_or_else(|_| {
                    Err(Error::Rpc(Status::deadline_exceeded(format!(
                        "the call took longer than its {timeout:?} deadline"
                    ))))
                }),
        }
    }

    /// The underlying channel, for calling hand-written or tonic-generated services: it is a
    /// tonic `GrpcService`, as tonic's own channel is.
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The broker of this side of the connection, for serving and dialing brokered services
    /// (callbacks) on it. For a supervised plugin, the broker of the process that serves now.
    pub fn broker(&self) -> Option<Broker> {
        match self.broker.as_ref()? {
            Brokers::Fixed(broker) => Some(broker.clone()),
            Brokers::Current(current) => current(),
        }
    }

    fn exit(&self) -> Option<&ExitWatch> {
        self.exit.as_ref()
    }

    /// Makes one unary call. Generated clients call it through `__private`.
    pub(crate) async fn unary<Req, Resp>(
        &self,
        request: Req,
        path: &'static str,
    ) -> Result<Resp, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.within(async move {
            let (mut grpc, since) = self.ready().await?;
            let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
            let path = http::uri::PathAndQuery::from_static(path);
            match grpc.unary(self.request(request), path, codec).await {
                Ok(response) => Ok(response.into_inner()),
                Err(status) => Err(self.failed(since.as_ref(), status).await),
            }
        })
        .await
    }

    /// Starts a server-streaming call. Generated clients call it through `__private`.
    pub(crate) async fn server_streaming<Req, Resp>(
        &self,
        request: Req,
        path: &'static str,
    ) -> Result<Responses<Resp>, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.within(async move {
            let (mut grpc, since) = self.ready().await?;
            let codec = tonic_prost::ProstCodec::<Req, Resp>::default();
            let path = http::uri::PathAndQuery::from_static(path);
            match grpc
                .server_streaming(self.request(request), path, codec)
                .await
            {
                Ok(response) => Ok(Responses::new(
                    response.into_inner(),
                    None,
                    self.exit.clone(),
                )),
                Err(status) => Err(self.failed(since.as_ref(), status).await),
            }
        })
        .await
    }

    /// Makes a client-streaming call; an error item of `requests` cancels it and is the
    /// result. Generated clients call it through `__private`.
    pub(crate) async fn client_streaming<Req, Resp>(
        &self,
        mut requests: Requests<Req>,
        path: &'static str,
    ) -> Result<Resp, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.within(async move {
            let (mut grpc, since) = self.ready().await?;
            let codec = AbortableCodec::<Req, Resp>::default();
            let path = http::uri::PathAndQuery::from_static(path);
            let mut failure = requests.watch();
            // Through the bidirectional API, so that a stream that ends well without a response
            // message (grpc-go's handler returning nil without SendAndClose, as go-plugin's
            // examples/streaming does) gives an empty response, not tonic's "Missing response
            // message.".
            let call = async move {
                let mut responses = grpc
                    .streaming(self.request(requests), path, codec)
                    .await?
                    .into_inner();
                let first = responses.message().await?;
                while responses.message().await?.is_some() {}
                Ok::<_, Status>(first.unwrap_or_default())
            };
            let own_error =
                |failure: &FailureWatch| failure.take().map(|err| Error::Rpc(Status::from(err)));
            // The host's own stream error wins over what the cancelled call reports.
            tokio::select! {
                biased;
                () = failure.failed() => Err(own_error(&failure)
                    .unwrap_or_else(|| Error::Rpc(Status::cancelled("the request stream failed")))),
                result = call => match result {
                    Ok(response) => Ok(response),
                    Err(status) => match own_error(&failure) {
                        Some(err) => Err(err),
                        None => Err(self.failed(since.as_ref(), status).await),
                    },
                },
            }
        })
        .await
    }

    /// Starts a bidirectional call. Generated clients call it through `__private`.
    pub(crate) async fn streaming<Req, Resp>(
        &self,
        mut requests: Requests<Req>,
        path: &'static str,
    ) -> Result<Responses<Resp>, Error>
    where
        Req: prost::Message + Send + Sync + 'static,
        Resp: prost::Message + Default + Send + Sync + 'static,
    {
        self.within(async move {
            let (mut grpc, since) = self.ready().await?;
            let codec = AbortableCodec::<Req, Resp>::default();
            let path = http::uri::PathAndQuery::from_static(path);
            let watch = requests.watch();
            match grpc.streaming(self.request(requests), path, codec).await {
                Ok(response) => Ok(Responses::new(
                    response.into_inner(),
                    Some(watch),
                    self.exit.clone(),
                )),
                Err(status) => Err(self.failed(since.as_ref(), status).await),
            }
        })
        .await
    }

    /// The gRPC client, once the channel can take a call, and the exit watch as of the call's
    /// start.
    async fn ready(&self) -> Result<(tonic::client::Grpc<Channel>, Option<ExitSince>), Error> {
        let since = self.exit().map(ExitWatch::since);
        if let Some(exit) = self.exit()
            && let Some(status) = exit.status()
        {
            return Err(Error::PluginExited { status });
        }
        let mut grpc = self.grpc.clone();
        if let Err(err) = grpc.ready().await {
            return Err(self.failed(since.as_ref(), Status::from_error(err)).await);
        }
        Ok((grpc, since))
    }

    /// Turns a failed call into an error that says the plugin exited when that is why it failed.
    async fn failed(&self, since: Option<&ExitSince>, status: Status) -> Error {
        // A connection reset usually arrives a moment before the process is reaped.
        if let Some(since) = since
            && exit::may_mean_exit(&status)
            && let Some(status) = since.wait_for(exit::RESET_GRACE).await
        {
            return Error::PluginExited { status };
        }
        Error::Rpc(status)
    }
}
