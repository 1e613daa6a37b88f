//! The plugin side: everything go-plugin's `plugin.Serve` does for gRPC plugins, in phases:
//! check the environment, listen, print the handshake, redirect stdio, serve.

mod controller;
mod debug;
mod host_watch;
mod logging;
mod panics;
mod stdio;

pub use logging::init_plugin_logging;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use tokio::sync::watch;
use tonic::service::{Routes, RoutesBuilder};

use crate::error::Error;
use crate::net::listener::{self, Listener, Transport};
use crate::net::mux::{Mux, Role};
use crate::net::tls::{Tls, TlsConfig};
use crate::net::transport;
use crate::protocol::handshake::{self, HandshakeConfig};
use crate::protocol::reattach::ReattachConfig;
use crate::rpc::broker::{Broker, Route};
use crate::rpc::interface::PluginServer;
use crate::sys::signals::{Kind, Signal};
use controller::Controller;
use host_watch::HostWatch;
use stdio::{StdioFeed, StdioService};

/// How long a shutting-down plugin waits for connections to finish and stdio to drain before it
/// returns anyway. go-plugin's host waits 2 s before it kills; this stays far below.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(100);

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
    debug: Option<debug::Debug>,
    tls: Option<TlsConfig>,
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
            debug: None,
            tls: None,
        }
    }

    /// Serves `server` under the handshake's protocol version.
    #[must_use]
    pub fn plugin(mut self, server: PluginServer) -> Self {
        let version = self.handshake.protocol_version;
        self.versions.entry(version).or_default().push(server);
        self
    }

    /// Serves `servers` when the host negotiates protocol `version` (go-plugin's
    /// `VersionedPlugins`). One binary can serve several versions.
    #[must_use]
    pub fn version(
        mut self,
        version: u32,
        servers: impl IntoIterator<Item = PluginServer>,
    ) -> Self {
        self.versions.entry(version).or_default().extend(servers);
        self
    }

    /// Listens on TCP (127.0.0.1, in `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`) instead of a Unix socket.
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Whether [`serve`] installs the hclog JSON `tracing` subscriber that carries the plugin's
    /// logs to the host (on by default; it is skipped anyway when a global subscriber exists).
    #[must_use]
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// Whether the plugin exits when the process that started it goes away (on by default), so
    /// a host that dies hard leaves no orphaned plugins behind.
    #[must_use]
    pub fn exit_with_host(mut self, enabled: bool) -> Self {
        self.exit_with_host = enabled;
        self
    }

    /// TLS configured by the plugin instead of AutoMTLS (go-plugin's `TLSProvider`): the server
    /// configuration serves the host, and the client configuration, if any, dials its brokered
    /// services. With it, `PLUGIN_CLIENT_CERT` is ignored and the handshake carries no
    /// certificate, as in go-plugin.
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Debug mode, for running the plugin by hand (under a debugger, say) and pointing a host at
    /// it, as terraform-plugin-go's `-debug` does: no magic cookie is needed, stdout and stderr
    /// stay where they are (so `println!` and the debugger's terminal work), logs are written as
    /// text, and instead of a handshake the plugin prints its [`ReattachConfig`] (in
    /// go-plugin's test mode, `Test: true`, so a host that reattaches never stops it). It serves
    /// until interrupted (Ctrl-C, SIGTERM) or a host calls `Shutdown`.
    ///
    /// The version served is the highest of the plugin's own, unless `PLUGIN_PROTOCOL_VERSIONS`
    /// says otherwise. [`debug_requested`] tells whether the user asked for it.
    #[must_use]
    pub fn debug(mut self, enabled: bool) -> Self {
        self.debug = enabled.then(|| self.debug.take().unwrap_or_default());
        self
    }

    /// What a plugin in [debug mode](Self::debug) does with its reattach configuration once it
    /// listens, instead of printing it: for example print it in the form a host application
    /// reads, such as Terraform's `TF_REATTACH_PROVIDERS`. Turns debug mode on.
    #[must_use]
    pub fn on_debug_ready(mut self, ready: impl FnOnce(&ReattachConfig) + Send + 'static) -> Self {
        self.debug = Some(debug::Debug::announcing(ready));
        self
    }
}

/// Whether the plugin was started with `-debug` or `--debug`, or with `GO_PLUGIN_DEBUG` set to a
/// non-empty value: the conventional ways to ask a plugin for [debug mode](ServeConfig::debug).
pub fn debug_requested() -> bool {
    debug::requested(
        std::env::args_os().skip(1),
        std::env::var_os("GO_PLUGIN_DEBUG"),
    )
}

/// Serves a plugin until the host asks it to shut down, then returns `Ok(())`.
///
/// Like go-plugin's `plugin.Serve`, a process started without the magic cookie prints
/// go-plugin's explanation on stderr and exits with status 1, printing nothing on stdout.
pub async fn serve(mut config: ServeConfig) -> Result<(), Error> {
    if let Some(debug) = config.debug.take() {
        return debug::serve(config, debug).await;
    }
    let environment = check_environment(&config)?;
    let listener = listen(config.transport).await?;
    let (mut services, stdio) = Services::new(
        &config,
        environment.version,
        environment.tls.clone(),
        environment.multiplex,
    )
    .await;
    let signals = Signals::install(false)?;
    print_handshake(&environment, &listener)?;
    let mut host = environment.host;
    services.stdio = Some(redirect_stdio(&mut host, stdio)?);
    run(
        listener,
        services,
        config.exit_with_host.then_some(host),
        signals,
    )
    .await
}

