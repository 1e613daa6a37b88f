//! The standard output streams: duplicated before they are redirected (the log channel keeps
//! the original stderr), pointed at pipes with `SetStdHandle` (so everything the process writes
//! there, and every process it starts afterwards, reaches the host), and asked how much is still
//! unread in a pipe.

use std::fs::File;
use std::os::windows::io::{AsHandle, AsRawHandle, IntoRawHandle, OwnedHandle};

use windows_sys::Win32::System::Console::{STD_ERROR_HANDLE, STD_OUTPUT_HANDLE, SetStdHandle};
use windows_sys::Win32::System::Pipes::PeekNamedPipe;

use super::check;

/// One of the process's standard output streams.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Output {
    Stdout,
    Stderr,
}

/// A duplicate of the process's stderr as it is now.
pub(crate) fn duplicate_stderr() -> std::io::Result<File> {
    Ok(File::from(
        std::io::stderr().as_handle().try_clone_to_owned()?,
    ))
}

/// Whether the host stops reading stdout cannot be told without writing to it: nothing to keep.
pub(crate) fn duplicate_stdout_pipe() -> std::io::Result<Option<File>> {
    Ok(None)
}

/// Points `output` at a new pipe and returns the pipe's reading end.
pub(crate) fn redirect(output: Output) -> std::io::Result<File> {
    let which = match output {
        Output::Stdout => STD_OUTPUT_HANDLE,
        Output::Stderr => STD_ERROR_HANDLE,
    };
    let (read, write) = std::io::pipe()?;
    let write = OwnedHandle::from(write).into_raw_handle();
    // SAFETY: a valid pipe handle, which from now on is the process's standard handle and so is
    // never closed (it lives as long as the process, as fds 1 and 2 do).
    check(unsafe { SetStdHandle(which, write) })?;
    Ok(File::from(OwnedHandle::from(read)))
}

/// How many bytes are waiting to be read from `pipe` (0 when that cannot be told).
pub(crate) fn pending_bytes(pipe: &File) -> usize {
    let mut available = 0u32;
    // SAFETY: a pipe handle; no buffer, only the count is written.
    let ok = unsafe {
        PeekNamedPipe(
            pipe.as_raw_handle(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut available,
            std::ptr::null_mut(),
        )
    };
    if ok == 0 { 0 } else { available as usize }
}
