//! The host side: launch a plugin (or attach to one that runs), dispense its interfaces, kill it.
//!
//! `launch` is the only module that starts processes; `reattach` finds one that runs; both give a
//! `Target`, which `Session::connect` connects to and makes the [`Session`] that owns it; `process`
//! holds the process the host may signal.

mod cleanup;
mod controller;
mod launch;
mod log;
mod process;
mod reattach;
mod secure;
mod session;
mod stdio;
mod supervise;

pub use cleanup::{cleanup_clients, cleanup_clients_on_signal};
pub use secure::{Hash, SecureConfig};
pub use supervise::{PluginState, RestartPolicy};

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWrite;

use crate::error::Error;
use crate::net::tls::TlsConfig;
use crate::protocol::handshake::HandshakeConfig;
use crate::protocol::reattach::ReattachConfig;
use crate::rpc::broker::Broker;
use crate::rpc::connection::Connection;
use crate::rpc::exit;
use crate::rpc::interface::PluginInterface;
use launch::Launch;
use session::{Attach, DEFAULT_GRACE, Session};
use supervise::{Plugin, Relaunch};

/// go-plugin's default `StartTimeout`.
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// How to launch a plugin and talk to it: go-plugin's `ClientConfig` for gRPC plugins.
///
/// ```no_run
/// # use go_plugin::{ClientConfig, HandshakeConfig};
/// const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
/// let config = ClientConfig::new(HANDSHAKE, std::process::Command::new("./kv-plugin"));
/// ```
pub struct ClientConfig {
    source: Source,
    /// What launching a command needs (the handshake is checked against a reattached plugin's
    /// configuration too).
    launch: Launch,
    /// What every connection to the plugin needs, however it was found.
    attach: Attach,
    call_timeout: Option<Duration>,
    restart: Option<RestartPolicy>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Launch {
            handshake,
            versions,
            secure,
            auto_mtls,
            tls,
            multiplex,
            start_timeout,
            skip_host_env,
            ports,
            stderr,
            log_buffer,
        } = &self.launch;
        let Attach {
            sync_stdout,
            sync_stderr,
            grace,
            through_tonic,
        } = &self.attach;
        f.debug_struct("ClientConfig")
            .field("handshake", handshake)
            .field("versions", versions)
            .field("source", &self.source)
            .field("secure", secure)
            .field("auto_mtls", auto_mtls)
            .field("tls", tls)
            .field("grpc_broker_multiplex", multiplex)
            .field("start_timeout", start_timeout)
            .field("skip_host_env", skip_host_env)
            .field("port_range", ports)
            .field("sync_stdout", &sync_stdout.is_some())
            .field("sync_stderr", &sync_stderr.is_some())
            .field("stderr", &stderr.is_some())
            .field("log_buffer_size", log_buffer)
            .field("shutdown_grace", grace)
            .field("call_timeout", &self.call_timeout)
            .field("through_tonic_channel", through_tonic)
            .field("restart", &self.restart)
            .finish()
    }
}

impl ClientConfig {
    /// Launch `command` and expect `handshake`. The command's own arguments, environment and
    /// working directory are kept; the host's environment is passed on unless
    /// [`skip_host_env`](Self::skip_host_env) is set.
    pub fn new(handshake: HandshakeConfig, command: std::process::Command) -> Self {
        Self::with_source(handshake, Source::Command(command))
    }

    /// Connect to a plugin that is already running instead of launching one (go-plugin's
    /// `Reattach`), for example one a previous host started, or a plugin in
    /// [debug mode](crate::ServeConfig::debug).
    ///
    /// Nothing is launched, so the plugin's log channel is not mirrored (its stdout and stderr
    /// still arrive through `GRPCStdio`). [`Client::kill`] stops it as usual, signalling only the
    /// pid in `reattach`; a plugin marked `test` is never stopped by the host.
    pub fn reattach(handshake: HandshakeConfig, reattach: ReattachConfig) -> Self {
        Self::with_source(handshake, Source::Reattach(reattach))
    }

    fn with_source(handshake: HandshakeConfig, source: Source) -> Self {
        ClientConfig {
            source,
            launch: Launch {
                versions: vec![handshake.protocol_version],
                handshake,
                secure: None,
                auto_mtls: false,
                tls: None,
                multiplex: false,
                start_timeout: DEFAULT_START_TIMEOUT,
                skip_host_env: false,
                ports: (10000, 25000),
                stderr: None,
                log_buffer: launch::DEFAULT_LOG_BUFFER,
            },
            attach: Attach {
                sync_stdout: None,
                sync_stderr: None,
                grace: DEFAULT_GRACE,
                through_tonic: false,
            },
            call_timeout: None,
            restart: None,
        }
    }

