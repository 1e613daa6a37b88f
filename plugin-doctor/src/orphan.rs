//! The orphan check: does the plugin exit when its host dies? The doctor starts the plugin
//! through a short-lived host, itself re-executed in a hidden mode, kills that host (SIGKILL,
//! `TerminateProcess` on Windows) once the plugin has printed its handshake, and watches the
//! plugin through a handle where the OS has one (`go_plugin::inspect::WatchedProcess`).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt;

use crate::args::ORPHAN_HOST;
use crate::handshake::looks_like_handshake;
use crate::launch::HostEnv;
use crate::report::Check;
use go_plugin::inspect::WatchedProcess;

use crate::sys;

const ID: &str = "lifecycle.orphan";

/// How long the plugin gets to notice that its host is gone.
const NOTICE: Duration = Duration::from_secs(3);

/// How long the intermediate host lives at most if nobody kills it.
const HOST_LIFETIME: Duration = Duration::from_secs(60);

/// The intermediate host: starts `command` (with the environment it was given), waits for its
/// handshake, prints the plugin's pid (or `none`) and waits to be killed.
pub(crate) fn host(command: &[String]) -> ExitCode {
    let spawned = std::process::Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = spawned else {
        println!("none");
        return ExitCode::FAILURE;
    };
    if let Some(mut stderr) = child.stderr.take() {
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    }
    let mut answer = "none".to_owned();
    if let Some(stdout) = child.stdout.take() {
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        while matches!(stdout.read_line(&mut line), Ok(n) if n > 0) {
            if looks_like_handshake(&line) {
                answer = child.id().to_string();
                break;
            }
            line.clear();
        }
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while matches!(stdout.read(&mut buf), Ok(n) if n > 0) {}
        });
    }
    println!("{answer}");
    let _ = std::io::stdout().flush();
    std::thread::sleep(HOST_LIFETIME);
    let _ = child.kill();
    ExitCode::SUCCESS
}

/// `lifecycle.orphan`.
pub(crate) async fn check(command: &[String], env: &HostEnv, timeout: Duration) -> Check {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return Check::skip(ID, format!("cannot re-run the doctor as a host: {err}")),
    };
    let mut std_command = std::process::Command::new(exe);
    std_command.arg(ORPHAN_HOST).arg("--").args(command);
    env.apply(&mut std_command);
    std_command
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut host = tokio::process::Command::from(std_command);
    host.kill_on_drop(true);
    let mut host = match host.spawn() {
        Ok(host) => host,
        Err(err) => return Check::skip(ID, format!("cannot start the intermediate host: {err}")),
    };
    let Some(stdout) = host.stdout.take() else {
        return Check::skip(ID, "the intermediate host has no stdout");
    };
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(stdout);
    let read = tokio::time::timeout(
        timeout + Duration::from_secs(1),
        reader.read_line(&mut line),
    )
    .await;
    let pid = match read {
        Ok(Ok(_)) => line.trim().parse::<u32>().ok(),
        _ => None,
    };
    let Some(pid) = pid else {
        let _ = host.kill().await;
        return Check::skip(
            ID,
            "the plugin printed no handshake under the intermediate host",
        );
    };
    // Opened while the host lives: the plugin is its unreaped child, so the pid is the plugin's.
    let watched = WatchedProcess::open(pid);
    let _ = host.kill().await;
    let killed = Instant::now();
    let exited = loop {
        if watched.exited() {
            break Some(killed.elapsed());
        }
        if killed.elapsed() > NOTICE {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    match exited {
        Some(after) => Check::pass(
            ID,
            format!("exited {after:.0?} after its host was {}", sys::HOST_KILLED),
        ),
        None => {
            watched.kill();
            Check::warn(
                ID,
                format!(
                    "still running {NOTICE:?} after its host was {} (killed by the doctor); go-plugin's \
                     Go plugins behave the same (go-plugin#10, #210): {}",
                    sys::HOST_KILLED,
                    sys::GO_PLUGINS_ORPHANED
                ),
                format!(
                    "exit when the host goes away: watch the parent process ({}) or \
                     for EOF on a pipe from the host",
                    sys::PARENT_WATCH
                ),
            )
        }
    }
}
