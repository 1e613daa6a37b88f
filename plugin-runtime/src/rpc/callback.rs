//! Callback arguments: an `impl OtherInterface` argument is served by the caller through the
//! broker for the length of the call, and travels as its broker id.

use tonic::Status;

use super::broker::{Broker, BrokeredServer};
use super::connection::Connection;
use super::interface::PluginServer;
use crate::error::Error;

/// Client side of a callback argument: serves `server` through the connection's broker under a
/// fresh id, for as long as the returned handle lives (the length of one call). Used by
/// generated clients.
pub async fn serve_callback(
    connection: &Connection,
    server: PluginServer,
) -> Result<BrokeredServer, Error> {
    let broker = connection.broker().ok_or_else(|| {
        Error::Broker(
            "this connection has no broker to serve a callback through (it was made with \
             Connection::from_channel)"
                .to_owned(),
        )
    })?;
    let id = broker.next_id();
    broker.accept_and_serve(id, [server]).await
}

/// Server side of a callback argument: a connection to the service the caller serves as `id`.
/// Used by generated servers.
pub async fn dial_callback(id: u32) -> Result<Connection, Status> {
    let broker = Broker::current().ok_or_else(|| {
        Status::internal("no broker to dial a callback with: the call is not served by go-plugin")
    })?;
    broker.dial(id).await.map_err(|err| {
        Status::unavailable(format!("dialing the callback with broker id {id}: {err}"))
    })
}
