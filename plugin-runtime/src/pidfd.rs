//! Process file descriptors (Linux 5.3 and later): a handle on one process that a reused pid
//! cannot fool. Signals go through it, and it becomes readable when the process exits, so
//! waiting for a process that is not our child needs no polling.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A handle on one process.
#[derive(Debug)]
pub(crate) struct PidFd {
    fd: OwnedFd,
    pid: u32,
}

impl PidFd {
    /// A handle on process `pid`, if it exists (and the kernel has pidfds).
    pub(crate) fn open(pid: u32) -> std::io::Result<PidFd> {
        let raw = libc::pid_t::try_from(pid)
            .ok()
            .filter(|pid| *pid > 0)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = i32::try_from(fd).map_err(|_| std::io::Error::other("pidfd out of range"))?;
        // SAFETY: the kernel just created `fd` for us and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(PidFd { fd, pid })
    }

    /// The process id the handle was opened for.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` to the process; fails with `ESRCH` once it has exited.
    pub(crate) fn signal(&self, signal: libc::c_int) -> std::io::Result<()> {
        // SAFETY: a valid pidfd, a signal number, no siginfo, no flags.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.fd.as_raw_fd(),
                signal,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Whether the process has exited (it may not have been reaped yet).
    pub(crate) fn has_exited(&self) -> bool {
        let mut poll = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no wait.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        ready > 0 && poll.revents & libc::POLLIN != 0
    }
}

impl AsFd for PidFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PidFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::PidFd;

    #[test]
    fn a_handle_sees_its_process_exit_and_cannot_signal_it_afterwards() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let handle = PidFd::open(child.id()).expect("pidfd_open");
        assert!(!handle.has_exited());
        handle.signal(libc::SIGKILL).expect("signal a live process");
        let _ = child.wait();
        assert!(handle.has_exited());
        let err = handle.signal(libc::SIGKILL).expect_err("process is gone");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn no_handle_for_pid_zero_or_a_missing_process() {
        assert!(PidFd::open(0).is_err());
        // Above the kernel's largest pid (4194304): never a process.
        assert!(PidFd::open(5_000_000).is_err());
    }
}
