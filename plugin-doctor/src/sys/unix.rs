//! Unix: signals by pid to the doctor's own children, Unix sockets in a 0700 directory, and a
//! watch on a process that is not the doctor's child: a pidfd on Linux, the pid elsewhere.

use std::path::Path;

/// How the orphan check's intermediate host is killed, for the report.
pub(crate) const HOST_KILLED: &str = "SIGKILLed";

/// How a plugin can notice that its host is gone, for the report's fix.
#[cfg(target_os = "linux")]
pub(crate) const PARENT_WATCH: &str = "a pidfd, or getppid() changing";
#[cfg(not(target_os = "linux"))]
pub(crate) const PARENT_WATCH: &str = "a kqueue EVFILT_PROC knote, or getppid() changing";

/// What go-plugin's own plugins do when their host dies, for the report.
pub(crate) const GO_PLUGINS_ORPHANED: &str =
    "they die only when they next write to the closed pipes";

/// Whether the doctor can send SIGINT to a plugin (with [`interrupt`]), or why not.
pub(crate) const CAN_INTERRUPT: Result<(), &str> = Ok(());

/// Whether plugins may listen on Unix sockets here (in a directory from [`create_private_dir`]).
pub(crate) const UNIX_SOCKETS: bool = true;

/// SIGINT to `pid`, which must be the doctor's own child, not yet reaped (so the pid is its own).
pub(crate) fn interrupt(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: plain signal delivery to our own child, which has not been reaped.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
    }
}

/// A new directory at `path` that only this user can enter (0700).
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

/// Connects to the Unix socket at `path` and hangs up.
pub(crate) async fn connect_unix(path: &Path) -> std::io::Result<()> {
    tokio::net::UnixStream::connect(path).await.map(drop)
}

/// A process that is not the doctor's child (the orphan check's plugin, whose parent is the
/// intermediate host), watched from the moment its pid surely names it until it exits.
#[derive(Debug)]
pub(crate) struct Watched(kernel::Watched);

impl Watched {
    /// Starts watching `pid`. Call it while the pid cannot have been reused: while the process
    /// is the unreaped child of a process that still runs.
    pub(crate) fn open(pid: u32) -> Watched {
        Watched(kernel::Watched::open(pid))
    }

    /// Whether the process has exited.
    pub(crate) fn exited(&self) -> bool {
        self.0.exited()
    }

    /// SIGKILL, if the process can still be told apart from a later one with its pid.
    pub(crate) fn kill(&self) {
        self.0.kill();
    }
}

#[cfg(target_os = "linux")]
mod kernel {
    //! A pidfd: it stays the plugin's even after someone else has reaped it. Without pidfds
    //! (Linux before 5.3), `/proc` tells whether the pid runs, and nothing is killed.

    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    #[derive(Debug)]
    pub(super) struct Watched {
        pid: u32,
        pidfd: Option<OwnedFd>,
    }

    impl Watched {
        pub(super) fn open(pid: u32) -> Watched {
            Watched {
                pid,
                pidfd: pidfd_open(pid),
            }
        }

        pub(super) fn exited(&self) -> bool {
            match &self.pidfd {
                Some(pidfd) => readable(pidfd),
                None => !alive(self.pid),
            }
        }

        pub(super) fn kill(&self) {
            if let Some(pidfd) = &self.pidfd {
                // SAFETY: pidfd_send_signal on our own descriptor, no siginfo, no flags.
                unsafe {
                    libc::syscall(
                        libc::SYS_pidfd_send_signal,
                        pidfd.as_raw_fd(),
                        libc::SIGKILL,
                        std::ptr::null::<libc::siginfo_t>(),
                        0,
                    );
                }
            }
        }
    }

    fn pidfd_open(pid: u32) -> Option<OwnedFd> {
        let pid = libc::pid_t::try_from(pid).ok()?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
        // SAFETY: the descriptor was just returned to us and is owned by nothing else.
        Some(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// A pidfd polls readable once its process has exited.
    fn readable(pidfd: &OwnedFd) -> bool {
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd, no waiting.
        let ready = unsafe { libc::poll(&mut poll, 1, 0) };
        ready > 0
    }

    /// Alive and not a zombie, from `/proc`.
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X']))
        })
    }
}

#[cfg(not(target_os = "linux"))]
use polled as kernel;

// Compiled on Linux too for its test: it is what macOS and the BSDs run.
#[cfg(any(not(target_os = "linux"), test))]
mod polled {
    //! macOS, the BSDs and the rest: the pid alone, polled with `kill(pid, 0)`. A kqueue knote
    //! (`EVFILT_PROC`, `NOTE_EXIT`, as the runtime's `sys/unix/kqueue.rs` uses) would be exact;
    //! polling is enough for a diagnostic that looks every 10 ms for 3 s: the plugin, orphaned,
    //! is reaped at once by init (launchd on macOS), so a zombie does not linger as "alive",
    //! and its pid is not handed out again within those seconds. The SIGKILL at the end goes to
    //! a pid seen alive 10 ms before.

    #[derive(Debug)]
    pub(super) struct Watched {
        pid: Option<libc::pid_t>,
    }

    impl Watched {
        pub(super) fn open(pid: u32) -> Watched {
            Watched {
                pid: libc::pid_t::try_from(pid).ok().filter(|pid| *pid > 0),
            }
        }

        pub(super) fn exited(&self) -> bool {
            self.pid.is_none_or(|pid| !exists(pid))
        }

        pub(super) fn kill(&self) {
            if let Some(pid) = self.pid.filter(|pid| exists(*pid)) {
                // SAFETY: plain signal delivery to a pid seen alive just now.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }

    /// Whether a process `pid` exists: signal 0 is delivered, or refused for want of permission.
    fn exists(pid: libc::pid_t) -> bool {
        // SAFETY: signal 0 only checks that the process exists and may be signalled.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }

    #[cfg(test)]
    mod tests {
        use super::Watched;

        #[test]
        fn sees_a_process_until_it_is_reaped_and_kills_it() {
            let mut child = std::process::Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("sleep");
            let watched = Watched::open(child.id());
            assert!(!watched.exited());
            watched.kill();
            // Killed but not reaped, a zombie still answers signal 0; init reaps an orphan at once.
            child.wait().expect("wait");
            assert!(watched.exited());
            assert!(Watched::open(0).exited());
        }
    }
}
