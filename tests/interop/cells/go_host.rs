//! Cells 1 and 5: go-plugin hosts (v1.8.0 and v1.4.10) load our Rust `kv-plugin`.

use crate::harness::{
    GoPlugin, RUN_TIMEOUT, env, go_example_host, go_host, quote, run_with_linger, workdir,
};

const STORED: &str = "world\n\nWritten from plugin-rust";

/// go-plugin's examples/grpc host, unchanged: put then get, each a fresh plugin process.
fn example_host_round_trip(version: GoPlugin) {
    let dir = workdir();
    let plugin = quote(&env().kv_plugin);

    let put = go_example_host(version, dir.path(), &plugin, &["put", "hello", "world"]).success();
    assert_eq!(put.stdout, "", "{put}");
    let stored = std::fs::read_to_string(dir.path().join("kv_hello")).expect("kv_hello written");
    assert_eq!(stored, STORED);

    let get = go_example_host(version, dir.path(), &plugin, &["get", "hello"]).success();
    assert_eq!(get.stdout, format!("{STORED}\n"), "{get}");

    for run in [&put, &get] {
        let log = &run.stderr;
        // Every log line of ours was hclog JSON that go-plugin parsed: a line it could not parse
        // would be logged verbatim, raw JSON included.
        assert!(
            !log.contains("{\"@"),
            "raw JSON from the plugin in the host's log:\n{run}"
        );
    }
    // v1.4.10's example host ends with os.Exit right after the call, skipping its deferred
    // Kill and whatever of the plugin's log it had not read yet: only v1.8.0's shows both.
    if version == GoPlugin::V1_4 {
        return;
    }
    for run in [&put, &get] {
        let log = &run.stderr;
        // Graceful kill: GRPCController.Shutdown made the plugin exit within go-plugin's 2 s.
        assert!(!log.contains("plugin failed to exit gracefully"), "{run}");
        assert!(log.contains("[DEBUG] plugin: plugin exited"), "{run}");
        assert!(!run.survivors, "a process outlived the host:\n{run}");
        assert!(
            log.lines()
                .any(|l| l.contains("[DEBUG] plugin.sh: plugin address:")
                    && l.contains("network=unix")),
            "{run}"
        );
    }
    assert!(
        put.stderr
            .lines()
            .any(|l| l.contains("[INFO]  plugin.sh: put:") && l.contains("key=hello")),
        "{put}"
    );
}

#[test]
fn go_example_host_v1_8_round_trips_through_rust_plugin() {
    example_host_round_trip(GoPlugin::V1_8);
}

#[test]
fn go_example_host_v1_4_round_trips_through_rust_plugin() {
    example_host_round_trip(GoPlugin::V1_4);
}

/// Our Go host: stdio forwarding into SyncStdout/SyncStderr, Ping, our `tracing` events at
/// their level with their fields in the host's hclog, graceful Kill.
fn go_host_sees_stdio_ping_logs(version: GoPlugin) {
    let dir = workdir();
    let plugin = quote(&env().kv_plugin);
    let flags = [
        "-ping",
        "-want-stdout",
        "kv-plugin stdout: put hello",
        "-want-stderr",
        "kv-plugin stderr: put hello",
    ];
    let put = go_host(
        version,
        dir.path(),
        &plugin,
        &flags,
        &["put", "hello", "world"],
        &[("KV_PLUGIN_ECHO", "1")],
    );
    assert_eq!(put.error(), "", "{}", put.run);
    let report = &put.report;
    assert_eq!(report["negotiated_version"], 1, "{report}");
    assert_eq!(report["protocol"], "grpc", "{report}");
    assert_eq!(report["ping"], "ok", "{report}");
    assert_eq!(
        report["sync_stdout"], "kv-plugin stdout: put hello\n",
        "{report}"
    );
    assert_eq!(
        report["sync_stderr"], "kv-plugin stderr: put hello\n",
        "{report}"
    );

    // Our records carry their own `@module` (the tracing target), which go-plugin passes on
    // as a field, so it replaces the host's `plugin.sh` in the host's JSON output.
    let event = put
        .records("put")
        .into_iter()
        .find(|r| r["key"] == "hello")
        .unwrap_or_else(|| panic!("no \"put\" record from the plugin: {:#?}", put.log));
    assert_eq!(event["@level"], "info", "{event}");
    assert_eq!(event["key"], "hello", "{event}");
    assert!(event["bytes"] == 5 || event["bytes"] == "5", "{event}");

    let get = go_host(version, dir.path(), &plugin, &[], &["get", "hello"], &[]);
    assert_eq!(get.error(), "", "{}", get.run);
    assert_eq!(get.report["value"], STORED);
    let event = get
        .records("get")
        .into_iter()
        .find(|r| r["key"] == "hello")
        .unwrap_or_else(|| panic!("no \"get\" record from the plugin: {:#?}", get.log));
    assert_eq!(event["@level"], "debug", "{event}");
    assert_eq!(event["key"], "hello", "{event}");

    for run in [&put, &get] {
        // Graceful kill: the plugin exited inside go-plugin's 2 s grace, or Kill would have
        // logged that it failed to and killed it.
        assert!(
            run.records("plugin failed to exit gracefully").is_empty(),
            "{:#?}",
            run.log
        );
        assert_eq!(run.records("plugin exited").len(), 1, "{:#?}", run.log);
        for record in &run.log {
            let message = record["@message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with('{'),
                "unparsed JSON log line: {record}"
            );
        }
        assert!(
            !run.run.survivors,
            "a process outlived the host:\n{}",
            run.run
        );
    }
}

#[test]
fn go_host_v1_8_gets_rust_plugin_stdio_ping_and_log_levels() {
    go_host_sees_stdio_ping_logs(GoPlugin::V1_8);
}

#[test]
fn go_host_v1_4_gets_rust_plugin_stdio_ping_and_log_levels() {
    go_host_sees_stdio_ping_logs(GoPlugin::V1_4);
}

/// go-plugin v1.4.10's example host exits through os.Exit, skipping its deferred Kill, so the
/// plugin (under `sh -c`, whose shell stays alive waiting for it) loses its host without being
/// told. Go plugins stay orphaned then (go-plugin#10); ours must notice and exit.
#[test]
fn rust_plugin_exits_when_its_go_host_exits_without_kill() {
    let dir = workdir();
    let mut command = std::process::Command::new(env().go(GoPlugin::V1_4, "grpc"));
    command
        .current_dir(dir.path())
        .env("KV_PROTO", "grpc")
        .env("KV_PLUGIN", quote(&env().kv_plugin))
        .args(["put", "hello", "world"]);
    let run = run_with_linger(command, RUN_TIMEOUT, std::time::Duration::from_secs(5)).success();
    assert!(
        !run.survivors,
        "the plugin outlived its host by 5 s:\n{run}"
    );
}
