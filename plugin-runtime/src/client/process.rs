//! The plugin process as the host holds it: reaped when it exits, killed with everything it
//! started.
//!
//! The plugin runs in the host's process group with the host's stdin, as go-plugin's do, so it
//! can use the user's terminal (a plugin in a process group of its own is stopped by SIGTTIN the
//! moment it reads it). Its children therefore cannot be killed as a group; instead the host
//! finds them: the plugin's descendants in `/proc` (stopped first, so none can fork while the
//! tree is walked), and, once the plugin itself has gone, the processes that still hold its
//! stdout or stderr. Every signal goes through a pidfd, so a reused pid is never signalled.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::exit::ExitNotifier;
use crate::pidfd::PidFd;

/// How many times the tree is walked for new processes while it is being stopped.
const FREEZE_ROUNDS: usize = 16;

/// A plugin process the host may signal. Dropping it kills the process and everything it
/// started, so an error anywhere between spawn and a working client leaves nothing behind.
#[derive(Debug)]
pub(crate) struct PluginProcess {
    pid: u32,
    /// `None` when the kernel has no pidfds; `reaped` then guards against pid reuse.
    handle: Option<PidFd>,
    /// Set the moment the process is reaped, when its pid stops being its own.
    reaped: Arc<AtomicBool>,
    pipes: Pipes,
    /// Whether the processes it started are the host's to kill too: not for a reattached
    /// plugin, whose host only knows its pid.
    tree: bool,
}

/// The plugin's stdout and stderr pipes, by inode, and how many of them have writers left (a
/// process that keeps one open after the plugin exited is a leftover child).
///
/// A copy of each reading end is held for as long as this is: a pipe's inode number is reused
/// once every end of it is closed, and a scan for a reused number would find, and kill, an
/// unrelated process.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pipes {
    inodes: Vec<u64>,
    _held: Vec<Arc<std::os::fd::OwnedFd>>,
    /// How many have not reached EOF, shared by every clone.
    open: tokio::sync::watch::Sender<usize>,
}

