//! Cell 4 (and its v1.4.10 half of cell 5): app protocol version negotiation and protocol
//! refusal between go-plugin and us, in both directions, with go-plugin's error texts.

use std::process::Command;
use std::time::Duration;

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig};

use crate::harness::{GoPlugin, env, go_host, kv, quote, run, workdir};

/// The Rust plugin serving versions 2 and 3 (`test-plugin` in its `versions` mode; any
/// interface will do, since go-plugin's Dispense makes no call and Ping uses health).
fn versions_plugin() -> String {
    quote(std::path::Path::new(env!("CARGO_BIN_EXE_test-plugin")))
}

fn go_host_offering(version: GoPlugin, offered: &str) -> crate::harness::GoHostRun {
    let dir = workdir();
    go_host(
        version,
        dir.path(),
        &versions_plugin(),
        &[
            "-cookie",
            "TEST_MAGIC_COOKIE=test",
            "-versions",
            offered,
            "-ping",
        ],
        &["none"],
        &[("TEST_PLUGIN_MODE", "versions")],
    )
}

fn go_host_negotiates_with_rust_plugin(version: GoPlugin, mismatch_text: &str) {
    for (offered, expected) in [("3", 3), ("2", 2), ("2,3", 3), ("3,2,1", 3)] {
        let host = go_host_offering(version, offered);
        assert_eq!(host.error(), "", "offered {offered}: {}", host.run);
        assert_eq!(
            host.report["negotiated_version"], expected,
            "offered {offered}: {}",
            host.report
        );
        assert_eq!(
            host.report["ping"], "ok",
            "offered {offered}: {}",
            host.report
        );
    }
    // No common version: the plugin answers with its lowest and go-plugin's host refuses it.
    for offered in ["1", "4"] {
        let host = go_host_offering(version, offered);
        assert_eq!(
            host.error(),
            format!("{mismatch_text}. Plugin version: 2, Client versions: [{offered}]"),
            "{}",
            host.run
        );
    }
}

#[test]
fn go_host_v1_8_negotiates_highest_common_version_with_rust_plugin() {
    go_host_negotiates_with_rust_plugin(GoPlugin::V1_8, "incompatible API version with plugin");
}

#[test]
fn go_host_v1_4_negotiates_highest_common_version_with_rust_plugin() {
    // v1.4.10's wording of the same error starts with a capital letter.
    go_host_negotiates_with_rust_plugin(GoPlugin::V1_4, "Incompatible API version with plugin");
}

/// go-plugin's examples/negotiated host, unchanged: it runs `./kv-plugin` from its working
/// directory and asks for version 3 only (gRPC) with `KV_PROTO=grpc`.
#[test]
fn go_negotiated_example_host_uses_rust_negotiated_plugin_at_version_3() {
    let dir = workdir();
    let plugin = tests::workspace_binary("negotiated-plugin");
    assert!(
        plugin.is_file(),
        "the examples package has no `negotiated-plugin` binary: a KV plugin serving versions 2 \
         and 3 (gRPC), like go-plugin's examples/negotiated/plugin-go"
    );
    std::os::unix::fs::symlink(&plugin, dir.path().join("kv-plugin")).expect("symlink kv-plugin");
    let host = |args: &[&str]| {
        let mut command = Command::new(env().go(GoPlugin::V1_8, "negotiated"));
        command
            .current_dir(dir.path())
            .env("KV_PROTO", "grpc")
            .args(args);
        run(command, crate::harness::RUN_TIMEOUT).success()
    };
    host(&["put", "hello", "world"]);
    let get = host(&["get", "hello"]);
    assert!(get.stdout.starts_with("world\n"), "{get}");
    assert!(
        get.stdout.contains('3'),
        "the value does not name version 3:\n{get}"
    );
    assert!(
        !get.stderr.contains("plugin failed to exit gracefully"),
        "{get}"
    );
}

/// A go-plugin host that does not list gRPC in AllowedProtocols refuses our plugin itself
/// (v1.4.10 capitalises the same message).
#[test]
fn go_host_without_grpc_refuses_rust_plugin() {
    for (version, text) in [
        (
            GoPlugin::V1_8,
            "unsupported plugin protocol \"grpc\". Supported: [netrpc]",
        ),
        (
            GoPlugin::V1_4,
            "Unsupported plugin protocol \"grpc\". Supported: [netrpc]",
        ),
    ] {
        let dir = workdir();
        let host = go_host(
            version,
            dir.path(),
            &quote(&env().kv_plugin),
            &["-protocols", "netrpc"],
            &["none"],
            &[],
        );
        assert_eq!(host.error(), text, "{}", host.run);
    }
}

/// Our host, offering version 3, against our Go plugin serving versions 2 and 3.
#[test]
fn rust_host_negotiates_version_3_with_go_plugin() {
    let env = env();
    let dir = workdir();
    let mut command = Command::new(env.go(GoPlugin::V1_8, "plugin"));
    command
        .current_dir(dir.path())
        .env("GOPLUGIN_VERSIONS", "2,3");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let call = async {
            let client = Client::start(ClientConfig::new(HANDSHAKE, command).versions([3]))
                .await
                .expect("start the Go plugin");
            assert_eq!(client.negotiated_version(), 3);
            let kv = client.dispense::<KvPlugin>().expect("dispense");
            kv.put("hello".to_owned(), b"world".to_vec())
                .await
                .expect("put");
            let value = kv.get("hello".to_owned()).await.expect("get");
            client.kill().await;
            value
        };
        let value = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the in-process host timed out");
        assert_eq!(value, b"world\n\nWritten from interop-go-plugin version 3");
    });
}

/// Our host offers only version 1 (`kv`); the Go plugin serves 2 and 3, so it answers with 2 and
/// our host refuses it with go-plugin's text.
#[test]
fn rust_host_refuses_go_plugin_without_common_version() {
    let dir = workdir();
    let plugin = quote(&env().go(GoPlugin::V1_8, "plugin"));
    let run = kv(
        dir.path(),
        &plugin,
        &["get", "hello"],
        &[("GOPLUGIN_VERSIONS", "2,3")],
    )
    .failure();
    assert!(
        run.stderr.contains(
            "incompatible API version with plugin. Plugin version: 2, Client versions: [1]"
        ),
        "{run}"
    );
    assert!(
        !run.survivors,
        "the refused plugin outlived the host:\n{run}"
    );
}

/// go-plugin's examples/grpc/plugin-go-netrpc speaks net/rpc, which we do not: our host refuses
/// it with go-plugin's words and leaves no process behind.
#[test]
fn rust_host_refuses_netrpc_plugin() {
    let dir = workdir();
    let plugin = quote(&env().go(GoPlugin::V1_8, "plugin-go-netrpc"));
    let run = kv(dir.path(), &plugin, &["get", "hello"], &[]).failure();
    assert!(
        run.stderr
            .contains("unsupported plugin protocol \"netrpc\". Supported: [grpc]"),
        "{run}"
    );
    assert!(
        !run.survivors,
        "the refused plugin outlived the host:\n{run}"
    );
}
