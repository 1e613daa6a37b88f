//! A host the process-level tests run as a separate process, where the host itself is the
//! subject: at a terminal, interrupted, terminated. It starts `test-plugin` (from the
//! `TEST_PLUGIN` environment variable) and reports what happens on stdout, one line each.
//!
//! - `test-host terminal`: starts the plugin, says `ready`, and waits for Ctrl-C (SIGINT, which
//!   it catches: the host decides). Then it calls the plugin, which must have ignored the
//!   signal (`plugin answered after ctrl-c`), has it start a grandchild (`grandchild PID`),
//!   kills the plugin (`killed`) and exits.
//! - `test-host cleanup N`: starts N plugins (`plugin PID` each), installs
//!   `cleanup_clients_on_signal`, says `ready` and waits to be interrupted or terminated.
//! - `test-host fleet N`: starts one plugin and kills it (what the runtime opens once per
//!   process is then open), counts its own open file descriptors (`fds before N`), starts N
//!   plugins at once, calls each (`plugin PID` each, then `ready`, with the number of entries in
//!   the temporary directory, where the plugins' socket directories are: `socket dirs N`), kills
//!   them all at once (`killed`), and counts again once every plugin is reaped (`fds after N`,
//!   then `leaked FD -> TARGET` for each descriptor that was not open before).
//! - `test-host leave`: starts the plugin, prints its reattach configuration (JSON) and exits
//!   without stopping it, as a host being upgraded might.

use std::process::{Command, ExitCode};

use go_plugin::{Client, ClientConfig};
use tests::{HANDSHAKE, Tester, TesterPlugin};

#[tokio::main]
async fn main() -> ExitCode {
    // Logs (plugin exits among them) on stderr, for the tests to read.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["terminal"] => terminal().await,
        ["leave"] => leave().await,
        ["cleanup", count] => match count.parse() {
            Ok(count) => cleanup(count).await,
            Err(_) => Err(format!("not a count: {count}")),
        },
        ["fleet", count] => match count.parse() {
            Ok(count) => fleet(count).await,
            Err(_) => Err(format!("not a count: {count}")),
        },
        _ => Err("usage: test-host terminal | cleanup N | fleet N | leave".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            println!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> Result<Client, String> {
    let plugin = std::env::var_os("TEST_PLUGIN").ok_or("TEST_PLUGIN is not set")?;
    Client::start(ClientConfig::new(HANDSHAKE, Command::new(plugin)))
        .await
        .map_err(|err| err.to_string())
}

async fn terminal() -> Result<(), String> {
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|err| err.to_string())?;
    let client = start().await?;
    let tester = client
        .dispense::<TesterPlugin>()
        .map_err(|err| err.to_string())?;
    println!("ready");
    interrupt.recv().await;
    println!("interrupted");
    tester
        .echo(b"after ctrl-c".to_vec())
        .await
        .map_err(|err| format!("the plugin did not survive Ctrl-C: {err}"))?;
    println!("plugin answered after ctrl-c");
    let grandchild = tester
        .spawn_child("exec sleep 300".to_owned())
        .await
        .map_err(|err| err.to_string())?;
    println!("grandchild {grandchild}");
    client.kill().await;
    println!("killed");
    Ok(())
}

async fn leave() -> Result<(), String> {
    let client = start().await?;
    println!("{}", client.reattach_config().to_json());
    // Exits without dropping the client, which would stop the plugin.
    std::process::exit(0)
}

async fn cleanup(count: usize) -> Result<(), String> {
    let mut clients = Vec::new();
    for _ in 0..count {
        let client = start().await?;
        println!("plugin {}", client.pid());
        clients.push(client);
    }
    go_plugin::cleanup_clients_on_signal().map_err(|err| err.to_string())?;
    println!("ready");
    std::future::pending::<()>().await;
    Ok(())
}

async fn fleet(count: usize) -> Result<(), String> {
    let warm_up = start().await?;
    warm_up.kill().await;
    drop(warm_up);
    let before = open_fds()?;
    println!("fds before {}", before.len());

    let mut starting = tokio::task::JoinSet::new();
    for n in 0..count {
        starting.spawn(async move {
            let client = start().await?;
            let tester = client
                .dispense::<TesterPlugin>()
                .map_err(|err| err.to_string())?;
            let request = format!("plugin {n}").into_bytes();
            match tester.echo(request.clone()).await {
                Ok(answer) if answer == request => Ok(client),
                Ok(answer) => Err(format!("plugin {n} answered {answer:?}")),
                Err(err) => Err(format!("plugin {n}: {err}")),
            }
        });
    }
    let mut clients = Vec::new();
    while let Some(started) = starting.join_next().await {
        clients.push(started.map_err(|err| err.to_string())??);
    }
    for client in &clients {
        println!("plugin {}", client.pid());
    }
    let socket_dirs = std::fs::read_dir(std::env::temp_dir())
        .map_err(|err| err.to_string())?
        .count();
    println!("ready");
    println!("socket dirs {socket_dirs}");

    let mut killing = tokio::task::JoinSet::new();
    for client in clients {
        killing.spawn(async move {
            client.kill().await;
            client.wait().await
        });
    }
    while let Some(killed) = killing.join_next().await {
        killed.map_err(|err| err.to_string())?;
    }
    println!("killed");

    // Every plugin is reaped when `wait` returns; the tasks that served each one (stdio copy,
    // log mirror, connection) end right after, so give them a moment before counting.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut after = open_fds()?;
    while after.len() > before.len() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        after = open_fds()?;
    }
    println!("fds after {}", after.len());
    for (fd, target) in &after {
        if !before.iter().any(|(old, _)| old == fd) {
            println!("leaked {fd} -> {target}");
        }
    }
    Ok(())
}

/// This process's open file descriptors and what each points at.
fn open_fds() -> Result<Vec<(String, String)>, String> {
    let entries = std::fs::read_dir("/proc/self/fd").map_err(|err| err.to_string())?;
    Ok(entries
        .filter_map(Result::ok)
        .map(|entry| {
            let target = std::fs::read_link(entry.path())
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            (entry.file_name().to_string_lossy().into_owned(), target)
        })
        // The directory being read is itself open while it is read.
        .filter(|(_, target)| !target.ends_with("/fd"))
        .collect())
}
