//! `plugin.GRPCController`: how a host asks a plugin to exit.

use std::time::Duration;

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::generated::plugin::Empty;
use crate::generated::plugin::grpc_controller_client::GrpcControllerClient;
use crate::generated::plugin::grpc_controller_server::{GrpcController, GrpcControllerServer};

/// Plugin side: flips a watch when the host calls `Shutdown`.
#[derive(Debug)]
pub(crate) struct Controller {
    shutdown: watch::Sender<bool>,
}

impl Controller {
    pub(crate) fn new() -> (Self, watch::Receiver<bool>) {
        let (shutdown, rx) = watch::channel(false);
        (Controller { shutdown }, rx)
    }

    pub(crate) fn into_server(self) -> GrpcControllerServer<Self> {
        GrpcControllerServer::new(self)
    }
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("plugin received shutdown request");
        self.shutdown.send_replace(true);
        Ok(Response::new(Empty {}))
    }
}

/// Host side: asks the plugin to exit. The answer does not matter (a plugin may tear the
/// connection down before it replies, and one without the service just gets killed later), so
/// only whether the request was delivered is reported.
pub(crate) async fn request_shutdown(channel: tonic::transport::Channel, limit: Duration) -> bool {
    let mut client = GrpcControllerClient::new(channel);
    match tokio::time::timeout(limit, client.shutdown(Empty {})).await {
        Ok(Ok(_)) => true,
        Ok(Err(status)) => {
            tracing::debug!(error = %status, "shutdown request failed");
            status.code() != tonic::Code::Unimplemented
        }
        Err(_) => false,
    }
}

/// Resolves once `flag` is (or becomes) true, or its sender is gone. Unlike `wait_for`, holds no
/// borrow across an await, so futures that use it stay `Send`.
pub(crate) async fn raised(flag: &mut watch::Receiver<bool>) {
    loop {
        if *flag.borrow_and_update() {
            return;
        }
        if flag.changed().await.is_err() {
            return;
        }
    }
}
