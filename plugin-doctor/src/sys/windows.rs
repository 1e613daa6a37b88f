//! Windows: the orphan check's plugin watched through a process handle, its intermediate host
//! ended with `TerminateProcess`; no signals, and no Unix sockets (go-plugin listens on TCP on
//! 127.0.0.1 there, so plugins need no socket directory).

use std::os::windows::io::{AsRawHandle, FromRawHandle, OwnedHandle};
use std::path::Path;

use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
use windows_sys::Win32::System::Threading::{
    OpenProcess, PROCESS_SYNCHRONIZE, PROCESS_TERMINATE, TerminateProcess, WaitForSingleObject,
};

/// How the orphan check's intermediate host is killed, for the report.
pub(crate) const HOST_KILLED: &str = "terminated (TerminateProcess)";

/// How a plugin can notice that its host is gone, for the report's fix.
pub(crate) const PARENT_WATCH: &str =
    "a handle on it from OpenProcess, waited on with WaitForSingleObject";

/// What go-plugin's own plugins do when their host dies, for the report.
pub(crate) const GO_PLUGINS_ORPHANED: &str =
    "they keep running (nomad#28286: orphans exhausting the desktop heap)";

/// Whether the doctor can send SIGINT to a plugin (with [`interrupt`]), or why not.
pub(crate) const CAN_INTERRUPT: Result<(), &str> = Err(
    "Windows has no SIGINT to send one process: Ctrl-C is a console event that reaches every \
     process on the console (GenerateConsoleCtrlEvent cannot aim CTRL_C_EVENT at a process group), \
     the doctor included",
);

/// Whether plugins may listen on Unix sockets here: not as go-plugin does it (it listens on TCP
/// on Windows; AF_UNIX there is go-plugin#355, unmerged).
pub(crate) const UNIX_SOCKETS: bool = false;

/// Never called: [`CAN_INTERRUPT`] says why.
pub(crate) fn interrupt(_pid: u32) {}

/// Never called: [`UNIX_SOCKETS`] is false.
pub(crate) fn create_private_dir(_path: &Path) -> std::io::Result<()> {
    Err(unsupported())
}

/// The error a Unix-socket address gets here.
pub(crate) async fn connect_unix(_path: &Path) -> std::io::Result<()> {
    Err(unsupported())
}

fn unsupported() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "Unix sockets are not supported on this OS",
    )
}

/// A process that is not the doctor's child (the orphan check's plugin, whose parent is the
/// intermediate host), watched through a handle: a pid is not reused while a handle on its
/// process is open.
#[derive(Debug)]
pub(crate) struct Watched {
    pid: u32,
    handle: Option<OwnedHandle>,
}

impl Watched {
    /// Starts watching `pid`. Call it while the pid cannot have been reused: while the
    /// intermediate host, which holds a handle on its child, still runs.
    pub(crate) fn open(pid: u32) -> Watched {
        Watched {
            pid,
            handle: open(pid),
        }
    }

    /// Whether the process has exited. Without a handle (`OpenProcess` refused), whether no
    /// process with its pid runs now.
    pub(crate) fn exited(&self) -> bool {
        match &self.handle {
            Some(handle) => signalled(handle),
            None => open(self.pid).is_none_or(|handle| signalled(&handle)),
        }
    }

    /// `TerminateProcess`, through the handle only.
    pub(crate) fn kill(&self) {
        if let Some(handle) = &self.handle {
            // SAFETY: a valid process handle opened with PROCESS_TERMINATE.
            unsafe {
                TerminateProcess(handle.as_raw_handle(), 1);
            }
        }
    }
}

/// A handle on `pid` that can wait for it and terminate it.
fn open(pid: u32) -> Option<OwnedHandle> {
    if pid == 0 {
        return None;
    }
    // SAFETY: plain call; a null handle means failure.
    let raw = unsafe { OpenProcess(PROCESS_SYNCHRONIZE | PROCESS_TERMINATE, 0, pid) };
    if raw.is_null() {
        return None;
    }
    // SAFETY: OpenProcess just returned this handle to us alone.
    Some(unsafe { OwnedHandle::from_raw_handle(raw) })
}

/// A process handle is signalled once its process has exited.
fn signalled(handle: &OwnedHandle) -> bool {
    // SAFETY: a valid handle opened with SYNCHRONIZE; no wait.
    unsafe { WaitForSingleObject(handle.as_raw_handle(), 0) == WAIT_OBJECT_0 }
}
