//! `plugin.GRPCBroker`: extra gRPC services either side serves for the other, each known by a
//! `uint32` id that travels inside an application message (go-plugin's `GRPCBroker`).
//!
//! Both sides hold a [`Broker`] on the one `StartStream` stream of their connection: the host
//! as its client, the plugin as its server. The side that serves a service allocates its id
//! ([`Broker::next_id`]), starts serving it ([`Broker::accept_and_serve`]), and sends the id to the
//! other side in a call; that side dials it ([`Broker::dial`]), waiting up to 5 s for the
//! connection information, as go-plugin does.
//!
//! Without multiplexing, serving means a new socket whose address is announced on the stream
//! (`ConnInfo{service_id, network, address}`). With multiplexing (go-plugin's
//! `PLUGIN_MULTIPLEX_GRPC`), every connection is a stream of the one yamux session: the dialing
//! side knocks (`ConnInfo{service_id, knock{knock}}`), the serving side routes its next inbound
//! stream to that id and acknowledges, and only then does the dialer open the stream.

mod pending;
mod routes;

use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_stream::{Stream, StreamExt};
use tonic::service::RoutesBuilder;
use tonic::{Request, Response, Status, Streaming};

use crate::error::Error;
use crate::generated::plugin::grpc_broker_client::GrpcBrokerClient;
use crate::generated::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};
use crate::generated::plugin::{ConnInfo, conn_info::Knock};
use crate::net::listener::{self, Transport};
use crate::net::mux::Mux;
use crate::net::tls::Tls;
use crate::net::transport::{self, BoxedIo};
use crate::protocol::handshake::Network;
use crate::rpc::connection::Connection;
use crate::rpc::context::CallContext;
use crate::rpc::exit::ExitWatch;
use crate::rpc::interface::PluginServer;
use crate::sync::lock;
use pending::Pending;
use routes::Routes;

pub(crate) use routes::Route;

/// How long a dialer waits for the other side's connection information or knock
/// acknowledgement: go-plugin's 5 s, as long as unclaimed information is kept.
const WAIT: Duration = pending::STALE;

