//! A process's descendants and the holders of a pipe: what the host needs to kill a plugin with
//! everything it started, when the plugin shares the host's process group and so cannot be
//! killed as a group. Each kernel finds them its own way (`super::kernel`); the generic path
//! finds none.

use std::os::fd::{AsFd, OwnedFd};

use super::process::ProcessHandle;

/// What a pipe is to this OS: a descriptor.
pub(crate) use std::os::fd::AsFd as AsPipe;

/// How many times the tree is walked for new processes while it is being stopped.
const FREEZE_ROUNDS: usize = 16;

/// A plugin's tree of processes, found when needed by walking its children: the plugin shares
/// the host's process group, so the group cannot stand for it.
#[derive(Debug)]
pub(crate) struct Tree(());

impl Tree {
    /// The tree of the process `root` handles, started by this host.
    pub(crate) fn adopt(_root: &ProcessHandle) -> Option<Tree> {
        Some(Tree(()))
    }

    /// The descendants of `root` as they are now, to be killed should they outlive it.
    pub(crate) fn snapshot(&self, root: &ProcessHandle) -> Descendants {
        let mut found: Vec<ProcessHandle> = Vec::new();
        if root.has_exited() {
            return Descendants(found);
        }
        let mut queue = vec![root.pid()];
        while let Some(parent) = queue.pop() {
            for child in children(parent) {
                if found.iter().any(|known| known.pid() == child) {
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

    /// SIGKILL to `root` and its descendants, stopped first (so none can fork, or reap a child
    /// whose pid could then be reused, while the tree is walked). Nothing once `root` has exited:
    /// its children are no longer its.
    pub(crate) fn kill(&self, root: &ProcessHandle) {
        if root.has_exited() {
            return;
        }
        let mut tree: Vec<ProcessHandle> = vec![];
        let _ = root.stop();
        let mut stopped = 0;
        for _ in 0..FREEZE_ROUNDS {
            let mut grew = false;
            let parents: Vec<u32> = std::iter::once(root.pid())
                .chain(tree.iter().map(ProcessHandle::pid))
                .collect();
            for parent in parents {
                for child in children(parent) {
                    if tree.iter().any(|known| known.pid() == child) {
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

/// The children of `pid` (none on the generic path).
fn children(pid: u32) -> Vec<u32> {
    if super::generic_forced() {
        return Vec::new();
    }
    super::kernel::children(pid)
}

/// Processes other than this one with a writing end of one of the pipes `inodes` (none where the
/// kernel cannot tell, and on the generic path).
///
/// Only writing ends, and never a child of this host: a process this host has just forked to
/// start another plugin holds copies of the host's descriptors until it execs (they close on
/// exec), the reading ends of every plugin's pipes and, if it was forked while a plugin was being
/// started, that plugin's writing ends too; it must not be taken for a leftover child of that
/// plugin (a plugin's children are its own, or init's once it has gone, never the host's).
pub(crate) fn pipe_holders(inodes: &[u64]) -> Vec<u32> {
    if super::generic_forced() {
        return Vec::new();
    }
    super::kernel::pipe_holders(inodes)
}

/// A pipe, known by its inode, with a copy of one end held so that the inode number is not
/// reused for another pipe while this lives (a scan for a reused number would find, and kill,
/// an unrelated process).
#[derive(Debug)]
pub(crate) struct HeldPipe {
    pub(crate) inode: u64,
    _held: OwnedFd,
}

impl HeldPipe {
    /// Holds `pipe` (any end), or `None` when it cannot be duplicated or examined.
    pub(crate) fn hold(pipe: &impl AsFd) -> Option<HeldPipe> {
        use std::os::unix::fs::MetadataExt;
        let held = pipe.as_fd().try_clone_to_owned().ok()?;
        let inode = std::fs::File::from(held.try_clone().ok()?)
            .metadata()
            .ok()?
            .ino();
        Some(HeldPipe { inode, _held: held })
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::process::{Command, Stdio};

    use super::{HeldPipe, pipe_holders};

    #[test]
    fn a_pipe_is_held_by_the_processes_that_write_to_it_not_those_that_read_it() {
        use std::io::BufRead;
        let (read, write) = std::io::pipe().expect("pipe");
        let inode = HeldPipe::hold(&read).expect("hold the pipe").inode;
        // One holds the reading end, as a child forked to start another plugin holds the host's
        // until it execs. The writing end is held by a child of this process, as one forked
        // while a plugin is being started holds that plugin's, and by its child, as a plugin's
        // leftover child does: only the last is a holder.
        let mut reader = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::from(read))
            .spawn()
            .expect("spawn the reader");
        let mut writer = Command::new("sh")
            .arg("-c")
            .arg("sleep 30 & echo $! >&2; wait")
            .stdout(Stdio::from(write))
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the writer");
        let mut line = String::new();
        let stderr = writer.stderr.take().expect("piped stderr");
        std::io::BufReader::new(stderr)
            .read_line(&mut line)
            .expect("the grandchild's pid");
        let grandchild: u32 = line.trim().parse().expect("a pid");
        let holders = pipe_holders(&[inode]);
        // SAFETY: plain signal delivery to the grandchild this test started.
        unsafe { libc::kill(grandchild as libc::pid_t, libc::SIGKILL) };
        for child in [&mut reader, &mut writer] {
            let _ = child.kill();
            let _ = child.wait();
        }
        assert_eq!(holders, vec![grandchild]);
    }
}
