//! Cell 7: the broker and callbacks, against go-plugin's examples/bidirectional (the host hands
//! the counter plugin an `AddHelper` to call back) at v1.8.0 and v1.4.10, and broker
//! multiplexing over yamux (go-plugin ≥ 1.6) in both directions, plain and under AutoMTLS.

use std::path::Path;
use std::process::Command;

use crate::harness::{GoPlugin, RUN_TIMEOUT, env, quote, rust_command, workdir};
use tests::run::{Run, run};

/// Our counter host (`counter ARGS`) in `dir` with `COUNTER_PLUGIN=plugin`.
fn counter(dir: &Path, plugin: &str, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let mut command = rust_command(&tests::workspace_binary("counter"), dir);
    command.env("COUNTER_PLUGIN", plugin).args(args);
    for (key, value) in envs {
        command.env(key, value);
    }
    run(command, RUN_TIMEOUT)
}

/// A Go host built against `version`: go-plugin's examples/bidirectional host, or our
/// `counterhost` (v1.8.0 only) with its flags.
fn go_counter_host(version: GoPlugin, program: &str, dir: &Path, args: &[&str]) -> Run {
    let mut command = Command::new(env().go(version, &format!("bidirectional/{program}")));
    command
        .current_dir(dir)
        .env(
            "COUNTER_PLUGIN",
            quote(&tests::workspace_binary("counter-plugin")),
        )
        .args(args);
    run(command, RUN_TIMEOUT)
}

fn go_counter_plugin(version: GoPlugin) -> String {
    quote(&env().go(version, "bidirectional/plugin-go-grpc"))
}

fn stored(dir: &Path, key: &str) -> String {
    std::fs::read_to_string(dir.join(format!("kv_{key}"))).unwrap_or_default()
}

/// go-plugin's example host, unchanged, hands our plugin its AddHelper: our plugin dials the
/// broker id from `PutRequest.add_server` and sums through the host.
fn go_example_host_calls_rust_counter(version: GoPlugin) {
    let dir = workdir();
    for value in ["5", "7"] {
        let put = go_counter_host(version, "bidirectional", dir.path(), &["put", "a", value]);
        assert!(put.stdout.is_empty(), "{put}");
        let put = put.success();
        assert!(!put.survivors, "{put}");
    }
    let get = go_counter_host(version, "bidirectional", dir.path(), &["get", "a"]).success();
    assert_eq!(get.stdout, "12\n", "{get}");
    assert_eq!(stored(dir.path(), "a"), r#"{"Value":12}"#);
}

#[test]
fn go_example_host_v1_8_calls_back_through_rust_plugin() {
    go_example_host_calls_rust_counter(GoPlugin::V1_8);
}

#[test]
fn go_example_host_v1_4_calls_back_through_rust_plugin() {
    go_example_host_calls_rust_counter(GoPlugin::V1_4);
}

/// A go-plugin v1.8.0 host asking for multiplexing (and AutoMTLS): our plugin answers `true`
/// in the 7th field and serves the host's AddHelper stream on the one yamux connection (the Go
/// host refuses a plugin that does not answer `true`, and speaks only yamux once it has). The
/// host's sums add 1000, so the stored count shows the plugin called this host.
#[test]
fn go_host_multiplexes_the_broker_with_rust_plugin() {
    for flags in [
        &["-multiplex"][..],
        &["-multiplex", "-auto-mtls"],
        &["-auto-mtls"],
    ] {
        let dir = workdir();
        let mut args = flags.to_vec();
        args.extend(["-offset", "1000", "put", "a", "1"]);
        let put = go_counter_host(GoPlugin::V1_8, "counterhost", dir.path(), &args).success();
        assert_eq!(
            stored(dir.path(), "a"),
            r#"{"Value":1001}"#,
            "{flags:?}: {put}"
        );
        assert!(!put.survivors, "{flags:?}: {put}");
    }
}

/// Our host hands go-plugin's example plugin its AddHelper (the Go plugin dials our broker id),
/// over new sockets and multiplexed, with and without AutoMTLS.
#[test]
fn rust_host_serves_callbacks_to_go_example_plugin_v1_8() {
    let plugin = go_counter_plugin(GoPlugin::V1_8);
    for (multiplex, auto_mtls) in [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")] {
        let dir = workdir();
        let envs = [
            ("COUNTER_MULTIPLEX", multiplex),
            ("COUNTER_AUTO_MTLS", auto_mtls),
        ];
        for value in ["2", "3"] {
            let put = counter(dir.path(), &plugin, &["put", "b", value], &envs).success();
            assert!(!put.survivors, "{put}");
        }
        let get = counter(dir.path(), &plugin, &["get", "b"], &envs).success();
        assert_eq!(
            get.stdout, "5\n",
            "multiplex={multiplex} auto_mtls={auto_mtls}: {get}"
        );
    }
}

/// go-plugin v1.4.10 predates multiplexing: without it our host's callbacks work; asking for
/// it fails with go-plugin's own words, and the plugin is not left behind.
#[test]
fn rust_host_serves_callbacks_to_go_example_plugin_v1_4_and_reports_missing_multiplexing() {
    let plugin = go_counter_plugin(GoPlugin::V1_4);
    let dir = workdir();
    counter(dir.path(), &plugin, &["put", "b", "4"], &[]).success();
    let get = counter(dir.path(), &plugin, &["get", "b"], &[]).success();
    assert_eq!(get.stdout, "4\n", "{get}");

    let refused = counter(
        dir.path(),
        &plugin,
        &["put", "b", "4"],
        &[("COUNTER_MULTIPLEX", "1")],
    )
    .failure();
    assert!(
        refused.stdout.contains(
            "client requested gRPC broker multiplexing but plugin does not support the feature"
        ),
        "{refused}"
    );
    assert!(!refused.survivors, "{refused}");
    assert_eq!(
        stored(dir.path(), "b"),
        r#"{"Value":4}"#,
        "nothing was added"
    );
}