/// One side's broker. Cloning shares it.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    next_id: AtomicU32,
    /// Messages for the other side, taken by whoever holds the stream.
    outgoing: mpsc::UnboundedSender<ConnInfo>,
    outgoing_rx: Mutex<Option<mpsc::UnboundedReceiver<ConnInfo>>>,
    /// Connection information and knock acknowledgements received, by id, until claimed.
    pending: Pending<ConnInfo>,
    /// Where inbound multiplexed streams go.
    routes: Mutex<Routes<BoxedIo>>,
    /// Serializes multiplexed dials, as go-plugin does: a knock and its stream go together.
    dialing: tokio::sync::Mutex<()>,
    tls: Tls,
    /// Whether connections are multiplexed, and (once the session runs) the session.
    multiplexed: bool,
    mux: OnceLock<Mux>,
    /// The plugin's exit, on the host side: calls on brokered connections report it.
    exit: Option<ExitWatch>,
    /// Raised (or dropped) when the connection ends: brokered servers stop with it.
    closed: watch::Receiver<bool>,
    _close: Option<watch::Sender<bool>>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("next_id", &self.inner.next_id.load(Ordering::Relaxed))
            .field("multiplexed", &self.inner.multiplexed)
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// A broker whose brokered servers stop when `closed` is raised, or when the broker is
    /// dropped if `closed` is `None`.
    pub(crate) fn new(
        tls: Tls,
        multiplexed: bool,
        exit: Option<ExitWatch>,
        closed: Option<watch::Receiver<bool>>,
    ) -> Self {
        let (outgoing, outgoing_rx) = mpsc::unbounded_channel();
        let (close, closed) = match closed {
            Some(closed) => (None, closed),
            None => {
                let (close, closed) = watch::channel(false);
                (Some(close), closed)
            }
        };
        Broker {
            inner: Arc::new(Inner {
                next_id: AtomicU32::new(0),
                outgoing,
                outgoing_rx: Mutex::new(Some(outgoing_rx)),
                pending: Pending::default(),
                routes: Mutex::new(Routes::default()),
                dialing: tokio::sync::Mutex::new(()),
                tls,
                multiplexed,
                mux: OnceLock::new(),
                exit,
                closed,
                _close: close,
            }),
        }
    }

    /// The broker of the side serving `request`: in a hand-written (or tonic-generated) service
    /// served by this crate, the broker its calls can use, as go-plugin hands `GRPCServer` its
    /// broker.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<Broker> {
        Self::in_extensions(request.extensions())
    }

    /// In a call a plugin (or a host's brokered service) is serving, the broker of its
    /// connection: to dial a service id the caller sent, or to serve one for it. `None` outside
    /// such a call.
    ///
    /// ```no_run
    /// # use go_plugin::{Broker, PluginError};
    /// # async fn sum_through_host(helper: u32) -> Result<(), PluginError> {
    /// // Inside a method of a plugin's interface, given an id from the host:
    /// let broker = Broker::current().ok_or_else(|| PluginError::internal("not in a call"))?;
    /// let connection = broker.dial(helper).await?;
    /// # Ok(()) }
    /// ```
    pub fn current() -> Option<Broker> {
        CallContext::current().and_then(|context| context.broker().cloned())
    }

    /// The broker in a request's extensions, where the server puts it.
    pub(crate) fn in_extensions(extensions: &http::Extensions) -> Option<Broker> {
        CallContext::of(extensions).and_then(|context| context.broker().cloned())
    }

    /// A fresh id for a service this side serves: counting from 1, independently on each side,
    /// as go-plugin's `NextId`.
    pub fn next_id(&self) -> u32 {
        self.inner
            .next_id
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_add(1)
    }

    /// Serves `servers` as the brokered service `id` until the returned handle is dropped or
    /// the connection ends (go-plugin's `AcceptAndServe`). The other side reaches it with
    /// [`dial`](Self::dial) once it has learned the id.
    pub async fn accept_and_serve(
        &self,
        id: u32,
        servers: impl IntoIterator<Item = PluginServer>,
    ) -> Result<BrokeredServer, Error> {
        let mut routes = RoutesBuilder::default();
        for server in servers {
            server.add_to(&mut routes);
        }
        let routes = transport::naming_unknown_services(routes.routes());
        let (stop, stopping) = watch::channel(false);
        let mut closed = self.inner.closed.clone();
        let shutdown = async move {
            let mut stopping = stopping;
            tokio::select! {
                () = crate::rpc::raised(&mut stopping) => {}
                () = crate::rpc::raised(&mut closed) => {}
            }
        };
        let incoming = if self.inner.multiplexed {
            let (streams, incoming) = mpsc::unbounded_channel();
            lock(&self.inner.routes).serve(id, streams);
            transport::Incoming::Streams(incoming)
        } else {
            let listener = listener::bind(Transport::Unix).await?;
            self.send(ConnInfo {
                service_id: id,
                network: listener.network().to_owned(),
                address: listener.address(),
                knock: None,
            })?;
            transport::Incoming::Listener(listener)
        };
        let serving = tokio::spawn(crate::rpc::context::serve(
            routes,
            incoming,
            self.inner.tls.clone(),
            Some(self.clone()),
            shutdown,
        ));
        Ok(BrokeredServer {
            id,
            stop,
            serving,
            broker: self.clone(),
        })
    }

    /// Connects to the other side's brokered service `id` (go-plugin's `Dial`).
    pub async fn dial(&self, id: u32) -> Result<Connection, Error> {
        let channel = if self.inner.multiplexed {
            let broker = self.clone();
            transport::dial_with(move || {
                let broker = broker.clone();
                async move { broker.knock_and_open(id).await }
            })
        } else {
            let info =
                self.inner.pending.claim(id, WAIT).await.ok_or_else(|| {
                    Error::Broker("timeout waiting for connection info".to_owned())
                })?;
            let address = match info.network.as_str() {
                "unix" => Network::Unix(info.address.into()),
                "tcp" => Network::Tcp(info.address),
                _ => {
                    return Err(Error::Broker(format!(
                        "unknown address type: {}",
                        info.address
                    )));
                }
            };
            transport::dial(&address, &self.inner.tls)
        };
        Ok(Connection::brokered(
            channel,
            self.inner.exit.clone(),
            self.clone(),
        ))
    }

    /// A message for the other side.
    fn send(&self, info: ConnInfo) -> Result<(), Error> {
        self.inner
            .outgoing
            .send(info)
            .map_err(|_| Error::Broker("broker closed".to_owned()))
    }

    /// Handles a message from the other side: a knock for an id this side serves, or
    /// connection information (or a knock acknowledgement) for an id it dials.
    fn received(&self, info: ConnInfo) {
        if let Some(knock) = &info.knock
            && knock.knock
            && !knock.ack
        {
            self.knocked_on(info.service_id);
            return;
        }
        // One message per id at a time; extras are dropped, as go-plugin drops them.
        self.inner.pending.deliver(info.service_id, info);
    }

    /// The other side knocks on `id`, about to open a stream for it: the next inbound stream
    /// goes to `id`'s server. The acknowledgement carries an error when there is none.
    fn knocked_on(&self, id: u32) {
        let error = lock(&self.inner.routes).knock(id).err().unwrap_or_default();
        let _ = self.send(ConnInfo {
            service_id: id,
            network: String::new(),
            address: String::new(),
            knock: Some(Knock {
                knock: true,
                ack: true,
                error,
            }),
        });
    }

    /// Multiplexed dial: knock on `id`, wait for the acknowledgement, open the stream.
    async fn knock_and_open(&self, id: u32) -> std::io::Result<BoxedIo> {
        let Some(mux) = self.inner.mux.get() else {
            return Err(std::io::Error::other(
                "the multiplexed connection is not established yet",
            ));
        };
        let _one_at_a_time = self.inner.dialing.lock().await;
        self.send(ConnInfo {
            service_id: id,
            network: String::new(),
            address: String::new(),
            knock: Some(Knock {
                knock: true,
                ack: false,
                error: String::new(),
            }),
        })
        .map_err(std::io::Error::other)?;
        let ack = self.inner.pending.claim(id, WAIT).await.ok_or_else(|| {
            std::io::Error::other(format!(
                "timeout waiting for multiplexing knock handshake on id {id}"
            ))
        })?;
        match ack.knock {
            Some(knock) if knock.knock && knock.ack && knock.error.is_empty() => {}
            Some(knock) if knock.knock && knock.ack => {
                return Err(std::io::Error::other(format!(
                    "failed to knock for id {id}: {}",
                    knock.error
                )));
            }
            other => {
                return Err(std::io::Error::other(format!(
                    "handshake failed for multiplexing on id {id}; expected knock and ack, but \
                     got {other:?}"
                )));
            }
        }
        let stream = mux.open().await?;
        self.inner.tls.connect(stream).await
    }

    /// The multiplexed session, once it runs.
    pub(crate) fn set_mux(&self, mux: Mux) {
        let _ = self.inner.mux.set(mux);
    }

    /// Where an inbound multiplexed stream goes: to the server of the oldest acknowledged knock,
    /// or, when no knock is waiting, back to the caller (the plugin's main server).
    pub(crate) fn route(&self, stream: BoxedIo) -> Route<BoxedIo> {
        lock(&self.inner.routes).route(stream)
    }

    fn forget(&self, id: u32) {
        lock(&self.inner.routes).forget(id);
    }

    /// The messages for the other side, for the one `StartStream` stream; `None` while another
    /// stream holds them.
    fn take_outgoing(&self) -> Option<Outgoing> {
        let mut closed = self.inner.closed.clone();
        lock(&self.inner.outgoing_rx).take().map(|rx| Outgoing {
            rx: Some(rx),
            broker: self.clone(),
            closed: Box::pin(async move { crate::rpc::raised(&mut closed).await }),
        })
    }

    /// Plugin side: the `GRPCBroker` service on this broker.
    pub(crate) fn into_server(self) -> GrpcBrokerServer<Self> {
        GrpcBrokerServer::new(self)
    }
}

