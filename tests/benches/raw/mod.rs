//! The raw tonic baseline both benches measure against: a plain tonic server in a process of its
//! own (the bench binary, re-executed with [`RAW_SERVER`] set) serving `plugintest.Tester/Echo`
//! written as tonic-build generates services, and a plain `tonic::client::Grpc` on a `Channel`
//! calling it over a Unix socket. No code of ours on either side but the prost messages.
//!
//! With [`Windows::Default`] both sides keep tonic's settings; [`Windows::Tuned`] gives both our
//! runtime's HTTP/2 windows, to show what the windows do for large messages.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

use tests::tester_messages::{EchoRequest, EchoResponse};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::runtime::Runtime;
use tonic::body::Body;
use tonic::codegen::http;
use tonic::transport::{Channel, Endpoint, Server};

use crate::echo::Echo;

const ECHO: &str = "/plugintest.Tester/Echo";

/// Set (to a socket path) in the re-executed raw tonic server.
const RAW_SERVER: &str = "BENCH_RAW_SERVER";
/// `tuned` gives the raw tonic server our runtime's windows.
const RAW_WINDOWS: &str = "BENCH_RAW_WINDOWS";

/// plugin-runtime/src/net/transport.rs's STREAM_WINDOW and CONNECTION_WINDOW.
const STREAM_WINDOW: u32 = 8 << 20;
const CONNECTION_WINDOW: u32 = 16 << 20;

/// The HTTP/2 flow-control windows of both ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Windows {
    /// tonic's (and h2's) defaults.
    Default,
    /// Our runtime's: 8 MiB per stream, 16 MiB per connection.
    Tuned,
}

/// Serves as the raw tonic server and returns true when this process was started as one by
/// [`RawServer::spawn`]; a bench's `main` calls this first.
pub(crate) fn serve_if_asked() -> bool {
    let Some(socket) = std::env::var_os(RAW_SERVER) else {
        return false;
    };
    let windows = match std::env::var(RAW_WINDOWS).as_deref() {
        Ok("tuned") => Windows::Tuned,
        _ => Windows::Default,
    };
    if let Err(err) = raw_server(PathBuf::from(socket), windows) {
        eprintln!("raw tonic server: {err}");
        std::process::exit(1);
    }
    true
}

/// The raw tonic server process. It exits when its stdin closes ([`RawServer::stop`]), and is
/// killed when dropped, so it never outlives the bench.
#[derive(Debug)]
pub(crate) struct RawServer(tokio::process::Child);

impl RawServer {
    /// Starts the server on `socket` and waits until it listens.
    pub(crate) async fn spawn(socket: &Path, windows: Windows) -> Result<Self, String> {
        let exe =
            std::env::current_exe().map_err(|err| format!("path of the bench binary: {err}"))?;
        let windows = match windows {
            Windows::Default => "default",
            Windows::Tuned => "tuned",
        };
        let mut child = tokio::process::Command::new(exe)
            .env(RAW_SERVER, socket)
            .env(RAW_WINDOWS, windows)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("start the raw tonic server: {err}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or("the raw tonic server has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .await
            .map_err(|err| format!("read from the raw tonic server: {err}"))?;
        if line.trim() != "ready" {
            return Err(format!("the raw tonic server did not start: {line:?}"));
        }
        Ok(RawServer(child))
    }

    /// The server's process id (0 once it is reaped).
    #[allow(dead_code, reason = "only sidebyside reads the server's memory")]
    pub(crate) fn pid(&self) -> u32 {
        self.0.id().unwrap_or(0)
    }

    /// Closes the server's stdin, which ends it, and waits until it has exited.
    pub(crate) async fn stop(mut self) -> Result<(), String> {
        drop(self.0.stdin.take());
        self.0
            .wait()
            .await
            .map(drop)
            .map_err(|err| format!("wait for the raw tonic server: {err}"))
    }
}

/// A `Channel` to the raw tonic server on `socket`.
pub(crate) async fn raw_channel(socket: &Path, windows: Windows) -> Result<Channel, String> {
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
        .map_err(|err| format!("connect to the raw tonic server: {err}"))
}

/// Plain tonic: what a tonic-generated client does per call (clone, wait until ready, call).
#[derive(Clone, Debug)]
pub(crate) struct RawClient(tonic::client::Grpc<Channel>);

impl RawClient {
    pub(crate) fn new(channel: Channel) -> Self {
        RawClient(tonic::client::Grpc::new(channel))
    }
}

impl Echo for RawClient {
    async fn echo(&self, data: Vec<u8>) -> Result<Vec<u8>, String> {
        let mut grpc = self.0.clone();
        grpc.ready()
            .await
            .map_err(|err| format!("channel ready: {err}"))?;
        let codec = tonic_prost::ProstCodec::<EchoRequest, EchoResponse>::default();
        let path = http::uri::PathAndQuery::from_static(ECHO);
        let request = tonic::Request::new(EchoRequest { data });
        let response = grpc
            .unary(request, path, codec)
            .await
            .map_err(|status| status.to_string())?;
        Ok(response.into_inner().value)
    }
}

fn raw_server(socket: PathBuf, windows: Windows) -> Result<(), String> {
    let runtime = Runtime::new().map_err(|err| format!("tokio runtime: {err}"))?;
    let served = runtime.block_on(async {
        let listener = tokio::net::UnixListener::bind(&socket)
            .map_err(|err| format!("bind {}: {err}", socket.display()))?;
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
            .map_err(|err| format!("serve: {err}"))
    });
    let _ = std::fs::remove_file(socket);
    served
}

/// `plugintest.Tester/Echo` as tonic-build would generate it: the baseline runs no code of ours
/// but the prost message structs (the generated `TesterServer` would follow every change to the
/// trait, and is what the plugin benches measure anyway).
#[derive(Clone, Debug)]
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
