//! The runtime's one error type, and [`PluginError`], a ready-made error type for interfaces.

use std::fmt;
use std::path::PathBuf;

pub use tonic::{Code, Status};

/// Everything that can go wrong while serving or launching a plugin, or calling one.
///
/// Where go-plugin has an error text that users search for, the message uses the same words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin command could not be started at all.
    #[error("failed to start plugin command {command:?}: {source}")]
    Spawn {
        /// The command line that was run.
        command: String,
        /// Why the operating system refused.
        source: std::io::Error,
    },

    /// The first line the plugin printed was not a go-plugin handshake.
    ///
    /// The message is go-plugin's own: `Unrecognized remote plugin message: …` followed by the
    /// diagnostics block.
    #[error("Unrecognized remote plugin message: {line}\n{diagnostics}")]
    UnrecognizedMessage {
        /// The line as read (trimmed).
        line: String,
        /// The explanatory block go-plugin prints after it.
        diagnostics: String,
    },

    /// The plugin exited saying it was not started by a host (go-plugin's "This binary is a
    /// plugin. These are not meant to be executed directly."): it did not accept the magic
    /// cookie the host set. Checked before any other explanation, since it is the usual one.
    #[error(
        "the plugin rejected the magic cookie: it exited saying it was not started by a host, so \
         the cookie this host sets ({key}) is not the one the plugin expects; check that both \
         use the same HandshakeConfig (magic cookie key and value)\n\
         Unrecognized remote plugin message: \n{diagnostics}"
    )]
    MagicCookieMismatch {
        /// The environment variable the host set.
        key: String,
        /// go-plugin's diagnostics block, with the plugin's exit status and last stderr lines.
        diagnostics: String,
    },

    /// The plugin printed no handshake within the start timeout.
    #[error("timeout while waiting for plugin to start")]
    StartTimeout,

    /// The plugin process ended before it printed a handshake.
    #[error("plugin exited before we could connect")]
    ExitedBeforeConnect,

    /// The handshake line was recognised but one of its fields is wrong.
    #[error("{0}")]
    Handshake(String),

    /// The plugin answered with an app protocol version the host did not offer.
    #[error(
        "incompatible API version with plugin. Plugin version: {plugin}, Client versions: {}",
        go_list(.client)
    )]
    IncompatibleVersion {
        /// The version the plugin chose (any integer a plugin may print).
        plugin: i64,
        /// The versions the host offered.
        client: Vec<u32>,
    },

    /// The plugin process has exited; the call could not complete.
    #[error("plugin exited{}", exit_suffix(.status))]
    PluginExited {
        /// How it ended, when known (for example `exit status: 2` or `signal: 9 (SIGKILL)`).
        status: Option<String>,
    },

    /// The remote side answered a call with an error status.
    #[error("{}", status_text(.0))]
    Rpc(Status),

    /// A supervised plugin died more often than its [`RestartPolicy`](crate::RestartPolicy)
    /// allows, and is given up on.
    #[error(
        "plugin given up on: it died after {restarts} restarts within {window:?} (last exit: {}); {}",
        last_exit.as_deref().unwrap_or("unknown"),
        if stderr.is_empty() { "it wrote nothing to stderr".to_owned() } else { format!("the last lines it wrote to stderr:\n{stderr}") }
    )]
    RestartsExhausted {
        /// The policy's budget.
        restarts: u32,
        /// The policy's window.
        window: std::time::Duration,
        /// How the last process ended, when known.
        last_exit: Option<String>,
        /// The last lines the last process wrote to stderr (or why its start failed).
        stderr: String,
    },

    /// A brokered service could not be served or reached: go-plugin's broker texts, such as
    /// `timeout waiting for connection info`.
    #[error("{0}")]
    Broker(String),

    /// Serving failed on the plugin side (listener, socket, configuration).
    #[error("{0}")]
    Serve(String),

    /// The plugin's executable failed its [`SecureConfig`](crate::SecureConfig) check and was not
    /// run.
    #[error(transparent)]
    Checksum(#[from] ChecksumError),

    /// A [`SecureConfig`](crate::SecureConfig) was given for a plugin to reattach to (go-plugin's
    /// `ErrSecureConfigAndReattach`).
    #[error("only one of Reattach or SecureConfig can be set")]
    SecureConfigAndReattach,

    /// Multiplexing was asked for a plugin to reattach to (go-plugin: `gRPC broker multiplexing
    /// is not supported with Reattach config`).
    #[error("gRPC broker multiplexing is not supported with Reattach config")]
    MultiplexAndReattach,

    /// A reattach configuration could not be read.
    #[error(transparent)]
    Reattach(#[from] ReattachError),

    /// The plugin to reattach to is not running, or does not answer at its address (go-plugin's
    /// `ErrProcessNotFound`).
    #[error("reattachment process not found")]
    ProcessNotFound,

    /// AutoMTLS is on, but the plugin's handshake carries no certificate: the plugin does not
    /// support AutoMTLS (it ignored `PLUGIN_CLIENT_CERT`).
    #[error(
        "the plugin sent no certificate in its handshake although AutoMTLS is on: it does not \
         support AutoMTLS (PLUGIN_CLIENT_CERT); turn AutoMTLS off or update the plugin"
    )]
    NoPluginCertificate,

    /// The plugin's handshake carries a certificate, but the host configured no TLS: the plugin
    /// will only speak TLS.
    #[error(
        "the plugin sent a certificate in its handshake, but this host has no TLS configured: \
         turn on AutoMTLS"
    )]
    UnexpectedPluginCertificate,

    /// AutoMTLS could not make its certificate, read the peer's, or set up TLS.
    #[cfg(feature = "tls")]
    #[error(transparent)]
    Tls(#[from] TlsError),

    /// AutoMTLS was asked for, but this build of the crate has no TLS: its `tls` feature is off.
    #[error("AutoMTLS needs go-plugin's `tls` feature, which this build of the host leaves out")]
    TlsUnavailable,

    /// An operating-system error with what was being attempted.
    #[error("{context}: {source}")]
    Io {
        /// What the runtime was doing.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Why a plugin's executable was not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumError {
    /// The executable's hash differs from the expected checksum (go-plugin's
    /// `ErrChecksumsDoNotMatch`).
    #[error("checksums did not match")]
    Mismatch {
        /// The executable that was hashed.
        path: PathBuf,
        /// The checksum the host expected.
        expected: Vec<u8>,
        /// The hash of the file.
        actual: Vec<u8>,
    },
    /// The configuration has an empty checksum.
    #[error("no checksum provided")]
    Missing,
    /// The executable could not be read.
    #[error("error verifying checksum: {source}")]
    Unreadable {
        /// The executable that was to be hashed.
        path: PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
}

/// Why a reattach configuration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReattachError {
    /// The text is not JSON, or not a JSON object.
    #[error("reattach configuration is not a JSON object: {0}")]
    NotAnObject(String),
    /// A field has the wrong JSON type or an impossible value.
    #[error("reattach configuration field {field}: {problem}")]
    Field {
        /// The field, as go-plugin names it (`Pid`, `Addr.Network`, …).
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The address is missing or has an unknown network.
    #[error("reattach configuration has no usable address: {0}")]
    Address(String),
    /// The protocol is not gRPC.
    #[error("unsupported plugin protocol {0:?}. Supported: [grpc]")]
    Protocol(String),
}

#[cfg(feature = "tls")]
/// What can go wrong while making an AutoMTLS identity or a pinned configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// rcgen could not make the key pair or the certificate.
    #[error("failed to generate the AutoMTLS certificate: {0}")]
    Generate(#[from] rcgen::Error),

    /// The system random number generator failed while drawing the serial number.
    #[error(
        "failed to generate the AutoMTLS certificate: the system random number generator failed"
    )]
    Random,

    /// `PLUGIN_CLIENT_CERT` is not well-formed PEM.
    #[error("PLUGIN_CLIENT_CERT is not well-formed PEM: {0}")]
    Pem(#[source] rustls::pki_types::pem::Error),

    /// `PLUGIN_CLIENT_CERT` holds no `CERTIFICATE` block at all.
    #[error("PLUGIN_CLIENT_CERT holds no CERTIFICATE block")]
    NoCertificate,

    /// A `CERTIFICATE` block in `PLUGIN_CLIENT_CERT` is not an X.509 certificate.
    #[error("PLUGIN_CLIENT_CERT holds a CERTIFICATE block that is not X.509: {0}")]
    PemNotACertificate(#[source] DerError),

    /// A pinned configuration was given no certificate to trust.
    #[error("no peer certificate to pin")]
    NoPeerCertificate,

    /// The bytes given as the certificate to pin are not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    NotACertificate(#[from] DerError),

    /// rustls refused a key, a certificate or a configuration.
    #[error("TLS configuration failed: {0}")]
    Config(#[from] rustls::Error),
}

#[cfg(feature = "tls")]
/// Why bytes are not a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DerError(pub(crate) &'static str);

/// A list as Go's `%v` prints a slice: `[1 2]`.
fn go_list(items: &[u32]) -> String {
    let items: Vec<String> = items.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(" "))
}

fn exit_suffix(status: &Option<String>) -> String {
    match status {
        Some(s) => format!(" ({s})"),
        None => String::new(),
    }
}

fn status_text(status: &Status) -> String {
    if status.message().is_empty() {
        format!("plugin call failed: {:?}", status.code())
    } else {
        format!(
            "plugin call failed: {:?}: {}",
            status.code(),
            status.message()
        )
    }
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// A ready-made error type for plugin interfaces: a gRPC status code and a message.
///
/// It converts from the runtime's [`Error`] (so a generated client can report transport failures
/// through it) and to and from [`Status`] (so an implementation's error reaches the caller with
/// its code and message).
///
/// ```
/// use go_plugin::{Code, PluginError};
///
/// let err = PluginError::not_found("no such key: hello");
/// assert_eq!(err.code(), Code::NotFound);
/// assert_eq!(err.to_string(), "no such key: hello");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    code: Code,
    message: String,
    /// gRPC's `grpc-status-details-bin`: a serialized `google.rpc.Status`, empty when none.
    details: Vec<u8>,
}

impl PluginError {
    /// An error with code `Unknown`, which is what go-plugin's Go plugins send for a plain `error`.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(Code::Unknown, message)
    }

    /// An error with the given gRPC code.
    pub fn with_code(code: Code, message: impl Into<String>) -> Self {
        PluginError {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// This error with gRPC status details: the bytes of a serialized `google.rpc.Status`
    /// (its `details` a list of `google.protobuf.Any`), sent as `grpc-status-details-bin`, which
    /// is how grpc-go's `status.WithDetails` sends them and how go-plugin hosts and plugins such
    /// as TFLint's SDK attach structured errors. `tonic-types` encodes and decodes them.
    #[must_use]
    pub fn with_details(mut self, details: impl Into<Vec<u8>>) -> Self {
        self.details = details.into();
        self
    }

    /// `NotFound`: the thing asked for does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::with_code(Code::NotFound, message)
    }

    /// `InvalidArgument`: the caller sent something the implementation cannot accept.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::with_code(Code::InvalidArgument, message)
    }

    /// `Internal`: the implementation failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_code(Code::Internal, message)
    }

    /// `Unavailable`: the plugin could not be reached or has exited.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::with_code(Code::Unavailable, message)
    }

    /// The gRPC code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The message, as the implementation wrote it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The gRPC status details the other side sent (a serialized `google.rpc.Status`), empty
    /// when it sent none. See [`with_details`](Self::with_details).
    pub fn details(&self) -> &[u8] {
        &self.details
    }
}

