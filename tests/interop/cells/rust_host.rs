//! Cell 2: our Rust host (`kv`) loads go-plugin's Go plugins and a Go plugin of ours.

use crate::harness::{GoPlugin, env, events, expect_event, kv, quote, workdir};

/// `kv put` then `kv get` through go-plugin's examples/grpc/plugin-go-grpc, each run a fresh
/// plugin process that must exit through GRPCController.Shutdown, not SIGKILL.
fn round_trip_through_go_example_plugin(version: GoPlugin) {
    let dir = workdir();
    let plugin = quote(&env().go(version, "plugin-go-grpc"));

    let put = kv(dir.path(), &plugin, &["put", "hello", "world"], &[]).success();
    let get = kv(dir.path(), &plugin, &["get", "hello"], &[]).success();
    assert_eq!(
        get.stdout, "world\n\nWritten from plugin-go-grpc\n",
        "{get}"
    );

    for run in [&put, &get] {
        let events = events(&run.stderr);
        // The Go plugin's hclog JSON record, mirrored at its level with its fields.
        expect_event(&events, "DEBUG", &["plugin address", "unix"]);
        // Graceful: the plugin exited by itself after Shutdown, inside the 2 s grace (past it,
        // the host logs "failed to exit gracefully" and kills it).
        expect_event(&events, "DEBUG", &["plugin exited"]);
        expect_event(&events, "INFO", &["plugin process exited"]);
        assert!(
            !events
                .iter()
                .any(|e| e.text.contains("failed to exit gracefully")),
            "{run}"
        );
        assert!(!run.survivors, "a process outlived the host:\n{run}");
    }
}

#[test]
fn rust_host_round_trips_through_go_example_plugin_v1_8() {
    round_trip_through_go_example_plugin(GoPlugin::V1_8);
}

#[test]
fn rust_host_round_trips_through_go_example_plugin_v1_4() {
    round_trip_through_go_example_plugin(GoPlugin::V1_4);
}

/// Our Go plugin logs one hclog record per level on each put and prints to os.Stdout and
/// os.Stderr (go-plugin forwards those over GRPCStdio; `kv` copies both to its stderr).
#[test]
fn rust_host_mirrors_go_plugin_log_levels_fields_and_stdio() {
    let dir = workdir();
    let plugin = quote(&env().go(GoPlugin::V1_8, "plugin"));

    let put = kv(dir.path(), &plugin, &["put", "hello", "world"], &[]).success();
    let events = events(&put.stderr);
    for (level, message) in [
        ("TRACE", "put trace"),
        ("DEBUG", "put debug"),
        ("INFO", "put info"),
        ("WARN", "put warn"),
        ("ERROR", "put error"),
    ] {
        expect_event(&events, level, &[message, "hello"]);
    }
    // `kv` copies the plugin's stdout and stderr into its own stderr, between its log lines.
    assert!(put.stderr.contains("stdout: put hello\n"), "{put}");
    assert!(put.stderr.contains("stderr: put hello\n"), "{put}");

    let get = kv(dir.path(), &plugin, &["get", "hello"], &[]).success();
    assert_eq!(
        get.stdout, "world\n\nWritten from interop-go-plugin version 1\n",
        "{get}"
    );
}
