//! `plugin.GRPCBroker`: the stream over which either side announces extra services.
//!
//! Brokered services (callbacks from plugin to host) are separate work; for now both sides keep
//! the stream open the way go-plugin does, so a Go peer that opens it finds it there, and
//! announcements that arrive are logged and ignored.

use std::pin::Pin;

use tokio::sync::watch;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use crate::generated::plugin::ConnInfo;
use crate::generated::plugin::grpc_broker_client::GrpcBrokerClient;
use crate::generated::plugin::grpc_broker_server::{GrpcBroker, GrpcBrokerServer};

/// Plugin side: accepts the host's broker stream and holds it open until the plugin stops.
#[derive(Debug)]
pub(crate) struct Broker {
    stopping: watch::Receiver<bool>,
}

impl Broker {
    pub(crate) fn new(stopping: watch::Receiver<bool>) -> Self {
        Broker { stopping }
    }

    pub(crate) fn into_server(self) -> GrpcBrokerServer<Self> {
        GrpcBrokerServer::new(self)
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
        let mut incoming = request.into_inner();
        // Nothing is sent yet; the response stream ends when the host closes its side.
        let (outgoing, rx) = tokio::sync::mpsc::channel::<Result<ConnInfo, Status>>(1);
        let mut stopping = self.stopping.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    info = incoming.next() => match info {
                        Some(Ok(info)) => tracing::trace!(
                            service_id = info.service_id,
                            "broker: ignoring connection info"
                        ),
                        _ => break,
                    },
                    () = crate::controller::raised(&mut stopping) => break,
                }
            }
            drop(outgoing);
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// Host side: opens the broker stream and drains it for as long as the connection lives.
pub(crate) async fn open_stream(channel: tonic::transport::Channel) {
    let mut client = GrpcBrokerClient::new(channel);
    let outgoing = tokio_stream::pending::<ConnInfo>();
    match client.start_stream(outgoing).await {
        Ok(response) => {
            let mut incoming = response.into_inner();
            while let Ok(Some(info)) = incoming.message().await {
                tracing::trace!(
                    service_id = info.service_id,
                    "broker: ignoring connection info"
                );
            }
        }
        Err(status) => tracing::trace!(error = %status, "broker stream not available"),
    }
}
