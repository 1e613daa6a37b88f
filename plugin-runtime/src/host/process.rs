//! The plugin process as the host holds it: reaped when it exits, killed with everything it
//! started.
//!
//! The plugin runs in the host's process group with the host's stdin, as go-plugin's do, so it
//! can use the user's terminal (a plugin in a process group of its own is stopped by SIGTTIN the
//! moment it reads it). Its children therefore cannot be killed as a group; instead the host
//! finds them: the plugin's descendants in `/proc` (stopped first, so none can fork while the
//! tree is walked), and, once the plugin itself has gone, the processes that still hold its
//! stdout or stderr. Every signal goes through a process handle, so a reused pid is never
//! signalled. Where the OS has no handles (`sys`'s generic path), only the plugin itself is
//! killed, by its pid, as go-plugin kills it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::rpc::exit::ExitNotifier;
use crate::sys::process::{ProcessHandle, kill_pid};
use crate::sys::tree::{Descendants, HeldPipe, Tree, pipe_holders};

/// A plugin process the host may signal. Dropping it kills the process and everything it
/// started, so an error anywhere between spawn and a working client leaves nothing behind.
#[derive(Debug)]
pub(crate) struct PluginProcess {
    pid: u32,
    /// `None` when the OS has no process handles; `reaped` then guards against pid reuse.
    handle: Option<ProcessHandle>,
    /// Set the moment the process is reaped, when its pid stops being its own.
    reaped: Arc<AtomicBool>,
    pipes: Pipes,
    /// The processes it started, the host's to kill too: not for a reattached plugin, whose
    /// host only knows its pid.
    tree: Option<Tree>,
}

/// The plugin's stdout and stderr pipes, and how many of them have writers left (a process that
/// keeps one open after the plugin exited is a leftover child).
///
/// A copy of each reading end is held for as long as this is ([`HeldPipe`]), so that a scan for
/// the pipes' inodes cannot find an unrelated process.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pipes {
    held: Vec<Arc<HeldPipe>>,
    /// How many have not reached EOF, shared by every clone.
    open: tokio::sync::watch::Sender<usize>,
}

impl Pipes {
    /// Records `pipe` (the host's reading end); call [`Pipes::closed`] when it reaches EOF.
    pub(crate) fn watch(&mut self, pipe: &impl crate::sys::tree::AsPipe) {
        let Some(held) = HeldPipe::hold(pipe) else {
            return;
        };
        self.held.push(Arc::new(held));
        self.open.send_modify(|open| *open += 1);
    }

    /// One of the watched pipes reached EOF: nobody holds its writing end any more.
    pub(crate) fn closed(&self) {
        self.open.send_modify(|open| *open = open.saturating_sub(1));
    }

    /// Resolves once every watched pipe has reached EOF.
    async fn all_closed(&self) {
        // This holds the sender, so the wait cannot fail.
        let _ = self.open.subscribe().wait_for(|open| *open == 0).await;
    }

    fn any_open(&self) -> bool {
        *self.open.borrow() > 0
    }
}

impl PluginProcess {
    /// Must be called before the process can be reaped (before [`reap`] runs), so that the
    /// handle is the plugin's.
    pub(crate) fn new(pid: u32, pipes: Pipes) -> Self {
        let handle = ProcessHandle::open(pid).ok();
        let tree = handle.as_ref().and_then(Tree::adopt);
        PluginProcess {
            pid,
            handle,
            reaped: Arc::new(AtomicBool::new(false)),
            pipes,
            tree,
        }
    }

    /// A plugin this host did not start, known by a handle on its pid: only that process is
    /// ever signalled.
    pub(crate) fn reattached(handle: ProcessHandle) -> Self {
        PluginProcess {
            pid: handle.pid(),
            handle: Some(handle),
            reaped: Arc::new(AtomicBool::new(false)),
            pipes: Pipes::default(),
            tree: None,
        }
    }

    /// A plugin this host did not start, known only by its pid, where the OS offers no handle:
    /// only that pid is ever signalled, until the caller sets [`reaped`](Self::reaped) when it
    /// sees the pid gone.
    pub(crate) fn reattached_pid(pid: u32) -> Self {
        PluginProcess {
            pid,
            handle: None,
            reaped: Arc::new(AtomicBool::new(false)),
            pipes: Pipes::default(),
            tree: None,
        }
    }

    /// The flag [`reap`] sets.
    pub(crate) fn reaped(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.reaped)
    }

    /// Whether the process is still there to be signalled (running, or a zombie).
    fn alive(&self) -> bool {
        match &self.handle {
            Some(handle) => !handle.has_exited(),
            None => !self.reaped.load(Ordering::Acquire),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// The plugin's descendants as they are now, to be killed should they outlive it.
    pub(crate) fn descendants(&self) -> Option<Descendants> {
        match (&self.tree, &self.handle) {
            (Some(tree), Some(root)) => Some(tree.snapshot(root)),
            _ => None,
        }
    }

    /// Gives the pipes up to `limit` to report EOF once the plugin and its descendants are gone,
    /// so that [`kill`](Self::kill) only looks through every process's descriptors (which takes
    /// milliseconds) when something else still holds them.
    pub(crate) async fn pipes_closed_within(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.pipes.all_closed()).await;
    }

    /// SIGKILL to the plugin and everything it started: its descendants (stopped first, so the
    /// walk sees every one) and, once it has gone, whatever still holds its stdout or stderr.
    pub(crate) fn kill(&self) {
        self.kill_tree();
        self.kill_pipe_holders();
    }

    fn kill_tree(&self) {
        let Some(root) = &self.handle else {
            // No process handles (the generic path, Linux before 5.3): the process has not been
            // reaped (or, reattached, was not seen gone), so its pid is taken to be its own; its
            // children cannot be found safely.
            if self.alive() {
                kill_pid(self.pid);
            }
            return;
        };
        match &self.tree {
            Some(tree) => tree.kill(root),
            None if self.alive() => {
                let _ = root.kill();
            }
            None => {}
        }
    }

    /// Processes other than the host that still have the plugin's stdout or stderr open: its
    /// children, once the plugin itself has gone and they were handed to init.
    fn kill_pipe_holders(&self) {
        if !self.pipes.any_open() {
            return;
        }
        let inodes: Vec<u64> = self.pipes.held.iter().map(|pipe| pipe.inode).collect();
        for pid in pipe_holders(&inodes) {
            if let Ok(handle) = ProcessHandle::open(pid) {
                let _ = handle.kill();
            }
        }
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits for the process, lets its last log lines through, and tells everyone it exited.
/// `reaped` is [`PluginProcess::reaped`] of the same process.
pub(crate) async fn reap(
    mut child: tokio::process::Child,
    reaped: Arc<AtomicBool>,
    logs: tokio::task::JoinHandle<()>,
    notifier: ExitNotifier,
    program: PathBuf,
) {
    let pid = child.id().unwrap_or(0);
    let status = child.wait().await;
    reaped.store(true, Ordering::Release);
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
