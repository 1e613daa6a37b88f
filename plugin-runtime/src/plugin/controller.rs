//! `plugin.GRPCController` on the plugin side: the host's request to exit.

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use crate::generated::plugin::Empty;
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
