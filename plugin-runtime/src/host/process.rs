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

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::rpc::exit::ExitNotifier;
use crate::sys::process::{ProcessHandle, kill_pid};
use crate::sys::tree::{HeldPipe, children, pipe_holders};

/// How many times the tree is walked for new processes while it is being stopped.
const FREEZE_ROUNDS: usize = 16;

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
    /// Whether the processes it started are the host's to kill too: not for a reattached
    /// plugin, whose host only knows its pid.
    tree: bool,
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
    pub(crate) fn watch(&mut self, pipe: &impl AsFd) {
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
    /// pidfd is the plugin's.
    pub(crate) fn new(pid: u32, pipes: Pipes) -> Self {
        PluginProcess {
            pid,
            handle: ProcessHandle::open(pid).ok(),
            reaped: Arc::new(AtomicBool::new(false)),
            pipes,
            tree: true,
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
            tree: false,
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
            tree: false,
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
    pub(crate) fn descendants(&self) -> Descendants {
        let mut found = Vec::new();
        if !self.tree || self.handle.is_none() || !self.alive() {
            return Descendants(found);
        }
        let mut queue = vec![self.pid];
        while let Some(parent) = queue.pop() {
            for child in children(parent) {
                if found
                    .iter()
                    .any(|known: &ProcessHandle| known.pid() == child)
                {
                    continue;
                }
                if let Ok(handle) = ProcessHandle::open(child) {
                    queue.push(child);
                    found.push(handle);
                }
            }
        }
        Descendants(found)
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
        if self.alive() {
            self.kill_tree();
        }
        self.kill_pipe_holders();
    }

    fn kill_tree(&self) {
        let Some(root) = &self.handle else {
            // No process handles (the generic path, Linux before 5.3): the process has not been
            // reaped (or, reattached, was not seen gone), so its pid is taken to be its own; its
            // children cannot be found safely.
            kill_pid(self.pid);
            return;
        };
        if !self.tree {
            let _ = root.kill();
            return;
        }
        let mut tree = vec![];
        let _ = root.stop();
        let mut stopped = 0;
        for _ in 0..FREEZE_ROUNDS {
            let mut grew = false;
            let parents: Vec<u32> = std::iter::once(self.pid)
                .chain(tree.iter().map(ProcessHandle::pid))
                .collect();
            for parent in parents {
                for child in children(parent) {
                    if tree
                        .iter()
                        .any(|known: &ProcessHandle| known.pid() == child)
                    {
                        continue;
                    }
                    if let Ok(handle) = ProcessHandle::open(child) {
                        tree.push(handle);
                        grew = true;
                    }
                }
            }
            for handle in &tree[stopped..] {
                let _ = handle.stop();
            }
            stopped = tree.len();
            if !grew {
                break;
            }
        }
        let _ = root.kill();
        for handle in &tree {
            let _ = handle.kill();
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

/// A snapshot of a plugin's descendants.
#[derive(Debug)]
pub(crate) struct Descendants(Vec<ProcessHandle>);

impl Descendants {
    /// SIGKILL to every one still running.
    pub(crate) fn kill(&self) {
        for handle in &self.0 {
            let _ = handle.kill();
        }
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
