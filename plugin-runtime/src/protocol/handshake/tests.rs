use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::*;

const GRPC_ONLY: &[&str] = &["grpc"];

fn expect(versions: &[u32]) -> Expected<'_> {
    Expected {
        versions,
        protocols: GRPC_ONLY,
        multiplex: false,
        plugin_path: None,
    }
}

fn err_text(line: &str, expected: &Expected<'_>) -> String {
    match parse_line_with(line, expected) {
        Ok(handshake) => panic!("{line:?} parsed: {handshake:?}"),
        Err(err) => err.to_string(),
    }
}

/// A certificate-sized blob (well over the 50 characters the host looks at).
fn cert_der() -> Vec<u8> {
    (0..200u8).map(|i| i.wrapping_mul(37)).collect()
}

#[test]
fn our_hosts_parse_line_accepts_grpc_only_without_multiplexing() {
    let path = Path::new("/nonexistent/kv-plugin");
    let handshake = parse_line("1|2|unix|/tmp/p|grpc||true\n", &[1, 2], false, Some(path)).unwrap();
    assert_eq!(handshake.app_version, 2);
    let err = parse_line("1|1|unix|/tmp/p|netrpc|", &[1], false, Some(path)).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"unsupported plugin protocol "netrpc". Supported: [grpc]"#
    );
    assert!(matches!(
        parse_line("garbage", &[1], false, Some(path)),
        Err(Error::UnrecognizedMessage { .. })
    ));
}

#[test]
fn config_is_const_constructible() {
    const HANDSHAKE: HandshakeConfig = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
    static ALSO: HandshakeConfig = HandshakeConfig {
        protocol_version: 1,
        magic_cookie_key: "BASIC_PLUGIN",
        magic_cookie_value: "hello",
    };
    assert_eq!(HANDSHAKE, ALSO);
}

#[test]
fn cookie_messages_are_go_plugins() {
    assert_eq!(
        NOT_A_PLUGIN_MESSAGE,
        "This binary is a plugin. These are not meant to be executed directly.\n\
         Please execute the program that consumes these plugins, which will\n\
         load any plugins automatically\n"
    );
    assert_eq!(
        MISCONFIGURED_MESSAGE,
        "Misconfigured ServeConfig given to serve this plugin: no magic cookie\n\
         key or value was set. Please notify the plugin author and report\n\
         this as a bug.\n"
    );
}

#[test]
fn cookie_check() {
    let config = HandshakeConfig::new(1, "BASIC_PLUGIN", "hello");
    assert_eq!(check_cookie(&config, Some(OsStr::new("hello"))), Ok(()));
    assert_eq!(check_cookie(&config, None), Err(NOT_A_PLUGIN_MESSAGE));
    assert_eq!(
        check_cookie(&config, Some(OsStr::new(""))),
        Err(NOT_A_PLUGIN_MESSAGE)
    );
    assert_eq!(
        check_cookie(&config, Some(OsStr::new("Hello"))),
        Err(NOT_A_PLUGIN_MESSAGE)
    );
    assert_eq!(
        check_cookie(&config, Some(OsStr::new("hello "))),
        Err(NOT_A_PLUGIN_MESSAGE)
    );
    for broken in [
        HandshakeConfig::new(1, "", "hello"),
        HandshakeConfig::new(1, "BASIC_PLUGIN", ""),
    ] {
        // Misconfiguration wins even when the variable happens to match.
        assert_eq!(
            check_cookie(&broken, Some(OsStr::new(""))),
            Err(MISCONFIGURED_MESSAGE)
        );
    }
}

#[test]
fn versions_env_is_comma_joined() {
    assert_eq!(protocol_versions_env(&[1]), "1");
    assert_eq!(protocol_versions_env(&[2, 3]), "2,3");
    assert_eq!(protocol_versions_env(&[]), "");
}

#[test]
fn negotiation_picks_the_highest_common_version() {
    assert_eq!(negotiate_version(Some("1"), &[1]), (1, vec![]));
    assert_eq!(negotiate_version(Some("2,3"), &[1, 2, 3]), (3, vec![]));
    assert_eq!(negotiate_version(Some("3,2"), &[2, 3]), (3, vec![]));
    assert_eq!(negotiate_version(Some("1,2"), &[3, 2, 1]), (2, vec![]));
    assert_eq!(negotiate_version(Some("+2"), &[1, 2]), (2, vec![]));
    assert_eq!(negotiate_version(Some("02"), &[1, 2]), (2, vec![]));
}

