//! Waiting, on a thread of the caller's, until the process that started this one is gone: its
//! process handle becomes signalled when it exits. The parent is found in a Toolhelp snapshot.
//! Whether the host still reads our stdout cannot be told on Windows without writing to it, so
//! the pipe is not watched (a plugin started through `cmd /c` is watched through `cmd`).

use std::fs::File;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::{
    ERROR_INVALID_PARAMETER, FILETIME, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, GetProcessTimes};

use super::process::ProcessHandle;

/// The parent process as it is now.
#[derive(Debug)]
pub(crate) enum Parent {
    /// Its handle.
    Running(ProcessHandle),
    /// Gone before it could be opened: its pid is free, or taken by a younger process.
    Gone,
    /// Not known (no snapshot, or not allowed to open it): never seen to go.
    Unknown,
}

impl Parent {
    pub(crate) fn current() -> Self {
        let Some(pid) = parent_id(std::process::id()) else {
            return Parent::Unknown;
        };
        match ProcessHandle::open(pid) {
            // A pid names its process only while it runs: a parent that died before it was
            // opened has its pid free for a later process, created after this one.
            Ok(parent) if created_at(parent.raw()) > created_at(current_process()) => Parent::Gone,
            Ok(parent) => Parent::Running(parent),
            Err(err) if err.raw_os_error() == Some(ERROR_INVALID_PARAMETER as i32) => Parent::Gone,
            Err(_) => Parent::Unknown,
        }
    }

    /// Blocks until the parent exits (at once when it is gone already; for ever when it is not
    /// known).
    pub(crate) fn wait_until_gone(&self, _pipe: Option<&File>) {
        match self {
            Parent::Running(handle) => handle.wait(),
            Parent::Gone => {}
            Parent::Unknown => loop {
                std::thread::park();
            },
        }
    }
}

/// This process's pseudo-handle.
fn current_process() -> HANDLE {
    // SAFETY: no arguments; the pseudo-handle needs no closing.
    unsafe { GetCurrentProcess() }
}

/// When `process` was created (100 ns since 1601), or `u64::MAX` when that cannot be told.
fn created_at(process: HANDLE) -> u64 {
    let mut times = [FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    }; 4];
    let [creation, exit, kernel, user] = &mut times;
    // SAFETY: a valid process handle and four writable FILETIMEs.
    let ok = unsafe { GetProcessTimes(process, creation, exit, kernel, user) };
    if ok == 0 {
        return u64::MAX;
    }
    u64::from(creation.dwHighDateTime) << 32 | u64::from(creation.dwLowDateTime)
}

/// The parent of `pid`, from a snapshot of every process.
fn parent_id(pid: u32) -> Option<u32> {
    // SAFETY: plain call; INVALID_HANDLE_VALUE means failure.
    let raw = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    if raw == INVALID_HANDLE_VALUE || raw.is_null() {
        return None;
    }
    // SAFETY: the snapshot handle is ours alone.
    let snapshot = unsafe { OwnedHandle::from_raw_handle(raw) };
    // SAFETY: all-zero is a valid PROCESSENTRY32W once its size is set.
    let mut entry: PROCESSENTRY32W = unsafe { std::mem::zeroed() };
    entry.dwSize = std::mem::size_of::<PROCESSENTRY32W>() as u32;
    // SAFETY: a valid snapshot and an entry of the size it declares.
    let mut more = unsafe { Process32FirstW(snapshot.as_raw_handle(), &mut entry) } != 0;
    while more {
        if entry.th32ProcessID == pid {
            return Some(entry.th32ParentProcessID).filter(|parent| *parent != 0);
        }
        // SAFETY: as above.
        more = unsafe { Process32NextW(snapshot.as_raw_handle(), &mut entry) } != 0;
    }
    None
}
