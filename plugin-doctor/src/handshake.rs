//! Judging what a plugin printed on stdout up to its handshake line, field by field. Pure: the
//! runtime's parser ([`go_plugin::inspect::parse_handshake`]) gives a host's verdict and the
//! address; the checks here say which field is wrong and what go-plugin does about it.

use std::time::Duration;

use go_plugin::ReattachAddress;
use go_plugin::inspect;

use crate::report::Check;

/// What the plugin printed before it was connected to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Startup {
    /// Lines before the one that looks like a handshake.
    pub(crate) garbage: Vec<String>,
    /// The handshake line, without its line ending.
    pub(crate) line: Option<String>,
    /// Whether the line ended with a newline (go-plugin's host waits for one).
    pub(crate) newline: bool,
    /// From spawn to the handshake line (or to giving up).
    pub(crate) elapsed: Duration,
    /// Why no handshake came, when none did.
    pub(crate) ended: Option<String>,
}

/// What the host asked of the plugin in this launch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Asked<'a> {
    pub(crate) versions: &'a [u32],
    pub(crate) auto_mtls: bool,
    pub(crate) multiplex: bool,
}

/// Where to connect, read as leniently as possible so that the other checks can still run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) address: ReattachAddress,
    /// The plugin's certificate (DER), even when it was badly encoded.
    pub(crate) cert: Option<Vec<u8>>,
    pub(crate) version: Option<u32>,
}

/// The handshake checks, in report order (`handshake.address` is the caller's: it dials).
#[derive(Clone, Debug)]
pub(crate) struct Lint {
    pub(crate) stdout_clean: Check,
    pub(crate) line: Check,
    pub(crate) core_version: Check,
    pub(crate) app_version: Check,
    pub(crate) network: Check,
    pub(crate) protocol: Check,
    pub(crate) certificate: Check,
    pub(crate) multiplex_field: Check,
    pub(crate) time: Check,
    pub(crate) target: Option<Target>,
}

/// How long a handshake may take before the doctor warns.
const SLOW_HANDSHAKE: Duration = Duration::from_secs(5);

/// Whether `line` is meant as a handshake: four or more `|`-separated fields, the first a number.
pub(crate) fn looks_like_handshake(line: &str) -> bool {
    let parts: Vec<&str> = line.trim().split('|').collect();
    parts.len() >= 4 && parts[0].parse::<i64>().is_ok()
}

/// The answered app version of a handshake line, if it has one.
pub(crate) fn answered_version(line: &str) -> Option<u32> {
    line.trim().split('|').nth(1)?.parse().ok()
}

/// A handshake line fit for one line of evidence: a long certificate is abbreviated.
pub(crate) fn show(line: &str) -> String {
    let parts: Vec<String> = line
        .split('|')
        .enumerate()
        .map(|(i, part)| {
            if i == 5 && part.len() > 24 {
                format!("{}…({} chars)", &part[..12], part.len())
            } else {
                part.to_owned()
            }
        })
        .collect();
    format!("`{}`", parts.join("|"))
}

/// Every handshake check for one launch.
pub(crate) fn lint(startup: &Startup, asked: Asked<'_>) -> Lint {
    let stdout_clean = stdout_clean(startup);
    let time = time(startup);
    let Some(line) = startup.line.as_deref() else {
        let why = match &startup.ended {
            Some(ended) => format!("no handshake line: the plugin {ended}"),
            None => "no handshake line".to_owned(),
        };
        let fail = |id| {
            Check::fail(
                id,
                why.clone(),
                "print the handshake line first; see handshake.line",
            )
        };
        let skip = |id| Check::skip(id, "no handshake line");
        return Lint {
            stdout_clean,
            line: fail("handshake.line"),
            core_version: skip("handshake.core_version"),
            app_version: skip("handshake.app_version"),
            network: skip("handshake.network"),
            protocol: skip("handshake.protocol"),
            certificate: skip("handshake.certificate"),
            multiplex_field: skip("handshake.multiplex_field"),
            time,
            target: None,
        };
    };
    let parts: Vec<&str> = line.split('|').collect();
    Lint {
        stdout_clean,
        line: structure(line, &parts, startup.newline),
        core_version: core_version(&parts),
        app_version: app_version(&parts, asked.versions),
        network: network(&parts),
        protocol: protocol(&parts),
        certificate: certificate(&parts, asked.auto_mtls),
        multiplex_field: multiplex_field(&parts, asked.multiplex),
        time,
        target: target(line, &parts),
    }
}

