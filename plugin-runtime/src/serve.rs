//! The plugin side: everything go-plugin's `plugin.Serve` does for gRPC plugins.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use tokio::sync::watch;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;

use crate::broker::Broker;
use crate::controller::Controller;
use crate::handshake::{self, HandshakeConfig};
use crate::listener::{self, Listener, Transport};
use crate::stdio::StdioService;
use crate::{Error, PluginServer};

/// How long a shutting-down plugin waits for connections to finish and stdio to drain before it
/// returns anyway. go-plugin's host waits 2 s before it kills; this stays far below.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

/// How often the plugin checks that the host that started it is still alive.
const PARENT_POLL: Duration = Duration::from_secs(1);

/// HTTP/2 flow-control windows. The defaults (64 KiB) make a 1 MiB message wait for many
/// window updates; these let a large message flow in one go.
pub(crate) const STREAM_WINDOW: u32 = 8 << 20;
pub(crate) const CONNECTION_WINDOW: u32 = 16 << 20;

/// What a plugin serves: the handshake it expects and the interfaces it offers, per protocol
/// version.
///
/// ```no_run
/// # use go_plugin::{HandshakeConfig, PluginServer, ServeConfig};
/// # fn kv_server() -> PluginServer { unimplemented!() }
/// const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
/// let config = ServeConfig::new(HANDSHAKE).plugin(kv_server());
/// ```
#[derive(Debug)]
pub struct ServeConfig {
    handshake: HandshakeConfig,
    versions: BTreeMap<u32, Vec<PluginServer>>,
    transport: Transport,
    logging: bool,
    exit_with_host: bool,
}

impl ServeConfig {
    /// A configuration that serves nothing yet under `handshake`.
    pub fn new(handshake: HandshakeConfig) -> Self {
        ServeConfig {
            handshake,
            versions: BTreeMap::new(),
            transport: Transport::default(),
            logging: true,
            exit_with_host: true,
        }
    }

    /// Serves `server` under the handshake's protocol version.
    pub fn plugin(mut self, server: PluginServer) -> Self {
        let version = self.handshake.protocol_version;
        self.versions.entry(version).or_default().push(server);
        self
    }

    /// Serves `servers` when the host negotiates protocol `version` (go-plugin's
    /// `VersionedPlugins`). One binary can serve several versions.
    pub fn version(
        mut self,
        version: u32,
        servers: impl IntoIterator<Item = PluginServer>,
    ) -> Self {
        self.versions.entry(version).or_default().extend(servers);
        self
    }

    /// Listens on TCP (127.0.0.1, in `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`) instead of a Unix socket.
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Whether [`serve`] installs the hclog JSON `tracing` subscriber that carries the plugin's
    /// logs to the host (on by default; it is skipped anyway when a global subscriber exists).
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// Whether the plugin exits when the process that started it goes away (on by default), so
    /// a host that dies hard leaves no orphaned plugins behind.
    pub fn exit_with_host(mut self, enabled: bool) -> Self {
        self.exit_with_host = enabled;
        self
    }
}

