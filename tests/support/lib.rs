//! What the process-level tests share: the interface of the test plugin, helpers to find and
//! launch binaries, bounded runs of real processes ([`run`]), and a pseudo-terminal to run a
//! host in ([`terminal`]).
#![allow(
    unsafe_code,
    reason = "Test support signals process groups and drives a pseudo-terminal through libc."
)]

pub mod catalog;
pub mod otel;
pub mod pki;
pub mod terminal;

use std::path::PathBuf;
use std::process::Command;

use go_plugin::{HandshakeConfig, PluginError, Stream, plugin_interface};

pub mod run;

/// The test plugin's handshake (a cookie of its own, as go-plugin's tests use).
pub const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "TEST_MAGIC_COOKIE", "test");

/// The environment variable that selects how `test-plugin` behaves (see `plugins/test_plugin.rs`).
pub const MODE: &str = "TEST_PLUGIN_MODE";

/// Everything the process-level tests make a plugin do.
#[plugin_interface(package = "plugintest", service = "Tester")]
pub trait Tester {
    /// Returns `data` unchanged.
    async fn echo(&self, data: Vec<u8>) -> Result<Vec<u8>, PluginError>;
    /// Writes to the plugin's stdout and stderr with `print!`/`eprint!`.
    async fn print(&self, stdout: String, stderr: String) -> Result<(), PluginError>;
    /// Emits a `tracing` event at `level` with a field `answer = 42`.
    async fn log(&self, level: String, message: String) -> Result<(), PluginError>;
    /// Sleeps, then answers.
    async fn sleep(&self, millis: u64) -> Result<(), PluginError>;
    /// Ends the plugin process in the middle of the call.
    async fn exit(&self, code: i32) -> Result<(), PluginError>;
    /// Fails with gRPC code `code` and `message`.
    async fn fail(&self, code: i32, message: String) -> Result<(), PluginError>;
    /// Fails with gRPC code `code`, `message` and status details `details` (a serialized
    /// `google.rpc.Status`, as grpc-go's `status.WithDetails` sends them).
    async fn fail_with_details(
        &self,
        code: i32,
        message: String,
        details: Vec<u8>,
    ) -> Result<(), PluginError>;
    /// The protocol version whose plugin set answered.
    async fn version(&self) -> Result<u32, PluginError>;
    /// Panics in the handler with `message`.
    async fn panic(&self, message: String) -> Result<(), PluginError>;
    /// The plugin's value of environment variable `name`.
    async fn env(&self, name: String) -> Result<Option<String>, PluginError>;
    /// The plugin's process id.
    async fn pid(&self) -> Result<u32, PluginError>;
    /// Starts `sh -c script` in the background and returns its process id.
    async fn spawn_child(&self, script: String) -> Result<u32, PluginError>;
    /// Dials the host's brokered `AddHelper` service `helper` and returns its `sum(a, b)`.
    async fn add_through(&self, helper: u32, a: i64, b: i64) -> Result<i64, PluginError>;
    /// Serves an `AddHelper` through the broker for as long as the plugin runs; returns its id.
    async fn serve_adder(&self) -> Result<u32, PluginError>;
    /// Sleeps `millis`; a call cancelled under it is counted (see `cancelled`).
    async fn hold(&self, millis: u64) -> Result<(), PluginError>;
    /// How many `hold` calls were cancelled before they finished.
    async fn cancelled(&self) -> Result<u64, PluginError>;
    /// `helper.sum(a, b)`: the host's callback, called from the plugin.
    async fn add_with(&self, helper: impl AddHelper, a: i64, b: i64) -> Result<i64, PluginError>;
    /// With `line_bytes > 0`, starts (or changes) a flood: three threads write `line_bytes`-byte
    /// lines, one to stdout, one to stderr and one to the log channel (`tracing` at INFO), each
    /// `lines_per_second` lines a second, or without pause when it is 0; `line_bytes` 0 pauses
    /// it. Writers block when the host reads slower than they write.
    async fn flood_stdio(&self, line_bytes: u32, lines_per_second: u32) -> Result<(), PluginError>;
    /// `summer.sum_with(plugin's adder, a, b)`: a callback that itself takes a callback, which
    /// the plugin serves back to the host.
    async fn add_via(&self, summer: impl Summer, a: i64, b: i64) -> Result<i64, PluginError>;
}

