//! Process lifecycle across languages: a plugin that reads the user's terminal under either
//! host (go-plugin keeps plugins in the host's process group with its stdin, and so do we), and
//! a Rust plugin that notices at once when its Go host is killed.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tests::process_alive;
use tests::terminal::Terminal;

use crate::harness::{GoPlugin, RUN_TIMEOUT, env, quote, rust_command, workdir};

/// A `KV_PLUGIN` script that reads a line from the terminal into `typed`, then runs `plugin`.
fn reads_the_terminal_then(plugin: &str) -> String {
    format!("read x; echo \"$x\" > typed; exec {plugin}")
}

fn typed_and_stored(dir: &std::path::Path, terminal: &mut Terminal) {
    terminal.type_text("typed at the terminal\n").expect("type");
    let status = terminal.wait(RUN_TIMEOUT);
    assert!(status.success(), "{status}:\n{}", terminal.output());
    assert_eq!(
        std::fs::read_to_string(dir.join("typed")).expect("the plugin's script wrote it"),
        "typed at the terminal\n"
    );
    assert!(dir.join("kv_hello").exists(), "{}", terminal.output());
}

#[test]
fn go_example_host_v1_8_lets_rust_plugin_read_the_terminal() {
    let dir = workdir();
    let mut host = Command::new(env().go(GoPlugin::V1_8, "grpc"));
    host.current_dir(dir.path())
        .env("KV_PROTO", "grpc")
        .env(
            "KV_PLUGIN",
            reads_the_terminal_then(&quote(&env().kv_plugin)),
        )
        .args(["put", "hello", "world"]);
    let mut terminal = Terminal::spawn(host).expect("start go-plugin's host on a terminal");
    typed_and_stored(dir.path(), &mut terminal);
}

#[test]
fn rust_host_lets_go_example_plugin_v1_8_read_the_terminal() {
    let dir = workdir();
    let plugin = quote(&env().go(GoPlugin::V1_8, "plugin-go-grpc"));
    let mut host = rust_command(&env().kv, dir.path());
    host.env("KV_PLUGIN", reads_the_terminal_then(&plugin))
        .env("RUST_LOG", "warn")
        .args(["put", "hello", "world"]);
    let mut terminal = Terminal::spawn(host).expect("start kv on a terminal");
    typed_and_stored(dir.path(), &mut terminal);
}

#[test]
fn rust_plugin_exits_when_its_go_host_is_killed() {
    let dir = workdir();
    let mut host = Command::new(env().go(GoPlugin::V1_8, "host"))
        .current_dir(dir.path())
        .arg("-hold")
        .arg("-plugin")
        .arg(quote(&env().kv_plugin))
        .args(["put", "hello", "world"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start our Go host");
    let mut line = String::new();
    std::io::BufReader::new(host.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the Go host");
    let pid: u32 = match line.trim().strip_prefix("holding ").map(str::parse) {
        Some(Ok(pid)) => pid,
        _ => {
            let _ = host.kill();
            panic!("the Go host said {line:?}");
        }
    };
    assert!(process_alive(pid));
    host.kill().expect("SIGKILL the Go host");
    let killed = Instant::now();
    let _ = host.wait();
    // The plugin exits within milliseconds (printed below); the bound only tells exiting from
    // living on, so it leaves a loaded machine 10 s.
    while process_alive(pid) {
        if killed.elapsed() > Duration::from_secs(10) {
            // SAFETY: plain signal delivery; the pid was our plugin's a moment ago.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!(
                "kv-plugin {pid} still ran {:?} after its Go host was killed",
                killed.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    eprintln!(
        "kv-plugin exited {:?} after its Go host was killed",
        killed.elapsed()
    );
}
