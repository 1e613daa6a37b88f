//! Starting the plugin as a go-plugin host does, and watching everything it does: the lines on
//! stdout up to its handshake (and how long they took), every line on stderr, its exit. The only
//! module besides `orphan` that spawns processes.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::handshake::{Startup, looks_like_handshake};
use crate::sys;

/// Lines before a handshake kept as evidence; a plugin that prints more is stopped reading.
const GARBAGE_LINES: usize = 20;

/// go-plugin's `bufio.Scanner` limit for the handshake line.
const LONGEST_LINE: usize = 64 * 1024;

/// What the host puts in the plugin's environment.
#[derive(Clone, Debug, Default)]
pub(crate) struct HostEnv {
    /// The magic cookie, or none for the run without it.
    pub(crate) cookie: Option<(String, String)>,
    /// `PLUGIN_PROTOCOL_VERSIONS`.
    pub(crate) versions: String,
    /// `PLUGIN_CLIENT_CERT` (AutoMTLS).
    pub(crate) client_cert: Option<String>,
    /// `PLUGIN_MULTIPLEX_GRPC=true`.
    pub(crate) multiplex: bool,
    /// `PLUGIN_UNIX_SOCKET_DIR`: the doctor's own directory, removed when it is done.
    pub(crate) socket_dir: Option<PathBuf>,
    /// The cookie's variable, removed from the inherited environment for the run without it.
    pub(crate) cookie_key: String,
}

impl HostEnv {
    /// Sets go-plugin's variables on `command`, removing any the doctor itself inherited.
    pub(crate) fn apply(&self, command: &mut std::process::Command) {
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("PLUGIN_") {
                command.env_remove(key);
            }
        }
        command.env_remove(&self.cookie_key);
        if let Some((key, value)) = &self.cookie {
            command.env(key, value);
        }
        command
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_PROTOCOL_VERSIONS", &self.versions);
        if let Some(cert) = &self.client_cert {
            command.env("PLUGIN_CLIENT_CERT", cert);
        }
        if self.multiplex {
            command.env("PLUGIN_MULTIPLEX_GRPC", "true");
        }
        if let Some(dir) = &self.socket_dir {
            command.env("PLUGIN_UNIX_SOCKET_DIR", dir);
        }
    }
}

/// A launched plugin. Dropping it kills the process.
#[derive(Debug)]
pub(crate) struct Plugin {
    child: Child,
    pub(crate) pid: u32,
    pub(crate) startup: Startup,
    stderr: Arc<Mutex<Vec<Vec<u8>>>>,
    stderr_done: Option<JoinHandle<()>>,
    drain: Option<JoinHandle<()>>,
    status: Option<ExitStatus>,
}

