//! The host side: launch a plugin, read its handshake, connect, dispense, kill.
//!
//! This is the only module that starts processes.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, BufReader};
use tokio::sync::Mutex;
use tonic::transport::{Channel, Endpoint};

use crate::exit::{self, ExitNotifier, ExitWatch};
use crate::handshake::{self, HandshakeConfig, Network};
use crate::interface::{Connection, PluginInterface};
use crate::log::StderrTail;
use crate::serve::{CONNECTION_WINDOW, STREAM_WINDOW};
use crate::stdio::Sink;
use crate::{Error, controller};

/// go-plugin's default `StartTimeout`.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `kill` waits for a plugin to exit after `Shutdown` before it sends SIGKILL; go-plugin
/// hard-codes the same 2 s.
const GRACEFUL_EXIT: Duration = Duration::from_secs(2);

/// How long a plugin that ended its stdout without a handshake gets to finish its stderr.
const LAST_WORDS: Duration = Duration::from_millis(1500);

/// go-plugin's default `PluginLogBufferSize` and handshake line limit.
const LINE_BUFFER: usize = 64 * 1024;

/// How to launch a plugin and talk to it: go-plugin's `ClientConfig` for gRPC plugins.
///
/// ```no_run
/// # use go_plugin::{ClientConfig, HandshakeConfig};
/// const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
/// let config = ClientConfig::new(HANDSHAKE, std::process::Command::new("./kv-plugin"));
/// ```
pub struct ClientConfig {
    handshake: HandshakeConfig,
    versions: Vec<u32>,
    command: std::process::Command,
    start_timeout: Duration,
    skip_host_env: bool,
    ports: (u16, u16),
    sync_stdout: Sink,
    sync_stderr: Sink,
    stderr: Option<Box<dyn std::io::Write + Send>>,
    log_buffer: usize,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("handshake", &self.handshake)
            .field("versions", &self.versions)
            .field("command", &self.command)
            .field("start_timeout", &self.start_timeout)
            .field("skip_host_env", &self.skip_host_env)
            .field("ports", &self.ports)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Launch `command` and expect `handshake`. The command's own arguments, environment and
    /// working directory are kept; the host's environment is passed on unless
    /// [`skip_host_env`](Self::skip_host_env) is set.
    pub fn new(handshake: HandshakeConfig, command: std::process::Command) -> Self {
        ClientConfig {
            versions: vec![handshake.protocol_version],
            handshake,
            command,
            start_timeout: DEFAULT_START_TIMEOUT,
            skip_host_env: false,
            ports: (10000, 25000),
            sync_stdout: None,
            sync_stderr: None,
            stderr: None,
            log_buffer: LINE_BUFFER,
        }
    }

    /// The app protocol versions the host speaks (go-plugin's `VersionedPlugins` keys). The
    /// plugin picks the highest it shares; [`Client::negotiated_version`] tells which.
    pub fn versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        self.versions = versions.into_iter().collect();
        self.versions.sort_unstable();
        self.versions.dedup();
        self
    }

    /// How long the plugin may take to print its handshake (default 1 minute).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// Start the plugin with only the command's own environment and the go-plugin variables.
    pub fn skip_host_env(mut self, skip: bool) -> Self {
        self.skip_host_env = skip;
        self
    }

    /// The TCP port range offered to plugins that listen on TCP (default 10000..=25000).
    pub fn port_range(mut self, min: u16, max: u16) -> Self {
        self.ports = (min, max);
        self
    }

    /// Where the plugin's stdout goes (go-plugin's `SyncStdout`; discarded by default).
    pub fn sync_stdout(mut self, writer: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        self.sync_stdout = Some(Box::new(writer));
        self
    }

    /// Where the plugin's stderr (its `eprintln!`, not its logs) goes (go-plugin's `SyncStderr`;
    /// discarded by default).
    pub fn sync_stderr(mut self, writer: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        self.sync_stderr = Some(Box::new(writer));
        self
    }

    /// A raw copy of every line the plugin writes to its log channel, before parsing
    /// (go-plugin's `Stderr`).
    pub fn stderr(mut self, writer: impl std::io::Write + Send + 'static) -> Self {
        self.stderr = Some(Box::new(writer));
        self
    }

    /// The longest log line parsed whole; longer lines arrive in fragments (default 64 KiB).
    pub fn log_buffer_size(mut self, bytes: usize) -> Self {
        self.log_buffer = bytes.max(1);
        self
    }
}

