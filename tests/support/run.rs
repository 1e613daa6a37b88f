//! Running real processes from tests: each in a process group of its own, with a time limit, and
//! the whole group killed afterwards, so no test hangs and no plugin outlives its test.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Single-quotes `path` for `sh -c`.
pub fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// What a finished process left behind.
#[derive(Debug)]
pub struct Run {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote to stdout, lossily decoded.
    pub stdout: String,
    /// Everything it wrote to stderr, lossily decoded.
    pub stderr: String,
    /// From spawn to exit of the process itself (not the rest of its group).
    pub elapsed: Duration,
    /// Processes of its group still alive when it exited (killed now): orphaned plugins.
    pub survivors: bool,
    /// The command line, for messages.
    pub command: String,
}

#[allow(
    clippy::return_self_not_must_use,
    reason = "assertions, which return the run only so that more can follow"
)]
impl Run {
    /// Panics with everything known about the run unless it exited 0.
    pub fn success(self) -> Self {
        assert!(self.status.success(), "{} failed:\n{self}", self.command);
        self
    }

    /// Panics unless the run exited non-zero.
    pub fn failure(self) -> Self {
        assert!(
            !self.status.success(),
            "{} should have failed:\n{self}",
            self.command
        );
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status: {}, {:.1?}, survivors: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.elapsed, self.survivors, self.stdout, self.stderr
        )
    }
}

/// Runs `command` in a process group of its own with stdin closed, waits up to `timeout`, then
/// SIGKILLs the group (failing the test). Whatever of the group is still alive half a second
/// after the leader exited is killed too, and reported in [`Run::survivors`].
pub fn run(command: Command, timeout: Duration) -> Run {
    run_with_linger(command, timeout, Duration::from_millis(500))
}

/// [`run`], giving the rest of the group up to `linger` to exit after the leader did.
pub fn run_with_linger(mut command: Command, timeout: Duration, linger: Duration) -> Run {
    use std::os::unix::process::CommandExt;

    let description = format!("{command:?}");
    let out = tempfile::tempfile().expect("temp file for stdout");
    let err = tempfile::tempfile().expect("temp file for stderr");
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("dup stdout file"))
        .stderr(err.try_clone().expect("dup stderr file"));
    let started = Instant::now();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {description}: {e}"));
    let pgid = i32::try_from(child.id()).expect("pid fits in i32");

    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break Some(status);
        }
        if started.elapsed() > timeout {
            kill_group(pgid);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let survivors = group_alive(pgid, linger);
    kill_group(pgid);

    let run = Run {
        status: status.unwrap_or_else(|| std::os::unix::process::ExitStatusExt::from_raw(9)),
        stdout: read_all(out),
        stderr: read_all(err),
        elapsed,
        survivors,
        command: description,
    };
    assert!(
        status.is_some(),
        "{} timed out after {timeout:?}:\n{run}",
        run.command
    );
    run
}

/// A long-lived process (a plugin in a debug mode, a server) in a process group of its own,
/// whose stdout lines a test can wait for. Dropping it SIGKILLs the whole group.
#[derive(Debug)]
pub struct Background {
    child: Child,
    pgid: i32,
    lines: Receiver<String>,
    stderr: tempfile::NamedTempFile,
    command: String,
}

impl Background {
    /// Spawns `command` with stdin closed, stdout read line by line and stderr kept in a file.
    pub fn start(mut command: Command) -> Self {
        use std::os::unix::process::CommandExt;

        let description = format!("{command:?}");
        // A named file, so reading it opens a description of its own and never moves the offset
        // the running process writes at.
        let stderr = tempfile::NamedTempFile::new().expect("temp file for stderr");
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.reopen().expect("reopen stderr file"));
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {description}: {e}"));
        let pgid = i32::try_from(child.id()).expect("pid fits in i32");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Background {
            child,
            pgid,
            lines,
            stderr,
            command: description,
        }
    }

    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The first stdout line from now on for which `wanted` holds; panics with what was seen if
    /// none comes within `timeout` or stdout ends first.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if wanted(&line) => return line,
                Ok(line) => seen.push(line),
                Err(err) => {
                    let why = match err {
                        RecvTimeoutError::Timeout => format!("nothing wanted within {timeout:?}"),
                        RecvTimeoutError::Disconnected => "stdout ended".to_owned(),
                    };
                    panic!(
                        "{}: {why}\n--- stdout\n{}\n--- stderr\n{}",
                        self.command,
                        seen.join("\n"),
                        self.stderr()
                    );
                }
            }
        }
    }

    /// Whether the process has exited.
    pub fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// What it wrote to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.stderr.path()).unwrap_or_default()).into_owned()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        kill_group(self.pgid);
        let _ = self.child.wait();
    }
}

fn read_all(mut file: File) -> String {
    use std::io::{Read, Seek};
    file.rewind().expect("rewind output file");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("read output file");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether any process of group `pgid` is still alive after up to `linger`.
fn group_alive(pgid: i32, linger: Duration) -> bool {
    let deadline = Instant::now() + linger;
    loop {
        let alive = group_members(pgid).next().is_some();
        if !alive || Instant::now() > deadline {
            return alive;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Live (not zombie) processes whose process group is `pgid`. Zombies do not count: a killed
/// plugin whose parent died too is handed to init, which in a container may never reap it.
fn group_members(pgid: i32) -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // After the name's closing parenthesis: state, ppid, pgrp, …
            let mut fields = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest)
                .unwrap_or("")
                .split_whitespace();
            let state = fields.next().unwrap_or("");
            let group = fields.nth(1).and_then(|group| group.parse::<i32>().ok());
            group == Some(pgid) && !matches!(state, "Z" | "X")
        })
}

fn kill_group(pgid: i32) {
    // SAFETY: sends a signal to the process group this harness created; no memory effects.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}
