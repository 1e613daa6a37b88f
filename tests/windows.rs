//! Windows, run here under Wine: our host and plugin built for `x86_64-pc-windows-gnu`, and
//! go-plugin v1.8.0's Go programs built with `GOOS=windows`, as `tests/windows/build.sh` makes
//! them. Wine is not Windows (console events and ACLs are not tried), but the process handles,
//! Job Objects, pipes and TCP that the runtime's Windows code uses are Wine's real
//! implementations of them.
//!
//! The first run builds std and aws-lc for Windows (about 5 minutes); the tools it needs (Wine,
//! MinGW, Debian's Rust with its sources, Go) are installed or asked for by the scripts, never
//! skipped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What `build.sh` printed: Wine's environment and where the programs are.
struct Built {
    env: HashMap<String, String>,
}

impl Built {
    fn get(&self, name: &str) -> &str {
        self.env
            .get(name)
            .unwrap_or_else(|| panic!("tests/windows/build.sh printed no {name}"))
    }

    /// Our program `name` (without `.exe`).
    fn ours(&self, name: &str) -> PathBuf {
        Path::new(self.get("WINDOWS_BIN")).join(format!("{name}.exe"))
    }

    /// A Go program `name` (without `.exe`).
    fn go(&self, name: &str) -> PathBuf {
        Path::new(self.get("WINDOWS_GO")).join(format!("{name}.exe"))
    }

    /// `program` run by Wine, in Wine's environment.
    fn wine(&self, program: &Path) -> Command {
        let mut command = Command::new(self.get("WINE"));
        command.arg(program).stdin(Stdio::null());
        for name in ["WINEPREFIX", "WINEDEBUG", "WINEDLLOVERRIDES"] {
            command.env(name, self.get(name));
        }
        command
    }
}

fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("windows/build.sh");
        let output = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .expect("run bash tests/windows/build.sh (is bash installed?)");
        assert!(
            output.status.success(),
            "tests/windows/build.sh failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let env = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Built { env }
    })
}

/// `path` as a Windows program sees it (Wine maps `/` to drive `Z:`).
fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// How long a program under Wine may take before the test calls it hung (each takes a second or
/// two; the limit only tells slow from never).
const LIMIT: Duration = Duration::from_secs(120);