/// A running plugin. Cloning shares it; dropping the last clone of a plugin that is still running
/// kills it, so a host that forgets to [`kill`](Client::kill) leaves no orphan behind.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    connection: Connection,
    channel: Channel,
    version: u32,
    pid: u32,
    exit: ExitWatch,
    kill_lock: Mutex<()>,
}

impl Client {
    /// Starts the plugin, reads its handshake and connects to it.
    ///
    /// Fails with go-plugin's error texts: `Unrecognized remote plugin message: …` for anything
    /// that is not a handshake, `timeout while waiting for plugin to start`, `incompatible API
    /// version with plugin. …`, `unsupported plugin protocol "netrpc". Supported: [grpc]`, and so
    /// on. The process is killed on every failure.
    pub async fn start(config: ClientConfig) -> Result<Client, Error> {
        let ClientConfig {
            handshake,
            versions,
            command,
            start_timeout,
            skip_host_env,
            ports,
            sync_stdout,
            sync_stderr,
            stderr,
            log_buffer,
        } = config;

        let program = resolve_program(command.get_program());
        let name = plugin_name(&command);
        let command_line = describe(&command);
        let mut command = prepare(command, &handshake, &versions, ports, skip_host_env);

        tracing::debug!(path = %program.display(), args = ?command.as_std().get_args().collect::<Vec<_>>(), "starting plugin");
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            command: command_line,
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        tracing::debug!(path = %program.display(), pid, "plugin started");

        let (Some(stdout), Some(stderr_pipe)) = (child.stdout.take(), child.stderr.take()) else {
            kill_group(pid);
            return Err(Error::Serve("plugin stdio pipes missing".to_owned()));
        };
        let tail = StderrTail::default();
        let logs = tokio::spawn(crate::log::mirror_stderr(
            stderr_pipe,
            name,
            Some(tail.writer(stderr)),
            log_buffer,
        ));
        let (notifier, exit) = exit::channel();
        tokio::spawn(reap(child, pid, logs, notifier, program.clone()));

        tracing::debug!(plugin = %program.display(), "waiting for RPC address");
        let mut stdout = BufReader::with_capacity(LINE_BUFFER, stdout);
        let first = tokio::select! {
            line = read_first_line(&mut stdout) => line,
            // Only wins when something else (a child of the plugin) still holds stdout open.
            _ = exit.wait() => {
                kill_group(pid);
                return Err(Error::ExitedBeforeConnect);
            }
            () = tokio::time::sleep(start_timeout) => {
                kill_group(pid);
                return Err(Error::StartTimeout);
            }
        };
        let line = match first {
            FirstLine::Line(line) => line,
            FirstLine::Eof => {
                // The plugin is gone (or closed stdout): let its last words arrive first.
                let status = exit.wait_for(LAST_WORDS).await;
                kill_group(pid);
                let mut diagnostics = handshake::diagnostics(Some(&program), true);
                diagnostics.push_str(&last_words(status, &tail));
                return Err(Error::UnrecognizedMessage {
                    line: String::new(),
                    diagnostics,
                });
            }
            FirstLine::TooLong => {
                kill_group(pid);
                return Err(Error::Handshake(
                    "error encountered while scanning stdout: bufio.Scanner: token too long"
                        .to_owned(),
                ));
            }
        };
        tokio::spawn(drain(stdout));

        let parsed = match handshake::parse_line(&line, &versions, Some(&program)) {
            Ok(parsed) => parsed,
            Err(err) => {
                kill_group(pid);
                return Err(err);
            }
        };
        tracing::debug!(version = parsed.app_version, "using plugin");

        let channel = match connect(&parsed.network) {
            Ok(channel) => channel,
            Err(err) => {
                kill_group(pid);
                return Err(err);
            }
        };
        tokio::spawn(crate::stdio::copy_to_sinks(
            channel.clone(),
            exit.clone(),
            sync_stdout,
            sync_stderr,
        ));
        tokio::spawn(crate::broker::open_stream(channel.clone()));

        Ok(Client {
            inner: Arc::new(Inner {
                connection: Connection::new(channel.clone(), Some(exit.clone())),
                channel,
                version: parsed.app_version,
                pid,
                exit,
                kill_lock: Mutex::new(()),
            }),
        })
    }

    /// A client for interface `P` on this plugin. Like go-plugin's gRPC `Dispense`, this makes
    /// no call; the first method call does.
    pub fn dispense<P: PluginInterface>(&self) -> Result<P::Client, Error> {
        if let Some(status) = self.inner.exit.status() {
            return Err(Error::PluginExited { status });
        }
        Ok(P::client(self.inner.connection.clone()))
    }

