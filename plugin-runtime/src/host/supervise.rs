//! A started plugin as every handle on it sees it ([`Plugin`]), and its supervision: with a
//! [`RestartPolicy`], a plugin that dies unexpectedly is started again, and clients dispensed
//! before go on working with the new process.
//!
//! What a supervised plugin's connections hold is the plugin, not one process: a channel that
//! dials whichever process serves now, an exit watch that says "exited" from a death until the
//! new process serves, and the current process's broker.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::AsyncWrite;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::launch::{self, Launch};
use super::session::{Attach, Session};
use crate::error::Error;
use crate::net::channel::Channel;
use crate::rpc::broker::Broker;
use crate::rpc::connection::{Brokers, Connection, KeepAlive};
use crate::rpc::exit::{self, ExitNotifier, ExitWatch};
use crate::sync::lock;

/// When and how often a plugin that died unexpectedly is started again
/// ([`ClientConfig::restart`](crate::ClientConfig::restart)).
///
/// A plugin "dies unexpectedly" when its process ends while the host did not ask it to (with
/// [`Client::kill`](crate::Client::kill), a dropped client, or `cleanup_clients`) and not with
/// exit status 0: a crash, a signal, a non-zero exit. Each restart waits a backoff first, which
/// doubles with every restart in the window (from `initial` up to `max`). When the window
/// already holds `max_restarts` restarts, the plugin is given up on:
/// [`PluginState::Failed`] with [`Error::RestartsExhausted`], which carries the last lines it
/// wrote to stderr. A plugin that fails its handshake the same way every time (wrong cookie,
/// incompatible version, checksum) fails at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    max_restarts: u32,
    window: Duration,
    initial_backoff: Duration,
    max_backoff: Duration,
}

