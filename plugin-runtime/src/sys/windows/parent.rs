//! Waiting, on a thread of the caller's, until the process that started this one is gone: its
//! process handle becomes signalled when it exits. The parent is found in a Toolhelp snapshot.
//! Whether the host still reads our stdout cannot be told on Windows without writing to it, so
//! the pipe is not watched (a plugin started through `cmd /c` is watched through `cmd`).

use std::fs::File;
use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation::INVALID_HANDLE_VALUE;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};

use super::process::ProcessHandle;

/// The parent process as it is now.
#[derive(Debug)]
pub(crate) struct Parent {
    handle: Option<ProcessHandle>,
}

impl Parent {
    pub(crate) fn current() -> Self {
        let handle = parent_id(std::process::id()).and_then(|pid| ProcessHandle::open(pid).ok());
        Parent { handle }
    }

    /// Blocks until the parent exits; for ever when it could not be opened.
    pub(crate) fn wait_until_gone(&self, _pipe: Option<&File>) {
        match &self.handle {
            Some(handle) => handle.wait(),
            None => loop {
                std::thread::park();
            },
        }
    }
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