    /// The connection, for services that are not generated by `#[plugin_interface]`.
    pub fn connection(&self) -> Connection {
        self.inner.connection.clone()
    }

    /// The app protocol version the plugin chose.
    pub fn negotiated_version(&self) -> u32 {
        self.inner.version
    }

    /// The plugin's process id.
    pub fn pid(&self) -> u32 {
        self.inner.pid
    }

    /// Checks the plugin's health service for `"plugin"`, as go-plugin's `Ping` does.
    pub async fn ping(&self) -> Result<(), Error> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

        if let Some(status) = self.inner.exit.status() {
            return Err(Error::PluginExited { status });
        }
        let mut health = HealthClient::new(self.inner.channel.clone());
        let request = HealthCheckRequest {
            service: "plugin".to_owned(),
        };
        match health.check(request).await {
            Ok(response) if response.get_ref().status == ServingStatus::Serving as i32 => Ok(()),
            Ok(response) => Err(Error::Rpc(tonic::Status::unavailable(format!(
                "plugin health is {:?}",
                ServingStatus::try_from(response.get_ref().status)
                    .unwrap_or(ServingStatus::Unknown)
            )))),
            Err(status) if exit::may_mean_exit(&status) => {
                match self.inner.exit.wait_for(exit::RESET_GRACE).await {
                    Some(exit_status) => Err(Error::PluginExited {
                        status: exit_status,
                    }),
                    None => Err(Error::Rpc(status)),
                }
            }
            Err(status) => Err(Error::Rpc(status)),
        }
    }

    /// Whether the plugin process has exited.
    pub fn exited(&self) -> bool {
        self.inner.exit.has_exited()
    }

    /// Waits for the plugin process to exit and returns how it ended (for example
    /// `exit status: 0`).
    pub async fn wait(&self) -> Option<String> {
        self.inner.exit.wait().await
    }

    /// Stops the plugin: asks it to shut down, waits up to 2 s, then kills it (with its process
    /// group, so children it started go too). Safe to call more than once and from several
    /// tasks; calls in flight and later calls fail with [`Error::PluginExited`].
    pub async fn kill(&self) {
        let _guard = self.inner.kill_lock.lock().await;
        if self.inner.exit.has_exited() {
            return;
        }
        let delivered =
            controller::request_shutdown(self.inner.channel.clone(), GRACEFUL_EXIT).await;
        if delivered && self.inner.exit.wait_for(GRACEFUL_EXIT).await.is_some() {
            tracing::debug!("plugin exited");
            return;
        }
        tracing::warn!("plugin failed to exit gracefully");
        kill_group(self.inner.pid);
        self.inner.exit.wait().await;
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.exit.has_exited() {
            kill_group(self.pid);
        }
    }
}

/// Builds the child command with go-plugin's environment and stdio.
fn prepare(
    command: std::process::Command,
    handshake: &HandshakeConfig,
    versions: &[u32],
    ports: (u16, u16),
    skip_host_env: bool,
) -> tokio::process::Command {
    let mut command = command;
    if skip_host_env {
        let own: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)> = command
            .get_envs()
            .map(|(key, value)| (key.to_owned(), value.map(OsStr::to_owned)))
            .collect();
        command.env_clear();
        for (key, value) in own {
            if let Some(value) = value {
                command.env(key, value);
            }
        }
    }
    let versions = versions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    command
        .env(handshake.magic_cookie_key, handshake.magic_cookie_value)
        .env("PLUGIN_MIN_PORT", ports.0.to_string())
        .env("PLUGIN_MAX_PORT", ports.1.to_string())
        .env("PLUGIN_PROTOCOL_VERSIONS", versions)
        .env_remove("PLUGIN_MULTIPLEX_GRPC")
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut command = tokio::process::Command::from(command);
    // Its own process group: Ctrl-C in the host's terminal does not reach it, and kill can take
    // the plugin's own children with it (go-plugin#136).
    command.process_group(0);
    command
}

/// What the plugin said before it died: go-plugin leaves this to the logs; an error that carries
/// it explains a crash (or a plugin run without the cookie) by itself.
fn last_words(status: Option<Option<String>>, tail: &StderrTail) -> String {
    let how = match status {
        Some(Some(status)) => format!("The plugin exited ({status})"),
        Some(None) => "The plugin exited".to_owned(),
        None => "The plugin closed its stdout".to_owned(),
    };
    let lines = tail.render();
    if lines.is_empty() {
        format!("\n{how} and wrote nothing to stderr.")
    } else {
        format!("\n{how}; the last lines it wrote to stderr:\n{lines}")
    }
}

