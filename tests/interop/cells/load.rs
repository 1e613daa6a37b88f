//! Load across languages: 64 concurrent callers, every answer checked, Go host → Rust plugin and
//! Rust host → Go plugin (the Rust → Rust direction is in `tests/process/load.rs`).
//!
//! Each caller makes `LOAD_CALLS` Put/Get pairs (100 by default, so CI spends seconds here; the
//! full run is `LOAD_CALLS=10000 cargo test -p tests --test interop load -- --nocapture`).

use std::process::Command;
use std::time::{Duration, Instant};

use examples::{HANDSHAKE, Kv, KvPlugin};
use go_plugin::{Client, ClientConfig};

use crate::harness::{GoPlugin, env, quote, run, workdir};

const CALLERS: u32 = 64;

/// Keys each caller cycles through: values stay unique per call, files stay few.
const KEYS: u32 = 256;

fn calls() -> u32 {
    tests::load_calls(100)
}

/// Time for one full run at 10 000 pairs per caller, on a loaded 2-core machine.
fn run_timeout(calls: u32) -> Duration {
    Duration::from_secs(60) + Duration::from_millis(u64::from(calls) * 60)
}

#[test]
fn go_host_load_on_rust_plugin_every_value_checked() {
    let calls = calls();
    let dir = workdir();
    let mut command = Command::new(env().go(GoPlugin::V1_8, "loadhost"));
    command
        .current_dir(dir.path())
        .env_remove("KV_PLUGIN_ECHO")
        .arg("-plugin")
        .arg(quote(&env().kv_plugin))
        .arg("-callers")
        .arg(CALLERS.to_string())
        .arg("-calls")
        .arg(calls.to_string())
        .arg("-keys")
        .arg(KEYS.to_string());
    let run = run(command, run_timeout(calls));
    let report: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("loadhost printed no report ({e}):\n{run}"));
    assert_eq!(report["error"], serde_json::Value::Null, "{run}");
    assert_eq!(report["errors"], 0, "{run}");
    assert_eq!(report["mismatches"], 0, "{run}");
    assert_eq!(report["pairs"], u64::from(CALLERS * calls), "{run}");
    assert!(run.status.success(), "{run}");
    assert!(!run.survivors, "a process outlived the host:\n{run}");
    eprintln!(
        "Go host → Rust plugin: {} pairs in {:.2} s: {:.0} pairs/s",
        report["pairs"], report["seconds"], report["pairs_per_sec"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_host_load_on_go_plugin_every_value_checked() {
    const SIGNATURE: &[u8] = b"\n\nWritten from plugin-go-grpc";
    let calls = calls();
    let dir = workdir();
    let mut command = Command::new(env().go(GoPlugin::V1_8, "plugin-go-grpc"));
    command.current_dir(dir.path());
    let client = Client::start(ClientConfig::new(HANDSHAKE, command))
        .await
        .expect("go-plugin's plugin-go-grpc starts");
    let kv = client.dispense::<KvPlugin>().expect("dispense");
    let started = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let kv = kv.clone();
            tokio::spawn(async move {
                for call in 0..calls {
                    let key = format!("load-{caller}-{}", call % KEYS);
                    let value = format!("caller {caller} call {call}").into_bytes();
                    kv.put(key.clone(), value.clone())
                        .await
                        .unwrap_or_else(|e| panic!("put {key}: {e}"));
                    let got = kv
                        .get(key.clone())
                        .await
                        .unwrap_or_else(|e| panic!("get {key}: {e}"));
                    assert_eq!(got, [&value[..], SIGNATURE].concat(), "get {key}");
                }
                calls
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + run_timeout(calls);
    let mut pairs = 0;
    for caller in callers {
        pairs += tokio::time::timeout_at(deadline, caller)
            .await
            .expect("callers finish")
            .expect("caller");
    }
    let elapsed = started.elapsed();
    assert_eq!(pairs, CALLERS * calls);
    eprintln!(
        "Rust host → Go plugin: {pairs} pairs in {elapsed:.2?}: {:.0} pairs/s",
        f64::from(pairs) / elapsed.as_secs_f64()
    );
    client.kill().await;
    assert_eq!(client.wait().await.as_deref(), Some("exit status: 0"));
}
