//! The handshake: the magic cookie, app protocol version negotiation, and the one line a plugin
//! prints on stdout to tell its host where to connect.
//!
//! Everything here is pure: the plugin side ([`format_line`], [`negotiate_version`],
//! [`check_cookie`]) and the host side ([`parse_line`], [`unrecognized`]) take the environment and
//! the line as arguments, and the error texts are go-plugin v1.8.0's, word for word.
//!
//! The line is `CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT[|MUX]`, for example
//! `1|1|unix|/tmp/plugin1234|grpc|`.

mod base64;
mod diagnostics;
mod go_text;
#[cfg(test)]
mod tests;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub(crate) use diagnostics::diagnostics;

use crate::error::Error;

/// What host and plugin must agree on before anything else: the app protocol version and the
/// magic cookie.
///
/// Both sides declare the same value, usually as a constant shared between them. The cookie is not
/// a security measure: it only lets a plugin binary that is run by hand say so instead of waiting
/// for a host that never comes.
///
/// ```
/// use go_plugin::HandshakeConfig;
///
/// const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
/// assert_eq!(HANDSHAKE.magic_cookie_key, "BASIC_PLUGIN");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HandshakeConfig {
    /// The app protocol version, used when the interface is served under a single version.
    pub protocol_version: u32,
    /// The environment variable the host sets for the plugin.
    pub magic_cookie_key: &'static str,
    /// The value the plugin expects in that variable.
    pub magic_cookie_value: &'static str,
}

impl HandshakeConfig {
    /// A handshake configuration; usable in a `const` or `static`.
    pub const fn new(
        protocol_version: u32,
        magic_cookie_key: &'static str,
        magic_cookie_value: &'static str,
    ) -> Self {
        HandshakeConfig {
            protocol_version,
            magic_cookie_key,
            magic_cookie_value,
        }
    }
}

/// The go-plugin core protocol version; it has never changed.
pub(crate) const CORE_PROTOCOL_VERSION: u32 = 1;

/// The protocol name our plugins announce and our hosts accept.
pub(crate) const PROTOCOL_GRPC: &str = "grpc";

/// The protocol a Go host assumes when the line has only four fields.
const PROTOCOL_NETRPC: &str = "netrpc";

/// The first line of [`NOT_A_PLUGIN_MESSAGE`], by which a host recognises a cookie mismatch.
pub(crate) const NOT_A_PLUGIN_FIRST_LINE: &str =
    "This binary is a plugin. These are not meant to be executed directly.";

/// Printed to stderr (then exit 1) when the plugin binary is run without the magic cookie.
pub(crate) const NOT_A_PLUGIN_MESSAGE: &str = "This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will\nload any plugins automatically\n";

/// Printed to stderr (then exit 1) when the plugin was built with an empty cookie key or value.
pub(crate) const MISCONFIGURED_MESSAGE: &str = "Misconfigured ServeConfig given to serve this plugin: no magic cookie\nkey or value was set. Please notify the plugin author and report\nthis as a bug.\n";

/// go-plugin's `ErrGRPCBrokerMuxNotSupported`.
const MUX_NOT_SUPPORTED: &str =
    "client requested gRPC broker multiplexing but plugin does not support the feature";

/// Plugin side: checks the magic cookie against the value of its environment variable.
///
/// On a mismatch the error is the message to print on stderr before exiting with status 1.
pub(crate) fn check_cookie(
    config: &HandshakeConfig,
    env_value: Option<&OsStr>,
) -> Result<(), &'static str> {
    if config.magic_cookie_key.is_empty() || config.magic_cookie_value.is_empty() {
        return Err(MISCONFIGURED_MESSAGE);
    }
    // An unset variable reads as empty in Go, and the expected value is never empty here.
    match env_value {
        Some(value) if value == OsStr::new(config.magic_cookie_value) => Ok(()),
        _ => Err(NOT_A_PLUGIN_MESSAGE),
    }
}

/// Host side: the value of `PLUGIN_PROTOCOL_VERSIONS` for the versions the host offers.
pub(crate) fn protocol_versions_env(versions: &[u32]) -> String {
    let items: Vec<String> = versions.iter().map(u32::to_string).collect();
    items.join(",")
}

