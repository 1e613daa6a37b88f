//! Noticing that the host has gone (go-plugin#10, #210): nobody can talk to the plugin any more,
//! so staying alive only leaks a process and a socket file.
//!
//! Two signs (`sys::parent`): the parent process exits, or the pipe the handshake went through
//! loses its reader. The pipe covers a plugin started through `sh -c`, whose parent is the shell
//! rather than the host. A plugin notices within microseconds of the host's death, even a
//! SIGKILL.

use std::fs::File;

use tokio::sync::watch;

use crate::sys::parent::Parent;

/// What tells the plugin its host is alive, read before the handshake is printed (a host may
/// give up and die the moment it has read it).
#[derive(Debug)]
pub(super) struct HostWatch {
    parent: Parent,
    host_stdout: Option<File>,
}

impl HostWatch {
    pub(super) fn new() -> Self {
        HostWatch {
            parent: Parent::current(),
            host_stdout: None,
        }
    }

    /// Keeps a copy of stdout as it is now (the host's pipe), before it is redirected. Only a
    /// pipe tells when its reader has gone; anything else is not watched.
    pub(super) fn keep_stdout(&mut self) -> std::io::Result<()> {
        self.host_stdout = crate::sys::stdio::duplicate_stdout_pipe()?;
        Ok(())
    }

    /// Raises `orphaned` when the host goes away. Runs on a thread of its own, blocked until one
    /// of the signs arrives.
    pub(super) fn spawn(self, orphaned: watch::Sender<bool>) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name("plugin-host-watch".to_owned())
            .spawn(move || {
                self.parent.wait_until_gone(self.host_stdout.as_ref());
                tracing::warn!("host process exited, shutting down plugin");
                orphaned.send_replace(true);
            })
            .map(drop)
    }
}