/// What the environment told the plugin.
struct Environment {
    version: u32,
    /// Whether the host asked for multiplexing (the handshake then has a 7th field) and whether
    /// it really wants it (go-plugin's `ParseBool` of the same variable).
    multiplex_requested: bool,
    multiplex: bool,
    host: HostWatch,
    tls: Tls,
    /// The DER certificate for handshake field 6, with AutoMTLS.
    certificate: Option<Vec<u8>>,
}

/// Phase 1: the magic cookie (exit 1 with go-plugin's text when it is wrong), the protocol
/// version, the log channel.
fn check_environment(config: &ServeConfig) -> Result<Environment, Error> {
    check_cookie(&config.handshake);
    let host = HostWatch::new();

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

    let log_fd = stdio::duplicate_stderr()?;
    panics::report_panics_on(stdio::duplicate_stderr()?);
    if config.logging {
        logging::install_plugin_subscriber(log_fd);
    }
    let (tls, certificate) = match &config.tls {
        Some(tls) => (own_tls(tls)?, None),
        None => match std::env::var("PLUGIN_CLIENT_CERT") {
            Ok(pem) if !pem.is_empty() => crate::net::tls::plugin_auto_mtls(&pem)?,
            _ => (Tls::default(), None),
        },
    };
    Ok(Environment {
        version,
        multiplex_requested: handshake::multiplex_requested(
            std::env::var_os("PLUGIN_MULTIPLEX_GRPC").as_deref(),
        ),
        multiplex: handshake::multiplex_enabled(
            std::env::var_os("PLUGIN_MULTIPLEX_GRPC").as_deref(),
        ),
        host,
        tls,
        certificate,
    })
}

/// The plugin's own TLS, which must be able to serve.
fn own_tls(tls: &TlsConfig) -> Result<Tls, Error> {
    let tls = tls.clone().into_tls();
    if !tls.serves() {
        return Err(Error::Serve(
            "ServeConfig::tls needs a server configuration (TlsConfig::server)".to_owned(),
        ));
    }
    Ok(tls)
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

/// Phase 2: the socket the host will connect to.
async fn listen(transport: Transport) -> Result<Listener, Error> {
    let listener = listener::bind(transport).await.inspect_err(|err| {
        tracing::error!(error = %err, "plugin init error");
    })?;
    tracing::debug!(
        network = listener.network(),
        address = %listener.address(),
        "plugin address"
    );
    Ok(listener)
}

/// What the plugin serves, and the switches that stop it.
struct Services {
    routes: Routes,
    /// Raised by `GRPCController.Shutdown`.
    shutdown: watch::Receiver<bool>,
    /// Raised to end the stdio and broker streams and the server.
    stop: watch::Sender<bool>,
    /// The redirected fds 1 and 2, once they are.
    stdio: Option<StdioFeed>,
    /// The TLS connections are served with.
    tls: Tls,
    /// The plugin's broker, which every call finds in its extensions.
    broker: Broker,
    /// Whether the host's one connection carries a yamux session.
    multiplex: bool,
}

impl Services {
    /// The plugin's interfaces for `version`, beside health, controller, stdio and broker; and
    /// the feed that takes over fds 1 and 2 for the stdio service.
    async fn new(
        config: &ServeConfig,
        version: u32,
        tls: Tls,
        multiplex: bool,
    ) -> (Self, StdioFeed) {
        let (health_reporter, health) = tonic_health::server::health_reporter();
        health_reporter
            .set_service_status("plugin", tonic_health::ServingStatus::Serving)
            .await;
        // Like every other service here: no 4 MiB receive limit (tonic's default).
        let health = health.max_decoding_message_size(crate::net::MAX_MESSAGE_SIZE);
        let (controller, shutdown) = Controller::new();
        let (stop, stopping) = watch::channel(false);
        let (stdio, feed) = StdioService::new(stopping.clone());
        let broker = Broker::new(tls.clone(), multiplex, None, Some(stopping));

        let mut routes = RoutesBuilder::default();
        routes
            .add_service(health)
            .add_service(controller.into_server())
            .add_service(stdio.into_server())
            .add_service(broker.clone().into_server());
        for server in config.versions.get(&version).into_iter().flatten() {
            server.add_to(&mut routes);
        }
        let services = Services {
            routes: transport::naming_unknown_services(routes.routes()),
            shutdown,
            stop,
            stdio: None,
            tls,
            broker,
            multiplex,
        };
        (services, feed)
    }
}

/// The signals a plugin handles, registered before the handshake: a host may signal as soon as
/// it has read it.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
    /// SIGINT ends the plugin (debug mode) instead of being ignored.
    stop_on_interrupt: bool,
}

