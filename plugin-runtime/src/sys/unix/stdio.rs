//! File descriptors 1 and 2: duplicated before they are redirected (the log channel keeps the
//! original stderr), pointed at pipes (so everything the process writes there reaches the host),
//! and asked how much is still unread in a pipe.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};

/// One of the process's standard output streams.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Output {
    Stdout,
    Stderr,
}

/// A duplicate of the process's stderr as it is now.
pub(crate) fn duplicate_stderr() -> std::io::Result<File> {
    Ok(File::from(std::io::stderr().as_fd().try_clone_to_owned()?))
}

/// A duplicate of the process's stdout as it is now, when it is a pipe (only a pipe tells when
/// its reader has gone).
pub(crate) fn duplicate_stdout_pipe() -> std::io::Result<Option<File>> {
    use std::os::unix::fs::FileTypeExt;
    let stdout = File::from(std::io::stdout().as_fd().try_clone_to_owned()?);
    Ok(stdout.metadata()?.file_type().is_fifo().then_some(stdout))
}

/// Points `output` at a new pipe and returns the pipe's reading end.
pub(crate) fn redirect(output: Output) -> std::io::Result<File> {
    let fd = match output {
        Output::Stdout => libc::STDOUT_FILENO,
        Output::Stderr => libc::STDERR_FILENO,
    };
    let (read, write) = std::io::pipe()?;
    // SAFETY: both descriptors are valid and owned; dup2 atomically replaces `fd`.
    if unsafe { libc::dup2(write.as_raw_fd(), fd) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    drop(write);
    Ok(File::from(std::os::fd::OwnedFd::from(read)))
}

/// How many bytes are waiting to be read from `pipe` (0 when that cannot be told).
pub(crate) fn pending_bytes(pipe: &File) -> usize {
    let mut pending: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int; a closed descriptor just makes the call fail.
    let rc = unsafe { libc::ioctl(pipe.as_raw_fd(), libc::FIONREAD, &mut pending) };
    if rc < 0 { 0 } else { pending.max(0) as usize }
}
