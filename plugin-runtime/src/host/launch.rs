//! Launching a plugin: spawn it with go-plugin's environment, mirror its log channel, and read
//! its handshake line. Everything the plugin may do wrong before it has a working address ends
//! here, with go-plugin's error texts, and the process is gone when an error is returned.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};

use super::log::{DEFAULT_BUFFER, StderrTail};
use super::process::{Pipes, PluginProcess, reap};
use super::secure::SecureConfig;
use super::session::Target;
use crate::error::Error;
use crate::net::listener::PrivateDir;
#[cfg(unix)]
use crate::net::listener::socket_parent;
use crate::net::tls::{HostIdentity, TlsConfig};
use crate::protocol::handshake::{self, HandshakeConfig};
use crate::rpc::exit;

/// How long a plugin that ended its stdout without a handshake gets to finish its stderr.
const LAST_WORDS: Duration = Duration::from_millis(1500);

/// go-plugin reads the handshake with a `bufio.Scanner`, whose longest line is 64 KiB.
const HANDSHAKE_LINE: usize = 64 * 1024;

/// What launching needs from the host's configuration.
pub(crate) struct Launch {
    pub(crate) handshake: HandshakeConfig,
    pub(crate) versions: Vec<u32>,
    pub(crate) secure: Option<SecureConfig>,
    pub(crate) auto_mtls: bool,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) multiplex: bool,
    pub(crate) start_timeout: Duration,
    pub(crate) skip_host_env: bool,
    pub(crate) ports: (u16, u16),
    /// A raw copy of the plugin's log channel (go-plugin's `Stderr`).
    pub(crate) stderr: Option<Box<dyn std::io::Write + Send>>,
    pub(crate) log_buffer: usize,
}

impl Launch {
    /// The same configuration without its raw log sink (`stderr`), which is not `Clone`.
    pub(crate) fn clone_without_sinks(&self) -> Self {
        Launch {
            handshake: self.handshake,
            versions: self.versions.clone(),
            secure: self.secure.clone(),
            auto_mtls: self.auto_mtls,
            tls: self.tls.clone(),
            multiplex: self.multiplex,
            start_timeout: self.start_timeout,
            skip_host_env: self.skip_host_env,
            ports: self.ports,
            stderr: None,
            log_buffer: self.log_buffer,
        }
    }
}

/// Starts `command` and reads its handshake: the plugin, ready to be connected to.
pub(crate) async fn launch(
    command: std::process::Command,
    config: Launch,
) -> Result<Target, Error> {
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
    } = config;

    let cookie_key = handshake.magic_cookie_key;
    let program = resolve_program(&command);
    if let Some(secure) = &secure {
        secure.check(&program)?;
    }
    let name = plugin_name(&command);
    let command_line = describe(&command);
    let identity = if auto_mtls {
        Some(HostIdentity::generate()?)
    } else {
        None
    };
    let socket_dir = socket_dir(&command)?;
    let mut command = prepare(command, &handshake, &versions, ports, skip_host_env);
    if multiplex {
        command.env("PLUGIN_MULTIPLEX_GRPC", "true");
    }
    if let Some(dir) = &socket_dir {
        command.env("PLUGIN_UNIX_SOCKET_DIR", dir.path());
    }
    if let Some(identity) = &identity {
        command.env("PLUGIN_CLIENT_CERT", identity.certificate_pem());
    }

    tracing::debug!(path = %program.display(), args = ?command.as_std().get_args().collect::<Vec<_>>(), "starting plugin");
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        command: command_line,
        source,
    })?;
    let pid = child.id().unwrap_or(0);
    tracing::debug!(path = %program.display(), pid, "plugin started");

    let (notifier, exit) = exit::channel();
    let mut pipes = Pipes::default();
    if let Some(pipe) = &child.stdout {
        pipes.watch(pipe);
    }
    if let Some(pipe) = &child.stderr {
        pipes.watch(pipe);
    }
    // From here on, returning early drops the process, which kills it.
    let process = PluginProcess::new(pid, pipes.clone());
    let (Some(stdout), Some(stderr_pipe)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(Error::Serve("plugin stdio pipes missing".to_owned()));
    };
    let tail = StderrTail::default();
    let mirror =
        super::log::mirror_stderr(stderr_pipe, name, Some(tail.writer(stderr)), log_buffer);
    let stderr_closed = pipes.clone();
    let process_reaped = process.reaped();
    let reaped_program = program.clone();
    let logs = tokio::spawn(async move {
        mirror.await;
        stderr_closed.closed();
    });
    tokio::spawn(async move {
        reap(child, process_reaped, logs, notifier, reaped_program).await;
        // The plugin is gone, and with it every socket of its own.
        drop(socket_dir);
    });

    tracing::debug!(plugin = %program.display(), "waiting for RPC address");
    let mut stdout = BufReader::with_capacity(HANDSHAKE_LINE, stdout);
    let first = tokio::select! {
        // In this order: a plugin that printed its last words and exited has both its stdout
        // at EOF and its exit seen by the time a loaded host looks, and the EOF path is the one
        // that reads those words (a cookie mismatch, for one).
        biased;
        line = read_first_line(&mut stdout) => line,
        // Only wins when something else (a child of the plugin) still holds stdout open.
        _ = exit.wait() => return Err(Error::ExitedBeforeConnect),
        () = tokio::time::sleep(start_timeout) => return Err(Error::StartTimeout),
    };
    let line = match first {
        FirstLine::Line(line) => line,
        FirstLine::Eof => {
            // The plugin is gone (or closed stdout): let its last words arrive first.
            let status = exit.wait_for(LAST_WORDS).await;
            let mut diagnostics = handshake::diagnostics(Some(&program), true);
            diagnostics.push_str(&last_words(status, &tail));
            if tail.render().contains(handshake::NOT_A_PLUGIN_FIRST_LINE) {
                return Err(Error::MagicCookieMismatch {
                    key: cookie_key.to_owned(),
                    diagnostics,
                });
            }
            return Err(Error::UnrecognizedMessage {
                line: String::new(),
                diagnostics,
            });
        }
        FirstLine::TooLong => {
            return Err(Error::Handshake(
                "error encountered while scanning stdout: bufio.Scanner: token too long".to_owned(),
            ));
        }
    };
    tokio::spawn(async move {
        drain(stdout).await;
        pipes.closed();
    });

    let handshake = handshake::parse_line(&line, &versions, multiplex, Some(&program))?;
    tracing::debug!(version = handshake.app_version, "using plugin");
    let tls = crate::net::tls::host_tls(identity, tls, handshake.server_cert.as_deref())?;
    Ok(Target {
        tls,
        multiplex,
        address: handshake.network,
        version: handshake.app_version,
        pid: process.pid(),
        exit,
        process: Some(process),
        test: false,
        notifier: None,
        tail: Some(tail),
    })
}

