//! Linux: a process file descriptor (Linux 5.3 and later) is the handle on a process; signals go
//! through it, and it becomes readable when the process exits, so waiting for a process that is
//! not our child needs no polling. `/proc` lists a process's children and who holds a pipe.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A pidfd.
#[derive(Debug)]
pub(crate) struct Handle {
    fd: OwnedFd,
    pid: u32,
}

impl Handle {
    /// A handle on process `pid`, if it exists (and the kernel has pidfds).
    pub(crate) fn open(pid: u32) -> std::io::Result<Handle> {
        let raw = super::process::valid_pid(pid)?;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = i32::try_from(fd).map_err(|_| std::io::Error::other("pidfd out of range"))?;
        // SAFETY: the kernel just created `fd` for us and nobody else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Handle { fd, pid })
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

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Handle {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// The children of `pid`, from `/proc/<pid>/task/*/children`, or by scanning every process's
/// parent when the kernel does not offer those files.
pub(crate) fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    let mut listed = false;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            listed = true;
            found.extend(
                text.split_whitespace()
                    .filter_map(|pid| pid.parse::<u32>().ok()),
            );
        }
    }
    if !listed {
        found = processes()
            .filter(|&candidate| parent_of(candidate) == Some(pid))
            .collect();
    }
    found
}

/// Every process id in `/proc`.
fn processes() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
}

/// The parent of `pid`, from `/proc/<pid>/stat` (field 4; the name in field 2 may contain
/// anything, so the fields are counted from its closing parenthesis).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Processes other than this one with a writing end of one of the pipes `inodes`, from every
/// process's `fd` and `fdinfo`.
pub(crate) fn pipe_holders(inodes: &[u64]) -> Vec<u32> {
    let own = std::process::id();
    let names: Vec<String> = inodes
        .iter()
        .map(|inode| format!("pipe:[{inode}]"))
        .collect();
    processes()
        .filter(|&pid| pid != own && parent_of(pid) != Some(own))
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| {
                        names.iter().any(|name| target.as_os_str() == name.as_str())
                    })
                })
                .any(|fd| writes(*pid, &fd.file_name()))
        })
        .collect()
}

/// Whether descriptor `fd` of `pid` was opened for writing, from its `flags` in
/// `/proc/<pid>/fdinfo/<fd>` (octal).
fn writes(pid: u32, fd: &std::ffi::OsStr) -> bool {
    let Ok(info) =
        std::fs::read_to_string(std::path::Path::new(&format!("/proc/{pid}/fdinfo")).join(fd))
    else {
        return false;
    };
    info.lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .and_then(|flags| i32::from_str_radix(flags.trim(), 8).ok())
        .is_some_and(|flags| flags & libc::O_ACCMODE != libc::O_RDONLY)
}
