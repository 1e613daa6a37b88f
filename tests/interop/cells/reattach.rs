//! Reattach across languages: go-plugin's host reattaching to our plugin in debug mode, and our
//! host reattaching to a Go plugin in go-plugin's test mode (as terraform-plugin-go's `-debug`
//! serves it). Neither plugin is stopped by the host that reattached: they run on their own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig, ReattachConfig};

use crate::harness::{GoPlugin, env, go_host, workdir};

/// A plugin started by hand, killed when the test ends however it ends.
struct ByHand(Child);

impl Drop for ByHand {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and returns it with the first line of its stdout that is a JSON object
/// (the reattach configuration), draining the rest.
fn start_and_read_reattach(mut command: Command) -> (ByHand, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the plugin by hand");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let child = ByHand(child);
    let mut line = String::new();
    loop {
        line.clear();
        let read = stdout
            .read_line(&mut line)
            .expect("read the plugin's stdout");
        assert!(read > 0, "the plugin printed no reattach configuration");
        if line.trim().starts_with('{') {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (child, line.trim().to_owned())
}

#[test]
fn go_host_v1_8_reattaches_to_rust_plugin_in_debug_mode() {
    let dir = workdir();
    let mut command = Command::new(&env().kv_plugin);
    command.current_dir(dir.path()).arg("--debug");
    let (mut plugin, reattach) = start_and_read_reattach(command);
    let config = ReattachConfig::from_json(&reattach).expect("our own JSON");
    assert!(config.test);

    for args in [&["put", "hello", "world"][..], &["get", "hello"][..]] {
        let run = go_host(
            GoPlugin::V1_8,
            dir.path(),
            "",
            &["-reattach", &reattach],
            args,
            &[],
        );
        assert_eq!(run.error(), "", "{}", run.run);
        if args[0] == "get" {
            assert_eq!(
                run.report["value"].as_str(),
                Some("world\n\nWritten from plugin-rust"),
                "{}",
                run.run
            );
        }
    }
    // go-plugin never stops a plugin in test mode.
    assert!(
        matches!(plugin.0.try_wait(), Ok(None)),
        "the Go host stopped it"
    );
}

#[test]
fn rust_host_reattaches_to_go_plugin_in_test_mode() {
    let dir = workdir();
    let mut command = Command::new(env().go(GoPlugin::V1_8, "plugin"));
    command.current_dir(dir.path()).env("GOPLUGIN_DEBUG", "1");
    let (mut plugin, reattach) = start_and_read_reattach(command);
    let config = ReattachConfig::from_json(&reattach).expect("go-plugin's reattach JSON");
    assert!(config.test);
    assert_eq!(config.pid, plugin.0.id());

    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let call = async {
            let client = Client::start(ClientConfig::reattach(HANDSHAKE, config))
                .await
                .expect("reattach to the Go plugin");
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
        assert_eq!(value, b"world\n\nWritten from interop-go-plugin version 1");
    });
    assert!(
        matches!(plugin.0.try_wait(), Ok(None)),
        "our host stopped a plugin in test mode"
    );
}
