//! Our host's side of `scripts/bench-vs-go`'s table: the measurements `gobench host`
//! (tests/interop/gobench, go-plugin v1.8.0's host) makes, made the same way from our host, so
//! the table's Rust-host and Go-host columns compare like with like.
//!
//! ```text
//! cargo bench -p tests --bench sidebyside -- [FLAGS] [--tonic-channel] [PLUGIN [ARG...]]
//! cargo bench -p tests --bench sidebyside -- [FLAGS] --raw-tonic [--tuned-windows]
//! ```
//!
//! PLUGIN (run without a shell; `test-plugin` of this crate when none is given) is any plugin
//! serving `plugintest.Tester` with `tests::HANDSHAKE`: `test-plugin`, or `gobench plugin`.
//! `--raw-tonic` measures the raw tonic baseline of the `raw` module instead, where "start" is
//! spawning the server process until it listens, "dispense" is connecting a `Channel` and "kill"
//! is closing its stdin and waiting for it to exit.
//!
//! Every measurement is one line on stdout, `NAME VALUE UNIT`, with the names and units of
//! `gobench host`; the calls are made from tasks on a multi-thread runtime, as Go calls from
//! goroutines:
//!
//! `--only-unary` makes the 16-byte echoes of `unary_p50` and `unary_p99` only, for profiling
//! a small call (`perf record` on this binary and the plugin).
//!
//! `--tonic-channel` sends our host's calls through tonic's `Channel` (a `tower::buffer` worker
//! and hyper's client), as the runtime did before it wrote calls straight into h2.
//!
//! - `unary_main_p50` (us): as `unary_p50`, but called from the task `block_on` runs, as a
//!   `#[tokio::main]` body calls, before the rest.
//! - `idle_rss` (KiB): the plugin process's VmRSS after start, one echo and 500 ms idle.
//! - `unary_p50`, `unary_p99` (us): `--small` sequential 16-byte echoes, timed one by one after a
//!   tenth as many untimed, each sending what the last returned.
//! - `echo_1MiB` (ms): the median of `--big` sequential 1 MiB echoes, the same way.
//! - `throughput_1`, `throughput_8`, `throughput_64` (calls/s): that many callers share one
//!   dispensed client and echo 16 bytes of their own, every answer checked, for `--seconds`
//!   after 0.3 s of warm-up; answered calls over elapsed time.
//! - `start_call` (ms): the median, over the cycles below, of the time from start until the first
//!   echo has been answered.
//! - `start_call_kill` (ms): the median of `--starts` cycles of start → dispense → first echo →
//!   kill, after one untimed.
//! - `ready_100` (ms, `ready_N` for `--fleet N`): the median over `--fleet-rounds` rounds of
//!   starting N plugins at once until every one has answered a first echo; after each round,
//!   untimed, all are killed and every process is checked to be gone.

mod echo;
mod raw;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use go_plugin::{Client, ClientConfig};
use tests::{HANDSHAKE, TesterClient, TesterPlugin};
use tokio::runtime::Runtime;
use tokio::task::JoinSet;
use tonic::transport::Channel;

use echo::Echo;
use raw::{RawClient, RawServer, Windows, raw_channel};

const SMALL: usize = 16;
const BIG: usize = 1 << 20;
/// How long a plugin idles before its memory is read.
const IDLE: Duration = Duration::from_millis(500);
/// Calls made by the throughput callers before the clock starts.
const THROUGHPUT_WARM_UP: Duration = Duration::from_millis(300);
/// How long a killed plugin may take to disappear from /proc before it counts as left behind.
const REAP_GRACE: Duration = Duration::from_secs(2);

const USAGE: &str = "usage: sidebyside [--small N] [--big N] [--seconds S] [--starts N] \
                     [--fleet N] [--fleet-rounds N] [--only-unary] \
                     [--raw-tonic [--tuned-windows] | [--tonic-channel] PLUGIN [ARG...]]";

