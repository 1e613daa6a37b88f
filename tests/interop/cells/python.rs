//! Cell 3: our Rust host (`kv`) loads Python plugins written from go-plugin's guide for non-Go
//! plugins: a complete one (health, controller, stdio, logs) and the guide's minimal one.

use std::process::Command;
use std::time::{Duration, Instant};

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig};
use tests::Captured;

use crate::harness::{GRACE, GoPlugin, env, events, expect_event, go_host, kv, workdir};

/// The peers themselves, checked against go-plugin's real host (our Go host at v1.8.0): if this
/// passes and a Rust-host cell fails, the Rust host is at fault.
#[test]
fn go_host_round_trips_through_python_plugins() {
    let env = env();
    let stubs = env.python_stubs.display().to_string();
    let dir = workdir();

    let full = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &env.python_plugin_command("plugin_full.py"),
        &[
            "-ping",
            "-want-stdout",
            "put hello",
            "-want-stderr",
            "put hello",
        ],
        &["put", "hello", "world"],
        &[("PYTHONPATH", &stubs), ("KV_PLUGIN_ECHO", "1")],
    );
    assert_eq!(full.error(), "", "{}", full.run);
    assert_eq!(full.report["ping"], "ok", "{}", full.report);
    assert_eq!(
        full.report["sync_stdout"],
        "python plugin stdout: put hello\n"
    );
    assert_eq!(
        full.report["sync_stderr"],
        "python plugin stderr: put hello\n"
    );
    assert_eq!(full.records("plugin exited").len(), 1, "{:#?}", full.log);
    assert!(
        full.records("plugin failed to exit gracefully").is_empty(),
        "{:#?}",
        full.log
    );
    let put = full.records("put");
    assert!(
        put.iter()
            .any(|r| r["@level"] == "info" && r["key"] == "hello"),
        "{:#?}",
        full.log
    );

    // `exec`: go-plugin kills only its direct child, and dash's `sh -c` forks; a Python
    // grandchild left holding the pipes would hang the Go host's Kill (go-plugin#136).
    let minimal = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &format!("exec {}", env.python_plugin_command("plugin_minimal.py")),
        &["-ping"],
        &["get", "hello"],
        &[("PYTHONPATH", &stubs)],
    );
    assert_eq!(minimal.error(), "", "{}", minimal.run);
    assert_eq!(
        minimal.report["value"],
        "world\n\nWritten from plugin-python"
    );
    assert_eq!(minimal.report["ping"], "ok", "{}", minimal.report);
    // No controller: go-plugin waits out its grace period, then kills.
    assert_eq!(minimal.records("plugin failed to exit gracefully").len(), 1);
    let kill_ms = minimal.report["kill_ms"].as_u64().unwrap_or_default();
    assert!(
        u128::from(kill_ms) >= GRACE.as_millis(),
        "Kill took {kill_ms} ms"
    );
}

#[test]
fn rust_host_round_trips_through_full_python_plugin() {
    let dir = workdir();
    let plugin = env().python_plugin_command("plugin_full.py");

    let put = kv(
        dir.path(),
        &plugin,
        &["put", "hello", "world"],
        &[("KV_PLUGIN_ECHO", "1")],
    )
    .success();
    let get = kv(dir.path(), &plugin, &["get", "hello"], &[]).success();
    assert_eq!(get.stdout, "world\n\nWritten from plugin-python\n", "{get}");

    let put_events = events(&put.stderr);
    expect_event(&put_events, "INFO", &["put", "hello"]);
    // `kv` copies the plugin's stdout and stderr into its own stderr, between its log lines.
    assert!(
        put.stderr.contains("python plugin stdout: put hello\n"),
        "{put}"
    );
    assert!(
        put.stderr.contains("python plugin stderr: put hello\n"),
        "{put}"
    );

    for run in [&put, &get] {
        let events = events(&run.stderr);
        expect_event(&events, "DEBUG", &["shutdown requested by the host"]);
        expect_event(&events, "DEBUG", &["plugin exited"]);
        assert!(
            !events
                .iter()
                .any(|e| e.text.contains("failed to exit gracefully")),
            "{run}"
        );
        assert!(!run.survivors, "a process outlived the host:\n{run}");
    }
}

/// A stdio stream that breaks while the plugin lives is opened again by our host, so the
/// plugin's output still arrives (a host that gave up would leave it undrained).
#[test]
fn rust_host_reopens_a_broken_stdio_stream() {
    let env = env();
    let dir = workdir();
    let mut command = Command::new(&env.python);
    command
        .arg(env.python_peer("plugin_full.py"))
        .current_dir(dir.path())
        .env("PYTHONPATH", &env.python_stubs)
        .env("KV_PLUGIN_ECHO", "1")
        .env("PLUGIN_STDIO_BREAK_FIRST", "1");
    let stdout = Captured::default();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let config = ClientConfig::new(HANDSHAKE, command).sync_stdout(stdout.clone());
        let client = Client::start(config)
            .await
            .expect("start the Python plugin");
        let kv = client.dispense::<KvPlugin>().expect("dispense");
        kv.put("hello".to_owned(), b"world".to_vec())
            .await
            .expect("put");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !stdout.text().contains("python plugin stdout: put hello\n") {
            assert!(
                Instant::now() < deadline,
                "the plugin's stdout never arrived: {:?}",
                stdout.text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.kill().await;
    });
}

/// No GRPCController, no GRPCStdio, a five-field handshake on TCP: the host must still work and
/// end the plugin by killing it after the grace period, like go-plugin.
#[test]
fn rust_host_round_trips_through_minimal_python_plugin_and_kills_it() {
    let dir = workdir();
    let plugin = env().python_plugin_command("plugin_minimal.py");

    let put = kv(dir.path(), &plugin, &["put", "hello", "world"], &[]).success();
    let get = kv(dir.path(), &plugin, &["get", "hello"], &[]).success();
    assert_eq!(
        get.stdout, "world\n\nWritten from plugin-python-minimal\n",
        "{get}"
    );

    for run in [&put, &get] {
        expect_event(
            &events(&run.stderr),
            "WARN",
            &["plugin failed to exit gracefully"],
        );
        assert!(!run.survivors, "the plugin outlived the host:\n{run}");
    }
}

/// A plugin whose health service answers NOT_SERVING: go-plugin's `Ping` only checks that the
/// service answers (go-plugin#341), ours checks what it answers.
#[test]
fn rust_host_ping_fails_when_plugin_health_is_not_serving_unlike_go_plugins() {
    let env = env();
    let dir = workdir();
    let stubs = env.python_stubs.display().to_string();
    let not_serving = [
        ("PYTHONPATH", stubs.as_str()),
        ("PLUGIN_HEALTH_STATUS", "NOT_SERVING"),
    ];
    let go = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &env.python_plugin_command("plugin_full.py"),
        &["-ping"],
        &["none"],
        &not_serving,
    );
    assert_eq!(go.report["ping"], "ok", "go-plugin's Ping: {}", go.report);

    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "exec {}",
            env.python_plugin_command("plugin_full.py")
        ))
        .current_dir(dir.path())
        .envs(not_serving);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let client =
            go_plugin::Client::start(go_plugin::ClientConfig::new(examples::HANDSHAKE, command))
                .await
                .expect("start the Python plugin");
        let err = client.ping().await.expect_err("NOT_SERVING is not healthy");
        assert!(err.to_string().contains("NotServing"), "{err}");
        client.kill().await;
    });
}
