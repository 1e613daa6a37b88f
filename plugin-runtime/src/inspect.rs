//! The host's steps one at a time, for tools that examine a plugin instead of using it (the
//! `plugin-doctor` command): parse a handshake line, make an AutoMTLS identity, dial an address,
//! read a log line — each as [`Client::start`](crate::Client::start) does it, with go-plugin's
//! rules and error texts, but without launching anything or hiding what the plugin did.
//!
//! ```
//! use go_plugin::inspect::{LogLines, parse_handshake};
//! use go_plugin::ReattachAddress;
//!
//! let line = parse_handshake("1|1|unix|/tmp/plugin1|grpc|\n", &[1], false).unwrap();
//! assert_eq!(line.address, ReattachAddress::Unix("/tmp/plugin1".into()));
//!
//! let mut logs = LogLines::default();
//! let hclog = br#"{"@level":"info","@message":"hi","@timestamp":"2026-01-02T03:04:05.000006Z"}"#;
//! assert!(logs.classify(hclog).hclog);
//! assert!(!logs.classify(b"plain text").hclog);
//! ```

use crate::net::channel::Channel;

use crate::error::Error;
use crate::net::tls::{Tls, TlsConfig};
use crate::protocol::handshake::{self, Network};
use crate::protocol::hclog::StderrParser;
use crate::protocol::reattach::ReattachAddress;

/// A handshake line a go-plugin host accepts, field by field.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandshakeLine {
    /// Field 1, the core protocol version: always 1 once accepted.
    pub core: u32,
    /// Field 2, the app protocol version: one of those offered.
    pub app_version: u32,
    /// Fields 3 and 4.
    pub address: ReattachAddress,
    /// Field 5 (`netrpc` when absent).
    pub protocol: String,
    /// Field 6 decoded, when it is long enough to be a certificate (over 50 characters).
    pub server_cert: Option<Vec<u8>>,
    /// Field 7 as a Go boolean, when present.
    pub multiplex: Option<bool>,
}

/// Parses and checks `line` as our host does: `versions` offered, only `grpc` allowed,
/// multiplexing asked for when `multiplex` says so. The errors are go-plugin's
/// (`Unrecognized remote plugin message: …`, `incompatible API version with plugin. …`,
/// `error parsing server cert: illegal base64 data at input byte N`, …).
pub fn parse_handshake(
    line: &str,
    versions: &[u32],
    multiplex: bool,
) -> Result<HandshakeLine, Error> {
    let parsed = handshake::parse_line(line, versions, multiplex, None)?;
    Ok(HandshakeLine {
        core: parsed.core,
        app_version: parsed.app_version,
        address: ReattachAddress::from_network(&parsed.network),
        protocol: parsed.protocol,
        server_cert: parsed.server_cert,
        multiplex: parsed.mux,
    })
}

/// Handshake field 6 as a certificate: unpadded standard base64 (Go's `RawStdEncoding`) of the
/// DER, or go-plugin's `error parsing server cert: …`.
pub fn decode_certificate(field: &str) -> Result<Vec<u8>, Error> {
    handshake::decode_certificate(field)
}

/// A host's one-time AutoMTLS identity: a certificate in go-plugin's template, for
/// `PLUGIN_CLIENT_CERT`, and the TLS that trusts exactly the plugin's certificate.
/// Needs the `tls` feature.
#[cfg(feature = "tls")]
#[derive(Debug)]
pub struct AutoMtls(crate::net::mtls::Identity);

#[cfg(feature = "tls")]
impl AutoMtls {
    /// A fresh identity (ECDSA P-521, self-signed, as go-plugin's host makes it).
    pub fn generate() -> Result<AutoMtls, Error> {
        Ok(AutoMtls(crate::net::mtls::Identity::generate()?))
    }

    /// The certificate PEM, the value of `PLUGIN_CLIENT_CERT`.
    pub fn certificate_pem(&self) -> &str {
        self.0.certificate_pem()
    }

