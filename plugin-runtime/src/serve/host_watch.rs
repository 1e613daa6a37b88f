//! Noticing that the host has gone (go-plugin#10, #210): nobody can talk to the plugin any more,
//! so staying alive only leaks a process and a socket file.
//!
//! Two signs, both waited for by the kernel rather than polled: the parent process exits (its
//! pidfd becomes readable), or the pipe the handshake went through loses its reader (the write
//! end reports `POLLERR`). The pipe covers a plugin started through `sh -c`, whose parent is the
//! shell rather than the host. A plugin notices within microseconds of the host's death, even a
//! SIGKILL.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use tokio::sync::watch;

use crate::pidfd::PidFd;

/// How often the parent is checked when the kernel offers no pidfd (Linux before 5.3).
const PARENT_POLL: Duration = Duration::from_secs(1);

/// What tells the plugin its host is alive, read before the handshake is printed (a host may
/// give up and die the moment it has read it).
#[derive(Debug)]
pub(super) struct HostWatch {
    parent: u32,
    parent_handle: Option<PidFd>,
    host_stdout: Option<OwnedFd>,
}

impl HostWatch {
    pub(super) fn new() -> Self {
        let parent = std::os::unix::process::parent_id();
        // Opened after reading the parent: if the parent died in between, the handle is on
        // init, which the check below sees as a change of parent.
        let parent_handle = (parent > 1).then(|| PidFd::open(parent).ok()).flatten();
        HostWatch {
            parent,
            parent_handle,
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

    /// Raises `orphaned` when the host goes away. Runs on a thread of its own, blocked in
    /// `poll` until one of the signs arrives.
    pub(super) fn spawn(self, orphaned: watch::Sender<bool>) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("plugin-host-watch".to_owned())
            .spawn(move || {
                self.wait_for_host_exit();
                tracing::warn!("host process exited, shutting down plugin");
                orphaned.send_replace(true);
            })
            .map(drop)
    }

    fn wait_for_host_exit(&self) {
        let mut fds = Vec::with_capacity(2);
        if let Some(handle) = &self.parent_handle {
            fds.push(libc::pollfd {
                fd: handle.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if let Some(pipe) = &self.host_stdout {
            // POLLERR and POLLHUP are always reported; a writer asks for nothing else.
            fds.push(libc::pollfd {
                fd: pipe.as_raw_fd(),
                events: 0,
                revents: 0,
            });
        }
        // Without a pidfd the parent is checked now and then; with one, never: only the kernel
        // wakes the thread.
        let timeout = if self.parent_handle.is_some() {
            -1
        } else {
            PARENT_POLL.as_millis() as libc::c_int
        };
        loop {
            if self.parent > 1 && std::os::unix::process::parent_id() != self.parent {
                return;
            }
            let nfds = fds.len() as libc::nfds_t;
            // SAFETY: `fds` holds `nfds` valid pollfds whose descriptors outlive the call.
            let ready = unsafe { libc::poll(fds.as_mut_ptr(), nfds, timeout) };
            if ready > 0 && fds.iter().any(|fd| fd.revents != 0) {
                return;
            }
            if ready < 0
                && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
            {
                // poll itself failed: fall back to checking the parent now and then.
                std::thread::sleep(PARENT_POLL);
            }
        }
    }
}
