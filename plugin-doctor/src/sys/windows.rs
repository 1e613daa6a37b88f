//! Windows: the orphan check's intermediate host ended with `TerminateProcess`; no signals, and
//! no Unix sockets (go-plugin listens on TCP on 127.0.0.1 there, so plugins need no socket
//! directory).

use std::path::Path;

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
