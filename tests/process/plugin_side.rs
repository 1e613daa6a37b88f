//! Plugin side: cookie, handshake line, listener, negotiation.

use super::*;

#[test]
fn plugin_run_by_hand_explains_itself_and_exits_1() {
    let output = Command::new(TEST_PLUGIN)
        .env_remove(HANDSHAKE.magic_cookie_key)
        .output()
        .expect("run test-plugin");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    assert_eq!(String::from_utf8_lossy(&output.stderr), NOT_A_COMMAND);

    let wrong = Command::new(TEST_PLUGIN)
        .env(HANDSHAKE.magic_cookie_key, "wrong")
        .output()
        .expect("run test-plugin");
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&wrong.stderr), NOT_A_COMMAND);
}

#[test]
fn misconfigured_cookie_is_reported_as_a_bug() {
    let output = plugin("misconfigured").output().expect("run test-plugin");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "Misconfigured ServeConfig given to serve this plugin: no magic cookie\n\
         key or value was set. Please notify the plugin author and report\n\
         this as a bug.\n"
    );
}

#[test]
fn handshake_line_is_go_plugins_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir_str = dir.path().to_str().expect("utf-8 temp dir");
    let (line, mut child) = handshake_line("", &[("PLUGIN_UNIX_SOCKET_DIR", dir_str)]);
    let fields: Vec<&str> = line.trim_end_matches('\n').split('|').collect();
    assert!(line.ends_with("|grpc|\n"), "line: {line:?}");
    assert_eq!(fields.len(), 6, "six fields without multiplexing: {line:?}");
    assert_eq!(&fields[..3], ["1", "1", "unix"]);
    let socket = Path::new(fields[3]);
    assert_eq!(
        socket.parent(),
        Some(dir.path()),
        "socket in PLUGIN_UNIX_SOCKET_DIR"
    );
    let name = socket.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(
        name.starts_with("plugin") && name["plugin".len()..].chars().all(|c| c.is_ascii_digit()),
        "go-plugin's socket name pattern: {name}"
    );
    assert!(socket.exists());
    kill(&mut child);
}

unsafe extern "C" {
    fn getgid() -> u32;
}

#[test]
fn socket_group_and_mode_follow_plugin_unix_socket_group() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: getgid has no preconditions.
    let gid = unsafe { getgid() };
    let name = std::fs::read_to_string("/etc/group")
        .ok()
        .and_then(|groups| {
            groups.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.get(2) == Some(&gid.to_string().as_str())).then(|| fields[0].to_owned())
            })
        })
        .expect("the current group has a name");
    for group in [gid.to_string(), name] {
        let (line, mut child) = handshake_line("", &[("PLUGIN_UNIX_SOCKET_GROUP", &group)]);
        let socket = line.split('|').nth(3).expect("address").to_owned();
        let metadata = std::fs::metadata(&socket).expect("socket exists");
        assert_eq!(metadata.gid(), gid, "group {group}");
        assert_eq!(
            metadata.permissions().mode() & 0o777,
            0o660,
            "group {group}"
        );
        kill(&mut child);
    }
}

#[test]
fn seventh_field_only_when_multiplexing_was_requested() {
    let (line, mut child) = handshake_line("", &[("PLUGIN_MULTIPLEX_GRPC", "true")]);
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 7, "line: {line:?}");
    assert_eq!(fields[5], "");
    assert_eq!(fields[6], "true", "the plugin supports multiplexing");
    kill(&mut child);
    // An empty value is no request; any other value gets the field, as go-plugin prints it.
    for (value, count) in [("", 6), ("false", 7), ("1", 7)] {
        let (line, mut child) = handshake_line("", &[("PLUGIN_MULTIPLEX_GRPC", value)]);
        let fields = line.trim_end().split('|').count();
        assert_eq!(fields, count, "PLUGIN_MULTIPLEX_GRPC={value:?}: {line:?}");
        kill(&mut child);
    }
}

#[test]
fn negotiates_the_highest_common_version_or_answers_its_lowest() {
    for (offered, expected) in [
        ("2,3", "3"),
        ("3,2", "3"),
        ("1,2", "2"),
        ("5", "2"),
        ("", "2"),
    ] {
        let (line, mut child) =
            handshake_line("versions", &[("PLUGIN_PROTOCOL_VERSIONS", offered)]);
        let version = line.split('|').nth(1).unwrap_or("");
        assert_eq!(version, expected, "offered {offered:?}: {line:?}");
        kill(&mut child);
    }
}

#[tokio::test]
async fn one_binary_serves_each_negotiated_version() {
    for (versions, expected) in [(vec![2], 2), (vec![3], 3), (vec![1, 2, 3], 3)] {
        let config = ClientConfig::new(HANDSHAKE, plugin("versions")).versions(versions.clone());
        let client = Client::start(config).await.expect("start");
        assert_eq!(client.negotiated_version(), expected);
        let tester = client.dispense::<TesterPlugin>().expect("dispense");
        assert_eq!(tester.version().await.expect("call"), expected);
        client.kill().await;
    }
}

#[tokio::test]
async fn version_mismatch_gives_go_plugins_error() {
    let config = ClientConfig::new(HANDSHAKE, plugin("versions")).versions([5, 7]);
    let err = Client::start(config).await.expect_err("no common version");
    assert_eq!(
        err.to_string(),
        "incompatible API version with plugin. Plugin version: 2, Client versions: [5 7]"
    );
}

#[tokio::test]
async fn tcp_listener_stays_in_the_port_range() {
    let (line, mut child) = handshake_line(
        "tcp",
        &[("PLUGIN_MIN_PORT", "23000"), ("PLUGIN_MAX_PORT", "23999")],
    );
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields[2], "tcp");
    let port: u16 = fields[3]
        .strip_prefix("127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .expect("127.0.0.1:PORT");
    assert!((23000..=23999).contains(&port), "port {port}");
    kill(&mut child);

    let client =
        Client::start(ClientConfig::new(HANDSHAKE, plugin("tcp")).port_range(24000, 24999))
            .await
            .expect("start over tcp");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    assert_eq!(tester.echo(b"tcp".to_vec()).await.expect("echo"), b"tcp");
    client.kill().await;
}