/// Serves a plugin until the host asks it to shut down, then returns `Ok(())`.
///
/// Like go-plugin's `plugin.Serve`, a process started without the magic cookie prints
/// go-plugin's explanation on stderr and exits with status 1, printing nothing on stdout.
pub async fn serve(config: ServeConfig) -> Result<(), Error> {
    check_cookie(&config.handshake);
    // Read before the handshake: a host may give up and die the moment it has read it.
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };

    let own_versions: Vec<u32> = if config.versions.is_empty() {
        vec![config.handshake.protocol_version]
    } else {
        config.versions.keys().copied().collect()
    };
    let offered = std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok();
    let (version, warnings) = handshake::negotiate_version(offered.as_deref(), &own_versions);
    for warning in &warnings {
        eprint!("{warning}");
    }

    let log_fd = crate::stdio::duplicate_stderr()?;
    report_panics_on(crate::stdio::duplicate_stderr()?);
    if config.logging {
        crate::log::install_plugin_subscriber(log_fd);
    }

    let listener = match listener::bind(config.transport).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(error = %err, "plugin init error");
            return Err(err);
        }
    };
    tracing::debug!(
        network = listener.network(),
        address = %listener.address(),
        "plugin address"
    );

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let (controller, mut shutdown) = Controller::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    let (stdio, mut stdio_feed) = StdioService::new(stop_rx.clone());

    let mut routes = RoutesBuilder::default();
    routes
        .add_service(health)
        .add_service(controller.into_server())
        .add_service(stdio.into_server())
        .add_service(Broker::new(stop_rx.clone()).into_server());
    for server in config.versions.get(&version).into_iter().flatten() {
        server.add_to(&mut routes);
    }
    let routes = routes.routes();

    let server = Server::builder()
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true)
        .add_routes(routes);
    let network = listener.network();
    let address = listener.address();

    // Registered before the handshake: a host may signal as soon as it has read it.
    let interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|err| Error::io("failed to handle SIGINT", err))?;
    // SIGTERM (a service manager stopping everything) ends the plugin as Shutdown does, so it
    // cleans up instead of dying mid-write (go-plugin#203).
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|err| Error::io("failed to handle SIGTERM", err))?;
    let mux_requested = std::env::var_os("PLUGIN_MULTIPLEX_GRPC").is_some();
    let line = handshake::format_line(version, network, &address, None, mux_requested);
    {
        let mut stdout = std::io::stdout().lock();
        let printed = stdout
            .write_all(line.as_bytes())
            .and_then(|()| stdout.flush());
        printed.map_err(|err| Error::io("failed to print the handshake", err))?;
    }
    // The pipe the handshake went through stays open for as long as the host lives: it is how a
    // plugin started through `sh -c` (whose parent is the shell) notices that the host is gone.
    let host_stdout = crate::stdio::duplicate(libc::STDOUT_FILENO)
        .map_err(|err| Error::io("failed to duplicate stdout", err))?;
    stdio_feed.redirect()?;

    // Serving starts only now, so no call runs (and prints) before fds 1 and 2 are redirected;
    // a host that connects earlier waits in the listen backlog.
    let mut serving = tokio::spawn(async move {
        let stopped = async move {
            let mut stop_rx = stop_rx;
            crate::controller::raised(&mut stop_rx).await;
        };
        match listener {
            Listener::Unix { listener, socket } => {
                let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
                let result = server.serve_with_incoming_shutdown(incoming, stopped).await;
                drop(socket);
                result
            }
            Listener::Tcp { listener } => {
                let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                server.serve_with_incoming_shutdown(incoming, stopped).await
            }
        }
    });

    tokio::spawn(ignore_interrupts(interrupts));
    let (orphaned_tx, mut orphaned) = watch::channel(false);
    if config.exit_with_host {
        tokio::spawn(watch_host(orphaned_tx, parent, host_stdout));
    }

    // Wait for Shutdown (or the host going away, or the server failing on its own).
    let outcome = tokio::select! {
        () = crate::controller::raised(&mut shutdown) => None,
        () = crate::controller::raised(&mut orphaned) => None,
        _ = terminate.recv() => {
            tracing::debug!("plugin received SIGTERM, shutting down");
            None
        }
        result = &mut serving => Some(result),
    };
    if let Some(result) = outcome {
        return match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(Error::Serve(format!("plugin server failed: {err}"))),
            Err(err) => Err(Error::Serve(format!("plugin server failed: {err}"))),
        };
    }

    // Let what the plugin printed reach the host, then stop serving.
    let _ = std::io::stdout().flush();
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while !stdio_feed.is_drained() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stop_tx.send_replace(true);
    if tokio::time::timeout_at(deadline, &mut serving)
        .await
        .is_err()
    {
        // Connections the host keeps open must not keep the plugin alive: go-plugin stops hard.
        serving.abort();
        let _ = serving.await;
    }
    Ok(())
}

/// go-plugin's cookie check: a misconfigured plugin and a plugin run by hand both explain
/// themselves on stderr and exit with status 1.
fn check_cookie(config: &HandshakeConfig) {
    let value = std::env::var_os(config.magic_cookie_key);
    if let Err(message) = handshake::check_cookie(config, value.as_deref()) {
        eprint!("{message}");
        std::process::exit(1);
    }
}

/// Writes every panic to the log channel as a `panic: …` line, which go-plugin's host (and ours)
/// logs at ERROR with everything after it. Without this, the panic message would only travel
/// through `GRPCStdio`, which most hosts discard. The previous hook still runs.
fn report_panics_on(log: std::os::fd::OwnedFd) {
    let log = std::fs::File::from(log);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("Box<dyn Any>");
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let text = format!(
            "panic: {message}\n\tthread '{}' panicked at {location}\n",
            thread.name().unwrap_or("<unnamed>")
        );
        let _ = (&log).write_all(text.as_bytes());
        previous(info);
    }));
}

/// A terminal's Ctrl-C reaches every process in the foreground group; the host decides when its
/// plugins stop, so the plugin ignores SIGINT, as go-plugin's do.
async fn ignore_interrupts(mut interrupts: tokio::signal::unix::Signal) {
    let mut count = 0u64;
    while interrupts.recv().await.is_some() {
        count += 1;
        tracing::trace!(count, "plugin received interrupt signal, ignoring");
    }
}

/// Ends the plugin when its host goes away (go-plugin#10, #210): nobody can talk to it any more,
/// so staying alive only leaks a process and a socket file. The host is gone when the plugin's
/// parent changes, or when nobody reads the stdout pipe the handshake was printed on.
async fn watch_host(
    orphaned: watch::Sender<bool>,
    parent: libc::pid_t,
    host_stdout: std::os::fd::OwnedFd,
) {
    loop {
        tokio::time::sleep(PARENT_POLL).await;
        // SAFETY: getppid has no preconditions.
        let reparented = parent > 1 && unsafe { libc::getppid() } != parent;
        if reparented || reader_gone(&host_stdout) {
            tracing::warn!("host process exited, shutting down plugin");
            orphaned.send_replace(true);
            return;
        }
    }
}

/// Whether `fd` is a pipe whose reading end has been closed by every process.
fn reader_gone(fd: &std::os::fd::OwnedFd) -> bool {
    use std::os::fd::AsRawFd;
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a whole `stat` on success, which is checked before it is read.
    if unsafe { libc::fstat(fd.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return false;
    }
    // SAFETY: fstat succeeded.
    let mode = unsafe { stat.assume_init() }.st_mode;
    if mode & libc::S_IFMT != libc::S_IFIFO {
        return false;
    }
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no wait. Linux reports POLLERR on a pipe without readers.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & (libc::POLLERR | libc::POLLHUP) != 0
}
