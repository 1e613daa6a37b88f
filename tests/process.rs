//! Process-level tests: this test process is the host, `test-plugin` and `kv-plugin` are real
//! plugin processes, and everything crosses real pipes and sockets.
#![allow(
    unsafe_code,
    reason = "These tests signal, stop and reparent real processes through libc, as the behaviour under test is about processes."
)]

#[path = "process/bad_plugins.rs"]
mod bad_plugins;
#[path = "process/broker.rs"]
mod broker;
#[path = "process/calls.rs"]
mod calls;
#[path = "process/deadlines.rs"]
mod deadlines;
#[path = "process/generic_unix.rs"]
mod generic_unix;
#[path = "process/hygiene.rs"]
mod hygiene;
#[path = "process/lifecycle.rs"]
mod lifecycle;
#[path = "process/load.rs"]
mod load;
#[path = "process/plugin_side.rs"]
mod plugin_side;
#[path = "process/reattach.rs"]
mod reattach;
#[path = "process/restart.rs"]
mod restart;
#[path = "process/secure.rs"]
mod secure;
#[path = "process/stdio_logs.rs"]
mod stdio_logs;
#[path = "process/streams.rs"]
mod streams;
#[path = "process/terminal.rs"]
mod terminal;
#[path = "process/tls.rs"]
mod tls;
#[path = "process/trace.rs"]
mod trace;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use go_plugin::{Client, ClientConfig, Code, Error, PluginError};
use tests::{Captured, HANDSHAKE, MODE, Tester, TesterPlugin, process_alive};

const TEST_PLUGIN: &str = env!("CARGO_BIN_EXE_test-plugin");

const NOT_A_COMMAND: &str = "This binary is a plugin. These are not meant to be executed directly.\n\
Please execute the program that consumes these plugins, which will\n\
load any plugins automatically\n";

fn plugin(mode: &str) -> Command {
    let mut command = Command::new(TEST_PLUGIN);
    command.env(MODE, mode);
    command
}

async fn start(mode: &str) -> Client {
    Client::start(ClientConfig::new(HANDSHAKE, plugin(mode)))
        .await
        .expect("plugin starts")
}

/// Runs the plugin by hand with the cookie set and returns its first stdout line; the plugin is
/// killed afterwards.
fn handshake_line(mode: &str, env: &[(&str, &str)]) -> (String, std::process::Child) {
    let mut command = plugin(mode);
    command
        .env(HANDSHAKE.magic_cookie_key, HANDSHAKE.magic_cookie_value)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("spawn test-plugin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read handshake");
    // A host keeps reading (go-plugin drains stdout for as long as the plugin runs); a plugin
    // whose stdout loses its reader takes it as its host's death.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (line, child)
}

/// `sh -c script`, as go-plugin's example hosts run their plugins.
fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    command
}

/// Whether this run forces `go-plugin`'s generic Unix path (`process/generic_unix.rs`).
fn generic_unix() -> bool {
    std::env::var_os("GO_PLUGIN_GENERIC_UNIX").is_some_and(|value| value == "1")
}

fn kill(child: &mut std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits for `check` to hold. What the tests wait for takes milliseconds, or a few seconds of
/// work (a flood, a load) on a loaded machine; the 30 s only tell that from never.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
