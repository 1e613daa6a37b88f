//! Bad plugins: every one gives a clear error, none a hang or a panic.

use super::*;

#[tokio::test]
async fn garbage_before_the_handshake_is_unrecognized() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo 'Hello from a banner'; sleep 5"),
    ))
    .await
    .expect_err("not a handshake");
    let text = err.to_string();
    assert!(
        text.starts_with("Unrecognized remote plugin message: Hello from a banner\n"),
        "{text}"
    );
    assert!(text.contains("This usually means"), "{text}");
    assert!(text.contains("Additional notes about plugin:"), "{text}");
    assert!(text.contains("Path: /"), "{text}");
}

#[tokio::test]
async fn a_plugin_that_exits_silently_says_so() {
    let err = Client::start(ClientConfig::new(HANDSHAKE, sh("exit 3")))
        .await
        .expect_err("no handshake");
    let text = err.to_string();
    assert!(
        text.starts_with("Unrecognized remote plugin message: \n"),
        "{text}"
    );
    assert!(
        text.contains("Failed to read any lines from plugin's stdout"),
        "{text}"
    );
}

#[tokio::test]
async fn a_plugin_that_exits_while_a_child_holds_its_stdout_is_noticed() {
    let config = ClientConfig::new(HANDSHAKE, sh("sleep 30 & exit 4"))
        .start_timeout(Duration::from_secs(20));
    let err = Client::start(config).await.expect_err("exited");
    // The exit ended the wait, not the end of stdout: that comes with the child, 30 s on, after
    // the start timeout would have failed the start with its own error.
    assert_eq!(err.to_string(), "plugin exited before we could connect");
}

#[tokio::test]
async fn a_plugin_that_hangs_before_its_handshake_times_out() {
    let config =
        ClientConfig::new(HANDSHAKE, sh("sleep 30")).start_timeout(Duration::from_millis(300));
    let err = Client::start(config).await.expect_err("times out");
    // The configured timeout ended the wait: without it the plugin's exit, 30 s on and before
    // the default minute, would have failed the start with "plugin exited before we could
    // connect".
    assert_eq!(err.to_string(), "timeout while waiting for plugin to start");
}

#[tokio::test]
async fn a_netrpc_plugin_is_refused_with_go_plugins_message() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo '1|1|unix|/tmp/plugin-none|netrpc|'; sleep 5"),
    ))
    .await
    .expect_err("netrpc is not supported");
    assert_eq!(
        err.to_string(),
        "unsupported plugin protocol \"netrpc\". Supported: [grpc]"
    );
}

#[tokio::test]
async fn a_wrong_core_version_is_refused() {
    let err = Client::start(ClientConfig::new(
        HANDSHAKE,
        sh("echo '2|1|unix|/tmp/plugin-none|grpc|'; sleep 5"),
    ))
    .await
    .expect_err("core version 2");
    assert!(
        err.to_string().starts_with(
            "incompatible core API version with plugin. Plugin version: 2, Core version: 1"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_plugin_flooding_stderr_does_not_block_anything() {
    // 4 MiB on the log channel in one line far longer than the log buffer, before the handshake.
    let script =
        format!("head -c 4194304 /dev/zero | tr '\\0' Q >&2; echo >&2; exec '{TEST_PLUGIN}'");
    let raw = Captured::default();
    let config = ClientConfig::new(HANDSHAKE, sh(&script))
        .stderr(raw.clone())
        .log_buffer_size(4096);
    let client = Client::start(config)
        .await
        .expect("starts despite the flood");
    let tester = client.dispense::<TesterPlugin>().expect("dispense");
    // And 4 MiB through stdout after the handshake.
    let flood = "y".repeat(4 << 20);
    match tokio::time::timeout(Duration::from_secs(20), tester.print(flood, String::new())).await {
        Ok(result) => result.expect("print"),
        Err(_) => panic!(
            "4 MiB of stdout did not get through; plugin log:\n{}",
            raw.text().replace(&"Q".repeat(4096), "")
        ),
    }
    eventually("the whole flood", || {
        raw.text().matches('Q').count() == 4 << 20
    })
    .await;
    client.ping().await.expect("still healthy");
    client.kill().await;
}

#[tokio::test]
async fn kv_plugin_put_then_get_in_two_runs_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kv = tests::workspace_binary("kv");
    let run = |args: &[&str]| {
        let output = Command::new(&kv)
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("run kv");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, _, stderr) = run(&["put", "hello", "world"]);
    assert!(ok, "put failed: {stderr}");
    let (ok, stdout, stderr) = run(&["get", "hello"]);
    assert!(ok, "get failed: {stderr}");
    assert_eq!(stdout, "world\n\nWritten from plugin-rust\n");
    let (ok, _, stderr) = run(&["get", "missing"]);
    assert!(!ok);
    assert!(stderr.starts_with("error: "), "{stderr}");
}

#[tokio::test]
async fn a_cookie_the_plugin_rejects_is_reported_as_such_first() {
    let wrong = go_plugin::HandshakeConfig::new(1, HANDSHAKE.magic_cookie_key, "not-the-cookie");
    let err = Client::start(ClientConfig::new(wrong, plugin("")))
        .await
        .expect_err("the plugin refuses the cookie");
    assert!(
        matches!(err, Error::MagicCookieMismatch { ref key, .. } if key == "TEST_MAGIC_COOKIE"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the plugin rejected the magic cookie: it exited saying it was not started by a host"
        ),
        "{text}"
    );
    // go-plugin's own words, and the plugin's, follow for those who search for them.
    assert!(
        text.contains("Unrecognized remote plugin message"),
        "{text}"
    );
    assert!(text.contains("This binary is a plugin."), "{text}");
}
