//! A handle on one process that a reused pid cannot fool: signals go through it, and it tells
//! when the process has exited, without polling where the kernel can tell. Each kernel has its
//! own (`super::kernel::Handle`); the generic path has none, and the layers above then fall back
//! on the pid (see [`kill_pid`], [`exists`]).

use std::time::Duration;

use tokio::io::unix::AsyncFd;

/// A handle on one process.
#[derive(Debug)]
pub(crate) struct ProcessHandle(super::kernel::Handle);

impl ProcessHandle {
    /// A handle on process `pid`, if it exists and the kernel offers handles (not on the generic
    /// path).
    pub(crate) fn open(pid: u32) -> std::io::Result<ProcessHandle> {
        if super::generic_forced() {
            return Err(std::io::ErrorKind::Unsupported.into());
        }
        super::kernel::Handle::open(pid).map(ProcessHandle)
    }

    /// The process id the handle was opened for.
    pub(crate) fn pid(&self) -> u32 {
        self.0.pid()
    }

    /// SIGKILL: ends the process; fails with `ESRCH` once it has exited.
    pub(crate) fn kill(&self) -> std::io::Result<()> {
        self.0.signal(libc::SIGKILL)
    }

    /// SIGSTOP: freezes the process (it cannot fork, or reap its children, while its tree is
    /// walked).
    pub(crate) fn stop(&self) -> std::io::Result<()> {
        self.0.signal(libc::SIGSTOP)
    }

    /// Whether the process has exited (it may not have been reaped yet).
    pub(crate) fn has_exited(&self) -> bool {
        self.0.has_exited()
    }

    /// Resolves when the process exits: every kernel's handle is a descriptor that becomes
    /// readable then, so the reactor is woken by the kernel; when the reactor will not take the
    /// descriptor, a look now and then.
    pub(crate) async fn exited(self) {
        // Asked first: a kqueue's event, once read by this question, no longer makes it readable.
        if self.0.has_exited() {
            return;
        }
        // SAFETY: the handle owns its descriptor, which stays open and the same for as long as
        // the `AsyncFd` holds it.
        match unsafe { AsyncFd::register(self.0) } {
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

    /// The kernel's handle, for the parent watch.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(super) fn kernel(&self) -> &super::kernel::Handle {
        &self.0
    }
}

/// `pid` as the kernel's type, when it can name one process (not 0, not negative).
pub(super) fn valid_pid(pid: u32) -> std::io::Result<libc::pid_t> {
    libc::pid_t::try_from(pid)
        .ok()
        .filter(|pid| *pid > 0)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))
}

/// SIGKILL to `pid` without a handle: only for a process that cannot have been reaped yet (our
/// own child before `wait`), whose pid is still its own, or where the OS offers nothing better
/// (a reattached plugin on the generic path, signalled by pid as go-plugin does).
pub(crate) fn kill_pid(pid: u32) {
    if let Ok(pid) = valid_pid(pid) {
        // SAFETY: plain signal delivery to a positive pid.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// Whether a process `pid` exists (signal 0, as go-plugin checks a reattached plugin): the only
/// check the generic path has, fooled by a reused pid.
pub(crate) fn exists(pid: u32) -> bool {
    let Ok(pid) = valid_pid(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Resolves once no process `pid` exists, looking every `period`: the generic path's wait for a
/// process that is not our child.
pub(crate) async fn gone(pid: u32, period: Duration) {
    while exists(pid) {
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{ProcessHandle, exists};

    #[test]
    fn a_handle_sees_its_process_exit_and_cannot_signal_it_afterwards() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("spawn sleep");
        let handle = ProcessHandle::open(child.id()).expect("a handle on a live process");
        assert!(!handle.has_exited());
        handle.kill().expect("signal a live process");
        let _ = child.wait();
        assert!(handle.has_exited());
        let err = handle.kill().expect_err("process is gone");
        assert_eq!(err.raw_os_error(), Some(libc::ESRCH));
    }

    #[test]
    fn no_handle_for_pid_zero_or_a_missing_process() {
        assert!(ProcessHandle::open(0).is_err());
        // Above the kernel's largest pid (4194304): never a process.
        assert!(ProcessHandle::open(5_000_000).is_err());
        assert!(!exists(0));
        assert!(!exists(5_000_000));
        assert!(exists(std::process::id()));
    }
}
