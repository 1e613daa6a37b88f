//! macOS and the BSDs: a kqueue watching a pid (`EVFILT_PROC`, `NOTE_EXIT`) is the handle on a
//! process. The knote stays on the process it was attached to, so a pid reused after the exit is
//! never mistaken for it: a signal is sent only while the knote has not fired. The parent watch
//! waits in one kqueue for the parent's exit and for `EV_EOF` on the handshake pipe. A process's
//! children come from libproc on macOS and from `kern.proc` on FreeBSD; who else holds a pipe is
//! not looked for (macOS's `PROC_PIDLISTFDS` and FreeBSD's `KERN_PROC_FILEDESC` could tell; not
//! done).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A kqueue with one knote: the exit of `pid`.
#[derive(Debug)]
pub(crate) struct Handle {
    queue: OwnedFd,
    pid: u32,
    /// Set once the exit has been read from the queue (reading it removes it).
    exited: AtomicBool,
}

/// A new kqueue.
fn new_queue() -> std::io::Result<OwnedFd> {
    // SAFETY: kqueue takes nothing and returns a new descriptor or -1. A kqueue is not inherited
    // by a forked child.
    let fd = unsafe { libc::kqueue() };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel just created `fd` for us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A change or an event: `filter` on `ident`. The fields' types differ between the BSDs, so the
/// values come as `i64` and are narrowed to whatever this one uses.
fn event(ident: usize, filter: i64, flags: i64, fflags: i64) -> libc::kevent {
    // SAFETY: all-zero is a valid kevent (no data, null user pointer).
    let mut event: libc::kevent = unsafe { std::mem::zeroed() };
    event.ident = ident as _;
    event.filter = filter as _;
    event.flags = flags as _;
    event.fflags = fflags as _;
    event
}

/// Applies `changes` to `queue`.
fn register(queue: &OwnedFd, changes: &[libc::kevent]) -> std::io::Result<()> {
    // SAFETY: `changes` is valid for its length; no events are read.
    let rc = unsafe {
        libc::kevent(
            queue.as_raw_fd(),
            changes.as_ptr(),
            changes.len() as _,
            std::ptr::null_mut(),
            0,
            std::ptr::null(),
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Reads one event from `queue`, waiting up to `timeout` (for ever when `None`); `None` when
/// none arrived.
fn next_event(queue: &OwnedFd, timeout: Option<Duration>) -> std::io::Result<Option<libc::kevent>> {
    let timespec = timeout.map(|timeout| libc::timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    });
    let mut out = event(0, 0, 0, 0);
    // SAFETY: no changes; room for one event; the timeout, if any, lives across the call.
    let rc = unsafe {
        libc::kevent(
            queue.as_raw_fd(),
            std::ptr::null(),
            0,
            &mut out,
            1,
            timespec
                .as_ref()
                .map_or(std::ptr::null(), |timespec| timespec as *const _),
        )
    };
    match rc {
        rc if rc < 0 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        _ => Ok(Some(out)),
    }
}

/// A knote on `pid`'s exit.
fn process_exit(pid: libc::pid_t) -> libc::kevent {
    event(
        pid as usize,
        libc::EVFILT_PROC.into(),
        (libc::EV_ADD | libc::EV_ENABLE).into(),
        libc::NOTE_EXIT.into(),
    )
}

impl Handle {
    /// A kqueue watching `pid`; fails with `ESRCH` when no such process exists.
    pub(crate) fn open(pid: u32) -> std::io::Result<Handle> {
        let raw = super::process::valid_pid(pid)?;
        let queue = new_queue()?;
        register(&queue, &[process_exit(raw)])?;
        Ok(Handle {
            queue,
            pid,
            exited: AtomicBool::new(false),
        })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Sends `signal` to the process unless it has exited (`ESRCH` then, as a pidfd answers).
    pub(crate) fn signal(&self, signal: libc::c_int) -> std::io::Result<()> {
        if self.has_exited() {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
        // SAFETY: plain signal delivery to a positive pid whose exit the knote has not seen.
        if unsafe { libc::kill(self.pid as libc::pid_t, signal) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Whether the knote has fired (the process has exited; it may not have been reaped).
    pub(crate) fn has_exited(&self) -> bool {
        if self.exited.load(Ordering::Acquire) {
            return true;
        }
        let fired = matches!(next_event(&self.queue, Some(Duration::ZERO)), Ok(Some(_)));
        if fired {
            self.exited.store(true, Ordering::Release);
        }
        fired
    }
}

impl AsRawFd for Handle {
    fn as_raw_fd(&self) -> RawFd {
        self.queue.as_raw_fd()
    }
}

impl AsFd for Handle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.queue.as_fd()
    }
}

/// Blocks until `parent` exits or `pipe` (a write end) loses its reader; `false` when the kqueue
/// cannot be set up, for the caller's generic wait.
pub(crate) fn wait_until_gone(parent: u32, pipe: Option<&std::fs::File>) -> bool {
    let Ok(parent) = super::process::valid_pid(parent) else {
        return false;
    };
    let Ok(queue) = new_queue() else {
        return false;
    };
    match register(&queue, &[process_exit(parent)]) {
        Ok(()) => {}
        // Gone before it could be watched.
        Err(err) if err.raw_os_error() == Some(libc::ESRCH) => return true,
        Err(_) => return false,
    }
    if let Some(pipe) = pipe {
        // Edge-triggered: the pipe is writable at once (reported once), then only a change is
        // reported, such as `EV_EOF` when the reader closes it.
        let change = event(
            pipe.as_raw_fd() as usize,
            libc::EVFILT_WRITE.into(),
            (libc::EV_ADD | libc::EV_CLEAR).into(),
            0,
        );
        if register(&queue, &[change]).is_err() {
            return false;
        }
    }
    loop {
        match next_event(&queue, None) {
            Ok(Some(event)) if i64::from(event.filter) == i64::from(libc::EVFILT_PROC) => {
                return true;
            }
            Ok(Some(event)) if i64::from(event.flags) & i64::from(libc::EV_EOF) != 0 => {
                return true;
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// The children of `pid`, from libproc.
#[cfg(target_os = "macos")]
pub(crate) fn children(pid: u32) -> Vec<u32> {
    let Ok(pid) = super::process::valid_pid(pid) else {
        return Vec::new();
    };
    // The list can grow between the calls: ask with room to spare, and again with more.
    let mut room = 64usize;
    loop {
        let mut pids = vec![0 as libc::pid_t; room];
        let bytes = (room * std::mem::size_of::<libc::pid_t>()) as libc::c_int;
        // SAFETY: `pids` is writable for `bytes` bytes; the call returns how many pids it wrote.
        let found = unsafe { libc::proc_listchildpids(pid, pids.as_mut_ptr().cast(), bytes) };
        if found < 0 {
            return Vec::new();
        }
        let found = found as usize;
        if found < room {
            pids.truncate(found);
            return pids
                .into_iter()
                .filter_map(|pid| u32::try_from(pid).ok())
                .collect();
        }
        room *= 4;
        if room > 1 << 20 {
            return Vec::new();
        }
    }
}

/// The children of `pid`, from every process's entry in `kern.proc.proc`.
#[cfg(target_os = "freebsd")]
pub(crate) fn children(pid: u32) -> Vec<u32> {
    let Ok(pid) = super::process::valid_pid(pid) else {
        return Vec::new();
    };
    let mib = [libc::CTL_KERN, libc::KERN_PROC, libc::KERN_PROC_PROC, 0];
    // The table can grow between the calls: ask for its size, then read with room to spare.
    for _ in 0..4 {
        let mut bytes = 0usize;
        // SAFETY: a null buffer asks only for the size.
        let rc = unsafe {
            libc::sysctl(
                mib.as_ptr(),
                3,
                std::ptr::null_mut(),
                &mut bytes,
                std::ptr::null(),
                0,
            )
        };
        if rc < 0 {
            return Vec::new();
        }
        let entry = std::mem::size_of::<libc::kinfo_proc>();
        let room = bytes / entry + 16;
        // SAFETY: all-zero is a valid kinfo_proc (integers, arrays and null pointers).
        let mut table: Vec<libc::kinfo_proc> = vec![unsafe { std::mem::zeroed() }; room];
        let mut bytes = room * entry;
        // SAFETY: `table` is writable for `bytes` bytes; the call writes whole entries.
        let rc = unsafe {
            libc::sysctl(
                mib.as_ptr(),
                3,
                table.as_mut_ptr().cast(),
                &mut bytes,
                std::ptr::null(),
                0,
            )
        };
        if rc < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOMEM) {
                continue;
            }
            return Vec::new();
        }
        table.truncate(bytes / entry);
        return table
            .iter()
            .filter(|process| process.ki_ppid == pid)
            .filter_map(|process| u32::try_from(process.ki_pid).ok())
            .collect();
    }
    Vec::new()
}

/// The other BSDs: their children are not looked for.
#[cfg(not(any(target_os = "macos", target_os = "freebsd")))]
pub(crate) fn children(_pid: u32) -> Vec<u32> {
    Vec::new()
}

/// Not looked for here (see the module's notes).
pub(crate) fn pipe_holders(_inodes: &[u64]) -> Vec<u32> {
    Vec::new()
}