fn main() -> ExitCode {
    if raw::serve_if_asked() {
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sidebyside: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let (config, subject) = parse(std::env::args_os().skip(1))?;
    let runtime = Runtime::new().map_err(|err| format!("tokio runtime: {err}"))?;
    let measured = match subject {
        Subject::Plugin(program) => {
            if !config.only_unary {
                runtime.block_on(from_main_task(&program, config))?;
            }
            runtime.spawn(measure(program, config))
        }
        Subject::RawTonic(windows) => {
            let dir = tempfile::tempdir().map_err(|err| format!("temp dir for sockets: {err}"))?;
            let raw = RawTonic {
                dir: Arc::new(dir),
                windows,
            };
            if !config.only_unary {
                runtime.block_on(from_main_task(&raw, config))?;
            }
            runtime.spawn(measure(raw, config))
        }
    };
    runtime
        .block_on(measured)
        .map_err(|err| format!("measuring task: {err}"))?
}

/// How many of each measurement to make (the flags, named as `gobench host`'s).
#[derive(Clone, Copy, Debug)]
struct Config {
    small: usize,
    big: usize,
    seconds: f64,
    starts: usize,
    fleet: usize,
    fleet_rounds: usize,
    /// Only the 16-byte echoes from a spawned task (`unary_p50`, `unary_p99`): for profiling.
    only_unary: bool,
}

enum Subject {
    Plugin(Program),
    RawTonic(Windows),
}

fn parse(args: impl Iterator<Item = OsString>) -> Result<(Config, Subject), String> {
    let mut config = Config {
        small: 20_000,
        big: 300,
        seconds: 2.0,
        starts: 20,
        fleet: 100,
        fleet_rounds: 3,
        only_unary: false,
    };
    let (mut raw_tonic, mut windows, mut tonic_channel) = (false, Windows::Default, false);
    let mut args = args.peekable();
    while let Some(flag) = args.next_if(|arg| arg.to_string_lossy().starts_with('-')) {
        let flag = flag.to_string_lossy().trim_start_matches('-').to_owned();
        let mut value = || {
            let value = args
                .next()
                .ok_or(format!("--{flag} needs a value; {USAGE}"))?;
            Ok::<_, String>(value.to_string_lossy().into_owned())
        };
        let count = |value: String| {
            value
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("--{flag}: not a positive count: {value}"))
        };
        match flag.as_str() {
            "small" => config.small = count(value()?)?,
            "big" => config.big = count(value()?)?,
            "starts" => config.starts = count(value()?)?,
            "fleet" => config.fleet = count(value()?)?,
            "fleet-rounds" => config.fleet_rounds = count(value()?)?,
            "seconds" => {
                let value = value()?;
                config.seconds = value
                    .parse()
                    .ok()
                    .filter(|&s: &f64| s > 0.0)
                    .ok_or(format!("--seconds: not a positive number: {value}"))?;
            }
            "raw-tonic" => raw_tonic = true,
            "tuned-windows" => windows = Windows::Tuned,
            "tonic-channel" => tonic_channel = true,
            "only-unary" => config.only_unary = true,
            // What `cargo bench` passes to every bench binary.
            "bench" => {}
            _ => return Err(format!("unknown flag --{flag}; {USAGE}")),
        }
    }
    let command: Vec<OsString> = args.collect();
    let subject = match (raw_tonic, command.is_empty()) {
        (true, true) => Subject::RawTonic(windows),
        (true, false) => return Err(format!("--raw-tonic takes no plugin; {USAGE}")),
        (false, true) => Subject::Plugin(Program {
            command: Arc::new(vec![env!("CARGO_BIN_EXE_test-plugin").into()]),
            tonic_channel,
        }),
        (false, false) => Subject::Plugin(Program {
            command: Arc::new(command),
            tonic_channel,
        }),
    };
    Ok((config, subject))
}

/// What the measurements start: plugin processes, or raw tonic servers.
trait Launch: Clone + Send + Sync + 'static {
    type Running: Running;
    /// Starts instance `n`; instances running at the same time have different `n`.
    fn start(&self, n: usize) -> impl Future<Output = Result<Self::Running, String>> + Send;
}

/// One started process.
trait Running: Send + Sync + 'static {
    type Client: Echo;
    /// A client for `Echo`: the plugin's dispensed `Tester`.
    fn client(&self) -> Result<Self::Client, String>;
    fn pid(&self) -> u32;
    /// Stops the process and waits until it has exited.
    fn stop(self) -> impl Future<Output = Result<(), String>> + Send;
}

/// A plugin command, run without a shell.
#[derive(Clone, Debug)]
struct Program {
    command: Arc<Vec<OsString>>,
    /// Calls through tonic's `Channel` rather than the runtime's own HTTP/2 client.
    tonic_channel: bool,
}

impl Launch for Program {
    type Running = Client;

    async fn start(&self, _: usize) -> Result<Client, String> {
        let (program, args) = self.command.split_first().ok_or("no plugin command")?;
        let mut command = Command::new(program);
        command.args(args);
        let mut config = ClientConfig::new(HANDSHAKE, command);
        if self.tonic_channel {
            config = go_plugin::inspect::through_tonic_channel(config);
        }
        Client::start(config)
            .await
            .map_err(|err| format!("start the plugin: {err}"))
    }
}

