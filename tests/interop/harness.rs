//! What every interop cell shares: the one-time set-up (Go builds, Python virtualenv, stubs),
//! where things are, and running a real process with a time limit and its whole process group
//! killed afterwards, so no test hangs and no plugin outlives its test.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long one host run may take: generous for a loaded 2-core CI machine, and still far
/// shorter than go-plugin's 1-minute start timeout, so a hang is reported as ours.
pub(crate) const RUN_TIMEOUT: Duration = Duration::from_secs(45);

/// go-plugin's own wait between `Shutdown` and SIGKILL; a graceful kill is well below it.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The go-plugin version a Go peer was built against (one Go module each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoPlugin {
    V1_8,
    V1_4,
}

impl GoPlugin {
    fn dir(self) -> &'static str {
        match self {
            GoPlugin::V1_8 => "go18",
            GoPlugin::V1_4 => "go14",
        }
    }
}

/// Paths of everything the cells run.
#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) interop: PathBuf,
    pub(crate) bin: PathBuf,
    pub(crate) python: PathBuf,
    pub(crate) python_stubs: PathBuf,
    pub(crate) kv: PathBuf,
    pub(crate) kv_plugin: PathBuf,
}

impl Env {
    /// A program from go-plugin's examples or ours (`host`, `plugin`) built against `version`.
    pub(crate) fn go(&self, version: GoPlugin, program: &str) -> PathBuf {
        self.bin.join(version.dir()).join(program)
    }

    /// `protoc-gen-go` or `protoc-gen-go-grpc`.
    pub(crate) fn tool(&self, name: &str) -> PathBuf {
        self.bin.join("tools").join(name)
    }

    /// One of our Python peers in `tests/interop/python`.
    pub(crate) fn python_peer(&self, name: &str) -> PathBuf {
        self.interop.join("python").join(name)
    }

    /// A `sh -c` command line that runs one of our Python plugins with the venv's Python.
    pub(crate) fn python_plugin_command(&self, name: &str) -> String {
        format!("{} {}", quote(&self.python), quote(&self.python_peer(name)))
    }
}

/// Runs `tests/interop/setup.sh` once per test binary and finds `kv` and `kv-plugin` (building
/// the examples package if they are missing). Fails (never skips) when Go or Python is missing,
/// naming what to install.
pub(crate) fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ has a parent")
            .to_path_buf();
        let interop = repo.join("tests/interop");
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) => repo.join(dir),
            None => repo.join("target"),
        };

        let started = Instant::now();
        let setup = Command::new("bash")
            .arg(interop.join("setup.sh"))
            .env("CARGO_TARGET_DIR", &target)
            .stdin(Stdio::null())
            .output()
            .expect("run bash tests/interop/setup.sh (is bash installed?)");
        assert!(
            setup.status.success(),
            "tests/interop/setup.sh failed ({}):\n{}{}",
            setup.status,
            String::from_utf8_lossy(&setup.stdout),
            String::from_utf8_lossy(&setup.stderr)
        );
        eprintln!("interop set-up took {:.1?}", started.elapsed());

        let kv = tests::example_binary("kv");
        let kv_plugin = tests::example_binary("kv-plugin");
        Env {
            bin: target.join("interop-bin"),
            python: target.join("interop-venv/bin/python"),
            python_stubs: target.join("interop-gen/python"),
            interop,
            kv,
            kv_plugin,
        }
    })
}

/// Single-quotes `path` for `sh -c`.
pub(crate) fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// What a finished process left behind.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) elapsed: Duration,
    /// Processes of its group still alive when it exited (killed now): orphaned plugins.
    pub(crate) survivors: bool,
    pub(crate) command: String,
}

impl Run {
    /// Panics with everything known about the run unless it exited 0.
    pub(crate) fn success(self) -> Self {
        assert!(self.status.success(), "{} failed:\n{self}", self.command);
        self
    }

