//! Round trips from a host process to a plugin process over a Unix socket.
//!
//! - `plugin/*`: this process is the host (`go_plugin::Client`), `test-plugin` the plugin;
//!   `echo` through the generated `TesterClient`.
//! - `raw_tonic/*`: the baseline. A plain tonic server in a separate process (this binary,
//!   re-executed with `ROUNDTRIP_RAW_SERVER` set), with tonic's default settings, serves
//!   `plugintest.Tester/Echo` written as tonic-build generates services; this process calls it
//!   through a plain `tonic::client::Grpc` on a default `Channel`. No code of ours on either side
//!   but the prost messages.
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
//! The whole run takes about a minute on 2 cores; `scripts/bench-vs-go` runs it beside
//! go-plugin's host and prints a table.

use std::convert::Infallible;
use std::ffi::OsString;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use go_plugin::{Client, ClientConfig};
use tests::tester_messages::{EchoRequest, EchoResponse};
use tests::{HANDSHAKE, Tester, TesterClient, TesterPlugin};
use tokio::runtime::Runtime;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::{Channel, Endpoint, Server};

const SMALL: usize = 16;
const BIG: usize = 1 << 20;
const ECHO: &str = "/plugintest.Tester/Echo";

/// Set (to a socket path) in the re-executed raw tonic server.
const RAW_SERVER: &str = "ROUNDTRIP_RAW_SERVER";
/// `tuned` gives the raw tonic server our runtime's windows.
const RAW_WINDOWS: &str = "ROUNDTRIP_RAW_WINDOWS";
/// The `gobench` program; adds the `go_plugin` group.
const GO_PLUGIN: &str = "ROUNDTRIP_GO_PLUGIN";

/// plugin-runtime/src/serve.rs's STREAM_WINDOW and CONNECTION_WINDOW.
const STREAM_WINDOW: u32 = 8 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Windows {
    Default,
    Tuned,
}

fn main() {
    if let Some(socket) = std::env::var_os(RAW_SERVER) {
        let windows = match std::env::var(RAW_WINDOWS).as_deref() {
            Ok("tuned") => Windows::Tuned,
            _ => Windows::Default,
        };
        raw_server(PathBuf::from(socket), windows);
        return;
    }

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    let runtime = Runtime::new().expect("tokio runtime");

    let test_plugin = Program {
        path: env!("CARGO_BIN_EXE_test-plugin").into(),
        arg: None,
    };
    plugin(&mut criterion, &runtime, "plugin", test_plugin);
    raw_tonic(&mut criterion, &runtime, "raw_tonic", Windows::Default);
    raw_tonic(&mut criterion, &runtime, "raw_tonic_tuned", Windows::Tuned);
    if let Some(gobench) = std::env::var_os(GO_PLUGIN) {
        let go_plugin = Program {
            path: gobench,
            arg: Some("plugin"),
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
}

impl Program {
    async fn start(&self) -> Client {
        let mut command = Command::new(&self.path);
        command.args(self.arg);
        Client::start(ClientConfig::new(HANDSHAKE, command))
            .await
            .expect("start the plugin")
    }
}

/// One way of calling `plugintest.Tester/Echo`.
trait Echo: Clone + Send + Sync + 'static {
    fn echo(&self, data: Vec<u8>) -> impl Future<Output = Vec<u8>> + Send;
}

/// Through the runtime: the generated client on the plugin's `Connection`.
impl Echo for TesterClient {
    async fn echo(&self, data: Vec<u8>) -> Vec<u8> {
        Tester::echo(self, data).await.expect("echo")
    }
}

/// Plain tonic: what a tonic-generated client does per call (clone, wait until ready, call).
#[derive(Clone)]
struct RawClient(tonic::client::Grpc<Channel>);

impl Echo for RawClient {
    async fn echo(&self, data: Vec<u8>) -> Vec<u8> {
        let mut grpc = self.0.clone();
        grpc.ready().await.expect("channel ready");
        let codec = tonic_prost::ProstCodec::<EchoRequest, EchoResponse>::default();
        let path = http::uri::PathAndQuery::from_static(ECHO);
        let request = tonic::Request::new(EchoRequest { data });
        let response = grpc.unary(request, path, codec).await.expect("echo");
        response.into_inner().value
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
    let mut server = RawServer::spawn(&socket, windows);
    let channel = runtime.block_on(raw_channel(&socket, windows));
    let client = RawClient(tonic::client::Grpc::new(channel));

    let mut group = criterion.benchmark_group(name);
    echo_benches(&mut group, runtime, &client);
    group.finish();
    server.stop();
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
            data = client.echo(data).await;
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

async fn raw_channel(socket: &Path, windows: Windows) -> Channel {
    let mut endpoint = Endpoint::from_static("http://raw");
    if windows == Windows::Tuned {
        endpoint = endpoint
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW);
    }
    let socket = socket.to_path_buf();
    endpoint
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let socket = socket.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(socket).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
        .expect("connect to the raw tonic server")
}

/// The raw tonic server process: this binary with [`RAW_SERVER`] set. It exits when its stdin
/// closes, so it never outlives the bench.
struct RawServer(Child);

impl RawServer {
    fn spawn(socket: &Path, windows: Windows) -> Self {
        let exe = std::env::current_exe().expect("path of the bench binary");
        let mut child = Command::new(exe)
            .env(RAW_SERVER, socket)
            .env(
                RAW_WINDOWS,
                if windows == Windows::Tuned {
                    "tuned"
                } else {
                    "default"
                },
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the raw tonic server");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read from the raw tonic server");
        assert_eq!(line.trim(), "ready", "raw tonic server did not start");
        RawServer(child)
    }

    fn stop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn raw_server(socket: PathBuf, windows: Windows) {
    let runtime = Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::UnixListener::bind(&socket).expect("bind the socket");
        let mut server = Server::builder();
        if windows == Windows::Tuned {
            server = server
                .initial_stream_window_size(STREAM_WINDOW)
                .initial_connection_window_size(CONNECTION_WINDOW);
        }
        println!("ready");
        let stdin_closed = async {
            use tokio::io::AsyncReadExt;
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 64];
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        };
        server
            .add_service(RawEcho)
            .serve_with_incoming_shutdown(
                tokio_stream::wrappers::UnixListenerStream::new(listener),
                stdin_closed,
            )
            .await
            .expect("serve");
    });
    let _ = std::fs::remove_file(socket);
}

/// `plugintest.Tester/Echo` as tonic-build would generate it: the baseline runs no code of ours
/// but the prost message structs (the generated `TesterServer` would follow every change to the
/// trait, and is what `plugin/*` measures anyway).
#[derive(Clone)]
struct RawEcho;

impl tonic::server::NamedService for RawEcho {
    const NAME: &'static str = "plugintest.Tester";
}

impl tower::Service<http::Request<Body>> for RawEcho {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path() != ECHO {
            return Box::pin(async { Ok(tonic::Status::unimplemented("").into_http()) });
        }
        Box::pin(async move {
            let codec = tonic_prost::ProstCodec::<EchoResponse, EchoRequest>::default();
            Ok(tonic::server::Grpc::new(codec)
                .unary(RawEcho, request)
                .await)
        })
    }
}

impl tonic::server::UnaryService<EchoRequest> for RawEcho {
    type Response = EchoResponse;
    type Future = std::future::Ready<Result<tonic::Response<EchoResponse>, tonic::Status>>;

    fn call(&mut self, request: tonic::Request<EchoRequest>) -> Self::Future {
        let value = request.into_inner().data;
        std::future::ready(Ok(tonic::Response::new(EchoResponse { value })))
    }
}
