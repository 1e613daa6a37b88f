//! Unix: signals by pid to the doctor's own children, and Unix sockets in a 0700 directory.

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
