//! Waiting, on a thread of the caller's, until the process that started this one is gone: it
//! exits, or the pipe it reads our stdout from loses its reader. Linux's pidfd and macOS's and
//! the BSDs' kqueue let the kernel wake the thread; the generic path checks the parent now and
//! then and asks `poll` about the pipe.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// How often the parent is checked when the kernel offers no handle (the generic path, Linux
/// before 5.3).
const PARENT_POLL: Duration = Duration::from_secs(1);

/// The parent process as it is now.
#[derive(Debug)]
pub(crate) struct Parent {
    pid: u32,
    /// Only Linux's poll uses one; a kqueue watches the pid itself.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    handle: Option<super::process::ProcessHandle>,
}

impl Parent {
    pub(crate) fn current() -> Self {
        let pid = std::os::unix::process::parent_id();
        // Opened after reading the parent: if the parent died in between, the handle is on
        // init, which the check below sees as a change of parent.
        let handle = (cfg!(target_os = "linux") && pid > 1)
            .then(|| super::process::ProcessHandle::open(pid).ok())
            .flatten();
        Parent { pid, handle }
    }

    /// Blocks until the parent exits (this process is handed to another) or `pipe` (a write end,
    /// if any) loses its reader.
    pub(crate) fn wait_until_gone(&self, pipe: Option<&File>) {
        #[cfg(not(target_os = "linux"))]
        if self.pid > 1
            && !super::generic_forced()
            && super::kernel::wait_until_gone(self.pid, pipe)
        {
            return;
        }
        self.poll_until_gone(pipe)
    }

    /// `poll` on the parent's handle (Linux) and on the pipe: `POLLERR` or `POLLHUP` on a write
    /// end when its reader has gone.
    fn poll_until_gone(&self, pipe: Option<&File>) {
        let mut fds = Vec::with_capacity(2);
        #[cfg(target_os = "linux")]
        if let Some(handle) = &self.handle {
            fds.push(libc::pollfd {
                fd: handle.kernel().as_raw_fd(),
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
        // Without a handle the parent is checked now and then; with one, never: only the kernel
        // wakes the thread.
        let watched = cfg!(target_os = "linux") && self.handle.is_some();
        let timeout = if watched {
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