impl RestartPolicy {
    /// At most `max_restarts` restarts within any `window`, after a backoff of 100 ms doubling up
    /// to 10 s.
    pub fn new(max_restarts: u32, window: Duration) -> Self {
        RestartPolicy {
            max_restarts,
            window,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }

    /// The backoff before the first restart in the window, and the most it doubles to.
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// The backoff before a restart when `earlier` restarts are in the window.
    fn delay(&self, earlier: usize) -> Duration {
        let factor = 1u32.checked_shl(earlier.min(31) as u32).unwrap_or(u32::MAX);
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// What a plugin is doing, as [`Client::state`](crate::Client::state) reports it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum PluginState {
    /// Its process serves calls.
    Serving {
        /// The serving process.
        pid: u32,
    },
    /// Its process died unexpectedly; a new one starts after the backoff.
    Restarting {
        /// The restart about to be made, counted from 1 within the policy's window.
        attempt: u32,
        /// How the process ended (`signal: 9 (SIGKILL)`), when known.
        last_exit: Option<String>,
    },
    /// A new process is starting.
    Starting {
        /// The restart being made.
        attempt: u32,
    },
    /// Given up on: the restart budget was spent, or a restart failed in a way a retry would
    /// repeat. Calls fail with [`Error::PluginExited`].
    Failed {
        /// Why.
        error: Arc<Error>,
    },
    /// Stopped by the host, or exited by itself (unsupervised, or with status 0).
    Stopped,
}

/// A command to run again: what `std::process::Command` lets a caller read back (program,
/// arguments, environment changes, working directory).
struct CommandSpec {
    program: OsString,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    dir: Option<PathBuf>,
}

impl CommandSpec {
    fn of(command: &std::process::Command) -> Self {
        CommandSpec {
            program: command.get_program().to_owned(),
            args: command.get_args().map(ToOwned::to_owned).collect(),
            envs: command
                .get_envs()
                .map(|(key, value)| (key.to_owned(), value.map(ToOwned::to_owned)))
                .collect(),
            dir: command.get_current_dir().map(ToOwned::to_owned),
        }
    }

    fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(&self.program);
        command.args(&self.args);
        for (key, value) in &self.envs {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
    }
}

/// Everything a restart needs, the sinks shared by every process the plugin runs as.
pub(crate) struct Relaunch {
    spec: CommandSpec,
    /// Behind a lock only to be `Sync` (a `Launch` may hold a sink); never contended.
    launch: Mutex<Launch>,
    stderr: Option<SharedWrite>,
    sync_stdout: Option<SharedAsyncWrite>,
    sync_stderr: Option<SharedAsyncWrite>,
    grace: Duration,
    policy: RestartPolicy,
}

impl Relaunch {
    /// What relaunching `command` needs, taken from the configuration before its first start,
    /// with its sinks made shareable (`launch` and `attach` are then used for the first start).
    pub(crate) fn new(
        command: &std::process::Command,
        launch: &mut Launch,
        attach: &mut Attach,
        policy: RestartPolicy,
    ) -> Self {
        let stderr = launch.stderr.take().map(SharedWrite::new);
        launch.stderr = stderr.clone().map(|w| Box::new(w) as _);
        let sync_stdout = attach.sync_stdout.take().map(SharedAsyncWrite::new);
        attach.sync_stdout = sync_stdout.clone().map(|w| Box::new(w) as _);
        let sync_stderr = attach.sync_stderr.take().map(SharedAsyncWrite::new);
        attach.sync_stderr = sync_stderr.clone().map(|w| Box::new(w) as _);
        Relaunch {
            spec: CommandSpec::of(command),
            launch: Mutex::new(launch.clone_without_sinks()),
            stderr,
            sync_stdout,
            sync_stderr,
            grace: attach.grace,
            policy,
        }
    }

    /// Starts the command again and connects to it.
    async fn start(&self) -> Result<Arc<Session>, Error> {
        let mut launch = lock(&self.launch).clone_without_sinks();
        launch.stderr = self.stderr.clone().map(|w| Box::new(w) as _);
        let target = launch::launch(self.spec.command(), launch).await?;
        let attach = Attach {
            sync_stdout: self.sync_stdout.clone().map(|w| Box::new(w) as _),
            sync_stderr: self.sync_stderr.clone().map(|w| Box::new(w) as _),
            grace: self.grace,
            through_tonic: false,
        };
        Session::connect(target, attach).await
    }
}

/// Whether a failed start might go better the next time: a plugin that crashed or hung while
/// starting. A handshake refused for what the plugin is (cookie, version, checksum, TLS) would
/// fail the same way again.
fn worth_retrying(err: &Error) -> bool {
    match err {
        Error::ExitedBeforeConnect | Error::StartTimeout | Error::Io { .. } => true,
        Error::UnrecognizedMessage { line, .. } => line.is_empty(),
        _ => false,
    }
}

/// A started plugin: the session of the process that serves now, its state, and (with a restart
/// policy) its supervision. Every handle on the plugin holds this.
#[derive(Debug)]
pub(crate) struct Plugin {
    current: Mutex<Arc<Session>>,
    state: watch::Sender<PluginState>,
    supervision: Option<Supervision>,
}

/// What a supervised plugin's handles share across its processes.
struct Supervision {
    /// "Exited" from a death until the next process serves (what its connections watch).
    exit: ExitNotifier,
    exit_watch: ExitWatch,
    /// Dials whichever process serves now.
    channel: Channel,
    /// Set once the host stops the plugin: nothing is restarted after.
    stopping: AtomicBool,
    /// Wakes a backoff when the host stops the plugin.
    stopped: Arc<Notify>,
    /// Held while a process is started and put in place, and by `kill`.
    starting: tokio::sync::Mutex<()>,
}

impl Supervision {
    /// Whether the host has stopped the plugin.
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

/// The supervised plugin, while it has handles and the host has not stopped it.
fn still_wanted(plugin: &Weak<Plugin>) -> Option<Arc<Plugin>> {
    plugin
        .upgrade()
        .filter(|plugin| plugin.supervision.as_ref().is_some_and(|s| !s.stopping()))
}

impl std::fmt::Debug for Supervision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervision")
            .field("stopping", &self.stopping())
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// A plugin that is not restarted: its state follows its one process.
    pub(crate) fn new(session: Arc<Session>) -> Arc<Self> {
        let (state, _) = watch::channel(PluginState::Serving { pid: session.pid() });
        let plugin = Arc::new(Plugin {
            current: Mutex::new(Arc::clone(&session)),
            state,
            supervision: None,
        });
        let weak = Arc::downgrade(&plugin);
        let exit = session.exit().clone();
        tokio::spawn(async move {
            exit.wait().await;
            if let Some(plugin) = weak.upgrade() {
                plugin.state.send_replace(PluginState::Stopped);
            }
        });
        plugin
    }

    /// A plugin restarted by `relaunch`'s policy when it dies unexpectedly.
    pub(crate) fn supervised(session: Arc<Session>, relaunch: Relaunch) -> Arc<Self> {
        let (state, _) = watch::channel(PluginState::Serving { pid: session.pid() });
        let (exit, exit_watch) = exit::channel();
        let plugin = Arc::new_cyclic(|weak: &Weak<Plugin>| {
            let weak = weak.clone();
            let channel = Channel::dial_with(Arc::new(move || {
                let weak = weak.clone();
                Box::pin(async move {
                    let plugin = weak.upgrade().ok_or_else(gone)?;
                    let session = plugin.serving().await.map_err(|_| gone())?;
                    drop(plugin);
                    session.dial().await
                })
            }));
            Plugin {
                current: Mutex::new(session),
                state,
                supervision: Some(Supervision {
                    exit,
                    exit_watch,
                    channel,
                    stopping: AtomicBool::new(false),
                    stopped: Arc::new(Notify::new()),
                    starting: tokio::sync::Mutex::new(()),
                }),
            }
        });
        tokio::spawn(supervise(Arc::downgrade(&plugin), relaunch));
        plugin
    }

    /// The session of the process that serves now (or served last).
    pub(crate) fn session(&self) -> Arc<Session> {
        Arc::clone(&lock(&self.current))
    }

    /// Whether the plugin is down, as its connections see it.
    pub(crate) fn exit(&self) -> ExitWatch {
        match &self.supervision {
            Some(supervision) => supervision.exit_watch.clone(),
            None => self.session().exit().clone(),
        }
    }

    pub(crate) fn state(&self) -> watch::Receiver<PluginState> {
        self.state.subscribe()
    }

    pub(crate) fn is_supervised(&self) -> bool {
        self.supervision.is_some()
    }

    /// A connection to the plugin that keeps it running; a supervised plugin's follows it to
    /// each new process.
    pub(crate) fn connection(self: &Arc<Self>) -> Connection {
        match &self.supervision {
            None => {
                let session = self.session();
                Connection::new(
                    session.channel().clone(),
                    Some(session.exit().clone()),
                    Some(Arc::clone(&session) as KeepAlive),
                    Some(Brokers::Fixed(session.broker().clone())),
                )
            }
            Some(supervision) => {
                let weak = Arc::downgrade(self);
                let current = move || -> Option<Broker> {
                    weak.upgrade()
                        .map(|plugin| plugin.session().broker().clone())
                };
                Connection::new(
                    supervision.channel.clone(),
                    Some(supervision.exit_watch.clone()),
                    Some(Arc::clone(self) as KeepAlive),
                    Some(Brokers::Current(Arc::new(current))),
                )
            }
        }
    }

    /// The session once the plugin serves; an error once it never will again.
    pub(crate) async fn serving(&self) -> Result<Arc<Session>, Error> {
        self.serving_other_than(None).await
    }

    /// The session once the plugin serves with a process other than `previous`'s (when given);
    /// an error once it never will again.
    pub(crate) async fn serving_other_than(
        &self,
        previous: Option<&Arc<Session>>,
    ) -> Result<Arc<Session>, Error> {
        let mut state = self.state.subscribe();
        loop {
            let current = state.borrow_and_update().clone();
            match current {
                PluginState::Serving { .. } => {
                    let session = self.session();
                    if previous.is_none_or(|previous| !Arc::ptr_eq(previous, &session)) {
                        return Ok(session);
                    }
                }
                PluginState::Failed { error } => return Err(Error::Serve(error.to_string())),
                PluginState::Stopped => {
                    return Err(Error::PluginExited {
                        status: self.session().exit().status().flatten(),
                    });
                }
                PluginState::Restarting { .. } | PluginState::Starting { .. } => {}
            }
            if state.changed().await.is_err() {
                return Err(Error::PluginExited { status: None });
            }
        }
    }

    /// Stops the plugin, and with it any supervision: nothing is restarted afterwards.
    pub(crate) async fn kill(&self) {
        let Some(supervision) = &self.supervision else {
            self.session().kill().await;
            return;
        };
        supervision.stopping.store(true, Ordering::SeqCst);
        supervision.stopped.notify_waiters();
        // A restart under way finishes first; its process is then the one stopped.
        let _starting = supervision.starting.lock().await;
        let session = self.session();
        session.kill().await;
        let status = session.exit().status().flatten();
        supervision.exit.exited(status);
        self.state.send_if_modified(|state| {
            if matches!(state, PluginState::Failed { .. }) {
                return false;
            }
            *state = PluginState::Stopped;
            true
        });
    }
}

fn gone() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::NotConnected,
        "the plugin is not running",
    )
}

