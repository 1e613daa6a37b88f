//! AutoMTLS and user-supplied TLS across languages: go-plugin's hosts and plugins at v1.8.0 and
//! v1.4.10 with ours, each side trusting exactly what the other presents.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig, TlsConfig};
use tests::pki::{Pki, client_config};

use crate::harness::{GoPlugin, env, events, expect_event, go_host, kv, quote, workdir};

#[test]
fn go_host_v1_8_with_automtls_round_trips_through_rust_plugin() {
    let dir = workdir();
    let plugin = quote(&env().kv_plugin);
    let put = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &plugin,
        &["-auto-mtls", "-ping"],
        &["put", "hello", "world"],
        &[],
    );
    assert_eq!(put.error(), "", "{}", put.run);
    assert_eq!(put.report["ping"], "ok", "{}", put.report);
    let get = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &plugin,
        &["-auto-mtls"],
        &["get", "hello"],
        &[],
    );
    assert_eq!(get.error(), "", "{}", get.run);
    assert_eq!(
        get.report["value"], "world\n\nWritten from plugin-rust",
        "{}",
        get.report
    );
    for run in [&put, &get] {
        assert!(
            !run.records("configuring client automatic mTLS").is_empty(),
            "the Go host used AutoMTLS: {}",
            run.run
        );
        assert!(
            run.records("plugin failed to exit gracefully").is_empty(),
            "{}",
            run.run
        );
    }
}

fn rust_host_with_automtls_round_trips_through_go_plugin(version: GoPlugin) {
    let dir = workdir();
    let plugin = quote(&env().go(version, "plugin-go-grpc"));
    let auto = [("KV_AUTO_MTLS", "1")];
    let put = kv(dir.path(), &plugin, &["put", "hello", "world"], &auto).success();
    let get = kv(dir.path(), &plugin, &["get", "hello"], &auto).success();
    assert_eq!(
        get.stdout, "world\n\nWritten from plugin-go-grpc\n",
        "{get}"
    );
    for run in [&put, &get] {
        let events = events(&run.stderr);
        expect_event(&events, "DEBUG", &["configuring client automatic mTLS"]);
        expect_event(&events, "DEBUG", &["plugin exited"]);
        assert!(
            !events
                .iter()
                .any(|e| e.text.contains("failed to exit gracefully")),
            "{run}"
        );
    }
}

#[test]
fn rust_host_with_automtls_round_trips_through_go_example_plugin_v1_8() {
    rust_host_with_automtls_round_trips_through_go_plugin(GoPlugin::V1_8);
}

#[test]
fn rust_host_with_automtls_round_trips_through_go_example_plugin_v1_4() {
    rust_host_with_automtls_round_trips_through_go_plugin(GoPlugin::V1_4);
}

#[test]
fn go_host_v1_8_with_its_own_tls_reaches_rust_plugin_with_its_own() {
    let dir = workdir();
    let pki = Pki::generate(dir.path());
    let (ca, (cert, key)) = (
        pki.ca.display().to_string(),
        (
            pki.client.0.display().to_string(),
            pki.client.1.display().to_string(),
        ),
    );
    let test_plugin = quote(std::path::Path::new(env!("CARGO_BIN_EXE_test-plugin")));
    let run = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &test_plugin,
        &[
            "-cookie",
            "TEST_MAGIC_COOKIE=test",
            "-tls-ca",
            &ca,
            "-tls-cert",
            &cert,
            "-tls-key",
            &key,
            "-ping",
        ],
        &["none"],
        &[
            ("TEST_PLUGIN_MODE", "tls"),
            ("TEST_TLS_CERT", &pki.server.0.display().to_string()),
            ("TEST_TLS_KEY", &pki.server.1.display().to_string()),
            ("TEST_TLS_CLIENT_CA", &ca),
        ],
    );
    assert_eq!(run.error(), "", "{}", run.run);
    assert_eq!(run.report["ping"], "ok", "{}", run.report);

    // The same host without its client certificate is refused by the plugin.
    let refused = go_host(
        GoPlugin::V1_8,
        dir.path(),
        &test_plugin,
        &["-cookie", "TEST_MAGIC_COOKIE=test", "-tls-ca", &ca, "-ping"],
        &["none"],
        &[
            ("TEST_PLUGIN_MODE", "tls"),
            ("TEST_TLS_CERT", &pki.server.0.display().to_string()),
            ("TEST_TLS_KEY", &pki.server.1.display().to_string()),
            ("TEST_TLS_CLIENT_CA", &ca),
        ],
    );
    assert_ne!(refused.report["ping"], "ok", "{}", refused.report);
}

#[test]
fn rust_host_with_its_own_tls_reaches_go_plugin_with_its_own() {
    let dir = workdir();
    let pki = Pki::generate(dir.path());
    let mut command = Command::new(env().go(GoPlugin::V1_8, "plugin"));
    command
        .current_dir(dir.path())
        .env("GOPLUGIN_TLS_CERT", &pki.server.0)
        .env("GOPLUGIN_TLS_KEY", &pki.server.1)
        .env("GOPLUGIN_TLS_CLIENT_CA", &pki.ca);
    let tls = client_config(&pki.ca, Some((&pki.client.0, &pki.client.1))).expect("client TLS");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let call = async {
            let client = Client::start(
                ClientConfig::new(HANDSHAKE, command).tls(TlsConfig::client(Arc::new(tls))),
            )
            .await
            .expect("start the Go plugin");
            let kv = client.dispense::<KvPlugin>().expect("dispense");
            kv.put("hello".to_owned(), b"world".to_vec())
                .await
                .expect("put over TLS");
            let value = kv.get("hello".to_owned()).await.expect("get over TLS");
            client.kill().await;
            value
        };
        let value = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the in-process host timed out");
        assert_eq!(value, b"world\n\nWritten from interop-go-plugin version 1");
    });
}
