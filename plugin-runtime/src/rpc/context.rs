//! What a served call knows, in one type: its connection, that connection's broker, and whether
//! the process's stdio drains through that connection.
//!
//! [`CallContext`] is made in one place, once per accepted connection: [`serve`] hands the
//! transport a factory, and the transport keeps the context as the connection's `ConnectInfo`,
//! as tonic's own transport does. tonic copies it into every request's extensions, where a
//! hand-written service finds it too ([`Broker::of`]), and the generated handler runs with it in
//! scope ([`CallContext::current`], behind [`Broker::current`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tonic::service::Routes;

use super::broker::Broker;
use crate::net::tls::Tls;
use crate::net::transport::{self, Incoming};

/// Serves `routes` on every connection from `incoming` until `shutdown` resolves; the calls find
/// `broker` in their [`CallContext`].
pub(crate) async fn serve(
    routes: Routes,
    incoming: Incoming,
    tls: Tls,
    broker: Option<Broker>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let context = Arc::new(move || CallContext::accepted(broker.clone()));
    transport::serve(routes, incoming, tls, context, shutdown).await
}

/// The context of the calls on one accepted connection.
#[derive(Clone, Debug)]
pub(crate) struct CallContext {
    /// Which connection, of all those this process's servers have accepted: never 0.
    connection: u64,
    /// The broker of the connection's side, for callbacks and brokered services.
    broker: Option<Broker>,
}

/// The next accepted connection's [`CallContext::connection`].
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// The connection the host is reading this process's stdio through, 0 while no one is. A process
/// has one stdout and one stderr, so one place says where they drain.
static STDIO_CONNECTION: AtomicU64 = AtomicU64::new(0);

tokio::task_local! {
    /// The context of the call whose handler is running.
    static CURRENT: Option<CallContext>;
}

impl CallContext {
    /// The context of a newly accepted connection whose calls use `broker`.
    pub(crate) fn accepted(broker: Option<Broker>) -> Self {
        CallContext {
            connection: NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed),
            broker,
        }
    }

    /// The context in a request's extensions: `None` for a request that did not come through our
    /// transport.
    pub(crate) fn of(extensions: &http::Extensions) -> Option<&CallContext> {
        extensions.get::<CallContext>()
    }

    /// The context of the call being served on this task, if any.
    pub(crate) fn current() -> Option<CallContext> {
        CURRENT.try_with(Clone::clone).ok().flatten()
    }

    /// Runs `call` with `context` as [`CallContext::current`].
    pub(crate) async fn scope<F: Future>(context: Option<CallContext>, call: F) -> F::Output {
        CURRENT.scope(context, call).await
    }

    pub(crate) fn broker(&self) -> Option<&Broker> {
        self.broker.as_ref()
    }

    /// Whether a blocking write to stdout or stderr in a call in `context` may wait for that very
    /// connection to send what is queued: when it carries the stdio stream (a Go host opens it on
    /// the one connection it has) or when no stream is open yet (it may open there). Not when the
    /// host reads stdio over a connection of its own, as ours does.
    pub(crate) fn stdio_may_drain_through(context: Option<&CallContext>) -> bool {
        drains_through(
            STDIO_CONNECTION.load(Ordering::Acquire),
            context.map(|context| context.connection),
        )
    }
}

/// [`CallContext::stdio_may_drain_through`] for stdio streamed through `draining` (0: not
/// streamed).
fn drains_through(draining: u64, connection: Option<u64>) -> bool {
    draining == 0 || connection.is_none_or(|id| id == draining)
}

/// The stdio stream's connection, recorded while the stream is open.
#[derive(Debug)]
pub(crate) struct StdioRoute(u64);

impl StdioRoute {
    /// Records that stdio now streams through the connection of `context`. A request from outside
    /// our transport has no connection: `u64::MAX` matches none of ours (and a call without a
    /// context is treated as one that may block on stdio).
    pub(crate) fn streaming_on(context: Option<&CallContext>) -> StdioRoute {
        let connection = context.map_or(u64::MAX, |context| context.connection);
        STDIO_CONNECTION.store(connection, Ordering::Release);
        StdioRoute(connection)
    }

    /// The stream has ended: no connection carries stdio until a host opens it again.
    pub(crate) fn ended(self) {
        let _ = STDIO_CONNECTION.compare_exchange(self.0, 0, Ordering::AcqRel, Ordering::Acquire);
    }
}

#[cfg(test)]
mod tests {
    use super::drains_through;

    #[test]
    fn a_call_yields_unless_stdio_streams_through_another_connection() {
        // No stream yet: it may open on the call's connection.
        assert!(drains_through(0, Some(7)));
        // A Go host: stdio and calls share its one connection.
        assert!(drains_through(7, Some(7)));
        // A call from outside our transport: nothing known, so the careful answer.
        assert!(drains_through(7, None));
        // Our host: stdio on a connection of its own.
        assert!(!drains_through(7, Some(8)));
    }
}
