//! A handle on one process that a reused pid cannot fool: on Linux a process file descriptor
//! (Linux 5.3 and later). Signals go through it, and it becomes readable when the process exits,
//! so waiting for a process that is not our child needs no polling.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;

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

    /// SIGKILL: ends the process; fails with `ESRCH` once it has exited.
    pub(crate) fn kill(&self) -> std::io::Result<()> {
        self.signal(libc::SIGKILL)
    }

    /// SIGSTOP: freezes the process (it cannot fork while its tree is walked).
    pub(crate) fn stop(&self) -> std::io::Result<()> {
        self.signal(libc::SIGSTOP)
    }

    /// Sends `signal` to the process; fails with `ESRCH` once it has exited.
    fn signal(&self, signal: libc::c_int) -> std::io::Result<()> {
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

    /// Resolves when the process exits: the kernel wakes the reactor, or, when the reactor will
    /// not take the descriptor, a look now and then.
    pub(crate) async fn exited(self) {
        // SAFETY: `PidFd` owns its descriptor, which stays open and the same for as long as the
        // `AsyncFd` holds it.
        match unsafe { AsyncFd::register(self) } {
            Ok(fd) => {
                let _ = fd.readable().await;
            }
            Err(err) => {
                let (handle, _) = err.into_parts();
                while !handle.has_exited() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

/// SIGKILL to `pid` without a handle: only for a process that cannot have been reaped yet (our
/// own child before `wait`), whose pid is still its own.
pub(crate) fn kill_pid(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid)
        && pid > 0
    {
        // SAFETY: plain signal delivery to a positive pid.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
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
        handle.kill().expect("signal a live process");
        let _ = child.wait();
        assert!(handle.has_exited());
        let err = handle.kill().expect_err("process is gone");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn no_handle_for_pid_zero_or_a_missing_process() {
        assert!(PidFd::open(0).is_err());
        // Above the kernel's largest pid (4194304): never a process.
        assert!(PidFd::open(5_000_000).is_err());
    }
}