/// Plugin side: picks the app protocol version from `PLUGIN_PROTOCOL_VERSIONS` as go-plugin's
/// `protocolVersion` does.
///
/// The highest of `own_versions` that the host offered wins. With no common version (or no list
/// at all) the lowest own version is returned anyway, and the host reports the mismatch. Entries
/// that are not integers are skipped; each yields a warning that go-plugin prints to stderr as is
/// (without a newline). `own_versions` should not be empty; if it is, the result is 0.
pub(crate) fn negotiate_version(
    env_value: Option<&str>,
    own_versions: &[u32],
) -> (u32, Vec<String>) {
    let mut warnings = Vec::new();
    let mut offered = Vec::new();
    if let Some(list) = env_value.filter(|list| !list.is_empty()) {
        for item in list.split(',') {
            match go_text::atoi(item) {
                Ok(version) => offered.push(version),
                Err(_) => warnings.push(format!(
                    "server sent invalid plugin version {}",
                    go_text::quote(item)
                )),
            }
        }
    }

    let mut own = own_versions.to_vec();
    own.sort_unstable_by(|a, b| b.cmp(a));
    let chosen = own
        .iter()
        .copied()
        .find(|version| offered.contains(&i64::from(*version)))
        .or_else(|| own.last().copied())
        .unwrap_or(0);
    (chosen, warnings)
}

/// Whether the host asked for gRPC broker multiplexing: `PLUGIN_MULTIPLEX_GRPC` is set to
/// anything non-empty.
pub(crate) fn multiplex_requested(env_value: Option<&OsStr>) -> bool {
    env_value.is_some_and(|value| !value.is_empty())
}

/// Plugin side: the handshake line, with its trailing newline.
///
/// `network` and `address` are what the listener reports (`unix` and a socket path, or `tcp` and
/// `127.0.0.1:port`); `server_cert` is the DER certificate when AutoMTLS is on.
///
/// The 7th field, `true` (the plugin supports multiplexing), is printed only when the host asked
/// for multiplexing, as go-plugin prints it, because hosts older than go-plugin v1.6 split the
/// line into at most six fields and would glue it onto the certificate.
pub(crate) fn format_line(
    app_version: u32,
    network: &str,
    address: &str,
    server_cert: Option<&[u8]>,
    multiplex_requested: bool,
) -> String {
    let cert = server_cert.map(base64::encode).unwrap_or_default();
    let mut line =
        format!("{CORE_PROTOCOL_VERSION}|{app_version}|{network}|{address}|{PROTOCOL_GRPC}|{cert}");
    if multiplex_requested {
        line.push_str("|true");
    }
    line.push('\n');
    line
}

/// Plugin side: whether to multiplex, which go-plugin decides with `strconv.ParseBool` of
/// `PLUGIN_MULTIPLEX_GRPC` (the 7th field is printed for any non-empty value).
pub(crate) fn multiplex_enabled(env_value: Option<&OsStr>) -> bool {
    env_value
        .and_then(OsStr::to_str)
        .and_then(go_text::parse_bool)
        .unwrap_or(false)
}

/// Handshake field 6 as a certificate: unpadded standard base64 of the DER, with go-plugin's
/// error text for anything else.
pub(crate) fn decode_certificate(field: &str) -> Result<Vec<u8>, Error> {
    base64::decode(field)
        .map_err(|err| Error::Handshake(format!("error parsing server cert: {err}")))
}

/// Where the plugin listens, from handshake fields 3 and 4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Network {
    /// A Unix socket path.
    Unix(PathBuf),
    /// A TCP address as printed, e.g. `127.0.0.1:10000` (Go also accepts `:1234`).
    Tcp(String),
}

/// A parsed and validated handshake line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Handshake {
    /// Always [`CORE_PROTOCOL_VERSION`] once validated.
    pub(crate) core: u32,
    /// The app protocol version the plugin chose, one of those offered.
    pub(crate) app_version: u32,
    pub(crate) network: Network,
    /// One of the allowed protocols (`netrpc` when the field was absent).
    pub(crate) protocol: String,
    /// The plugin's DER certificate, when field 6 is longer than 50 characters.
    pub(crate) server_cert: Option<Vec<u8>>,
    /// Field 7 when present and a Go boolean: whether the plugin supports multiplexing.
    pub(crate) mux: Option<bool>,
}

/// Host side: what a valid handshake must match.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expected<'a> {
    /// The app protocol versions the host offers.
    pub(crate) versions: &'a [u32],
    /// go-plugin's `AllowedProtocols`.
    pub(crate) protocols: &'a [&'a str],
    /// Whether the host asked for gRPC broker multiplexing.
    pub(crate) multiplex: bool,
    /// The plugin executable, for the diagnostics of an unrecognized line.
    pub(crate) plugin_path: Option<&'a Path>,
}