impl Signals {
    fn install(stop_on_interrupt: bool) -> Result<Self, Error> {
        Ok(Signals {
            interrupt: Signal::handle(Kind::Interrupt)
                .map_err(|err| Error::io("failed to handle SIGINT", err))?,
            terminate: Signal::handle(Kind::Terminate)
                .map_err(|err| Error::io("failed to handle SIGTERM", err))?,
            stop_on_interrupt,
        })
    }
}

/// Phase 3: the one line on stdout that tells the host where to connect.
fn print_handshake(environment: &Environment, listener: &Listener) -> Result<(), Error> {
    let line = handshake::format_line(
        environment.version,
        listener.network(),
        &listener.address(),
        environment.certificate.as_deref(),
        environment.multiplex_requested,
    );
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(line.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| Error::io("failed to print the handshake", err))
}

/// Phase 4: fds 1 and 2 go to the host through `GRPCStdio` from now on.
fn redirect_stdio(host: &mut HostWatch, mut stdio: StdioFeed) -> Result<StdioFeed, Error> {
    host.keep_stdout()
        .map_err(|err| Error::io("failed to duplicate stdout", err))?;
    stdio.redirect()?;
    Ok(stdio)
}

/// Phase 5: serve until `Shutdown`, SIGTERM, the host going away (when `host` is watched),
/// SIGINT (when the signals say so), or the server failing.
async fn run(
    listener: Listener,
    services: Services,
    host: Option<HostWatch>,
    signals: Signals,
) -> Result<(), Error> {
    let Services {
        routes,
        mut shutdown,
        stop,
        stdio,
        tls,
        broker,
        multiplex,
    } = services;
    // Serving starts only now, so no call runs (and prints) before fds 1 and 2 are redirected;
    // a host that connects earlier waits in the listen backlog.
    let incoming = if multiplex {
        transport::Incoming::Streams(multiplexed(listener, broker.clone()))
    } else {
        transport::Incoming::Listener(listener)
    };
    let mut stopping = stop.subscribe();
    let mut serving = tokio::spawn(crate::rpc::context::serve(
        routes,
        incoming,
        tls,
        Some(broker),
        async move {
            crate::rpc::raised(&mut stopping).await;
        },
    ));

    let Signals {
        mut interrupt,
        mut terminate,
        stop_on_interrupt,
    } = signals;
    let (interrupted_tx, mut interrupted) = watch::channel(false);
    if stop_on_interrupt {
        tokio::spawn(async move {
            if interrupt.recv().await.is_some() {
                tracing::info!("plugin interrupted, shutting down");
                interrupted_tx.send_replace(true);
            }
        });
    } else {
        tokio::spawn(ignore_interrupts(interrupt));
    }
    let (orphaned_tx, mut orphaned) = watch::channel(false);
    if let Some(host) = host {
        host.spawn(orphaned_tx)
            .map_err(|err| Error::io("failed to start watching the host", err))?;
    }

    let outcome = tokio::select! {
        () = crate::rpc::raised(&mut shutdown) => None,
        () = crate::rpc::raised(&mut orphaned) => None,
        () = crate::rpc::raised(&mut interrupted) => None,
        // SIGTERM (a service manager stopping everything) ends the plugin as Shutdown does, so
        // it cleans up instead of dying mid-write (go-plugin#203).
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

    // Let what the plugin printed reach the host (unless it has gone), then stop serving.
    let _ = std::io::stdout().flush();
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    if let Some(stdio) = stdio.as_ref().filter(|_| !*orphaned.borrow()) {
        // Drained at two looks 2 ms apart: a reader thread that had just taken a chunk from
        // its pipe has counted it by the second.
        let mut drained_looks = 0;
        while drained_looks < 2 && tokio::time::Instant::now() < deadline {
            drained_looks = if stdio.is_drained() {
                drained_looks + 1
            } else {
                0
            };
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    stop.send_replace(true);
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

/// Multiplexing, plugin side: the host's first connection carries a yamux session, whose
/// streams go to the brokered services the host knocked for, or else to the main server.
fn multiplexed(
    listener: Listener,
    broker: Broker,
) -> tokio::sync::mpsc::UnboundedReceiver<transport::BoxedIo> {
    let (main, streams) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let io = match transport::accept_one(&listener).await {
            Ok(io) => io,
            Err(err) => {
                tracing::error!(error = %err, "error establishing yamux session");
                return;
            }
        };
        let (mux, mut inbound) = Mux::start(io, Role::Server);
        broker.set_mux(mux);
        while let Some(stream) = inbound.recv().await {
            if let Route::Main(stream) = broker.route(stream)
                && main.send(stream).is_err()
            {
                return;
            }
        }
        // The listener, and with it the socket file, goes when the session ends.
        drop(listener);
    });
    streams
}

/// A terminal's Ctrl-C reaches every process in the foreground group; the host decides when its
/// plugins stop, so the plugin ignores SIGINT, as go-plugin's do.
async fn ignore_interrupts(mut interrupts: Signal) {
    let mut count = 0u64;
    while interrupts.recv().await.is_some() {
        count += 1;
        tracing::trace!(count, "plugin received interrupt signal, ignoring");
    }
}
