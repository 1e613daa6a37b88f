//! The host `tests/windows.rs` runs under Wine, one scenario per run; each prints what it saw as
//! `key: value` lines on stdout and fails (exit 1, the reason on stderr) at the first surprise.
//!
//! - `call [automtls]`: starts `win-plugin` (beside this binary), calls it, captures its stdout,
//!   stderr and logs, and kills it gracefully.
//! - `tree`: has the plugin start a child and a grandchild, kills the plugin, and reports whether
//!   they are gone.
//! - `hold`: starts the plugin, prints both pids, and waits to be terminated (`terminate`).
//! - `terminate HOST PLUGIN`: `TerminateProcess` on the host, then how long the plugin outlived
//!   it.
//! - `reattach JSON`: reattaches to a plugin in debug mode and calls it; the plugin keeps running.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use go_plugin::{Client, ClientConfig, ReattachConfig};
use windows_tests::{HANDSHAKE, Tester, TesterPlugin, running, terminate};

/// How long a process gets to go before the scenario says it did not: long, as the tests only
/// tell gone from never gone (the times are printed).
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["call"] => call(false).await,
        ["call", "automtls"] => call(true).await,
        ["tree"] => tree().await,
        ["hold"] => hold().await,
        ["terminate", host, plugin] => terminate_host(host, plugin).await,
        ["reattach", json] => reattach(json).await,
        _ => Err(format!("unknown scenario {args:?}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("win-host: {message}");
            ExitCode::FAILURE
        }
    }
}

/// A writer into a shared buffer, for what the host captures.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|bytes| bytes.clone()).unwrap_or_default())
            .into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncWrite for Captured {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        bytes: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(self.write(bytes))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

fn plugin_command() -> Result<std::process::Command, String> {
    let exe = std::env::current_exe().map_err(|err| err.to_string())?;
    Ok(std::process::Command::new(exe.with_file_name(format!(
        "win-plugin{}",
        std::env::consts::EXE_SUFFIX
    ))))
}

async fn start(config: ClientConfig) -> Result<Client, String> {
    Client::start(config)
        .await
        .map_err(|err| format!("start: {err}"))
}

async fn call(auto_mtls: bool) -> Result<(), String> {
    let (stdout, stderr, logs) = (
        Captured::default(),
        Captured::default(),
        Captured::default(),
    );
    let config = ClientConfig::new(HANDSHAKE, plugin_command()?)
        .auto_mtls(auto_mtls)
        .sync_stdout(stdout.clone())
        .sync_stderr(stderr.clone())
        .stderr(logs.clone());
    let client = start(config).await?;
    let tester = client
        .dispense::<TesterPlugin>()
        .map_err(|err| err.to_string())?;
    let echoed = tester
        .echo("hello from wine".to_owned())
        .await
        .map_err(|err| format!("echo: {err}"))?;
    println!("echo: {echoed}");
    tester
        .say("said once".to_owned())
        .await
        .map_err(|err| format!("say: {err}"))?;
    client.kill().await;
    println!("exit: {}", client.wait().await.unwrap_or_default());
    println!("stdout: {}", stdout.text().trim());
    println!("stderr: {}", stderr.text().trim());
    let said = logs.text();
    let said = said
        .lines()
        .find(|line| line.contains("said"))
        .unwrap_or_default();
    println!("log: {said}");
    Ok(())
}

async fn gone_within(pid: u32, patience: Duration) -> Option<Duration> {
    let started = Instant::now();
    while running(pid) {
        if started.elapsed() > patience {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Some(started.elapsed())
}

async fn tree() -> Result<(), String> {
    let client = start(ClientConfig::new(HANDSHAKE, plugin_command()?)).await?;
    let tester = client
        .dispense::<TesterPlugin>()
        .map_err(|err| err.to_string())?;
    let pids = tester
        .spawn_tree()
        .await
        .map_err(|err| format!("spawn_tree: {err}"))?;
    let pids: Vec<u32> = pids
        .split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect();
    let [child, grandchild] = pids[..] else {
        return Err(format!("two pids expected: {pids:?}"));
    };
    println!(
        "running before kill: {} {}",
        running(child),
        running(grandchild)
    );
    client.kill().await;
    println!("exit: {}", client.wait().await.unwrap_or_default());
    for (name, pid) in [("child", child), ("grandchild", grandchild)] {
        match gone_within(pid, PATIENCE).await {
            Some(_) => println!("{name}: gone"),
            None => {
                terminate(pid);
                println!("{name}: running");
            }
        }
    }
    Ok(())
}

async fn hold() -> Result<(), String> {
    let client = start(ClientConfig::new(HANDSHAKE, plugin_command()?)).await?;
    println!("host: {}", std::process::id());
    println!("plugin: {}", client.pid());
    let _ = std::io::stdout().flush();
    // Until terminated; the client is never dropped.
    tokio::time::sleep(Duration::from_secs(600)).await;
    Err("nobody terminated the host".to_owned())
}

async fn terminate_host(host: &str, plugin: &str) -> Result<(), String> {
    let parse = |pid: &str| {
        pid.parse::<u32>()
            .map_err(|err| format!("pid {pid}: {err}"))
    };
    let (host, plugin) = (parse(host)?, parse(plugin)?);
    if !running(plugin) {
        return Err(format!("plugin {plugin} is not running"));
    }
    if !terminate(host) {
        return Err(format!("could not terminate host {host}"));
    }
    match gone_within(plugin, PATIENCE).await {
        Some(after) => println!("plugin gone after ms: {}", after.as_millis()),
        None => {
            terminate(plugin);
            println!("plugin outlived its host");
        }
    }
    Ok(())
}

async fn reattach(json: &str) -> Result<(), String> {
    let reattach = ReattachConfig::from_json(json).map_err(|err| err.to_string())?;
    let pid = reattach.pid;
    let client = start(ClientConfig::reattach(HANDSHAKE, reattach)).await?;
    let tester = client
        .dispense::<TesterPlugin>()
        .map_err(|err| err.to_string())?;
    let echoed = tester
        .echo("reattached".to_owned())
        .await
        .map_err(|err| format!("echo: {err}"))?;
    println!("echo: {echoed}");
    client.kill().await;
    println!("plugin running after kill: {}", running(pid));
    Ok(())
}
