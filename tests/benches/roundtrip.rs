//! Round trips from a host process to a plugin process over a Unix socket.
//!
//! - `plugin/*`: this process is the host (`go_plugin::Client`), `test-plugin` the plugin;
//!   `echo` through the generated `TesterClient`.
//! - `plugin_tonic_channel/*`: the same, the host's calls sent through tonic's `Channel` (a
//!   `tower::buffer` worker and hyper's client) instead of the runtime's own HTTP/2 client, which
//!   writes each call into h2 from the calling task: the two side by side.
//! - `raw_tonic/*`: the baseline (the `raw` module, shared with the `sidebyside` bench): a plain
//!   tonic server in a process of its own, with tonic's default settings, and a plain
//!   `tonic::client::Grpc` on a default `Channel`. No code of ours on either side but the prost
//!   messages.
//! - `raw_tonic_tuned/*`: the same with our runtime's HTTP/2 windows (8 MiB stream, 16 MiB
//!   connection) on both sides, to show what the windows do for 1 MiB.
//! - `go_plugin/*`, when `ROUNDTRIP_GO_PLUGIN` names the `gobench` program of
//!   `tests/interop/gobench`: our host calling go-plugin's Go plugin (`gobench plugin`).
//!
//! `unary_small` echoes 16 bytes, `echo_1MiB` 1 MiB (each call sends what the last one returned,
//! so no copy is timed that a Go host would not make), both from a task on the host's runtime,
//! as Go calls from a goroutine. `plugin/unary_small_block_on` makes the calls from
//! `Runtime::block_on` instead, as the body of `#[tokio::main]` does: every call then crosses
//! threads twice more. `start_call_kill` times `Client::start` → `dispense` → first echo → `kill`.
//! The whole run takes about a minute and a half on 2 cores. `scripts/bench-vs-go` no longer runs it: the
//! `sidebyside` bench makes its table's Rust-host measurements the way go-plugin's host makes
//! its own.

mod echo;
mod raw;

use std::ffi::OsString;
use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use go_plugin::{Client, ClientConfig};
use tests::{HANDSHAKE, Tester, TesterPlugin};
use tokio::runtime::Runtime;

use echo::Echo;
use raw::{RawClient, RawServer, Windows, raw_channel};

const SMALL: usize = 16;
const BIG: usize = 1 << 20;
/// The `gobench` program; adds the `go_plugin` group.
const GO_PLUGIN: &str = "ROUNDTRIP_GO_PLUGIN";

fn main() {
    if raw::serve_if_asked() {
        return;
    }

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let runtime = Runtime::new().expect("tokio runtime");

    let test_plugin = Program {
        path: env!("CARGO_BIN_EXE_test-plugin").into(),
        arg: None,
        tonic_channel: false,
    };
    plugin(&mut criterion, &runtime, "plugin", test_plugin.clone());
    let through_tonic = Program {
        tonic_channel: true,
        ..test_plugin
    };
    plugin(
        &mut criterion,
        &runtime,
        "plugin_tonic_channel",
        through_tonic,
    );
    raw_tonic(&mut criterion, &runtime, "raw_tonic", Windows::Default);
    raw_tonic(&mut criterion, &runtime, "raw_tonic_tuned", Windows::Tuned);
    if let Some(gobench) = std::env::var_os(GO_PLUGIN) {
        let go_plugin = Program {
            path: gobench,
            arg: Some("plugin"),
            tonic_channel: false,
        };
        plugin(&mut criterion, &runtime, "go_plugin", go_plugin);
    }

    criterion.final_summary();
}

/// A plugin program to launch.
#[derive(Clone)]
struct Program {
    path: OsString,
    arg: Option<&'static str>,
    /// The host's calls go through tonic's `Channel` instead of the runtime's own client.
    tonic_channel: bool,
}

impl Program {
    async fn start(&self) -> Client {
        let mut command = Command::new(&self.path);
        command.args(self.arg);
        let mut config = ClientConfig::new(HANDSHAKE, command);
        if self.tonic_channel {
            config = go_plugin::inspect::through_tonic_channel(config);
        }
        Client::start(config).await.expect("start the plugin")
    }
}

/// Our host calling a plugin process through the runtime.
fn plugin(criterion: &mut Criterion, runtime: &Runtime, name: &str, program: Program) {
    let client = runtime.block_on(program.start());
    let tester = client.dispense::<TesterPlugin>().expect("dispense Tester");

    let mut group = criterion.benchmark_group(name);
    echo_benches(&mut group, runtime, &tester);
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("unary_small_block_on", |b| {
        b.iter_custom(|iters| runtime.block_on(time_echoes(&tester, iters, SMALL)))
    });
    runtime.block_on(client.kill());

    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("start_call_kill", |b| {
        b.iter_custom(|iters| {
            let program = program.clone();
            in_task(runtime, async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let client = program.start().await;
                    let tester = client.dispense::<TesterPlugin>().expect("dispense Tester");
                    black_box(
                        Tester::echo(&tester, vec![0x5a; SMALL])
                            .await
                            .expect("echo"),
                    );
                    client.kill().await;
                }
                started.elapsed()
            })
        })
    });
    group.finish();
}

/// Plain tonic on both ends, the server in a process of its own.
fn raw_tonic(criterion: &mut Criterion, runtime: &Runtime, name: &str, windows: Windows) {
    let dir = tempfile::tempdir().expect("temp dir for the socket");
    let socket = dir.path().join("raw.sock");
    let (server, channel) = runtime
        .block_on(async {
            let server = RawServer::spawn(&socket, windows).await?;
            Ok::<_, String>((server, raw_channel(&socket, windows).await?))
        })
        .expect("start the raw tonic server");
    let client = RawClient::new(channel);

    let mut group = criterion.benchmark_group(name);
    echo_benches(&mut group, runtime, &client);
    group.finish();
    runtime
        .block_on(server.stop())
        .expect("stop the raw tonic server");
}

/// `unary_small` and `echo_1MiB`, the calls made from a task on the runtime.
fn echo_benches(group: &mut BenchmarkGroup<'_, WallTime>, runtime: &Runtime, client: &impl Echo) {
    let timed = |size: usize| move |iters: u64| in_task(runtime, time_echoes(client, iters, size));
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("unary_small", |b| b.iter_custom(timed(SMALL)));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("echo_1MiB", |b| b.iter_custom(timed(BIG)));
}

/// `iters` echoes of `size` bytes, each sending what the previous one returned.
fn time_echoes(
    client: &impl Echo,
    iters: u64,
    size: usize,
) -> impl Future<Output = Duration> + Send + 'static {
    let client = client.clone();
    async move {
        let mut data = vec![0xa5; size];
        let started = Instant::now();
        for _ in 0..iters {
            data = client.echo(data).await.expect("echo");
        }
        let elapsed = started.elapsed();
        assert_eq!(data.len(), size, "echo changed the payload");
        elapsed
    }
}

/// Runs `future` as a task on the runtime's workers, where a host's own tasks run.
fn in_task<T: Send + 'static>(
    runtime: &Runtime,
    future: impl Future<Output = T> + Send + 'static,
) -> T {
    runtime
        .block_on(runtime.spawn(future))
        .expect("benchmark task panicked")
}