impl Plugin {
    /// Starts `command` with `env` (stdin inherited, stdout and stderr piped, as go-plugin does)
    /// and reads stdout up to the handshake line, for at most `timeout`.
    pub(crate) async fn launch(
        command: &[String],
        env: &HostEnv,
        timeout: Duration,
    ) -> std::io::Result<Plugin> {
        let mut std_command = std::process::Command::new(&command[0]);
        std_command.args(&command[1..]);
        env.apply(&mut std_command);
        std_command
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut command = Command::from(std_command);
        command.kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn()?;
        let pid = child.id().unwrap_or(0);
        let (Some(stdout), Some(stderr_pipe)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(std::io::Error::other("the plugin's pipes are missing"));
        };
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_done = tokio::spawn(collect_lines(stderr_pipe, Arc::clone(&stderr)));

        let mut stdout = BufReader::new(stdout);
        let mut startup = tokio::time::timeout(timeout, read_handshake(&mut stdout))
            .await
            .unwrap_or_else(|_| Startup {
                ended: Some(format!("printed no handshake within {timeout:?}")),
                ..Startup::default()
            });
        startup.elapsed = started.elapsed();
        let drain = tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            while matches!(stdout.read(&mut buf).await, Ok(n) if n > 0) {}
        });
        let mut plugin = Plugin {
            child,
            pid,
            startup,
            stderr,
            stderr_done: Some(stderr_done),
            drain: Some(drain),
            status: None,
        };
        if plugin.startup.line.is_none() {
            // Say how it ended: exited (with what), or still running.
            let ended = match plugin.wait_exit(Duration::from_millis(500)).await {
                Some(status) => format!("exited ({status})"),
                None => plugin
                    .startup
                    .ended
                    .clone()
                    .unwrap_or_else(|| "closed its stdout".to_owned()),
            };
            plugin.startup.ended = Some(ended);
        }
        Ok(plugin)
    }

    /// The exit status, waiting at most `limit` for it.
    pub(crate) async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        if self.status.is_none()
            && let Ok(Ok(status)) = tokio::time::timeout(limit, self.child.wait()).await
        {
            self.status = Some(status);
        }
        self.status
    }

    /// Whether the process is still running.
    pub(crate) fn running(&mut self) -> bool {
        if self.status.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.status = Some(status);
        }
        self.status.is_none()
    }

    /// Sends SIGINT to the plugin (only while it is our unreaped child, so the pid is its own),
    /// where the OS can ([`sys::CAN_INTERRUPT`]).
    pub(crate) fn interrupt(&mut self) {
        if self.running() {
            sys::interrupt(self.pid);
        }
    }

    /// SIGKILL, and wait for it.
    pub(crate) async fn kill(&mut self) {
        if self.running() {
            let _ = self.child.start_kill();
            self.wait_exit(Duration::from_secs(5)).await;
        }
    }

    /// Every stderr line, once the plugin is gone (killing it if need be) and its stderr has
    /// ended, or a second later if something it started still holds the pipe.
    pub(crate) async fn finish(&mut self) -> Vec<Vec<u8>> {
        self.kill().await;
        if let Some(done) = self.stderr_done.take() {
            let _ = tokio::time::timeout(Duration::from_secs(1), done).await;
        }
        if let Some(drain) = self.drain.take() {
            drain.abort();
        }
        self.stderr_lines()
    }

    /// The stderr lines so far.
    pub(crate) fn stderr_lines(&self) -> Vec<Vec<u8>> {
        self.stderr
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }
}

/// Reads lines until one looks like a handshake, keeping the ones before it.
async fn read_handshake<R: AsyncRead + Unpin>(stdout: &mut BufReader<R>) -> Startup {
    let mut startup = Startup::default();
    loop {
        let mut line = Vec::new();
        match (&mut *stdout)
            .take(LONGEST_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
        {
            Ok(0) | Err(_) => {
                startup.ended = Some("closed its stdout".to_owned());
                return startup;
            }
            Ok(_) => {}
        }
        let newline = line.ends_with(b"\n");
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        if looks_like_handshake(&text) {
            startup.line = Some(text);
            startup.newline = newline;
            return startup;
        }
        startup.garbage.push(text);
        if startup.garbage.len() >= GARBAGE_LINES {
            startup.ended = Some(format!("printed {GARBAGE_LINES} lines, none a handshake"));
            return startup;
        }
    }
}

async fn collect_lines<R: AsyncRead + Unpin>(pipe: R, lines: Arc<Mutex<Vec<Vec<u8>>>>) {
    let mut reader = BufReader::new(pipe);
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                while matches!(line.last(), Some(b'\n' | b'\r')) {
                    line.pop();
                }
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        }
    }
}

/// A directory of the doctor's own (0700) for the plugins' sockets, removed when dropped. Only
/// where plugins listen on Unix sockets ([`sys::UNIX_SOCKETS`]).
#[derive(Debug)]
pub(crate) struct SocketDir(pub(crate) PathBuf);

impl SocketDir {
    pub(crate) fn create() -> std::io::Result<SocketDir> {
        let base = std::env::temp_dir();
        for attempt in 0..100u32 {
            let path = base.join(format!("plugin-doctor-{}-{attempt}", std::process::id()));
            match sys::create_private_dir(&path) {
                Ok(()) => return Ok(SocketDir(path)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
        Err(std::io::Error::other(
            "no free directory name for the plugins' sockets",
        ))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
