//! Cell 12: W3C trace context with go-plugin v1.8.0 peers that use OpenTelemetry's otelgrpc
//! handlers (`interop/gootel`), both ways: a Go host's trace continues in our plugin, and our
//! host's trace continues in a Go plugin.

use std::process::Command;
use std::time::Duration;

use examples::{HANDSHAKE, Kv as _, KvPlugin};
use go_plugin::{Client, ClientConfig};
use tests::otel::{RecordedSpan, as_traced_host, parse_spans, read_spans};
use tracing::Instrument as _;

use crate::harness::{RUN_TIMEOUT, env, run, workdir};

fn named<'a>(spans: &'a [RecordedSpan], name: &str) -> &'a RecordedSpan {
    let found: Vec<_> = spans.iter().filter(|span| span.name == name).collect();
    assert_eq!(found.len(), 1, "one span {name} in {spans:?}");
    found[0]
}

/// go-plugin v1.8.0's host with otelgrpc's client handler in `GRPCDialOptions` calls `test-plugin`
/// (mode `kv`) inside a span: each of our server spans continues the Go client span of its call,
/// and the plugin's log lines, as the Go host prints them, carry our span's ids.
#[test]
fn go_host_with_otelgrpc_trace_continues_in_rust_plugin() {
    let dir = workdir();
    let plugin_spans = dir.path().join("plugin.spans");
    let mut command = Command::new(env().bin.join("otel/otelhost"));
    command
        .current_dir(dir.path())
        .arg(tests::workspace_binary("test-plugin"))
        .env("TEST_PLUGIN_MODE", "kv")
        .env("TEST_PLUGIN_SPANS", &plugin_spans)
        .env("RUST_LOG", "info");
    let run = run(command, RUN_TIMEOUT);
    assert!(run.status.success(), "{run}");
    assert!(run.stdout.contains("value yes"), "{run}");
    let go = parse_spans(&run.stdout);
    let root = named(&go, "otelhost");
    let ours = read_spans(&plugin_spans);
    for method in ["proto.KV/Put", "proto.KV/Get"] {
        let client = named(&go, method);
        assert_eq!(client.trace_id, root.trace_id, "{run}");
        let server = named(&ours, method);
        server.assert_child_of(
            client,
            &format!("{method}: our span and the Go client span"),
        );
    }
    let put = named(&ours, "proto.KV/Put");
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains("put:") && line.contains("key=traced"))
        .unwrap_or_else(|| panic!("the plugin's `put` log line in the Go host's log:\n{run}"));
    assert!(
        line.contains(&format!("trace_id={}", root.trace_id))
            && line.contains(&format!("span_id={}", put.span_id)),
        "the Go host's copy of our log line carries our span's ids: {line}"
    );
}

/// Our host calls go-plugin v1.8.0's plugin with otelgrpc's server handler inside a span: the Go
/// server spans are its children, in its trace.
#[test]
fn rust_host_trace_continues_in_go_plugin_with_otelgrpc() {
    let dir = workdir();
    let host_spans = dir.path().join("host.spans");
    let go_spans = dir.path().join("go.spans");
    let no_other_layer = tracing_subscriber::layer::Identity::new();
    as_traced_host(&host_spans, no_other_layer, async {
        let mut command = Command::new(env().bin.join("otel/otelplugin"));
        command
            .current_dir(dir.path())
            .env("OTEL_TEST_SPANS", &go_spans);
        let call = async {
            let client = Client::start(ClientConfig::new(HANDSHAKE, command))
                .await
                .expect("start the Go plugin");
            let kv = client.dispense::<KvPlugin>().expect("dispense");
            let root = tracing::info_span!("rust-host");
            async {
                kv.put("traced".to_owned(), b"yes".to_vec())
                    .await
                    .expect("put");
                assert_eq!(kv.get("traced".to_owned()).await.expect("get"), b"yes");
            }
            .instrument(root)
            .await;
            // The Go plugin writes a server span once its answer has gone: wait for both.
            while read_spans(&go_spans)
                .iter()
                .filter(|span| span.name.starts_with("proto.KV/"))
                .count()
                < 2
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            client.kill().await;
        };
        tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("the Go plugin's spans within 30 s");
    });
    let root = named(&read_spans(&host_spans), "rust-host").clone();
    let go = read_spans(&go_spans);
    for method in ["proto.KV/Put", "proto.KV/Get"] {
        let server = named(&go, method);
        server.assert_child_of(&root, &format!("{method}: the Go span and ours"));
    }
}
