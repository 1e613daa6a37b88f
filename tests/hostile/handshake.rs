//! The handshake line, as the host's launch path parses it (`inspect::parse_handshake` is the
//! same parser; the launch path hands it the first stdout line, invalid UTF-8 replaced).

use std::time::Duration;

use go_plugin::ReattachAddress;
use go_plugin::inspect::{HandshakeLine, parse_handshake};

use crate::fuzz::{self, Gen, base64, bounded, corpus, corpus_lines, inputs};

/// What every rejection starts with: go-plugin's texts, so users find them.
const REJECTIONS: &[&str] = &[
    "Unrecognized remote plugin message: ",
    "error parsing core protocol version: strconv.Atoi: parsing ",
    "incompatible core API version with plugin. Plugin version: ",
    "Error parsing protocol version \"",
    "incompatible API version with plugin. Plugin version: ",
    "unknown address type: ",
    "unsupported plugin protocol \"",
    "error parsing server cert: illegal base64 data at input byte ",
    "client requested gRPC broker multiplexing but plugin does not support the feature",
    "error parsing \"",
];

/// The launch path's view of stdout bytes.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks one line against what the parser promises, whatever the line.
fn check(line: &str, versions: &[u32], multiplex: bool) {
    match parse_handshake(line, versions, multiplex) {
        Ok(parsed) => check_accepted(line, versions, multiplex, &parsed),
        Err(err) => {
            let message = err.to_string();
            assert!(
                REJECTIONS.iter().any(|start| message.starts_with(start)),
                "rejection without go-plugin's words: {message:?}"
            );
        }
    }
}

/// An accepted line says what was parsed, field by field.
fn check_accepted(line: &str, versions: &[u32], multiplex: bool, parsed: &HandshakeLine) {
    let parts: Vec<&str> = line.trim().split('|').collect();
    assert_eq!(parsed.core, 1);
    assert_eq!(
        parts[0].trim_start_matches('+').trim_start_matches('0'),
        "1"
    );
    assert!(versions.contains(&parsed.app_version));
    assert_eq!(parsed.protocol, "grpc");
    let address = match &parsed.address {
        ReattachAddress::Unix(path) => {
            assert_eq!(parts[2], "unix");
            path.to_str().expect("a path from a str").to_owned()
        }
        ReattachAddress::Tcp(address) => {
            assert_eq!(parts[2], "tcp");
            address.clone()
        }
    };
    assert_eq!(address, parts[3]);
    assert_eq!(
        parsed.server_cert.is_some(),
        parts.get(5).is_some_and(|cert| cert.len() > 50)
    );
    if multiplex {
        assert_eq!(parsed.multiplex, Some(true));
    }
}

#[test]
fn real_lines_parse_as_go_plugins_host_reads_them() {
    for (name, bytes) in corpus("handshake-") {
        let line = lossy(&bytes);
        if name.ends_with("-debug.txt") || name.ends_with("-no-cookie.txt") {
            continue; // reattach JSON, and nothing at all
        }
        let multiplex = name == "go18/handshake-multiplex.txt";
        let result = parse_handshake(&line, &[1], multiplex);
        if name.ends_with("-netrpc.txt") {
            let err = result.expect_err(&name).to_string();
            assert_eq!(
                err,
                "unsupported plugin protocol \"netrpc\". Supported: [grpc]"
            );
            continue;
        }
        let parsed = result.unwrap_or_else(|err| panic!("{name}: {err}"));
        check_accepted(&line, &[1], multiplex, &parsed);
        assert!(matches!(&parsed.address, ReattachAddress::Unix(path) if path.starts_with("/tmp")));
        if name.ends_with("-automtls.txt") {
            let der = parsed.server_cert.expect("AutoMTLS sends a certificate");
            assert_eq!(der[0], 0x30, "{name}: a DER SEQUENCE");
        } else {
            assert_eq!(parsed.server_cert, None, "{name}");
        }
        assert_eq!(parsed.multiplex, multiplex.then_some(true), "{name}");
    }
    // A v1.4.10 plugin ignores PLUGIN_MULTIPLEX_GRPC: a host that asks is refused, in Go's words.
    let old = lossy(&corpus("handshake-multiplex")[0].1);
    let err = parse_handshake(&old, &[1], true).expect_err("v1.4.10 cannot multiplex");
    assert!(
        err.to_string()
            .starts_with("client requested gRPC broker multiplexing but plugin does not support"),
        "{err}"
    );
}

#[test]
fn mutated_real_lines_are_parsed_or_rejected_in_go_plugins_words() {
    let seeds: Vec<Vec<u8>> = corpus_lines("handshake-")
        .into_iter()
        .filter(|line| line.first() == Some(&b'1'))
        .collect();
    fuzz::run(
        "handshake (mutated real lines)",
        0x4841_4e44,
        inputs(),
        |rng| {
            let seed = rng.pick_ref(&seeds).clone();
            let line = lossy(&rng.mutate(&seed, &seeds));
            (line, rng.one_in(2), rng.below(3))
        },
        |(line, multiplex, offer)| {
            let versions: &[u32] = match offer {
                0 => &[1],
                1 => &[1, 2, 3],
                _ => &[],
            };
            check(line, versions, *multiplex);
        },
    );
}

