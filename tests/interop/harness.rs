//! What every interop cell shares: the one-time set-up (Go builds, Python virtualenv, stubs),
//! where things are, and the hosts the cells run. Processes run through [`tests::run`]: bounded,
//! in a process group of their own, killed afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
pub(crate) use tests::run::{Run, quote, run, run_with_linger};

/// How long one host run may take: generous for a loaded 2-core CI machine, and still far
/// shorter than go-plugin's 1-minute start timeout, so a hang is reported as ours.
pub(crate) const RUN_TIMEOUT: Duration = Duration::from_secs(45);

/// go-plugin's own wait between `Shutdown` and SIGKILL: a kill that ends in SIGKILL takes at
/// least this.
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

        let kv = tests::workspace_binary("kv");
        let kv_plugin = tests::workspace_binary("kv-plugin");
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