enum FirstLine {
    Line(String),
    Eof,
    TooLong,
}

async fn read_first_line<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> FirstLine {
    let mut line = Vec::new();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok(chunk) => chunk,
            Err(_) => return FirstLine::Eof,
        };
        if chunk.is_empty() {
            return if line.is_empty() {
                FirstLine::Eof
            } else {
                FirstLine::Line(String::from_utf8_lossy(&line).into_owned())
            };
        }
        let (taken, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (chunk.len(), false),
        };
        line.extend_from_slice(&chunk[..taken]);
        reader.consume(taken);
        if done {
            return FirstLine::Line(String::from_utf8_lossy(&line).into_owned());
        }
        if line.len() > LINE_BUFFER {
            return FirstLine::TooLong;
        }
    }
}

/// Reads and discards the rest of stdout so a chatty plugin never blocks on a full pipe.
async fn drain<R: AsyncRead + Unpin>(mut reader: R) {
    let mut buf = vec![0u8; 8192];
    while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
}

/// Waits for the process, lets its last log lines through, and tells everyone it exited.
async fn reap(
    mut child: tokio::process::Child,
    pid: u32,
    logs: tokio::task::JoinHandle<()>,
    notifier: ExitNotifier,
    program: PathBuf,
) {
    let status = child.wait().await;
    // The log pipe closes when the process ends, unless a child of the plugin still holds it.
    let _ = tokio::time::timeout(Duration::from_secs(1), logs).await;
    let description = match &status {
        Ok(status) => {
            if status.success() {
                tracing::info!(plugin = %program.display(), id = pid, "plugin process exited");
            } else {
                tracing::error!(plugin = %program.display(), id = pid, error = %status, "plugin process exited");
            }
            Some(status.to_string())
        }
        Err(err) => {
            tracing::error!(plugin = %program.display(), error = %err, "plugin process exited");
            None
        }
    };
    notifier.exited(description);
}

fn connect(network: &Network) -> Result<Channel, Error> {
    let endpoint = Endpoint::from_static("http://plugin")
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true);
    match network {
        Network::Unix(path) => {
            let path = path.clone();
            Ok(
                endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
                    let path = path.clone();
                    async move {
                        tokio::net::UnixStream::connect(path)
                            .await
                            .map(TokioIo::new)
                    }
                })),
            )
        }
        Network::Tcp(address) => {
            let address = address.clone();
            Ok(
                endpoint.connect_with_connector_lazy(tower::service_fn(move |_: http::Uri| {
                    let address = tcp_target(&address);
                    async move {
                        let stream = tokio::net::TcpStream::connect(address).await?;
                        stream.set_nodelay(true)?;
                        Ok::<_, std::io::Error>(TokioIo::new(stream))
                    }
                })),
            )
        }
    }
}

/// Go dials `:1234` as the local host; so do we.
fn tcp_target(address: &str) -> String {
    if address.starts_with(':') {
        format!("127.0.0.1{address}")
    } else {
        address.to_owned()
    }
}

/// SIGKILL to the plugin's process group (and, should it have left the group, to itself).
fn kill_group(pid: u32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: plain signal delivery; a process that is already gone makes the calls fail harmlessly.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
        libc::kill(pid, libc::SIGKILL);
    }
}

/// go-plugin names a plugin's logger after its executable (`plugin.sh` for `sh -c …`); for
/// `sh -c "CMD …"` this takes the first word of CMD, which is what the user recognises.
fn plugin_name(command: &std::process::Command) -> String {
    let program = base_name(command.get_program());
    let args: Vec<&OsStr> = command.get_args().collect();
    if matches!(program.as_str(), "sh" | "bash" | "dash")
        && args.first() == Some(&OsStr::new("-c"))
        && let Some(first) = args
            .get(1)
            .and_then(|script| script.to_str())
            .and_then(|script| script.split_whitespace().next())
    {
        return base_name(OsStr::new(first.trim_matches(['\'', '"'])));
    }
    program
}

fn base_name(path: &OsStr) -> String {
    Path::new(path)
        .file_name()
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

fn describe(command: &std::process::Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The executable `program` names, searched in `PATH` like exec does, for the diagnostics block.
fn resolve_program(program: &OsStr) -> PathBuf {
    let path = Path::new(program);
    if path.components().count() > 1 {
        return path.to_path_buf();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(path))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| path.to_path_buf())
}
