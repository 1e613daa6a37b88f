//! Noticing that the host has gone (go-plugin#10, #210): nobody can talk to the plugin any more,
//! so staying alive only leaks a process and a socket file.

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use tokio::sync::watch;

/// How often the plugin checks that the host that started it is still alive.
const PARENT_POLL: Duration = Duration::from_secs(1);

/// What tells the plugin its host is alive, read before the handshake is printed (a host may
/// give up and die the moment it has read it).
#[derive(Debug)]
pub(super) struct HostWatch {
    parent: u32,
    /// The pipe the handshake went through stays open for as long as the host lives: it is how
    /// a plugin started through `sh -c` (whose parent is the shell) notices that the host is
    /// gone.
    host_stdout: Option<OwnedFd>,
}

impl HostWatch {
    pub(super) fn new() -> Self {
        HostWatch {
            parent: std::os::unix::process::parent_id(),
            host_stdout: None,
        }
    }

    /// Keeps a copy of stdout as it is now (the host's pipe), before it is redirected. Only a
    /// pipe tells when its reader has gone; anything else is not watched.
    pub(super) fn keep_stdout(&mut self) -> std::io::Result<()> {
        use std::os::unix::fs::FileTypeExt;
        let stdout = std::fs::File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
        if stdout.metadata()?.file_type().is_fifo() {
            self.host_stdout = Some(OwnedFd::from(stdout));
        }
        Ok(())
    }

    /// Raises `orphaned` when the plugin's parent changes or nobody reads the handshake pipe
    /// any more.
    pub(super) async fn run(self, orphaned: watch::Sender<bool>) {
        loop {
            tokio::time::sleep(PARENT_POLL).await;
            let reparented = self.parent > 1 && std::os::unix::process::parent_id() != self.parent;
            if reparented || self.host_stdout.as_ref().is_some_and(reader_gone) {
                tracing::warn!("host process exited, shutting down plugin");
                orphaned.send_replace(true);
                return;
            }
        }
    }
}

/// Whether the pipe `fd` writes to has lost its reading end in every process.
fn reader_gone(fd: &OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait. Linux reports POLLERR on a pipe without readers.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0
}
