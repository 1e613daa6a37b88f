//! The plugin's listening socket: a Unix socket by default, TCP on loopback when asked.
//!
//! The rules follow go-plugin's `serverListener`: the socket lives in `PLUGIN_UNIX_SOCKET_DIR`
//! (or the temporary directory) under a `plugin<digits>` name and is group-writable for
//! `PLUGIN_UNIX_SOCKET_GROUP`; TCP binds the first free port of `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT`
//! on 127.0.0.1. The socket file is removed when the listener is dropped. On Windows, as with
//! go-plugin, a plugin always listens on TCP.

#[cfg(unix)]
use std::path::{Path, PathBuf};

use tokio::net::TcpListener;
#[cfg(unix)]
use tokio::net::UnixListener;

use super::io::BoxedIo;
use crate::error::Error;
#[cfg(unix)]
use crate::sys::net::socket_path_max;
#[cfg(unix)]
use crate::sys::users::{create_private_dir, group_id, set_group, set_mode};

/// Which kind of socket a plugin listens on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A Unix domain socket (what go-plugin uses everywhere but Windows; TCP there).
    #[default]
    Unix,
    /// TCP on 127.0.0.1, in the port range the host set.
    Tcp,
}

/// A bound listener and the address it prints in the handshake.
#[derive(Debug)]
pub(crate) enum Listener {
    #[cfg(unix)]
    Unix {
        listener: UnixListener,
        socket: SocketFile,
    },
    Tcp {
        listener: TcpListener,
    },
}

impl Listener {
    /// `unix` or `tcp`: field 3 of the handshake.
    pub(crate) fn network(&self) -> &'static str {
        match self {
            #[cfg(unix)]
            Listener::Unix { .. } => "unix",
            Listener::Tcp { .. } => "tcp",
        }
    }

    /// The socket path or `127.0.0.1:port`: field 4 of the handshake.
    pub(crate) fn address(&self) -> String {
        match self {
            #[cfg(unix)]
            Listener::Unix { socket, .. } => socket.path().display().to_string(),
            Listener::Tcp { listener } => match listener.local_addr() {
                Ok(addr) => addr.to_string(),
                Err(_) => String::new(),
            },
        }
    }

    /// The next connection, as it is; Nagle's algorithm off on TCP.
    pub(crate) async fn accept(&self) -> std::io::Result<BoxedIo> {
        match self {
            #[cfg(unix)]
            Listener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(Box::pin(stream))
            }
            Listener::Tcp { listener } => {
                let (stream, _) = listener.accept().await?;
                let _ = stream.set_nodelay(true);
                Ok(Box::pin(stream))
            }
        }
    }
}

#[cfg(unix)]
/// Removes the socket file when dropped, and the private directory it was made in, so a plugin
/// leaves nothing behind.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    /// Dropped after the socket file is removed.
    _private_dir: Option<PrivateDir>,
}

#[cfg(unix)]
/// A private directory that is removed, with what is left in it, when dropped.
#[derive(Debug)]
pub(crate) struct PrivateDir(PathBuf);

#[cfg(unix)]
/// The longest name of a socket or private directory that this module makes: `plugin` or
/// `plugin-dir` and ten digits.
const LONGEST_NAME: usize = "plugin-dir".len() + 10;

#[cfg(unix)]
/// Where sockets and their private directories go: the temporary directory, unless a socket in
/// a private directory there would not fit the OS's limit on socket paths (103 bytes on macOS,
/// whose `$TMPDIR` is long: terraform#22198), and then `/tmp`.
pub(crate) fn socket_parent() -> PathBuf {
    let temp = std::env::temp_dir();
    let longest = temp.as_os_str().len() + 2 * (1 + LONGEST_NAME);
    if longest > socket_path_max() && Path::new("/tmp").is_dir() {
        tracing::debug!(
            temp_dir = %temp.display(),
            "temporary directory too long for socket paths, using /tmp"
        );
        return PathBuf::from("/tmp");
    }
    temp
}

