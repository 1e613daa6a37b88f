//! A handle on one process: a reused pid cannot fool it, it becomes signalled when the process
//! exits, and `TerminateProcess` ends the process through it.

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::time::Duration;

use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
use windows_sys::Win32::System::Threading::{
    INFINITE, OpenProcess, PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SET_QUOTA,
    PROCESS_SYNCHRONIZE, PROCESS_TERMINATE, TerminateProcess, WaitForSingleObject,
};

use super::{check, last_error};

/// The exit code of a process this module terminates (what Go's `Process.Kill` uses).
const KILLED: u32 = 1;

/// A handle on one process.
#[derive(Debug)]
pub(crate) struct ProcessHandle {
    handle: OwnedHandle,
    pid: u32,
}

impl ProcessHandle {
    /// A handle on process `pid` allowed to wait for it, terminate it and put it in a job.
    pub(crate) fn open(pid: u32) -> std::io::Result<ProcessHandle> {
        if pid == 0 {
            return Err(std::io::ErrorKind::InvalidInput.into());
        }
        let access = PROCESS_SYNCHRONIZE
            | PROCESS_TERMINATE
            | PROCESS_QUERY_LIMITED_INFORMATION
            | PROCESS_SET_QUOTA;
        // SAFETY: plain call; a null handle means failure.
        let raw = unsafe { OpenProcess(access, 0, pid) };
        if raw.is_null() {
            return Err(last_error());
        }
        // SAFETY: OpenProcess just returned this handle to us alone.
        let handle = unsafe { OwnedHandle::from_raw_handle(raw) };
        Ok(ProcessHandle { handle, pid })
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// `TerminateProcess`: ends the process (an error once it has exited).
    pub(crate) fn kill(&self) -> std::io::Result<()> {
        if self.has_exited() {
            return Err(std::io::Error::other("process already exited"));
        }
        // SAFETY: a valid process handle with PROCESS_TERMINATE.
        check(unsafe { TerminateProcess(self.handle.as_raw_handle(), KILLED) })
    }

    /// Whether the process has exited.
    pub(crate) fn has_exited(&self) -> bool {
        // SAFETY: a valid handle; no wait.
        unsafe { WaitForSingleObject(self.handle.as_raw_handle(), 0) == WAIT_OBJECT_0 }
    }

    /// Resolves when the process exits: a blocking wait on the handle, on a thread of its own
    /// (not tokio's blocking pool, whose shutdown would wait for a process that may outlive the
    /// runtime, such as a plugin in debug mode).
    pub(crate) async fn exited(self) {
        let handle = std::sync::Arc::new(self);
        let watched = std::sync::Arc::clone(&handle);
        let (exited, wait) = tokio::sync::oneshot::channel();
        let spawned = std::thread::Builder::new()
            .name("plugin-exit-watch".to_owned())
            .spawn(move || {
                watched.wait();
                let _ = exited.send(());
            });
        if spawned.is_ok() {
            let _ = wait.await;
            return;
        }
        // No thread to spare: a look now and then.
        while !handle.has_exited() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Blocks until the process exits.
    pub(crate) fn wait(&self) {
        // SAFETY: a valid handle with SYNCHRONIZE.
        unsafe { WaitForSingleObject(self.handle.as_raw_handle(), INFINITE) };
    }

    pub(super) fn raw(&self) -> windows_sys::Win32::Foundation::HANDLE {
        self.handle.as_raw_handle()
    }
}

/// Terminates process `pid`, if it can be opened: for a process that cannot have been reaped
/// yet (a handle on Windows never lets its pid go while held, so this is as safe as the Unix
/// version).
pub(crate) fn kill_pid(pid: u32) {
    if let Ok(handle) = ProcessHandle::open(pid) {
        let _ = handle.kill();
    }
}

/// Whether a running process `pid` exists.
pub(crate) fn exists(pid: u32) -> bool {
    ProcessHandle::open(pid).is_ok_and(|handle| !handle.has_exited())
}

/// Resolves once no process `pid` runs, looking every `period`.
pub(crate) async fn gone(pid: u32, period: Duration) {
    while exists(pid) {
        tokio::time::sleep(period).await;
    }
}
