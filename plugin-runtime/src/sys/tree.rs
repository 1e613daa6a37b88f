//! A process's descendants and the holders of a pipe, from Linux's `/proc`: what the host needs
//! to kill a plugin with everything it started, when the plugin shares the host's process group
//! and so cannot be killed as a group.

use std::os::fd::{AsFd, OwnedFd};

/// The children of `pid`, from `/proc/<pid>/task/*/children`, or by scanning every process's
/// parent when the kernel does not offer those files.
pub(crate) fn children(pid: u32) -> Vec<u32> {
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
pub(crate) fn pipe_holders(inodes: &[u64]) -> Vec<u32> {
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

#[cfg(test)]
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