    /// TLS presenting this identity and accepting only `plugin_cert` (DER, from the handshake).
    pub fn pinned_to(&self, plugin_cert: &[u8]) -> Result<TlsConfig, Error> {
        let plugin_cert = rustls::pki_types::CertificateDer::from(plugin_cert.to_vec());
        let pinned = crate::net::mtls::pinned(&self.0, [plugin_cert])?;
        Ok(TlsConfig::from_pinned(pinned))
    }
}

/// A channel to `address` that connects on first use, with the host's HTTP/2 settings, over
/// `tls` when given. Calls on it should lift tonic's 4 MiB default limits to
/// [`MAX_MESSAGE_SIZE`](crate::MAX_MESSAGE_SIZE), as go-plugin's host does.
pub fn dial(address: &ReattachAddress, tls: Option<&TlsConfig>) -> Channel {
    let network = match address {
        ReattachAddress::Unix(path) => Network::Unix(path.clone()),
        ReattachAddress::Tcp(address) => Network::Tcp(address.clone()),
    };
    let tls = tls
        .cloned()
        .map(TlsConfig::into_tls)
        .unwrap_or_else(Tls::default);
    crate::net::transport::dial(&network, &tls)
}

/// `config` with its calls sent through tonic's `Channel` (a `tower::buffer` worker and hyper's
/// HTTP/2 client) instead of the runtime's own client, which writes them straight into h2: for
/// measuring the two side by side (`scripts/bench-vs-go`).
pub fn through_tonic_channel(mut config: crate::ClientConfig) -> crate::ClientConfig {
    config.set_through_tonic();
    config
}

/// Runs `bytes`, the client's side of a whole connection (preface, then frames), through the
/// plugin server's `:authority` rewriter in reads of at most `step` bytes, and returns what `h2`
/// would read, or the error that ends the connection. For fuzzing the rewriter.
pub fn rewrite_authority(bytes: &[u8], step: usize) -> std::io::Result<Vec<u8>> {
    crate::net::transport::rewrite_connection(bytes, step)
}

/// How a host reads one line of a plugin's log channel (stderr).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogLine {
    /// Whether it is an hclog JSON record the host parses (a JSON object with a string
    /// `@message`, a recognised `@level` and an `@timestamp` with six fractional digits and a
    /// zone, or none); otherwise the host logs the whole line as written.
    pub hclog: bool,
    /// The level the host logs it at.
    pub level: tracing::Level,
}

/// Reads a plugin's log channel line by line as go-plugin's host does; it remembers whether a
/// Go panic has begun (every later plain line is an ERROR).
#[derive(Debug, Default)]
pub struct LogLines(StderrParser);

impl LogLines {
    /// How the host reads `line` (without its line ending).
    pub fn classify(&mut self, line: &[u8]) -> LogLine {
        let record = self.0.parse(line);
        LogLine {
            hclog: record.timestamp.is_some(),
            level: record.level,
        }
    }
}

/// go-plugin's own services (proto package `plugin`: `GRPCBroker`, `GRPCController`,
/// `GRPCStdio`) as tonic clients and servers, generated from `proto/plugin/*.proto`.
pub use crate::generated::plugin as proto;

/// A process this tool did not start, watched from the moment its pid surely names it (while it
/// is the unreaped child of a process that still runs) until it exits: through the runtime's
/// handle on a process where the OS has one (a pidfd on Linux, a kqueue on macOS and the BSDs, a
/// process handle on Windows), so a pid reused afterwards is never taken for it; else by its pid.
#[derive(Debug)]
pub struct WatchedProcess {
    pid: u32,
    handle: Option<crate::sys::process::ProcessHandle>,
}

impl WatchedProcess {
    /// Starts watching `pid`.
    pub fn open(pid: u32) -> WatchedProcess {
        WatchedProcess {
            pid,
            handle: crate::sys::process::ProcessHandle::open(pid).ok(),
        }
    }

    /// Whether the process has exited; without a handle, whether no process has its pid now.
    pub fn exited(&self) -> bool {
        match &self.handle {
            Some(handle) => handle.has_exited(),
            None => !crate::sys::process::exists(self.pid),
        }
    }

    /// Kills the process (SIGKILL, `TerminateProcess`), through its handle only.
    pub fn kill(&self) {
        if let Some(handle) = &self.handle {
            let _ = handle.kill();
        }
    }
}