/// Host side: go-plugin's "Unrecognized remote plugin message" error with its diagnostics.
///
/// When stdout closed before any line arrived, pass `""` and `stdout_eof = true`.
pub(crate) fn unrecognized(line: &str, plugin_path: Option<&Path>, stdout_eof: bool) -> Error {
    Error::UnrecognizedMessage {
        line: line.to_string(),
        diagnostics: diagnostics(plugin_path, stdout_eof),
    }
}

/// Host side: parses and checks the first line the plugin printed, for a host that offers
/// `versions`, accepts only gRPC and asks for multiplexing when `multiplex` says so (ours).
pub(crate) fn parse_line(
    line: &str,
    versions: &[u32],
    multiplex: bool,
    plugin_path: Option<&Path>,
) -> Result<Handshake, Error> {
    parse_line_with(
        line,
        &Expected {
            versions,
            protocols: &[PROTOCOL_GRPC],
            multiplex,
            plugin_path,
        },
    )
}

/// Host side: parses and checks the first line the plugin printed, in go-plugin's order and with
/// its error texts.
pub(crate) fn parse_line_with(line: &str, expected: &Expected<'_>) -> Result<Handshake, Error> {
    let line = line.trim();
    let parts: Vec<&str> = line.split('|').collect();
    if parts.len() < 4 {
        return Err(unrecognized(line, expected.plugin_path, false));
    }

    let core = go_text::atoi(parts[0])
        .map_err(|err| Error::Handshake(format!("error parsing core protocol version: {err}")))?;
    if core != i64::from(CORE_PROTOCOL_VERSION) {
        return Err(Error::Handshake(format!(
            "incompatible core API version with plugin. Plugin version: {}, Core version: {}\n\n\
             To fix this, the plugin usually only needs to be recompiled.\n\
             Please report this to the plugin author",
            parts[0], CORE_PROTOCOL_VERSION
        )));
    }

    let plugin_version = go_text::atoi(parts[1]).map_err(|err| {
        Error::Handshake(format!(
            "Error parsing protocol version {}: {err}",
            go_text::quote(parts[1])
        ))
    })?;
    let app_version = expected
        .versions
        .iter()
        .copied()
        .find(|version| i64::from(*version) == plugin_version)
        .ok_or_else(|| Error::IncompatibleVersion {
            plugin: plugin_version,
            client: expected.versions.to_vec(),
        })?;

    let network = match parts[2] {
        "unix" => Network::Unix(PathBuf::from(parts[3])),
        "tcp" => Network::Tcp(parts[3].to_string()),
        _ => {
            return Err(Error::Handshake(format!(
                "unknown address type: {}",
                parts[3]
            )));
        }
    };

    let protocol = parts.get(4).copied().unwrap_or(PROTOCOL_NETRPC);
    if !expected.protocols.contains(&protocol) {
        return Err(Error::Handshake(format!(
            "unsupported plugin protocol {}. Supported: {}",
            go_text::quote(protocol),
            go_text::list(expected.protocols)
        )));
    }

    // Shorter values are leftovers some old plugins print, not certificates.
    let server_cert = match parts.get(5) {
        Some(cert) if cert.len() > 50 => Some(decode_certificate(cert)?),
        _ => None,
    };

    let mux_field = parts.get(6).copied();
    if expected.multiplex && protocol == PROTOCOL_GRPC {
        let Some(field) = mux_field else {
            return Err(Error::Handshake(format!(
                "{MUX_NOT_SUPPORTED}; for Go plugins, you will need to update the \
                 github.com/hashicorp/go-plugin dependency and recompile"
            )));
        };
        match go_text::parse_bool(field) {
            None => {
                return Err(Error::Handshake(format!(
                    "error parsing {} as a boolean for gRPC broker multiplexing support",
                    go_text::quote(field)
                )));
            }
            Some(false) => return Err(Error::Handshake(MUX_NOT_SUPPORTED.to_string())),
            Some(true) => {}
        }
    }

    Ok(Handshake {
        core: CORE_PROTOCOL_VERSION,
        app_version,
        network,
        protocol: protocol.to_string(),
        server_cert,
        mux: mux_field.and_then(go_text::parse_bool),
    })
}
