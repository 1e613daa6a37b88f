//! A process's descendants and the holders of a pipe: what the host needs to kill a plugin with
//! everything it started, when the plugin shares the host's process group and so cannot be
//! killed as a group. Each kernel finds them its own way (`super::kernel`); the generic path
//! finds none.

use std::os::fd::{AsFd, OwnedFd};

/// The children of `pid` (none on the generic path).
pub(crate) fn children(pid: u32) -> Vec<u32> {
    if super::generic_forced() {
        return Vec::new();
    }
    super::kernel::children(pid)
}

/// Processes other than this one with a writing end of one of the pipes `inodes` (none where the
/// kernel cannot tell, and on the generic path).
///
/// Only writing ends: a process this host has just forked to start another plugin holds copies
/// of the host's reading ends until it execs (they close on exec), and must not be taken for a
/// leftover child of this one.
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
        let (read, write) = std::io::pipe().expect("pipe");
        let inode = HeldPipe::hold(&read).expect("hold the pipe").inode;
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