impl Running for Client {
    type Client = TesterClient;

    fn client(&self) -> Result<TesterClient, String> {
        self.dispense::<TesterPlugin>()
            .map_err(|err| format!("dispense Tester: {err}"))
    }

    fn pid(&self) -> u32 {
        Client::pid(self)
    }

    async fn stop(self) -> Result<(), String> {
        // Returns once the plugin has exited, as go-plugin's Kill does.
        self.kill().await;
        Ok(())
    }
}

/// Raw tonic servers, each on a socket of its own in `dir`.
#[derive(Clone, Debug)]
struct RawTonic {
    dir: Arc<tempfile::TempDir>,
    windows: Windows,
}

#[derive(Debug)]
struct RawRunning {
    server: RawServer,
    channel: Channel,
}

impl Launch for RawTonic {
    type Running = RawRunning;

    async fn start(&self, n: usize) -> Result<RawRunning, String> {
        let socket = self.dir.path().join(format!("raw-{n}.sock"));
        let server = RawServer::spawn(&socket, self.windows).await?;
        let channel = raw_channel(&socket, self.windows).await?;
        Ok(RawRunning { server, channel })
    }
}

impl Running for RawRunning {
    type Client = RawClient;

    fn client(&self) -> Result<RawClient, String> {
        Ok(RawClient::new(self.channel.clone()))
    }

    fn pid(&self) -> u32 {
        self.server.pid()
    }

    async fn stop(self) -> Result<(), String> {
        drop(self.channel);
        self.server.stop().await
    }
}

/// `unary_main_p50`: the 16-byte echoes of `unary_p50`, made from the task `block_on` runs (a
/// program's `#[tokio::main]` body) instead of a spawned one.
async fn from_main_task(launch: &impl Launch, config: Config) -> Result<(), String> {
    let running = launch.start(0).await?;
    let client = running.client()?;
    let times = time_echoes(&client, config.small, SMALL).await?;
    report(
        "unary_main_p50",
        percentile(&times, 50).as_secs_f64() * 1e6,
        "us",
    );
    drop(client);
    running.stop().await
}

async fn measure(launch: impl Launch, config: Config) -> Result<(), String> {
    let running = launch.start(0).await?;
    let client = running.client()?;
    echo_checked(&client, vec![0x5a; SMALL]).await?;
    tokio::time::sleep(IDLE).await;
    report("idle_rss", rss_kib(running.pid())? as f64, "KiB");

    let times = time_echoes(&client, config.small, SMALL).await?;
    report(
        "unary_p50",
        percentile(&times, 50).as_secs_f64() * 1e6,
        "us",
    );
    report(
        "unary_p99",
        percentile(&times, 99).as_secs_f64() * 1e6,
        "us",
    );
    if config.only_unary {
        drop(client);
        return running.stop().await;
    }
    let times = time_echoes(&client, config.big, BIG).await?;
    report(
        "echo_1MiB",
        percentile(&times, 50).as_secs_f64() * 1e3,
        "ms",
    );
    let period = Duration::from_secs_f64(config.seconds);
    for callers in [1, 8, 64] {
        let rate = throughput(&client, callers, period).await?;
        report(&format!("throughput_{callers}"), rate, "calls/s");
    }
    drop(client);
    running.stop().await?;

    let (first_calls, cycles) = start_call_kill(&launch, config.starts).await?;
    report(
        "start_call",
        percentile(&first_calls, 50).as_secs_f64() * 1e3,
        "ms",
    );
    report(
        "start_call_kill",
        percentile(&cycles, 50).as_secs_f64() * 1e3,
        "ms",
    );
    let mut times = Vec::new();
    for _ in 0..config.fleet_rounds {
        times.push(ready(&launch, config.fleet).await?);
    }
    let name = format!("ready_{}", config.fleet);
    report(&name, percentile(&times, 50).as_secs_f64() * 1e3, "ms");
    Ok(())
}

/// One measurement line, formatted as `gobench host` formats it.
fn report(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.3} {unit}");
}

/// The `p`th percentile of `times` (sorted here), as `gobench host` picks it.
fn percentile(times: &[Duration], p: usize) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// Echoes `data` and checks that the same bytes came back.
async fn echo_checked(client: &impl Echo, data: Vec<u8>) -> Result<Vec<u8>, String> {
    let answer = client.echo(data.clone()).await?;
    if answer != data {
        return Err(format!(
            "echo returned {} other bytes, sent {}",
            answer.len(),
            data.len()
        ));
    }
    Ok(answer)
}