    /// Refuse to run the plugin's executable unless its hash matches (go-plugin's
    /// `SecureConfig`). The executable is found as `exec` finds it (in `PATH` when the command
    /// names no directory), hashed, and not run at all on a mismatch
    /// ([`ChecksumError::Mismatch`](crate::ChecksumError::Mismatch)). Not possible with
    /// [`reattach`](Self::reattach): there is nothing to run.
    #[must_use]
    pub fn secure_config(mut self, secure: SecureConfig) -> Self {
        self.launch.secure = Some(secure);
        self
    }

    /// go-plugin's AutoMTLS: the host makes a one-time certificate and passes it to the plugin in
    /// `PLUGIN_CLIENT_CERT`, the plugin answers with its own in the handshake, and the connection
    /// is TLS with each side trusting exactly the other's certificate. What Terraform and
    /// OpenTofu turn on for every provider. Takes precedence over [`tls`](Self::tls), as in
    /// go-plugin, and does nothing for a plugin [reattached](Self::reattach) to (there is no
    /// certificate exchange). Needs the `tls` feature: without it, starting the plugin fails with
    /// [`Error::TlsUnavailable`](crate::Error::TlsUnavailable).
    #[must_use]
    pub fn auto_mtls(mut self, enabled: bool) -> Self {
        self.launch.auto_mtls = enabled;
        self
    }

    /// TLS configured by the application (go-plugin's `TLSConfig`): the client configuration
    /// dials the plugin, and the server configuration, if any, serves brokered services.
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.launch.tls = Some(tls);
        self
    }

    /// go-plugin's `GRPCBrokerMultiplex` (go-plugin 1.6 and later): one connection to the plugin
    /// carries every gRPC connection, the main one and each brokered one, as yamux streams, so
    /// brokered services need no sockets of their own. A plugin that does not support it is
    /// refused with go-plugin's error. Not possible with [`reattach`](Self::reattach).
    #[must_use]
    pub fn grpc_broker_multiplex(mut self, enabled: bool) -> Self {
        self.launch.multiplex = enabled;
        self
    }

    /// The app protocol versions the host speaks (go-plugin's `VersionedPlugins` keys). The
    /// plugin picks the highest it shares; [`Client::negotiated_version`] tells which.
    #[must_use]
    pub fn versions(mut self, versions: impl IntoIterator<Item = u32>) -> Self {
        self.launch.versions = versions.into_iter().collect();
        self.launch.versions.sort_unstable();
        self.launch.versions.dedup();
        self
    }

    /// How long the plugin may take to print its handshake (default 1 minute).
    #[must_use]
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.launch.start_timeout = timeout;
        self
    }

    /// Start the plugin with only the command's own environment and the go-plugin variables.
    #[must_use]
    pub fn skip_host_env(mut self, skip: bool) -> Self {
        self.launch.skip_host_env = skip;
        self
    }

    /// The TCP port range offered to plugins that listen on TCP (default 10000..=25000).
    #[must_use]
    pub fn port_range(mut self, min: u16, max: u16) -> Self {
        self.launch.ports = (min, max);
        self
    }

    /// Where the plugin's stdout goes (go-plugin's `SyncStdout`; discarded by default).
    #[must_use]
    pub fn sync_stdout(mut self, writer: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        self.attach.sync_stdout = Some(Box::new(writer));
        self
    }

    /// Where the plugin's stderr (its `eprintln!`, not its logs) goes (go-plugin's `SyncStderr`;
    /// discarded by default).
    #[must_use]
    pub fn sync_stderr(mut self, writer: impl AsyncWrite + Send + Unpin + 'static) -> Self {
        self.attach.sync_stderr = Some(Box::new(writer));
        self
    }

    /// A raw copy of every line the plugin writes to its log channel, before parsing
    /// (go-plugin's `Stderr`).
    #[must_use]
    pub fn stderr(mut self, writer: impl std::io::Write + Send + 'static) -> Self {
        self.launch.stderr = Some(Box::new(writer));
        self
    }

    /// The longest log line parsed whole; longer lines arrive in fragments (default 64 KiB).
    #[must_use]
    pub fn log_buffer_size(mut self, bytes: usize) -> Self {
        self.launch.log_buffer = bytes.max(1);
        self
    }

    /// How long [`Client::kill`] lets the plugin take to exit after asking it to, before it
    /// kills it (default 2 s, which go-plugin hard-codes).
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.attach.grace = grace;
        self
    }

    /// The deadline of every call made through this client's connections unless a call sets
    /// its own ([`Connection::with_timeout`], or `with_timeout` on a generated client). It is
    /// sent as `grpc-timeout`, so the plugin gives up too, and the call fails with
    /// `DeadlineExceeded` when it passes. Default: none, as in go-plugin.
    #[must_use]
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// Starts the plugin again when it dies unexpectedly, within `policy` (go-plugin never does;
    /// off by default). Clients dispensed before go on working: calls made once the new process
    /// serves go to it, and [`Client::state`] tells when that is. A call in flight when the
    /// plugin died fails with [`Error::PluginExited`] and is not retried (calls are not assumed
    /// idempotent; see [`Client::retry_idempotent`]), and so does a call made before the new
    /// process serves.
    ///
    /// The command is run again from what `std::process::Command` tells of it: program,
    /// arguments, environment changes and working directory (not `env_clear`, nor settings made
    /// through `CommandExt`). A plugin this host reattached to ([`ClientConfig::reattach`], a
    /// plugin in debug mode among them) is never restarted: the host did not start it.
    #[must_use]
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = Some(policy);
        self
    }

    /// Sends calls through tonic's `Channel` instead of straight onto h2 (see
    /// `inspect::through_tonic_channel`).
    #[cfg(feature = "unstable-inspect")]
    pub(crate) fn set_through_tonic(&mut self) {
        self.attach.through_tonic = true;
    }
}