/// Runs `command` to its end and returns its output, failing on a non-zero exit or a hang.
fn run(mut command: Command, what: &str) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{what}: {err}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|pipe| Box::new(pipe) as _));
    let stderr = drain(child.stderr.take().map(|pipe| Box::new(pipe) as _));
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} still running after {LIMIT:?}:\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&stdout.join().unwrap_or_default()),
                String::from_utf8_lossy(&stderr.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `win-host SCENARIO…`'s `key: value` lines.
fn scenario(args: &[&str]) -> HashMap<String, String> {
    let built = built();
    let mut command = built.wine(&built.ours("win-host"));
    command.args(args);
    let output = run(command, &format!("win-host {args:?}"));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_once(": "))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// Reads lines from `child`'s stdout until one passes `wanted`, for up to [`LIMIT`].
fn read_until(child: &mut Child, mut wanted: impl FnMut(&str) -> bool) -> Vec<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, lines_read) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + LIMIT;
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines_read.recv_timeout(left) {
            Ok(line) => {
                let done = wanted(&line);
                lines.push(line);
                if done {
                    return lines;
                }
            }
            Err(err) => panic!("no line wanted ({err}); lines read: {lines:?}"),
        }
    }
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn our_host_calls_our_plugin_with_its_stdio_and_logs_and_stops_it_gracefully() {
    let seen = scenario(&["call"]);
    assert_eq!(seen["echo"], "hello from wine");
    assert_eq!(seen["stdout"], "stdout: said once", "GRPCStdio: {seen:?}");
    assert_eq!(seen["stderr"], "stderr: said once", "GRPCStdio: {seen:?}");
    assert!(
        seen["log"].contains(r#""@message":"said""#) && seen["log"].contains(r#""@level":"info""#),
        "the plugin's log line, through the log channel: {seen:?}"
    );
    assert_eq!(seen["exit"], "exit code: 0", "a graceful exit: {seen:?}");
}

#[test]
fn automtls_works_on_windows() {
    let seen = scenario(&["call", "automtls"]);
    assert_eq!(seen["echo"], "hello from wine");
    assert_eq!(seen["exit"], "exit code: 0");
}

#[test]
fn kill_takes_the_plugins_child_and_grandchild_with_it() {
    let seen = scenario(&["tree"]);
    assert_eq!(seen["running before kill"], "true true", "{seen:?}");
    assert_eq!(seen["exit"], "exit code: 0");
    assert_eq!(seen["child"], "gone", "{seen:?}");
    assert_eq!(seen["grandchild"], "gone", "{seen:?}");
}

#[test]
fn a_plugin_dies_with_its_terminated_host() {
    let built = built();
    let mut command = built.wine(&built.ours("win-host"));
    command.arg("hold").stdout(Stdio::piped());
    let mut host = command.spawn().expect("start win-host hold");
    let lines = read_until(&mut host, |line| line.starts_with("plugin: "));
    let pid = |key: &str| {
        lines
            .iter()
            .find_map(|line| line.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
            .to_owned()
    };
    let (host_pid, plugin_pid) = (pid("host: "), pid("plugin: "));
    let seen = scenario(&["terminate", &host_pid, &plugin_pid]);
    kill(host);
    let after = seen
        .get("plugin gone after ms")
        .unwrap_or_else(|| panic!("the plugin outlived its host: {seen:?}"));
    eprintln!("the plugin was gone {after} ms after its host's TerminateProcess");
}

#[test]
fn our_host_reattaches_to_our_plugin_in_debug_mode() {
    let built = built();
    let mut command = built.wine(&built.ours("win-plugin"));
    // Its logs in debug mode are text on stderr, for a person: not for the test's output.
    command
        .arg("--debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut plugin = command.spawn().expect("start win-plugin --debug");
    let lines = read_until(&mut plugin, |line| line.contains(r#""Pid":"#));
    let reattach = lines.last().expect("a line").trim();
    assert!(
        reattach.contains(r#""Network":"tcp""#),
        "a plugin on Windows listens on TCP: {reattach}"
    );
    let seen = scenario(&["reattach", reattach]);
    kill(plugin);
    assert_eq!(seen["echo"], "reattached");
    assert_eq!(
        seen["plugin running after kill"], "true",
        "a plugin in debug mode outlives its hosts"
    );
}

/// A directory of its own for a KV run (the KV plugins keep values in their working directory).
fn kv_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn go_plugins_host_built_for_windows_calls_our_plugin() {
    let built = built();
    let dir = kv_dir();
    let plugin = windows_path(&built.ours("kv-plugin"));
    for args in [&["put", "hello", "world"][..], &["get", "hello"]] {
        let mut command = built.wine(&built.go("host"));
        command
            .args(["-plugin", &plugin])
            .args(args)
            .current_dir(dir.path());
        let output = run(command, &format!("Go host {args:?}"));
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).expect("the Go host's JSON report");
        assert_eq!(report["protocol"], "grpc", "{report}");
        if args[0] == "get" {
            assert_eq!(
                report["value"], "world\n\nWritten from plugin-rust",
                "{report}"
            );
        }
    }
}

#[test]
fn our_host_calls_go_plugins_plugin_built_for_windows() {
    let built = built();
    let dir = kv_dir();
    let plugin = windows_path(&built.go("plugin-go-grpc"));
    for args in [&["put", "hello", "world"][..], &["get", "hello"]] {
        let mut command = built.wine(&built.ours("kv"));
        command
            .env("KV_PLUGIN", &plugin)
            .args(args)
            .current_dir(dir.path());
        let output = run(command, &format!("kv {args:?}"));
        if args[0] == "get" {
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                "world\n\nWritten from plugin-go-grpc\n"
            );
        }
    }
}
