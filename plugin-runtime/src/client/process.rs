//! The plugin process as the host holds it: reaped when it exits, killed with everything it
//! started.

use std::path::PathBuf;
use std::time::Duration;

use crate::exit::{ExitNotifier, ExitWatch};

/// A plugin process the host may signal. Dropping it kills the process (and its process group)
/// unless it has already exited, so an error anywhere between spawn and a working client leaves
/// nothing behind.
#[derive(Debug)]
pub(crate) struct PluginProcess {
    pid: u32,
    exit: ExitWatch,
}

impl PluginProcess {
    pub(crate) fn new(pid: u32, exit: ExitWatch) -> Self {
        PluginProcess { pid, exit }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGKILL to the plugin and its process group, unless it has exited.
    pub(crate) fn kill(&self) {
        if !self.exit.has_exited() {
            kill_group(self.pid);
        }
    }
}

impl PluginProcess {
    /// SIGKILL to what is left of the plugin's process group once the plugin itself has gone:
    /// children that still hold its pipes.
    pub(crate) fn kill_group(&self) {
        kill_group(self.pid);
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for the process, lets its last log lines through, and tells everyone it exited.
pub(crate) async fn reap(
    mut child: tokio::process::Child,
    pid: u32,
    logs: tokio::task::JoinHandle<()>,
    notifier: ExitNotifier,
    program: PathBuf,
) {
    let status = child.wait().await;
    // The log pipe closes when the process ends, unless a child of the plugin still holds it.
    let _ = tokio::time::timeout(Duration::from_secs(1), logs).await;
    let description = match &status {
        Ok(status) => {
            if status.success() {
                tracing::info!(plugin = %program.display(), id = pid, "plugin process exited");
            } else {
                tracing::error!(plugin = %program.display(), id = pid, error = %status, "plugin process exited");
            }
            Some(status.to_string())
        }
        Err(err) => {
            tracing::error!(plugin = %program.display(), error = %err, "plugin process exited");
            None
        }
    };
    notifier.exited(description);
}

/// SIGKILL to the plugin's process group (and, should it have left the group, to itself).
fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: plain signal delivery; a process that is already gone makes the calls fail harmlessly.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}
