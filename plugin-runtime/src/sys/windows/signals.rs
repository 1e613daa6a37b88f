//! The console events a plugin or host handles: Ctrl-C (the interrupt) and Ctrl-Break (the
//! request to terminate that a console group can be sent), each a stream of deliveries.

/// Deliveries of one console event to this process.
#[derive(Debug)]
pub(crate) enum Signal {
    CtrlC(tokio::signal::windows::CtrlC),
    CtrlBreak(tokio::signal::windows::CtrlBreak),
}

pub(crate) use crate::sys::Kind;

impl Signal {
    /// Handles `kind` from now on (its default action, ending the process, no longer applies).
    /// Must be called inside a tokio runtime.
    pub(crate) fn handle(kind: Kind) -> std::io::Result<Signal> {
        Ok(match kind {
            Kind::Interrupt => Signal::CtrlC(tokio::signal::windows::ctrl_c()?),
            Kind::Terminate => Signal::CtrlBreak(tokio::signal::windows::ctrl_break()?),
        })
    }

    /// The next delivery; `None` once no more can arrive.
    pub(crate) async fn recv(&mut self) -> Option<()> {
        match self {
            Signal::CtrlC(events) => events.recv().await,
            Signal::CtrlBreak(events) => events.recv().await,
        }
    }
}