#[cfg(unix)]
impl PrivateDir {
    /// A new directory only this user can enter (0700), in `parent`, for the sockets of one
    /// plugin: other local users cannot even reach them, whatever the sockets' own modes.
    pub(crate) fn create(parent: &Path) -> std::io::Result<PrivateDir> {
        let mut last_error = None;
        for _ in 0..16 {
            let dir = parent.join(format!("plugin-dir{}", random_digits()));
            match create_private_dir(&dir) {
                Ok(()) => return Ok(PrivateDir(dir)),
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                    last_error = Some(err)
                }
                Err(err) => return Err(err),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no free directory name")))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

#[cfg(unix)]
impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// None on Windows, where plugins listen on TCP.
#[cfg(not(unix))]
#[derive(Debug)]
pub(crate) enum PrivateDir {}

#[cfg(not(unix))]
impl PrivateDir {
    pub(crate) fn path(&self) -> &std::path::Path {
        match *self {}
    }
}

#[cfg(not(unix))]
impl Drop for PrivateDir {
    fn drop(&mut self) {
        match *self {}
    }
}

#[cfg(unix)]
impl SocketFile {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the listener the environment asks for.
pub(crate) async fn bind(transport: Transport) -> Result<Listener, Error> {
    match transport {
        #[cfg(unix)]
        Transport::Unix => bind_unix().await,
        #[cfg(not(unix))]
        Transport::Unix => bind_tcp().await,
        Transport::Tcp => bind_tcp().await,
    }
}

#[cfg(unix)]
/// The socket goes where the host says (`PLUGIN_UNIX_SOCKET_DIR`), in the shared temporary
/// directory when a group must reach it (`PLUGIN_UNIX_SOCKET_GROUP`), and otherwise in a private
/// directory of its own.
async fn bind_unix() -> Result<Listener, Error> {
    let group = std::env::var_os("PLUGIN_UNIX_SOCKET_GROUP").filter(|group| !group.is_empty());
    let mut private_dir = None;
    let dir = match std::env::var_os("PLUGIN_UNIX_SOCKET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ if group.is_some() => socket_parent(),
        _ => {
            let dir = PrivateDir::create(&socket_parent()).map_err(|err| {
                Error::io(
                    "failed to create a private directory for the plugin socket",
                    err,
                )
            })?;
            private_dir.insert(dir).path().to_path_buf()
        }
    };
    let longest = dir.as_os_str().len() + 1 + LONGEST_NAME;
    if longest > socket_path_max() {
        return Err(Error::Serve(format!(
            "socket directory {} is too long: a socket path in it would exceed the {} bytes \
             this OS allows; set PLUGIN_UNIX_SOCKET_DIR to a shorter directory",
            dir.display(),
            socket_path_max()
        )));
    }
    let mut last_error = None;
    // A name collision with another plugin is possible but rare; a few tries settle it.
    for _ in 0..16 {
        let path = dir.join(format!("plugin{}", random_digits()));
        match UnixListener::bind(&path) {
            Ok(listener) => {
                let socket = SocketFile {
                    path,
                    _private_dir: private_dir.take(),
                };
                if let Some(group) = &group {
                    set_group_writable(socket.path(), &group.to_string_lossy())?;
                }
                return Ok(Listener::Unix { listener, socket });
            }
            Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => last_error = Some(err),
            Err(err) => {
                return Err(Error::io(
                    format!("failed to listen on unix socket {}", path.display()),
                    err,
                ));
            }
        }
    }
    Err(Error::io(
        format!("failed to find a free socket name in {}", dir.display()),
        last_error.unwrap_or_else(|| std::io::Error::other("address in use")),
    ))
}

#[cfg(unix)]
fn random_digits() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    if let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        hasher.write_u128(elapsed.as_nanos());
    }
    hasher.finish() % 10_000_000_000
}

#[cfg(unix)]
/// `chgrp` the socket to `group` (a name or a numeric id) and make it `0660`, as go-plugin does.
fn set_group_writable(path: &Path, group: &str) -> Result<(), Error> {
    let gid = group_id(group).ok_or_else(|| {
        Error::Serve(format!(
            "failed to find gid from {group:?}: group: unknown group {group}"
        ))
    })?;
    set_group(path, gid)
        .map_err(|err| Error::io(format!("failed to change group of {}", path.display()), err))?;
    set_mode(path, 0o660).map_err(|err| {
        Error::io(
            format!("failed to set permissions of {}", path.display()),
            err,
        )
    })
}

fn port_from_env(name: &str) -> Result<u16, Error> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value
            .parse::<u16>()
            .map_err(|err| Error::Serve(format!("couldn't get value from {name}: {err}"))),
        _ => Ok(0),
    }
}

async fn bind_tcp() -> Result<Listener, Error> {
    let min = port_from_env("PLUGIN_MIN_PORT")?;
    let max = port_from_env("PLUGIN_MAX_PORT")?;
    if min > max {
        return Err(Error::Serve(format!(
            "PLUGIN_MIN_PORT value of {min} is greater than PLUGIN_MAX_PORT value of {max}"
        )));
    }
    for port in min..=max {
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)).await {
            return Ok(Listener::Tcp { listener });
        }
    }
    Err(Error::Serve("couldn't bind plugin TCP listener".to_owned()))
}