#[test]
fn negotiation_falls_back_to_the_lowest_own_version() {
    assert_eq!(negotiate_version(Some("5"), &[3, 2]), (2, vec![]));
    assert_eq!(negotiate_version(None, &[3, 2]), (2, vec![]));
    assert_eq!(negotiate_version(Some(""), &[4, 7]), (4, vec![]));
    assert_eq!(negotiate_version(Some("-1"), &[1]), (1, vec![]));
    assert_eq!(negotiate_version(Some("1"), &[]), (0, vec![]));
}

#[test]
fn negotiation_skips_bad_entries_with_go_plugins_warning() {
    assert_eq!(
        negotiate_version(Some("1, 2"), &[1, 2]),
        (
            1,
            vec![r#"server sent invalid plugin version " 2""#.to_string()]
        )
    );
    assert_eq!(
        negotiate_version(Some("x,,3"), &[3]),
        (
            3,
            vec![
                r#"server sent invalid plugin version "x""#.to_string(),
                r#"server sent invalid plugin version """#.to_string(),
            ]
        )
    );
    assert_eq!(
        negotiate_version(Some("2\n"), &[1, 2]).1,
        vec![r#"server sent invalid plugin version "2\n""#.to_string()]
    );
}

#[test]
fn multiplex_is_requested_by_any_non_empty_value() {
    assert!(!multiplex_requested(None));
    assert!(!multiplex_requested(Some(OsStr::new(""))));
    assert!(multiplex_requested(Some(OsStr::new("true"))));
    assert!(multiplex_requested(Some(OsStr::new("false"))));
}

#[test]
fn formats_the_line_a_go_plugin_prints() {
    assert_eq!(
        format_line(1, "unix", "/tmp/plugin150985383", None, false),
        "1|1|unix|/tmp/plugin150985383|grpc|\n"
    );
    assert_eq!(
        format_line(3, "tcp", "127.0.0.1:10000", None, false),
        "1|3|tcp|127.0.0.1:10000|grpc|\n"
    );
    assert_eq!(
        format_line(1, "unix", "/tmp/p", Some(b"foobar"), false),
        "1|1|unix|/tmp/p|grpc|Zm9vYmFy\n"
    );
}

#[test]
fn seventh_field_only_when_multiplexing_was_requested_and_it_says_true() {
    assert_eq!(
        format_line(1, "unix", "/tmp/p", None, true),
        "1|1|unix|/tmp/p|grpc||true\n"
    );
    let expected = Expected {
        multiplex: true,
        ..expect(&[1])
    };
    let line = format_line(1, "unix", "/tmp/p", Some(&cert_der()), true);
    let handshake = parse_line_with(&line, &expected).expect("a host that asked accepts it");
    assert_eq!(handshake.mux, Some(true));
}

#[test]
fn multiplexing_is_enabled_only_by_a_go_true() {
    for (value, enabled) in [
        ("true", true),
        ("1", true),
        ("T", true),
        ("false", false),
        ("yes", false),
        ("", false),
    ] {
        assert_eq!(
            multiplex_enabled(Some(OsStr::new(value))),
            enabled,
            "{value:?}"
        );
    }
    assert!(!multiplex_enabled(None));
}

#[test]
fn formatted_lines_parse_back() {
    let cert = cert_der();
    let line = format_line(2, "unix", "/tmp/plugin42", Some(&cert), false);
    let handshake = parse_line_with(&line, &expect(&[1, 2])).unwrap();
    assert_eq!(
        handshake,
        Handshake {
            core: 1,
            app_version: 2,
            network: Network::Unix(PathBuf::from("/tmp/plugin42")),
            protocol: "grpc".to_string(),
            server_cert: Some(cert),
            mux: None,
        }
    );
}

#[test]
fn parses_real_go_lines() {
    let handshake =
        parse_line_with("1|1|unix|/tmp/plugin150985383|grpc|\n", &expect(&[1])).unwrap();
    assert_eq!(
        handshake.network,
        Network::Unix(PathBuf::from("/tmp/plugin150985383"))
    );
    assert_eq!(handshake.server_cert, None);
    // The Python example's five-field form.
    let handshake = parse_line_with("1|1|tcp|127.0.0.1:1234|grpc", &expect(&[1])).unwrap();
    assert_eq!(
        handshake.network,
        Network::Tcp("127.0.0.1:1234".to_string())
    );
    assert_eq!(handshake.protocol, "grpc");
    // What a v1.8.0 Go plugin prints when asked for multiplexing.
    let handshake = parse_line_with("1|1|unix|/tmp/p|grpc||true", &expect(&[1])).unwrap();
    assert_eq!(handshake.mux, Some(true));
}

#[test]
fn surrounding_whitespace_is_trimmed() {
    let handshake = parse_line_with("  1|1|unix|/tmp/p|grpc|\r\n", &expect(&[1])).unwrap();
    assert_eq!(handshake.network, Network::Unix(PathBuf::from("/tmp/p")));
}

#[test]
fn fewer_than_four_fields_is_unrecognized() {
    let path = Path::new("/nonexistent/kv-plugin");
    let expected = Expected {
        plugin_path: Some(path),
        ..expect(&[1])
    };
    let err = parse_line_with(" hello world \n", &expected).unwrap_err();
    assert!(matches!(err, Error::UnrecognizedMessage { .. }));
    assert_eq!(
        err.to_string(),
        "Unrecognized remote plugin message: hello world\n\
         This usually means\n  the plugin was not compiled for this architecture,\n  \
         the plugin is missing dynamic-link libraries necessary to run,\n  \
         the plugin is not executable by this process due to file permissions, or\n  \
         the plugin failed to negotiate the initial go-plugin protocol handshake\n"
    );
    assert!(parse_line_with("1|1|unix", &expect(&[1])).is_err());
    assert!(parse_line_with("", &expect(&[1])).is_err());
}

#[test]
fn eof_before_any_line_says_so() {
    let err = unrecognized("", None, true);
    assert!(
        err.to_string().starts_with(
            "Unrecognized remote plugin message: \n\
             Failed to read any lines from plugin's stdout\nThis usually means\n"
        ),
        "{err}"
    );
}

#[test]
fn unrecognized_includes_notes_about_an_existing_plugin() {
    let exe = std::env::current_exe().unwrap();
    let err = unrecognized("oops", Some(&exe), false).to_string();
    assert!(
        err.contains("handshake\n\nAdditional notes about plugin:\n  Path: "),
        "{err}"
    );
    assert!(err.contains("\n  Mode: -rwx"), "{err}");
    assert!(err.ends_with(")\n"), "{err}");
}

#[test]
fn core_version_errors_read_like_go() {
    assert_eq!(
        err_text("x|1|unix|/tmp/p|grpc|", &expect(&[1])),
        r#"error parsing core protocol version: strconv.Atoi: parsing "x": invalid syntax"#
    );
    assert_eq!(
        err_text("2|1|unix|/tmp/p|grpc|", &expect(&[1])),
        "incompatible core API version with plugin. Plugin version: 2, Core version: 1\n\n\
         To fix this, the plugin usually only needs to be recompiled.\n\
         Please report this to the plugin author"
    );
    // Atoi accepts a sign and leading zeros; Go prints the field as given, not the number.
    assert!(parse_line_with("01|1|unix|/tmp/p|grpc|", &expect(&[1])).is_ok());
    assert!(parse_line_with("+1|1|unix|/tmp/p|grpc|", &expect(&[1])).is_ok());
    assert!(
        err_text("-0001|1|unix|/tmp/p|grpc|", &expect(&[1]))
            .starts_with("incompatible core API version with plugin. Plugin version: -0001,")
    );
}

#[test]
fn app_version_errors_read_like_go() {
    assert_eq!(
        err_text("1|v2|unix|/tmp/p|grpc|", &expect(&[1])),
        r#"Error parsing protocol version "v2": strconv.Atoi: parsing "v2": invalid syntax"#
    );
    let err = parse_line_with("1|3|unix|/tmp/p|grpc|", &expect(&[1, 2])).unwrap_err();
    assert!(matches!(
        err,
        Error::IncompatibleVersion { plugin: 3, ref client } if client == &[1, 2]
    ));
    assert_eq!(
        err.to_string(),
        "incompatible API version with plugin. Plugin version: 3, Client versions: [1 2]"
    );
    assert_eq!(
        err_text("1|-1|unix|/tmp/p|grpc|", &expect(&[1])),
        "incompatible API version with plugin. Plugin version: -1, Client versions: [1]"
    );
}

#[test]
fn the_version_is_checked_before_the_network() {
    assert!(
        err_text("1|9|udp|somewhere|grpc|", &expect(&[1])).starts_with("incompatible API version")
    );
}

#[test]
fn unknown_network_names_the_address() {
    assert_eq!(
        err_text("1|1|udp|10.0.0.1:53|grpc|", &expect(&[1])),
        "unknown address type: 10.0.0.1:53"
    );
    assert_eq!(
        err_text("1|1|UNIX|/tmp/p|grpc|", &expect(&[1])),
        "unknown address type: /tmp/p"
    );
}

#[test]
fn protocol_defaults_to_netrpc_and_must_be_allowed() {
    assert_eq!(
        err_text("1|1|unix|/tmp/p", &expect(&[1])),
        r#"unsupported plugin protocol "netrpc". Supported: [grpc]"#
    );
    assert_eq!(
        err_text("1|1|unix|/tmp/p|netrpc|", &expect(&[1])),
        r#"unsupported plugin protocol "netrpc". Supported: [grpc]"#
    );
    assert_eq!(
        err_text("1|1|unix|/tmp/p||", &expect(&[1])),
        r#"unsupported plugin protocol "". Supported: [grpc]"#
    );
    let both = Expected {
        protocols: &["netrpc", "grpc"],
        ..expect(&[1])
    };
    assert_eq!(
        parse_line_with("1|1|unix|/tmp/p", &both).unwrap().protocol,
        "netrpc"
    );
    let none = Expected {
        protocols: &[],
        ..expect(&[1])
    };
    assert_eq!(
        err_text("1|1|unix|/tmp/p|grpc", &none),
        r#"unsupported plugin protocol "grpc". Supported: []"#
    );
}

#[test]
fn short_cert_fields_are_ignored() {
    let fifty = "A".repeat(50);
    let handshake =
        parse_line_with(&format!("1|1|unix|/tmp/p|grpc|{fifty}"), &expect(&[1])).unwrap();
    assert_eq!(handshake.server_cert, None);
    // Even garbage, as long as it is short.
    let handshake = parse_line_with("1|1|unix|/tmp/p|grpc|=not base64=", &expect(&[1])).unwrap();
    assert_eq!(handshake.server_cert, None);
}

#[test]
fn cert_fields_are_raw_std_base64() {
    let cert = cert_der();
    let encoded = base64::encode(&cert);
    let line = format!("1|1|unix|/tmp/p|grpc|{encoded}");
    assert_eq!(
        parse_line_with(&line, &expect(&[1])).unwrap().server_cert,
        Some(cert)
    );

    // 200 bytes need padding in standard base64; the host rejects it at the first `=`.
    let padded = format!("{encoded}==");
    assert_eq!(
        err_text(&format!("1|1|unix|/tmp/p|grpc|{padded}"), &expect(&[1])),
        format!(
            "error parsing server cert: illegal base64 data at input byte {}",
            encoded.len()
        )
    );
    let bad = format!("{}*{}", &encoded[..10], &encoded[11..]);
    assert_eq!(
        err_text(&format!("1|1|unix|/tmp/p|grpc|{bad}"), &expect(&[1])),
        "error parsing server cert: illegal base64 data at input byte 10"
    );
}

#[test]
fn seventh_field_matters_only_to_a_host_that_asked_for_multiplexing() {
    // Not asked: anything goes.
    for line in [
        "1|1|unix|/tmp/p|grpc|",
        "1|1|unix|/tmp/p|grpc||false",
        "1|1|unix|/tmp/p|grpc||maybe",
    ] {
        assert!(parse_line_with(line, &expect(&[1])).is_ok(), "{line}");
    }
    assert_eq!(
        parse_line_with("1|1|unix|/tmp/p|grpc||false", &expect(&[1]))
            .unwrap()
            .mux,
        Some(false)
    );

    let asked = Expected {
        multiplex: true,
        ..expect(&[1])
    };
    assert_eq!(
        parse_line_with("1|1|unix|/tmp/p|grpc||true", &asked)
            .unwrap()
            .mux,
        Some(true)
    );
    assert_eq!(
        parse_line_with("1|1|unix|/tmp/p|grpc||1", &asked)
            .unwrap()
            .mux,
        Some(true)
    );
    assert_eq!(
        err_text("1|1|unix|/tmp/p|grpc|", &asked),
        "client requested gRPC broker multiplexing but plugin does not support the feature; \
         for Go plugins, you will need to update the github.com/hashicorp/go-plugin dependency \
         and recompile"
    );
    assert_eq!(
        err_text("1|1|unix|/tmp/p|grpc||maybe", &asked),
        r#"error parsing "maybe" as a boolean for gRPC broker multiplexing support"#
    );
    assert_eq!(
        err_text("1|1|unix|/tmp/p|grpc||false", &asked),
        "client requested gRPC broker multiplexing but plugin does not support the feature"
    );

    // Multiplexing is a gRPC feature; a netrpc plugin is not asked about it.
    let asked_netrpc = Expected {
        protocols: &["netrpc", "grpc"],
        ..asked
    };
    assert!(parse_line_with("1|1|unix|/tmp/p|netrpc|", &asked_netrpc).is_ok());
}

#[test]
fn extra_fields_beyond_seven_are_ignored() {
    let handshake =
        parse_line_with("1|1|unix|/tmp/p|grpc||true|extra|more", &expect(&[1])).unwrap();
    assert_eq!(handshake.mux, Some(true));
}