/// `n` sequential echoes of `size` bytes, each timed, after `n / 10` untimed; each sends what
/// the previous one returned.
async fn time_echoes(client: &impl Echo, n: usize, size: usize) -> Result<Vec<Duration>, String> {
    let mut data = vec![0xa5; size];
    for _ in 0..n / 10 {
        data = client.echo(data).await?;
    }
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        data = client.echo(data).await?;
        times.push(started.elapsed());
        if data.len() != size {
            return Err(format!("echo returned {} bytes, sent {size}", data.len()));
        }
    }
    Ok(times)
}

/// Calls per second answered to `callers` tasks sharing `client`, each echoing 16 bytes of its
/// own and checking every answer, over `period` after [`THROUGHPUT_WARM_UP`].
async fn throughput<C: Echo>(client: &C, callers: usize, period: Duration) -> Result<f64, String> {
    let answered = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();
    for caller in 0..callers {
        let (client, answered, stop) = (client.clone(), answered.clone(), stop.clone());
        tasks.spawn(async move {
            let own = format!("caller {caller:>9}").into_bytes();
            let mut data = own.clone();
            while !stop.load(Ordering::Relaxed) {
                data = client.echo(data).await?;
                if data != own {
                    return Err(format!("caller {caller} got {data:?} back"));
                }
                answered.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        });
    }
    tokio::time::sleep(THROUGHPUT_WARM_UP).await;
    let (before, started) = (answered.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(period).await;
    let (after, elapsed) = (answered.load(Ordering::Relaxed), started.elapsed());
    stop.store(true, Ordering::Relaxed);
    while let Some(caller) = tasks.join_next().await {
        caller.map_err(|err| format!("caller task: {err}"))??;
    }
    Ok((after - before) as f64 / elapsed.as_secs_f64())
}

/// `n` cycles of start → dispense → first echo → kill, after one untimed: for each, the time
/// until the echo was answered and the time until the kill was done.
async fn start_call_kill(
    launch: &impl Launch,
    n: usize,
) -> Result<(Vec<Duration>, Vec<Duration>), String> {
    let (mut first_calls, mut cycles) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for cycle in 0..=n {
        let started = Instant::now();
        let running = launch.start(0).await?;
        echo_checked(&running.client()?, vec![0x5a; SMALL]).await?;
        let answered = started.elapsed();
        running.stop().await?;
        if cycle > 0 {
            first_calls.push(answered);
            cycles.push(started.elapsed());
        }
    }
    Ok((first_calls, cycles))
}

/// The time to start `n` plugins at once until every one has answered a first echo. Then,
/// untimed, stops them all and checks that no process is left.
async fn ready<L: Launch>(launch: &L, n: usize) -> Result<Duration, String> {
    let started = Instant::now();
    let mut starting = JoinSet::new();
    for i in 0..n {
        let launch = launch.clone();
        starting.spawn(async move {
            let running = launch.start(i).await?;
            echo_checked(&running.client()?, format!("plugin {i:>9}").into_bytes()).await?;
            Ok::<_, String>(running)
        });
    }
    let mut fleet = Vec::with_capacity(n);
    let mut failed = None;
    while let Some(outcome) = starting.join_next().await {
        match outcome.map_err(|err| format!("starting task: {err}")) {
            Ok(Ok(running)) => fleet.push(running),
            Ok(Err(err)) | Err(err) => {
                failed.get_or_insert(err);
            }
        }
    }
    let elapsed = started.elapsed();

    let pids: Vec<u32> = fleet.iter().map(Running::pid).collect();
    let mut stopping = JoinSet::new();
    for running in fleet {
        stopping.spawn(running.stop());
    }
    while let Some(outcome) = stopping.join_next().await {
        if let Err(err) = outcome.map_err(|err| format!("stopping task: {err}"))? {
            failed.get_or_insert(err);
        }
    }
    if let Some(err) = failed {
        return Err(err);
    }
    all_gone(&pids).await?;
    Ok(elapsed)
}

/// Fails when any of `pids` is still in /proc [`REAP_GRACE`] after its process was stopped.
async fn all_gone(pids: &[u32]) -> Result<(), String> {
    let deadline = Instant::now() + REAP_GRACE;
    loop {
        let left: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|pid| Path::new(&format!("/proc/{pid}")).exists())
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("processes left after kill: {left:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The resident set of process `pid`, in KiB (VmRSS in /proc/PID/status).
fn rss_kib(pid: u32) -> Result<u64, String> {
    let path = PathBuf::from(format!("/proc/{pid}/status"));
    let status =
        std::fs::read_to_string(&path).map_err(|err| format!("read {}: {err}", path.display()))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|value| value.trim().parse().ok())
        .ok_or(format!("no VmRSS in {}", path.display()))
}