#[test]
fn random_bytes_are_rejected_in_go_plugins_words() {
    fuzz::run(
        "handshake (random bytes)",
        0x5241_4e44,
        inputs(),
        |rng| {
            let len = rng.len(200);
            let mut bytes = rng.bytes(len);
            // Enough separators for the parser to look at the fields, most of the time.
            for _ in 0..rng.below(8) {
                let at = rng.below(bytes.len() + 1);
                bytes.insert(at, b'|');
            }
            lossy(&bytes)
        },
        |line| check(line, &[1], false),
    );
}

/// A line a go-plugin plugin could print, and what the host must make of it.
#[derive(Debug)]
struct Valid {
    line: String,
    version: u32,
    address: ReattachAddress,
    cert: Option<Vec<u8>>,
    multiplex: bool,
}

fn valid_line(rng: &mut Gen) -> Valid {
    let version = rng.pick(&[1, 2, 5, 6, u32::MAX]);
    let address = if rng.one_in(2) {
        // Any path without the separator, and not starting or ending in white space (the line
        // is trimmed before it is split).
        let name: String = rng.text(40).chars().filter(|c| *c != '|').collect();
        ReattachAddress::Unix(format!("/tmp/{}x", name.trim_start()).into())
    } else {
        ReattachAddress::Tcp(format!("127.0.0.1:{}", rng.below(65536)))
    };
    let (network, addr) = match &address {
        ReattachAddress::Unix(path) => ("unix", path.to_str().expect("str").to_owned()),
        ReattachAddress::Tcp(address) => ("tcp", address.clone()),
    };
    // Field 6 counts as a certificate from 51 characters on, which is 38 bytes or more.
    let cert = rng.one_in(2).then(|| {
        let len = 38 + rng.len(1200);
        rng.bytes(len)
    });
    let multiplex = rng.one_in(2);
    let core = rng.pick(&["1", "01", "+1"]);
    let mut line = format!("{core}|{version}|{network}|{addr}|grpc");
    if cert.is_some() || multiplex || rng.one_in(2) {
        line.push('|');
        line.push_str(&cert.as_deref().map(base64).unwrap_or_default());
    }
    if multiplex {
        line.push_str(rng.pick(&["|true", "|1", "|T", "|True"]));
    }
    line.push_str(rng.pick(&["\n", "\r\n", "", " \n"]));
    Valid {
        line,
        version,
        address,
        cert,
        multiplex,
    }
}

#[test]
fn generated_valid_lines_parse_to_their_fields() {
    fuzz::run(
        "handshake (generated valid lines)",
        0x5641_4c49,
        inputs(),
        valid_line,
        |valid| {
            let parsed = parse_handshake(&valid.line, &[valid.version, 3], valid.multiplex)
                .unwrap_or_else(|err| panic!("a valid line rejected: {err}"));
            assert_eq!(parsed.app_version, valid.version);
            assert_eq!(parsed.address, valid.address);
            assert_eq!(parsed.server_cert, valid.cert);
            assert_eq!(parsed.multiplex.is_some(), valid.multiplex);
            if valid.multiplex {
                assert_eq!(parsed.multiplex, Some(true));
            }
        },
    );
}

#[test]
fn huge_lines_are_handled_in_linear_time() {
    // The launch path stops reading at 64 KiB, but `inspect::parse_handshake` takes any line.
    let long_path = format!("1|1|unix|/tmp/{}|grpc|\n", "p".repeat(16 << 20));
    let parsed = bounded("handshake: a 16 MiB path", Duration::from_secs(5), || {
        parse_handshake(&long_path, &[1], false)
    });
    assert!(parsed.is_ok());

    let many_fields = format!("1|1|unix|/tmp/p|grpc|{}", "|".repeat(4 << 20));
    let parsed = bounded("handshake: 4 Mi fields", Duration::from_secs(30), || {
        parse_handshake(&many_fields, &[1], false)
    });
    assert!(parsed.is_ok(), "Go ignores fields after the 7th");

    let huge_cert = format!("1|1|unix|/tmp/p|grpc|{}", "A".repeat(16 << 20));
    let parsed = bounded(
        "handshake: a 16 MiB certificate",
        Duration::from_secs(90),
        || parse_handshake(&huge_cert, &[1], false),
    );
    assert_eq!(
        parsed
            .expect("base64 of zeros")
            .server_cert
            .map(|c| c.len()),
        Some(12 << 20)
    );

    let huge_version = format!("1|{}|unix|/tmp/p|grpc|", "9".repeat(16 << 20));
    let err = bounded(
        "handshake: a 16 MiB version",
        Duration::from_secs(180),
        || parse_handshake(&huge_version, &[1], false),
    )
    .expect_err("out of range");
    assert!(err.to_string().contains("value out of range"), "{err}");
}