impl fmt::Display for PluginError {
    /// The message; the code when there is none, so an error never prints as nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{:?} (no message)", self.code)
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for PluginError {}

impl From<Error> for PluginError {
    fn from(err: Error) -> Self {
        match err {
            Error::Rpc(status) => PluginError::from(status),
            Error::PluginExited { .. } => PluginError::unavailable(err.to_string()),
            other => PluginError::new(other.to_string()),
        }
    }
}

impl From<Status> for PluginError {
    fn from(status: Status) -> Self {
        PluginError::with_code(status.code(), status.message()).with_details(status.details())
    }
}

impl From<PluginError> for Status {
    fn from(err: PluginError) -> Self {
        if err.details.is_empty() {
            Status::new(err.code, err.message)
        } else {
            Status::with_details(err.code, err.message, err.details.into())
        }
    }
}

impl From<std::io::Error> for PluginError {
    fn from(err: std::io::Error) -> Self {
        let code = match err.kind() {
            std::io::ErrorKind::NotFound => Code::NotFound,
            std::io::ErrorKind::PermissionDenied => Code::PermissionDenied,
            std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
                Code::InvalidArgument
            }
            _ => Code::Internal,
        };
        PluginError::with_code(code, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_details_survive_the_conversions_both_ways() {
        let err = PluginError::invalid_argument("bad").with_details(vec![1, 2, 3]);
        let status = Status::from(err.clone());
        assert_eq!(status.details(), [1, 2, 3]);
        assert_eq!(PluginError::from(status.clone()), err);
        assert_eq!(PluginError::from(Error::Rpc(status)), err);
        assert!(Status::from(PluginError::new("plain")).details().is_empty());
    }

    /// The variant's place in the list below; the match fails to compile when a variant is
    /// added, until it gets an entry there.
    fn index(error: &Error) -> usize {
        match error {
            Error::Spawn { .. } => 0,
            Error::UnrecognizedMessage { .. } => 1,
            Error::MagicCookieMismatch { .. } => 2,
            Error::StartTimeout => 3,
            Error::ExitedBeforeConnect => 4,
            Error::Handshake(_) => 5,
            Error::IncompatibleVersion { .. } => 6,
            Error::PluginExited { .. } => 7,
            Error::Rpc(_) => 8,
            Error::Broker(_) => 9,
            Error::Serve(_) => 10,
            Error::Checksum(_) => 11,
            Error::SecureConfigAndReattach => 12,
            Error::MultiplexAndReattach => 13,
            Error::Reattach(_) => 14,
            Error::ProcessNotFound => 15,
            Error::NoPluginCertificate => 16,
            Error::UnexpectedPluginCertificate => 17,
            #[cfg(feature = "tls")]
            Error::Tls(_) => 18,
            Error::Io { .. } => 19,
            Error::TlsUnavailable => 20,
            Error::RestartsExhausted { .. } => 21,
        }
    }

    #[test]
    fn every_variant_says_what_happened() {
        let not_found = || std::io::Error::from(std::io::ErrorKind::NotFound);
        let cases: Vec<(Error, &str)> = vec![
            (
                Error::Spawn {
                    command: "./plugin".into(),
                    source: not_found(),
                },
                "failed to start plugin command \"./plugin\": entity not found",
            ),
            (
                Error::UnrecognizedMessage {
                    line: "hello".into(),
                    diagnostics: "the plugin printed this".into(),
                },
                "Unrecognized remote plugin message: hello\nthe plugin printed this",
            ),
            (
                Error::MagicCookieMismatch {
                    key: "BASIC_PLUGIN".into(),
                    diagnostics: "stderr: This binary is a plugin.".into(),
                },
                "the plugin rejected the magic cookie: it exited saying it was not started by a \
                 host, so the cookie this host sets (BASIC_PLUGIN) is not the one the plugin \
                 expects; check that both use the same HandshakeConfig (magic cookie key and \
                 value)\nUnrecognized remote plugin message: \nstderr: This binary is a plugin.",
            ),
            (
                Error::StartTimeout,
                "timeout while waiting for plugin to start",
            ),
            (
                Error::ExitedBeforeConnect,
                "plugin exited before we could connect",
            ),
            (
                Error::Handshake("unsupported plugin protocol \"netrpc\"".into()),
                "unsupported plugin protocol \"netrpc\"",
            ),
            (
                Error::IncompatibleVersion {
                    plugin: 3,
                    client: vec![1, 2],
                },
                "incompatible API version with plugin. Plugin version: 3, Client versions: [1 2]",
            ),
            (
                Error::PluginExited {
                    status: Some("exit status: 2".into()),
                },
                "plugin exited (exit status: 2)",
            ),
            (
                Error::Rpc(Status::not_found("no such key")),
                "plugin call failed: NotFound: no such key",
            ),
            (
                Error::Broker("timeout waiting for connection info".into()),
                "timeout waiting for connection info",
            ),
            (
                Error::Serve("no plugin set for any version".into()),
                "no plugin set for any version",
            ),
            (
                Error::Checksum(ChecksumError::Mismatch {
                    path: "/bin/plugin".into(),
                    expected: vec![1],
                    actual: vec![2],
                }),
                "checksums did not match",
            ),
            (
                Error::SecureConfigAndReattach,
                "only one of Reattach or SecureConfig can be set",
            ),
            (
                Error::MultiplexAndReattach,
                "gRPC broker multiplexing is not supported with Reattach config",
            ),
            (
                Error::Reattach(ReattachError::NotAnObject("[]".into())),
                "reattach configuration is not a JSON object: []",
            ),
            (Error::ProcessNotFound, "reattachment process not found"),
            (
                Error::NoPluginCertificate,
                "the plugin sent no certificate in its handshake although AutoMTLS is on: it \
                 does not support AutoMTLS (PLUGIN_CLIENT_CERT); turn AutoMTLS off or update the \
                 plugin",
            ),
            (
                Error::UnexpectedPluginCertificate,
                "the plugin sent a certificate in its handshake, but this host has no TLS \
                 configured: turn on AutoMTLS",
            ),
            (
                Error::Tls(TlsError::NoCertificate),
                "PLUGIN_CLIENT_CERT holds no CERTIFICATE block",
            ),
            (
                Error::Io {
                    context: "creating the socket directory".into(),
                    source: not_found(),
                },
                "creating the socket directory: entity not found",
            ),
            (
                Error::TlsUnavailable,
                "AutoMTLS needs go-plugin's `tls` feature, which this build of the host leaves out",
            ),
            (
                Error::RestartsExhausted {
                    restarts: 3,
                    window: std::time::Duration::from_secs(60),
                    last_exit: Some("exit status: 2".into()),
                    stderr: "panicked at src/main.rs".into(),
                },
                "plugin given up on: it died after 3 restarts within 60s (last exit: exit status: \
                 2); the last lines it wrote to stderr:\npanicked at src/main.rs",
            ),
        ];
        let mut seen = vec![false; cases.len()];
        for (error, text) in &cases {
            assert_eq!(error.to_string(), *text);
            seen[index(error)] = true;
        }
        assert!(
            seen.iter().all(|seen| *seen),
            "a variant has no case: {seen:?}"
        );
    }
}
