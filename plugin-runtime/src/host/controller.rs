//! `plugin.GRPCController` on the host side: asking a plugin to exit.

use std::time::Duration;

use crate::generated::plugin::Empty;
use crate::generated::plugin::grpc_controller_client::GrpcControllerClient;
use crate::net::channel::Channel;

/// Host side: asks the plugin to exit. The answer does not matter (a plugin may tear the
/// connection down before it replies, and one without the service just gets killed later), so
/// only whether the request was delivered is reported.
pub(crate) async fn request_shutdown(channel: Channel, limit: Duration) -> bool {
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
