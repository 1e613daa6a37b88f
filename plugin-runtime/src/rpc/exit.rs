//! Watching a plugin process end: every clone sees the same exit, at most once, without locks.

use std::time::Duration;

use tokio::sync::watch;

/// How long a failed call waits for the process exit to be noticed before it reports the raw
/// transport error instead.
pub(crate) const RESET_GRACE: Duration = Duration::from_millis(500);

/// Whether a failed call may have failed because the plugin died: the transport broke (the status
/// carries the transport's error) or the connection is unavailable. An error the plugin itself
/// returned, whatever its code, arrives without a source and is reported at once.
pub(crate) fn may_mean_exit(status: &tonic::Status) -> bool {
    use std::error::Error as _;
    status.source().is_some()
        || matches!(
            status.code(),
            tonic::Code::Unavailable | tonic::Code::Cancelled
        )
}

/// The receiving side: whether (and how) the plugin process has exited.
#[derive(Clone, Debug)]
pub(crate) struct ExitWatch {
    rx: watch::Receiver<Option<Exit>>,
}

/// The sending side, held by the task that reaps the process.
#[derive(Debug)]
pub(crate) struct ExitNotifier {
    tx: watch::Sender<Option<Exit>>,
}

/// How the process ended, as text (`exit status: 0`, `signal: 9 (SIGKILL)`), when known.
#[derive(Clone, Debug)]
pub(crate) struct Exit {
    pub(crate) status: Option<String>,
}

pub(crate) fn channel() -> (ExitNotifier, ExitWatch) {
    let (tx, rx) = watch::channel(None);
    (ExitNotifier { tx }, ExitWatch { rx })
}

impl ExitNotifier {
    pub(crate) fn exited(&self, status: Option<String>) {
        self.tx.send_replace(Some(Exit { status }));
    }

    /// Running again: a supervised plugin's new process serves in place of the one that exited.
    pub(crate) fn revive(&self) {
        self.tx.send_replace(None);
    }
}

/// Whether an exit status (as the reaper describes it) is a clean exit, status 0.
pub(crate) fn is_clean(status: Option<&str>) -> bool {
    status == Some("exit status: 0")
}

impl Drop for ExitNotifier {
    fn drop(&mut self) {
        // A reaper that goes away without reporting still means the process is gone to us.
        self.tx.send_if_modified(|exit| {
            if exit.is_none() {
                *exit = Some(Exit { status: None });
                true
            } else {
                false
            }
        });
    }
}

/// An exit watch as a call saw it when it started: whether the process died during the call,
/// even when (a supervised plugin) a new process serves by the time the call looks.
pub(crate) struct ExitSince {
    rx: watch::Receiver<Option<Exit>>,
}

impl ExitSince {
    /// Waits at most `limit` for the process to exit; `Some(status)` if it did, or if it died and
    /// was replaced since the call started (its status then unknown here).
    pub(crate) async fn wait_for(&self, limit: Duration) -> Option<Option<String>> {
        if self.rx.has_changed().unwrap_or(true) && self.rx.borrow().is_none() {
            return Some(None);
        }
        ExitWatch {
            rx: self.rx.clone(),
        }
        .wait_for(limit)
        .await
    }
}

impl ExitWatch {
    /// The watch as of now, for a call about to start.
    pub(crate) fn since(&self) -> ExitSince {
        let mut rx = self.rx.clone();
        rx.mark_unchanged();
        ExitSince { rx }
    }

    /// `Some(status)` once the process has exited.
    pub(crate) fn status(&self) -> Option<Option<String>> {
        self.rx.borrow().as_ref().map(|exit| exit.status.clone())
    }

    /// Whether the process has exited.
    pub(crate) fn has_exited(&self) -> bool {
        self.rx.borrow().is_some()
    }

    /// Waits until the process exits.
    pub(crate) async fn wait(&self) -> Option<String> {
        let mut rx = self.rx.clone();
        loop {
            if let Some(exit) = rx.borrow_and_update().as_ref() {
                return exit.status.clone();
            }
            if rx.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Waits at most `limit` for the process to exit; `Some(status)` if it did.
    pub(crate) async fn wait_for(&self, limit: Duration) -> Option<Option<String>> {
        tokio::time::timeout(limit, self.wait()).await.ok()
    }
}