fn stdout_clean(startup: &Startup) -> Check {
    match startup.garbage.first() {
        None => Check::pass(
            "handshake.stdout_clean",
            "nothing printed on stdout before the handshake",
        ),
        Some(first) => Check::fail(
            "handshake.stdout_clean",
            format!(
                "{} line(s) before the handshake; a go-plugin host stops at the first: \
                 \"Unrecognized remote plugin message: {first}\"",
                startup.garbage.len()
            ),
            "print nothing on stdout before the handshake line (log to stderr instead); go-plugin \
             reads only the first line",
        ),
    }
}

fn time(startup: &Startup) -> Check {
    let took = format!("{:.0?}", startup.elapsed);
    match &startup.line {
        None => Check::skip("handshake.time", format!("no handshake after {took}")),
        Some(_) if startup.elapsed > SLOW_HANDSHAKE => Check::warn(
            "handshake.time",
            format!("handshake after {took}"),
            "start serving sooner: go-plugin's host gives up after StartTimeout (1 minute by default)",
        ),
        Some(_) => Check::pass("handshake.time", format!("handshake after {took}")),
    }
}

fn structure(line: &str, parts: &[&str], newline: bool) -> Check {
    const ID: &str = "handshake.line";
    let shown = show(line);
    if parts.len() < 4 || parts.len() > 7 {
        return Check::fail(
            ID,
            format!("{shown} has {} fields", parts.len()),
            "print CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT, e.g. `1|1|unix|/tmp/plugin1|grpc|`",
        );
    }
    if !newline {
        return Check::fail(
            ID,
            format!("{shown} is not ended by a newline"),
            "end the line with \\n and flush stdout: go-plugin's host reads whole lines",
        );
    }
    if line != line.trim() {
        return Check::warn(
            ID,
            format!("{shown} has white space around it"),
            "print the fields alone: hosts trim the line, but the last field then carries it",
        );
    }
    let form = match parts.len() {
        4 => "4 fields (no protocol: hosts assume netrpc)",
        5 => "5 fields, the minimal form of go-plugin's guide for non-Go plugins",
        6 => "6 fields, as go-plugin prints it",
        _ => "7 fields, as go-plugin prints it when multiplexing is asked for",
    };
    Check::pass(ID, format!("{shown}: one line, {form}"))
}

fn core_version(parts: &[&str]) -> Check {
    const ID: &str = "handshake.core_version";
    if parts[0] == "1" {
        Check::pass(ID, "core protocol version 1")
    } else {
        Check::fail(
            ID,
            format!(
                "core protocol version {:?}; go-plugin: \"incompatible core API version with plugin\"",
                parts[0]
            ),
            "field 1 is go-plugin's core protocol version, always 1; put your own version in field 2",
        )
    }
}

fn app_version(parts: &[&str], offered: &[u32]) -> Check {
    const ID: &str = "handshake.app_version";
    let list = go_list(offered);
    match parts[1].parse::<u32>() {
        Ok(version) if offered.contains(&version) => Check::pass(
            ID,
            format!("app protocol version {version}, offered {list}"),
        ),
        Ok(version) => Check::fail(
            ID,
            format!(
                "app protocol version {version} though the host offered {list}; go-plugin: \
                 \"incompatible API version with plugin. Plugin version: {version}, Client versions: {list}\""
            ),
            "pick the highest version in PLUGIN_PROTOCOL_VERSIONS that the plugin serves (or pass \
             --versions with the versions your host offers)",
        ),
        Err(_) => Check::fail(
            ID,
            format!("app protocol version {:?} is not a number", parts[1]),
            "field 2 is the app protocol version chosen from PLUGIN_PROTOCOL_VERSIONS",
        ),
    }
}

fn network(parts: &[&str]) -> Check {
    const ID: &str = "handshake.network";
    match (parts[2], parts[3]) {
        ("unix", path) if path.starts_with('/') => Check::pass(ID, format!("unix socket {path}")),
        ("unix", path) => Check::warn(
            ID,
            format!("unix socket {path:?} is a relative path"),
            "print an absolute socket path: the host may run in another directory",
        ),
        ("tcp", address) if address.starts_with("127.0.0.1:") || address.starts_with("[::1]:") => {
            Check::pass(ID, format!("tcp {address}"))
        }
        ("tcp", address) => Check::warn(
            ID,
            format!("tcp {address} is not a loopback address"),
            "listen on 127.0.0.1 only: anyone on the network can reach the plugin otherwise",
        ),
        (other, address) => Check::fail(
            ID,
            format!("network {other:?}; go-plugin: \"unknown address type: {address}\""),
            "field 3 is `unix` (a socket path follows) or `tcp` (127.0.0.1:PORT follows)",
        ),
    }
}

