//! gRPC on top of the transport: the interface and server traits ([`interface`]), `Stream<T>`
//! ([`stream`]), [`Connection`](connection::Connection) and its calls, the server side of every
//! call ([`dispatch`]) with what it knows ([`context`]), callbacks ([`callback`]), the broker
//! ([`broker`]), and a plugin's exit as calls see it ([`exit`]).
//!
//! `Broker::dial` returns a `Connection` and `Connection::broker()` a `Broker`: the one pair of
//! modules here that import each other, by design (go-plugin's `GRPCBroker` and `ClientConn`
//! refer to each other the same way).

pub(crate) mod broker;
pub(crate) mod callback;
pub(crate) mod connection;
pub(crate) mod context;
pub(crate) mod dispatch;
pub(crate) mod exit;
pub(crate) mod interface;
pub(crate) mod stream;

use tokio::sync::watch;

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