    /// Panics unless the run exited non-zero.
    pub(crate) fn failure(self) -> Self {
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
pub(crate) fn run(command: Command, timeout: Duration) -> Run {
    run_with_linger(command, timeout, Duration::from_millis(500))
}

/// [`run`], giving the rest of the group up to `linger` to exit after the leader did.
pub(crate) fn run_with_linger(mut command: Command, timeout: Duration, linger: Duration) -> Run {
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

fn read_all(mut file: File) -> String {
    use std::io::{Read, Seek};
    file.rewind().expect("rewind output file");
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).expect("read output file");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Whether any process of group `pgid` is still alive after up to `linger`. Zombies do not
/// count: a killed plugin whose parent died too is handed to init, which in a container may
/// never reap it.
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

/// Live (not zombie) processes whose process group is `pgid`.
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

/// A command with the variables that make Rust hosts' logs plain text and complete for our
/// peers' events while keeping the HTTP/2 stack quiet.
pub(crate) fn rust_command(program: &Path, dir: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env(
            "RUST_LOG",
            "trace,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info",
        )
        .env_remove("KV_PLUGIN_ECHO");
    command
}

/// `kv ARGS` (our Rust host) in `dir` with `KV_PLUGIN=plugin`.
pub(crate) fn kv(dir: &Path, plugin: &str, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let env = env();
    let mut command = rust_command(&env.kv, dir);
    command.env("KV_PLUGIN", plugin).args(args);
    command.env("PYTHONPATH", &env.python_stubs);
    for (key, value) in envs {
        command.env(key, value);
    }
    run(command, RUN_TIMEOUT)
}

/// One event of a Rust host's `tracing` output (fmt layer, no colours).
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub(crate) level: String,
    pub(crate) text: String,
}

/// The events in a Rust host's stderr; lines that are not events (stdio copies) are skipped.
pub(crate) fn events(stderr: &str) -> Vec<Event> {
    const LEVELS: [&str; 5] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"];
    stderr
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let _timestamp = words.next()?;
            let level = words.next()?;
            LEVELS.contains(&level).then(|| Event {
                level: level.to_owned(),
                text: words.collect::<Vec<_>>().join(" "),
            })
        })
        .collect()
}

/// The event at `level` whose text contains every one of `parts`, or a panic listing them all.
pub(crate) fn expect_event<'a>(events: &'a [Event], level: &str, parts: &[&str]) -> &'a Event {
    events
        .iter()
        .find(|e| e.level == level && parts.iter().all(|p| e.text.contains(p)))
        .unwrap_or_else(|| {
            let all: Vec<String> = events
                .iter()
                .map(|e| format!("{} {}", e.level, e.text))
                .collect();
            panic!(
                "no {level} event containing {parts:?}; events:\n{}",
                all.join("\n")
            )
        })
}

/// What our Go host (`tests/interop/goprogs/cmd/host`) reports, plus its hclog records.
#[derive(Debug)]
pub(crate) struct GoHostRun {
    pub(crate) report: Value,
    pub(crate) log: Vec<Value>,
    pub(crate) run: Run,
}

impl GoHostRun {
    /// The report's `error`, or "" when it had none.
    pub(crate) fn error(&self) -> &str {
        self.report["error"].as_str().unwrap_or("")
    }

    /// Log records whose `@message` is `message`.
    pub(crate) fn records(&self, message: &str) -> Vec<&Value> {
        self.log
            .iter()
            .filter(|r| r["@message"] == message)
            .collect()
    }
}

/// Runs our Go host built against `version` in `dir`: `host -log FILE FLAGS -plugin PLUGIN ARGS`.
pub(crate) fn go_host(
    version: GoPlugin,
    dir: &Path,
    plugin: &str,
    flags: &[&str],
    args: &[&str],
    envs: &[(&str, &str)],
) -> GoHostRun {
    let log_file = dir.join(format!(
        "host-log-{}.json",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    let mut command = Command::new(env().go(version, "host"));
    command
        .current_dir(dir)
        .env_remove("KV_PLUGIN_ECHO")
        .arg("-log")
        .arg(&log_file)
        .arg("-plugin")
        .arg(plugin)
        .args(flags)
        .args(args);
    for (key, value) in envs {
        command.env(key, value);
    }
    let run = run(command, RUN_TIMEOUT);
    let report = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("Go host printed no report ({e}):\n{run}"));
    let log = std::fs::read_to_string(&log_file)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("Go host log line is not JSON ({e}): {line}"))
        })
        .collect();
    GoHostRun { report, log, run }
}

/// Runs go-plugin's examples/grpc host (`kv`) built against `version` in `dir`:
/// `KV_PROTO=grpc KV_PLUGIN=plugin grpc ARGS`. Its hclog output (trace, text) is on stderr.
pub(crate) fn go_example_host(version: GoPlugin, dir: &Path, plugin: &str, args: &[&str]) -> Run {
    let mut command = Command::new(env().go(version, "grpc"));
    command
        .current_dir(dir)
        .env("KV_PROTO", "grpc")
        .env("KV_PLUGIN", plugin)
        .env_remove("KV_PLUGIN_ECHO")
        .args(args);
    run(command, RUN_TIMEOUT)
}

/// A fresh working directory for the plugins of one cell (they keep `kv_<key>` files there).
pub(crate) fn workdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("interop-")
        .tempdir()
        .expect("create a temporary directory")
}