fn protocol(parts: &[&str]) -> Check {
    const ID: &str = "handshake.protocol";
    match parts.get(4) {
        Some(&"grpc") => Check::pass(ID, "grpc"),
        Some(other) => Check::fail(
            ID,
            format!(
                "protocol {other:?}; a gRPC host says \"unsupported plugin protocol {other:?}. Supported: [grpc]\""
            ),
            "serve gRPC and print `grpc` in field 5 (net/rpc is Go-only, and Rust hosts refuse it)",
        ),
        None => Check::fail(
            ID,
            "no protocol field, so hosts assume netrpc",
            "print `grpc` in field 5",
        ),
    }
}

fn certificate(parts: &[&str], asked: bool) -> Check {
    const ID: &str = "handshake.certificate";
    let field = parts.get(5).copied().unwrap_or("");
    // Hosts ignore 50 characters or fewer: leftovers of old plugins, not certificates.
    let present = field.len() > 50;
    match (asked, present) {
        (false, false) if field.is_empty() => {
            Check::pass(ID, "no certificate, as AutoMTLS was not asked for")
        }
        (false, false) => Check::pass(
            ID,
            format!(
                "field 6 {field:?} is short enough for hosts to ignore; AutoMTLS was not asked for"
            ),
        ),
        (false, true) => Check::fail(
            ID,
            format!(
                "a {}-character certificate though PLUGIN_CLIENT_CERT was not set",
                field.len()
            ),
            "print a certificate only when the host set PLUGIN_CLIENT_CERT (AutoMTLS); hosts that did \
             not ask cannot speak TLS to you",
        ),
        (true, false) => Check::fail(
            ID,
            "no certificate though the host set PLUGIN_CLIENT_CERT (AutoMTLS)",
            "with PLUGIN_CLIENT_CERT set, make a certificate, serve TLS requiring the host's \
             certificate, and print yours as unpadded base64 DER in field 6",
        ),
        (true, true) => match inspect::decode_certificate(field) {
            Ok(der) => Check::pass(
                ID,
                format!(
                    "{}-character unpadded base64 certificate ({} bytes of DER)",
                    field.len(),
                    der.len()
                ),
            ),
            Err(err) => Check::fail(
                ID,
                format!(
                    "{}{}",
                    if field.ends_with('=') {
                        "padded base64; "
                    } else {
                        ""
                    },
                    err
                ),
                "encode the DER with base64 without padding (Go's base64.RawStdEncoding): go-plugin's \
                 host refuses `=`",
            ),
        },
    }
}

fn multiplex_field(parts: &[&str], asked: bool) -> Check {
    const ID: &str = "handshake.multiplex_field";
    match (asked, parts.get(6)) {
        (false, None) => Check::pass(ID, "no 7th field, as multiplexing was not asked for"),
        (false, Some(field)) => Check::fail(
            ID,
            format!("7th field {field:?} though PLUGIN_MULTIPLEX_GRPC was not set"),
            "print field 7 only when PLUGIN_MULTIPLEX_GRPC is set: hosts before go-plugin v1.6 split \
             the line into 6 fields and glue it onto the certificate",
        ),
        (true, Some(&"true")) => Check::pass(ID, "7th field `true`: multiplexing supported"),
        (true, Some(field)) => Check::fail(
            ID,
            format!(
                "7th field {field:?}; go-plugin: \"client requested gRPC broker multiplexing but plugin does not support the feature\""
            ),
            "answer `true` in field 7 and serve yamux on the socket, or let hosts know you cannot",
        ),
        (true, None) => Check::fail(
            ID,
            "no 7th field; go-plugin: \"client requested gRPC broker multiplexing but plugin does not support the feature\"",
            "when PLUGIN_MULTIPLEX_GRPC is set, serve yamux on the socket and print `|true` after field 6",
        ),
    }
}

/// Where to connect: what a host would, and when the certificate is all that is wrong with the
/// line, the address anyway and the certificate decoded despite its padding.
fn target(line: &str, parts: &[&str]) -> Option<Target> {
    let version = answered_version(line);
    let as_answered = [version.unwrap_or(0)];
    if let Ok(parsed) = inspect::parse_handshake(line, &as_answered, false) {
        return Some(Target {
            address: parsed.address,
            cert: parsed.server_cert,
            version,
        });
    }
    let address = match parts[2] {
        "unix" => ReattachAddress::Unix(parts[3].into()),
        "tcp" => ReattachAddress::Tcp(parts[3].to_owned()),
        _ => return None,
    };
    let cert = parts
        .get(5)
        .filter(|field| field.len() > 50)
        .and_then(|field| inspect::decode_certificate(field.trim_end_matches('=')).ok());
    Some(Target {
        address,
        cert,
        version,
    })
}

