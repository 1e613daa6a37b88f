//! Round trips from a host process to a plugin process over a Unix socket.
//!
//! - `plugin/*`: this process is the host (`plugin_runtime::Client`), `test-plugin` the plugin;
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
//! `unary_small` echoes 16 bytes, `echo_1MiB` 1 MiB, and `start_call_kill` times
//! `Client::start` → `dispense` → first echo → `kill`. Each group takes about 15 s on 2 cores;
//! `scripts/bench-vs-go` runs this beside go-plugin's host and prints a table.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode};
use plugin_runtime::{Client, ClientConfig};
use tests::tester_messages::{EchoRequest, EchoResponse};
use tests::{HANDSHAKE, Tester, TesterPlugin};
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

    let test_plugin = || Command::new(env!("CARGO_BIN_EXE_test-plugin"));
    plugin(&mut criterion, &runtime, "plugin", test_plugin);
    raw_tonic(&mut criterion, &runtime, "raw_tonic", Windows::Default);
    raw_tonic(&mut criterion, &runtime, "raw_tonic_tuned", Windows::Tuned);
    if let Some(gobench) = std::env::var_os(GO_PLUGIN) {
        let go_plugin = move || {
            let mut command = Command::new(&gobench);
            command.arg("plugin");
            command
        };
        plugin(&mut criterion, &runtime, "go_plugin", go_plugin);
    }

    criterion.final_summary();
}

/// Our host calling a plugin process through the runtime.
fn plugin(criterion: &mut Criterion, runtime: &Runtime, name: &str, command: impl Fn() -> Command) {
    let start = || Client::start(ClientConfig::new(HANDSHAKE, command()));
    let client = runtime.block_on(start()).expect("start the plugin");
    let tester = client.dispense::<TesterPlugin>().expect("dispense Tester");

    let mut group = criterion.benchmark_group(name);
    echo_benches(&mut group, runtime, |data| {
        let tester = &tester;
        async move { tester.echo(data).await.expect("echo") }
    });
    runtime.block_on(client.kill());

    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("start_call_kill", |b| {
        b.to_async(runtime).iter(|| async {
            let client = start().await.expect("start the plugin");
            let tester = client.dispense::<TesterPlugin>().expect("dispense Tester");
            tester.echo(vec![0x5a; SMALL]).await.expect("echo");
            client.kill().await;
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
    let grpc = tonic::client::Grpc::new(channel);

    let mut group = criterion.benchmark_group(name);
    echo_benches(&mut group, runtime, |data| {
        // What a tonic-generated client does per call: clone, wait until ready, call.
        let mut grpc = grpc.clone();
        async move {
            grpc.ready().await.expect("channel ready");
            let codec = tonic_prost::ProstCodec::<EchoRequest, EchoResponse>::default();
            let path = http::uri::PathAndQuery::from_static(ECHO);
            let request = tonic::Request::new(EchoRequest { data });
            let response = grpc.unary(request, path, codec).await.expect("echo");
            response.into_inner().value
        }
    });
    group.finish();
    server.stop();
}

/// `unary_small` and `echo_1MiB` through `echo`, which sends its argument and returns the reply.
fn echo_benches<F, Fut>(group: &mut BenchmarkGroup<'_, WallTime>, runtime: &Runtime, echo: F)
where
    F: Fn(Vec<u8>) -> Fut,
    Fut: Future<Output = Vec<u8>>,
{
    let small = vec![0x5a; SMALL];
    let big = vec![0xa5; BIG];
    assert_eq!(runtime.block_on(echo(big.clone())).len(), BIG);

    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(3));
    group.bench_function("unary_small", |b| {
        b.to_async(runtime).iter(|| echo(small.clone()))
    });
    // Each call also copies 1 MiB into the request (the trait takes `Vec<u8>`), here as in every
    // group, so the groups stay comparable.
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("echo_1MiB", |b| {
        b.to_async(runtime).iter(|| echo(big.clone()))
    });
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