/// Streams in each direction, for the streaming tests.
#[plugin_interface(package = "plugintest", service = "Streams")]
pub trait Streams {
    /// `from..to`, one item each; an error item instead of `fail_at` when it is reached.
    async fn count(
        &self,
        from: i64,
        to: i64,
        fail_at: Option<i64>,
    ) -> Result<Stream<i64>, PluginError>;
    /// The sum of the numbers sent; the error of the stream when it fails, or `Cancelled` when
    /// the call is cancelled under it (kept for `last_error`).
    async fn sum_all(&self, numbers: Stream<i64>) -> Result<i64, PluginError>;
    /// Each number doubled, as it arrives.
    async fn double(&self, numbers: Stream<i64>) -> Result<Stream<i64>, PluginError>;
    /// `size`-byte chunks, without end, produced through a channel of 4.
    async fn flood(&self, size: u32) -> Result<Stream<Vec<u8>>, PluginError>;
    /// How many chunks `flood` produced, and whether it saw its stream cancelled.
    async fn flood_state(&self) -> Result<Vec<u64>, PluginError>;
    /// The error the last failed input stream ended with.
    async fn last_error(&self) -> Result<Option<String>, PluginError>;
}

/// A callback whose method takes a callback.
#[plugin_interface(package = "plugintest", service = "Summer")]
pub trait Summer {
    /// `helper.sum(a, b)`, plus the implementation's own offset.
    async fn sum_with(&self, helper: impl AddHelper, a: i64, b: i64) -> Result<i64, PluginError>;
}

/// A service either side can serve through the broker, like go-plugin's bidirectional example's.
#[plugin_interface(package = "plugintest", service = "AddHelper")]
pub trait AddHelper {
    /// `a + b`.
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError>;
}

/// An [`AddHelper`] that adds, and says which side it runs on by adding `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Adder {
    /// Added to every sum.
    pub offset: i64,
}

impl AddHelper for Adder {
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        Ok(a + b + self.offset)
    }
}

/// How many calls (or Put/Get pairs) each of the load tests' callers makes: `LOAD_CALLS` when it
/// is set to a number, else `default` (small enough for CI; `LOAD_CALLS=10000` is the full run).
pub fn load_calls(default: u32) -> u32 {
    std::env::var("LOAD_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `<workspace>/target`).
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// A binary of the workspace (an example, `plugin-doctor`, …), never a stale one: the first call
/// in a test process builds the workspace's tests (or finds them up to date), which builds every
/// package's binaries, as each package has integration tests.
///
/// It builds what `scripts/test-all` builds, the tests of `--workspace`, and nothing narrower or
/// of another kind: cargo resolves features per selection of packages, and compiles the
/// workspace's crates apart for `cargo build` and `cargo test`, so `cargo build -p examples`
/// would compile the runtime and the binaries a second time, in the middle of the tests. Run on
/// its own (`cargo test -p tests --test process`), the first call builds the rest of the
/// workspace's tests once.
pub fn workspace_binary(name: &str) -> PathBuf {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .args(["test", "-q", "--workspace", "--no-run"])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|err| format!("cannot run cargo: {err}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "cargo test --workspace --no-run: {}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    });
    if let Err(err) = built {
        panic!("{err}");
    }
    target_dir().join("debug").join(name)
}

/// Alive: not a zombie, or a zombie leader whose other threads are still exiting.
pub fn process_alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let leader_gone = stat
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with(['Z', 'X']));
    // A killed process's leader shows as a zombie while its other threads are still exiting, and
    // until the last of them has, its descriptors (its listening socket among them) stay open.
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, Iterator::count);
    !leader_gone || threads > 1
}

/// An in-memory sink for the host's stdio and log copies (`ClientConfig`'s stdout, stderr and
/// log writers); clones share the bytes.
#[derive(Clone, Debug, Default)]
pub struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(std::io::Write::write(&mut self.get_mut().clone(), buf))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