/// Watches the serving process; when it dies unexpectedly, starts a new one within the policy.
async fn supervise(plugin: Weak<Plugin>, relaunch: Relaunch) {
    let mut restarts: VecDeque<Instant> = VecDeque::new();
    loop {
        // Waiting for a death holds no handle: dropping every client still stops the plugin.
        let exit = match plugin.upgrade() {
            Some(plugin) => plugin.session().exit().clone(),
            None => return,
        };
        let status = exit.wait().await;
        let Some(strong) = still_wanted(&plugin) else {
            return;
        };
        let Some(supervision) = &strong.supervision else {
            return;
        };
        supervision.exit.exited(status.clone());
        if exit::is_clean(status.as_deref()) {
            tracing::info!("plugin exited cleanly; not restarting it");
            strong.state.send_replace(PluginState::Stopped);
            return;
        }
        let mut last_exit = status;
        let mut last_stderr = strong.session().last_stderr();
        drop(strong);
        loop {
            let now = Instant::now();
            while restarts
                .front()
                .is_some_and(|at| now.duration_since(*at) > relaunch.policy.window)
            {
                restarts.pop_front();
            }
            let Some(strong) = still_wanted(&plugin) else {
                return;
            };
            let Some(supervision) = &strong.supervision else {
                return;
            };
            if restarts.len() >= relaunch.policy.max_restarts as usize {
                let error = Error::RestartsExhausted {
                    restarts: relaunch.policy.max_restarts,
                    window: relaunch.policy.window,
                    last_exit: last_exit.clone(),
                    stderr: last_stderr.clone(),
                };
                tracing::error!(error = %error, "plugin given up on");
                strong.state.send_replace(PluginState::Failed {
                    error: Arc::new(error),
                });
                return;
            }
            let attempt = restarts.len() as u32 + 1;
            let delay = relaunch.policy.delay(restarts.len());
            tracing::warn!(attempt, ?last_exit, ?delay, "plugin died; restarting it");
            strong.state.send_replace(PluginState::Restarting {
                attempt,
                last_exit: last_exit.clone(),
            });
            // The backoff, cut short when the host stops the plugin; it holds no handle either.
            let stop = Arc::clone(&supervision.stopped);
            drop(strong);
            let stopped = stop.notified();
            tokio::pin!(stopped);
            stopped.as_mut().enable();
            if still_wanted(&plugin).is_none() {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = &mut stopped => return,
            }
            let Some(strong) = still_wanted(&plugin) else {
                return;
            };
            let Some(supervision) = &strong.supervision else {
                return;
            };
            // `kill` may have taken the lock first.
            let _starting = supervision.starting.lock().await;
            if supervision.stopping() {
                return;
            }
            restarts.push_back(Instant::now());
            strong.state.send_replace(PluginState::Starting { attempt });
            match relaunch.start().await {
                Ok(session) => {
                    let pid = session.pid();
                    *lock(&strong.current) = session;
                    supervision.exit.revive();
                    strong.state.send_replace(PluginState::Serving { pid });
                    tracing::info!(pid, attempt, "plugin restarted");
                    break;
                }
                Err(err) if worth_retrying(&err) => {
                    tracing::warn!(error = %err, attempt, "plugin restart failed");
                    last_exit = None;
                    last_stderr = err.to_string();
                }
                Err(err) => {
                    tracing::error!(error = %err, "plugin restart failed; giving up");
                    strong.state.send_replace(PluginState::Failed {
                        error: Arc::new(err),
                    });
                    return;
                }
            }
        }
    }
}

