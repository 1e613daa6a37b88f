//! The signals a plugin or host handles: an interrupt (Ctrl-C at the terminal) and a request to
//! terminate, each a stream of deliveries.

/// Deliveries of one signal to this process.
#[derive(Debug)]
pub(crate) struct Signal(tokio::signal::unix::Signal);

pub(crate) use crate::sys::Kind;

impl Signal {
    /// Handles `kind` from now on (its default action, ending the process, no longer applies).
    /// Must be called inside a tokio runtime.
    pub(crate) fn handle(kind: Kind) -> std::io::Result<Signal> {
        use tokio::signal::unix::{SignalKind, signal};
        signal(match kind {
            Kind::Interrupt => SignalKind::interrupt(),
            Kind::Terminate => SignalKind::terminate(),
        })
        .map(Signal)
    }

    /// The next delivery; `None` once no more can arrive.
    pub(crate) async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}