/// Where a plugin comes from: a command to launch, or a plugin already running.
#[derive(Debug)]
enum Source {
    Command(std::process::Command),
    Reattach(ReattachConfig),
}

/// A running plugin. Cloning shares it. The plugin is stopped by [`kill`](Client::kill), or when
/// the last handle to it goes away: this client, its clones, and every [`Connection`] and
/// dispensed client made from it. A host that forgets to kill leaves no orphan behind.
#[derive(Clone, Debug)]
pub struct Client {
    plugin: Arc<Plugin>,
    call_timeout: Option<Duration>,
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
            source,
            mut launch,
            mut attach,
            call_timeout,
            restart,
        } = config;
        let mut relaunch = None;
        let target = match source {
            Source::Command(command) => {
                if let Some(policy) = restart {
                    relaunch = Some(Relaunch::new(&command, &mut launch, &mut attach, policy));
                }
                launch::launch(command, launch).await?
            }
            Source::Reattach(reattach) => {
                if launch.secure.is_some() {
                    return Err(Error::SecureConfigAndReattach);
                }
                if launch.multiplex {
                    return Err(Error::MultiplexAndReattach);
                }
                let tls = launch.tls.map(TlsConfig::into_tls).unwrap_or_default();
                reattach::find(&reattach, tls).await?
            }
        };
        let session = Session::connect(target, attach).await?;
        let plugin = match relaunch {
            Some(relaunch) => Plugin::supervised(session, relaunch),
            None => Plugin::new(session),
        };
        cleanup::register(&plugin);
        Ok(Client {
            plugin,
            call_timeout,
        })
    }

    /// The session of the process that serves now.
    fn session(&self) -> Arc<Session> {
        self.plugin.session()
    }

    /// A client for interface `P` on this plugin. Like go-plugin's gRPC `Dispense`, this makes
    /// no call; the first method call does. The dispensed client keeps the plugin running.
    pub fn dispense<P: PluginInterface>(&self) -> Result<P::Client, Error> {
        if let Some(status) = self.plugin.exit().status() {
            return Err(Error::PluginExited { status });
        }
        Ok(P::client(self.connection()))
    }

    /// The connection, for services that are not generated by `#[plugin_interface]`. It keeps
    /// the plugin running, as a dispensed client does.
    pub fn connection(&self) -> Connection {
        let connection = self.plugin.connection();
        match self.call_timeout {
            Some(timeout) => connection.with_timeout(timeout),
            None => connection,
        }
    }

    /// The host's broker: serves brokered services (callbacks) for the plugin and dials the
    /// plugin's (go-plugin's `GRPCBroker` on the host side). For a supervised plugin, the
    /// broker of the process that serves now.
    pub fn broker(&self) -> Broker {
        self.session().broker().clone()
    }

    /// The app protocol version the plugin chose.
    pub fn negotiated_version(&self) -> u32 {
        self.session().version()
    }

    /// The plugin's process id (0 when a reattached plugin's is not known): for a supervised
    /// plugin, that of the process that serves now.
    pub fn pid(&self) -> u32 {
        self.session().pid()
    }

    /// What the plugin is doing, without polling: [`PluginState::Serving`] until its process
    /// ends, then [`PluginState::Stopped`]; with a [restart policy](ClientConfig::restart),
    /// [`PluginState::Restarting`] and [`PluginState::Starting`] in between, or
    /// [`PluginState::Failed`] once it is given up on.
    pub fn state(&self) -> tokio::sync::watch::Receiver<PluginState> {
        self.plugin.state()
    }

    /// Waits until the plugin serves: at once when it does, after its restart when it is being
    /// restarted. Fails when it never will again (stopped, exited, given up on).
    pub async fn serving(&self) -> Result<(), Error> {
        self.plugin.serving().await.map(drop)
    }

    /// Makes a call that is safe to make twice (idempotent), again on the new process each time
    /// the plugin died under it and was restarted, as often as the restart policy allows.
    /// Without a restart policy, or for any other error, it is `call()`.
    pub async fn retry_idempotent<T, E, F, Fut>(&self, mut call: F) -> Result<T, E>
    where
        E: PluginExitedError,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        loop {
            let before = self.session();
            match call().await {
                Err(err)
                    if err.plugin_exited()
                        && self.plugin.is_supervised()
                        && self.plugin.serving_other_than(Some(&before)).await.is_ok() => {}
                outcome => return outcome,
            }
        }
    }

    /// How another host can connect to this plugin with [`ClientConfig::reattach`]: protocol,
    /// version, address and pid (go-plugin's `ReattachConfig`; [`ReattachConfig::to_json`] gives
    /// the value format of Terraform's `TF_REATTACH_PROVIDERS`).
    pub fn reattach_config(&self) -> ReattachConfig {
        self.session().reattach_config()
    }

    /// Checks the plugin's health service for `"plugin"`, as go-plugin's `Ping` does, and that
    /// it answers `SERVING`.
    pub async fn ping(&self) -> Result<(), Error> {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

        let session = self.session();
        let exit = self.plugin.exit();
        if let Some(status) = exit.status() {
            return Err(Error::PluginExited { status });
        }
        let mut health = HealthClient::new(session.channel().clone());
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
                match exit.wait_for(exit::RESET_GRACE).await {
                    Some(exit_status) => Err(Error::PluginExited {
                        status: exit_status,
                    }),
                    None => Err(Error::Rpc(status)),
                }
            }
            Err(status) => Err(Error::Rpc(status)),
        }
    }

    /// Whether the plugin process has exited (for a supervised plugin: the last one, and no
    /// new one serves yet).
    pub fn exited(&self) -> bool {
        self.plugin.exit().has_exited()
    }

    /// Waits for the plugin process to exit and returns how it ended (for example
    /// `exit status: 0`). For a supervised plugin: the process that serves now.
    pub async fn wait(&self) -> Option<String> {
        self.session().exit().wait().await
    }

    /// Stops the plugin: asks it to shut down (`GRPCController.Shutdown`), waits for it to exit
    /// for the [shutdown grace](ClientConfig::shutdown_grace) (2 s by default, the ask included),
    /// then kills it. Processes the plugin started are killed too, whether it exited by itself
    /// or not.
    ///
    /// Returns within the grace period plus one second, whatever the plugin does (a plugin that
    /// ignores Shutdown, is stopped with SIGSTOP, or hangs). Safe to call more than once and from
    /// several tasks; calls in flight and later calls fail with [`Error::PluginExited`].
    pub async fn kill(&self) {
        self.plugin.kill().await;
    }
}

/// An error that can say a call failed because the plugin's process exited: [`Error`] and
/// [`PluginError`](crate::PluginError), which generated clients return. For
/// [`Client::retry_idempotent`].
pub trait PluginExitedError {
    /// Whether the call failed because the plugin's process exited.
    fn plugin_exited(&self) -> bool;
}

impl PluginExitedError for Error {
    fn plugin_exited(&self) -> bool {
        matches!(self, Error::PluginExited { .. })
    }
}

impl PluginExitedError for crate::error::PluginError {
    fn plugin_exited(&self) -> bool {
        self.code() == crate::error::Code::Unavailable
            && self.message().starts_with("plugin exited")
    }
}
