//! Waiting, on a thread of the caller's, until the process that started this one is gone: its
//! handle becomes readable when it exits, or the pipe it reads our stdout from loses its reader
//! (the write end reports `POLLERR`). Both are waited for by the kernel rather than polled.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::Duration;

use super::process::PidFd;

/// How often the parent is checked when the kernel offers no pidfd (Linux before 5.3).
const PARENT_POLL: Duration = Duration::from_secs(1);

/// The parent process as it is now.
#[derive(Debug)]
pub(crate) struct Parent {
    pid: u32,
    handle: Option<PidFd>,
}

impl Parent {
    pub(crate) fn current() -> Self {
        let pid = std::os::unix::process::parent_id();
        // Opened after reading the parent: if the parent died in between, the handle is on
        // init, which the check below sees as a change of parent.
        let handle = (pid > 1).then(|| PidFd::open(pid).ok()).flatten();
        Parent { pid, handle }
    }

    /// Blocks until the parent exits (this process is handed to another) or `pipe` (a write end,
    /// if any) loses its reader.
    pub(crate) fn wait_until_gone(&self, pipe: Option<&OwnedFd>) {
        let mut fds = Vec::with_capacity(2);
        if let Some(handle) = &self.handle {
            fds.push(libc::pollfd {
                fd: handle.as_fd().as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        if let Some(pipe) = pipe {
            // POLLERR and POLLHUP are always reported; a writer asks for nothing else.
            fds.push(libc::pollfd {
                fd: pipe.as_raw_fd(),
                events: 0,
                revents: 0,
            });
        }
        // Without a pidfd the parent is checked now and then; with one, never: only the kernel
        // wakes the thread.
        let timeout = if self.handle.is_some() {
            -1
        } else {
            PARENT_POLL.as_millis() as libc::c_int
        };
        loop {
            if self.pid > 1 && std::os::unix::process::parent_id() != self.pid {
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