/// A brokered service being served; dropping it (or [`stop`](Self::stop)) stops serving.
#[derive(Debug)]
#[must_use = "the service stops being served when this is dropped"]
pub struct BrokeredServer {
    id: u32,
    stop: watch::Sender<bool>,
    serving: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    broker: Broker,
}

impl BrokeredServer {
    /// The service's id, to send to the other side.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Stops serving and waits until the server has stopped.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        let _ = (&mut self.serving).await;
    }
}

impl Drop for BrokeredServer {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.broker.forget(self.id);
    }
}

/// The outgoing half of `StartStream`; gives the messages back to the broker when the stream
/// ends, so a new stream can take them.
struct Outgoing {
    rx: Option<mpsc::UnboundedReceiver<ConnInfo>>,
    broker: Broker,
    /// Ends the stream when the broker closes.
    closed: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Stream for Outgoing {
    type Item = ConnInfo;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ConnInfo>> {
        if self.closed.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        match self.rx.as_mut() {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            *lock(&self.broker.inner.outgoing_rx) = Some(rx);
        }
    }
}

type ConnInfoStream = Pin<Box<dyn Stream<Item = Result<ConnInfo, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = ConnInfoStream;

    async fn start_stream(
        &self,
        request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let Some(outgoing) = self.take_outgoing() else {
            return Err(Status::already_exists("the broker stream is already open"));
        };
        let mut incoming = request.into_inner();
        let broker = self.clone();
        let mut closed = self.inner.closed.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    info = incoming.next() => match info {
                        Some(Ok(info)) => broker.received(info),
                        _ => break,
                    },
                    () = crate::rpc::raised(&mut closed) => break,
                }
            }
        });
        Ok(Response::new(Box::pin(outgoing.map(Ok))))
    }
}

/// Host side: runs the broker stream on `channel` for as long as the connection lives.
pub(crate) async fn open_stream(channel: crate::net::channel::Channel, broker: Broker) {
    let Some(outgoing) = broker.take_outgoing() else {
        return;
    };
    let mut client = GrpcBrokerClient::new(channel);
    match client.start_stream(outgoing).await {
        Ok(response) => {
            let mut incoming = response.into_inner();
            while let Ok(Some(info)) = incoming.message().await {
                broker.received(info);
            }
        }
        Err(status) => tracing::trace!(error = %status, "broker stream not available"),
    }
}