/// A list as Go's `%v` prints a slice: `[1 2]`.
pub(crate) fn go_list(versions: &[u32]) -> String {
    let items: Vec<String> = versions.iter().map(u32::to_string).collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;

    const CERT: &str = "MIIBszCCAVmgAwIBAgIRAKxaNmD2wFPunSAX9j3H9SgwCgYIKoZIzj0EAwIwEjEQ";

    fn startup(line: &str) -> Startup {
        Startup {
            line: Some(line.to_owned()),
            newline: true,
            elapsed: Duration::from_millis(12),
            ..Startup::default()
        }
    }

    fn asked() -> Asked<'static> {
        Asked {
            versions: &[1],
            auto_mtls: false,
            multiplex: false,
        }
    }

    fn statuses(lint: &Lint) -> Vec<(&'static str, Status)> {
        [
            &lint.stdout_clean,
            &lint.line,
            &lint.core_version,
            &lint.app_version,
            &lint.network,
            &lint.protocol,
            &lint.certificate,
            &lint.multiplex_field,
            &lint.time,
        ]
        .iter()
        .map(|check| (check.id, check.status))
        .collect()
    }

    fn failing(lint: &Lint) -> Vec<&'static str> {
        statuses(lint)
            .into_iter()
            .filter(|(_, status)| *status == Status::Fail)
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn go_plugins_line_passes() {
        let lint = lint(&startup("1|1|unix|/tmp/plugin1|grpc|"), asked());
        assert!(failing(&lint).is_empty(), "{lint:?}");
        assert_eq!(
            lint.target.unwrap().address,
            ReattachAddress::Unix("/tmp/plugin1".into())
        );
    }

    #[test]
    fn the_guides_minimal_line_passes() {
        let lint = lint(&startup("1|1|tcp|127.0.0.1:1234|grpc"), asked());
        assert!(failing(&lint).is_empty(), "{lint:?}");
        assert!(lint.line.evidence.contains("5 fields"));
    }

    #[test]
    fn each_defect_fails_its_own_check() {
        let cases = [
            ("2|1|unix|/s|grpc|", "handshake.core_version"),
            ("1|7|unix|/s|grpc|", "handshake.app_version"),
            ("1|1|pipe|/s|grpc|", "handshake.network"),
            ("1|1|unix|/s|netrpc|", "handshake.protocol"),
            ("1|1|unix|/s", "handshake.protocol"),
            ("1|1|unix|/s|grpc||true", "handshake.multiplex_field"),
        ];
        for (line, id) in cases {
            assert_eq!(failing(&lint(&startup(line), asked())), [id], "{line}");
        }
    }

    #[test]
    fn certificates() {
        let mtls = Asked {
            auto_mtls: true,
            ..asked()
        };
        let good = format!("1|1|unix|/s|grpc|{CERT}");
        assert!(failing(&lint(&startup(&good), mtls)).is_empty());
        assert_eq!(
            failing(&lint(&startup(&good), asked())),
            ["handshake.certificate"]
        );
        assert_eq!(
            failing(&lint(&startup("1|1|unix|/s|grpc|"), mtls)),
            ["handshake.certificate"]
        );
        let padded = format!("1|1|unix|/s|grpc|{CERT}AA==");
        let lint = lint(&startup(&padded), mtls);
        assert_eq!(failing(&lint), ["handshake.certificate"]);
        assert!(
            lint.certificate
                .evidence
                .contains("illegal base64 data at input byte"),
            "{lint:?}"
        );
        // The padding aside, the certificate still reaches the TLS checks.
        assert!(lint.target.unwrap().cert.is_some());
    }

    #[test]
    fn garbage_first_is_reported_with_go_plugins_words() {
        let mut startup = startup("1|1|unix|/s|grpc|");
        startup.garbage = vec!["starting up".to_owned()];
        let lint = lint(&startup, asked());
        assert_eq!(failing(&lint), ["handshake.stdout_clean"]);
        assert!(
            lint.stdout_clean
                .evidence
                .contains("Unrecognized remote plugin message: starting up")
        );
    }

    #[test]
    fn no_line_at_all() {
        let startup = Startup {
            ended: Some("exited (exit status: 1)".to_owned()),
            ..Startup::default()
        };
        let lint = lint(&startup, asked());
        assert_eq!(failing(&lint), ["handshake.line"]);
        assert!(lint.line.evidence.contains("exited"));
        assert!(lint.target.is_none());
    }

    #[test]
    fn shown_lines_abbreviate_certificates() {
        assert_eq!(
            show(&format!("1|1|unix|/s|grpc|{CERT}")),
            "`1|1|unix|/s|grpc|MIIBszCCAVmg…(64 chars)`"
        );
        assert!(looks_like_handshake("1|1|tcp|127.0.0.1:1|grpc"));
        assert!(!looks_like_handshake("starting | up | now | ok"));
    }
}