/// A `std::io::Write` sink shared by every process a supervised plugin runs as.
#[derive(Clone)]
struct SharedWrite(Arc<Mutex<Box<dyn std::io::Write + Send>>>);

impl SharedWrite {
    fn new(inner: Box<dyn std::io::Write + Send>) -> Self {
        SharedWrite(Arc::new(Mutex::new(inner)))
    }
}

impl std::io::Write for SharedWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.0).write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        lock(&self.0).flush()
    }
}

/// An `AsyncWrite` sink shared by every process a supervised plugin runs as. The lock is held
/// for one poll, never across an await.
#[derive(Clone)]
struct SharedAsyncWrite(Arc<Mutex<Box<dyn AsyncWrite + Send + Unpin>>>);

impl SharedAsyncWrite {
    fn new(inner: Box<dyn AsyncWrite + Send + Unpin>) -> Self {
        SharedAsyncWrite(Arc::new(Mutex::new(inner)))
    }

    fn with<T>(&self, f: impl FnOnce(Pin<&mut (dyn AsyncWrite + Send + Unpin)>) -> T) -> T {
        let mut inner = lock(&self.0);
        f(Pin::new(&mut **inner))
    }
}

impl AsyncWrite for SharedAsyncWrite {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.with(|inner| inner.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.with(|inner| inner.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        // Each process's copy ends; the sink goes on for the next one.
        self.with(|inner| inner.poll_flush(cx))
    }
}