impl Pipes {
    /// Records `pipe` (the host's reading end); call [`Pipes::closed`] when it reaches EOF.
    pub(crate) fn watch(&mut self, pipe: &impl AsFd) {
        use std::os::unix::fs::MetadataExt;
        let Ok(held) = pipe.as_fd().try_clone_to_owned() else {
            return;
        };
        let Ok(meta) = std::fs::File::from(match held.try_clone() {
            Ok(fd) => fd,
            Err(_) => return,
        })
        .metadata() else {
            return;
        };
        self.inodes.push(meta.ino());
        self._held.push(Arc::new(held));
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
            handle: PidFd::open(pid).ok(),
            reaped: Arc::new(AtomicBool::new(false)),
            pipes,
            tree: true,
        }
    }

    /// A plugin this host did not start, known by a handle on its pid: only that process is
    /// ever signalled.
    pub(crate) fn reattached(handle: PidFd) -> Self {
        PluginProcess {
            pid: handle.pid(),
            handle: Some(handle),
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
                if found.iter().any(|known: &PidFd| known.pid() == child) {
                    continue;
                }
                if let Ok(handle) = PidFd::open(child) {
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
        if !self.tree {
            if let Some(root) = &self.handle {
                let _ = root.signal(libc::SIGKILL);
            }
            return;
        }
        let Some(root) = &self.handle else {
            // No pidfds (Linux before 5.3): the process has not been reaped, so its pid is still
            // its own; its children cannot be found safely.
            signal_pid(self.pid, libc::SIGKILL);
            return;
        };
        let mut tree = vec![];
        let _ = root.signal(libc::SIGSTOP);
        let mut stopped = 0;
        for _ in 0..FREEZE_ROUNDS {
            let mut grew = false;
            let parents: Vec<u32> = std::iter::once(self.pid)
                .chain(tree.iter().map(PidFd::pid))
                .collect();
            for parent in parents {
                for child in children(parent) {
                    if tree.iter().any(|known: &PidFd| known.pid() == child) {
                        continue;
                    }
                    if let Ok(handle) = PidFd::open(child) {
                        tree.push(handle);
                        grew = true;
                    }
                }
            }
            for handle in &tree[stopped..] {
                let _ = handle.signal(libc::SIGSTOP);
            }
            stopped = tree.len();
            if !grew {
                break;
            }
        }
        let _ = root.signal(libc::SIGKILL);
        for handle in &tree {
            let _ = handle.signal(libc::SIGKILL);
        }
    }

    /// Processes other than the host that still have the plugin's stdout or stderr open: its
    /// children, once the plugin itself has gone and they were handed to init.
    fn kill_pipe_holders(&self) {
        if !self.pipes.any_open() {
            return;
        }
        for pid in pipe_holders(&self.pipes.inodes) {
            if let Ok(handle) = PidFd::open(pid) {
                let _ = handle.signal(libc::SIGKILL);
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
pub(crate) struct Descendants(Vec<PidFd>);

impl Descendants {
    /// SIGKILL to every one still running.
    pub(crate) fn kill(&self) {
        for handle in &self.0 {
            let _ = handle.signal(libc::SIGKILL);
        }
    }
}

/// The children of `pid`, from `/proc/<pid>/task/*/children`, or by scanning every process's
/// parent when the kernel does not offer those files.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    let mut listed = false;
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            listed = true;
            found.extend(
                text.split_whitespace()
                    .filter_map(|pid| pid.parse::<u32>().ok()),
            );
        }
    }
    if !listed {
        found = processes()
            .filter(|&candidate| parent_of(candidate) == Some(pid))
            .collect();
    }
    found
}

/// Every process id in `/proc`.
fn processes() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
}

/// The parent of `pid`, from `/proc/<pid>/stat` (field 4; the name in field 2 may contain
/// anything, so the fields are counted from its closing parenthesis).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Processes other than this one with a writing end of one of the pipes `inodes`.
///
/// Only writing ends: a process this host has just forked to start another plugin holds copies
/// of the host's reading ends until it execs (they close on exec), and must not be taken for a
/// leftover child of this one.
fn pipe_holders(inodes: &[u64]) -> Vec<u32> {
    let own = std::process::id();
    let names: Vec<String> = inodes
        .iter()
        .map(|inode| format!("pipe:[{inode}]"))
        .collect();
    processes()
        .filter(|&pid| pid != own)
        .filter(|pid| {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|fd| {
                    std::fs::read_link(fd.path()).is_ok_and(|target| {
                        names.iter().any(|name| target.as_os_str() == name.as_str())
                    })
                })
                .any(|fd| writes(*pid, &fd.file_name()))
        })
        .collect()
}

/// Whether descriptor `fd` of `pid` was opened for writing, from its `flags` in
/// `/proc/<pid>/fdinfo/<fd>` (octal).
fn writes(pid: u32, fd: &std::ffi::OsStr) -> bool {
    let Ok(info) =
        std::fs::read_to_string(std::path::Path::new(&format!("/proc/{pid}/fdinfo")).join(fd))
    else {
        return false;
    };
    info.lines()
        .find_map(|line| line.strip_prefix("flags:"))
        .and_then(|flags| i32::from_str_radix(flags.trim(), 8).ok())
        .is_some_and(|flags| flags & libc::O_ACCMODE != libc::O_RDONLY)
}

fn signal_pid(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid)
        && pid > 0
    {
        // SAFETY: plain signal delivery to a positive pid.
        unsafe {
            libc::kill(pid, signal);
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::process::{Command, Stdio};

    use super::pipe_holders;

    #[test]
    fn a_pipe_is_held_by_the_processes_that_write_to_it_not_those_that_read_it() {
        let (read, write) = std::io::pipe().expect("pipe");
        let inode = std::fs::File::from(std::os::fd::OwnedFd::from(read.try_clone().expect("dup")))
            .metadata()
            .expect("metadata")
            .ino();
        // One holds the reading end, as a child forked to start another plugin holds the host's
        // until it execs; the other the writing end, as a plugin's leftover child does.
        let mut reader = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::from(read))
            .spawn()
            .expect("spawn the reader");
        let mut writer = Command::new("sleep")
            .arg("30")
            .stdout(Stdio::from(write))
            .spawn()
            .expect("spawn the writer");
        let holders = pipe_holders(&[inode]);
        for child in [&mut reader, &mut writer] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(holders, vec![writer.id()]);
    }
}