#[cfg(unix)]
/// A private directory (0700) for the plugin's sockets, removed once it has exited, unless the
/// command chose a directory or a group of its own (`PLUGIN_UNIX_SOCKET_DIR`,
/// `PLUGIN_UNIX_SOCKET_GROUP`). go-plugin's plugins, and ours, put their sockets there.
fn socket_dir(command: &std::process::Command) -> Result<Option<PrivateDir>, Error> {
    let chosen = command.get_envs().any(|(key, value)| {
        value.is_some() && (key == "PLUGIN_UNIX_SOCKET_DIR" || key == "PLUGIN_UNIX_SOCKET_GROUP")
    });
    if chosen {
        return Ok(None);
    }
    PrivateDir::create(&socket_parent())
        .map(Some)
        .map_err(|err| {
            Error::io(
                "failed to create a private directory for plugin sockets",
                err,
            )
        })
}

/// No Unix sockets on Windows: the plugin listens on TCP.
#[cfg(not(unix))]
fn socket_dir(_command: &std::process::Command) -> Result<Option<PrivateDir>, Error> {
    Ok(None)
}

/// Builds the child command with go-plugin's environment and stdio.
fn prepare(
    mut command: std::process::Command,
    handshake: &HandshakeConfig,
    versions: &[u32],
    ports: (u16, u16),
    skip_host_env: bool,
) -> tokio::process::Command {
    if skip_host_env {
        let own: Vec<(OsString, Option<OsString>)> = command
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
    command
        .env(handshake.magic_cookie_key, handshake.magic_cookie_value)
        .env("PLUGIN_MIN_PORT", ports.0.to_string())
        .env("PLUGIN_MAX_PORT", ports.1.to_string())
        .env(
            "PLUGIN_PROTOCOL_VERSIONS",
            handshake::protocol_versions_env(versions),
        )
        .env_remove("PLUGIN_MULTIPLEX_GRPC")
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // In the host's process group, with the host's stdin, as go-plugin does: a plugin can use
    // the user's terminal. Ctrl-C reaches it too; plugins ignore SIGINT and the host decides.
    tokio::process::Command::from(command)
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
        if line.len() > HANDSHAKE_LINE {
            return FirstLine::TooLong;
        }
    }
}

/// Reads and discards the rest of stdout so a chatty plugin never blocks on a full pipe.
async fn drain<R: AsyncRead + Unpin>(mut reader: R) {
    let mut buf = vec![0u8; 8192];
    while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
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

/// The executable the command runs, searched in `PATH` as exec does (the command's own `PATH`
/// when it sets one), for the checksum and the diagnostics block.
pub(crate) fn resolve_program(command: &std::process::Command) -> PathBuf {
    let program = command.get_program();
    let path = Path::new(program);
    if path.components().count() > 1 {
        return path.to_path_buf();
    }
    let search = command
        .get_envs()
        .find(|(key, _)| *key == "PATH")
        .map(|(_, value)| value.map(OsStr::to_owned))
        .unwrap_or_else(|| std::env::var_os("PATH"));
    search
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(path))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| path.to_path_buf())
}

/// The default for [`Launch::log_buffer`]: go-plugin's `PluginLogBufferSize`.
pub(crate) const DEFAULT_LOG_BUFFER: usize = DEFAULT_BUFFER;
