//! Trace context across the process boundary (the `opentelemetry` feature): this test process is
//! a host recording its spans through `tracing-opentelemetry`, `test-plugin` records its own
//! (`TEST_PLUGIN_SPANS`), and the two sets must form one trace, callbacks through the broker
//! included.

use std::path::Path;

use go_plugin::{Client, ClientConfig, PluginError};
use tests::otel::{RecordedSpan, as_traced_host, read_spans};
use tests::{AddHelper, Tester as _, TesterPlugin};
use tracing::Instrument as _;

use super::stdio_logs::MirroredLogs;
use super::{HANDSHAKE, eventually, plugin};

/// The host's callback for `add_with`.
struct Adding;

impl AddHelper for Adding {
    async fn sum(&self, a: i64, b: i64) -> Result<i64, PluginError> {
        Ok(a + b)
    }
}

/// The one span named `name` in `path`, once it has ended.
async fn span_named(path: &Path, name: &str) -> RecordedSpan {
    eventually(&format!("span {name} in {}", path.display()), || {
        read_spans(path).iter().any(|span| span.name == name)
    })
    .await;
    let spans: Vec<_> = read_spans(path)
        .into_iter()
        .filter(|span| span.name == name)
        .collect();
    assert_eq!(spans.len(), 1, "one span {name}: {spans:?}");
    spans.into_iter().next().expect("one span")
}

/// A host span around a call that calls back: the plugin's span for the call is the host span's
/// child, the host's span for the callback is the plugin span's child, all in one trace; the
/// plugin's log line carries its span's ids to the host; a call outside any span adds no span.
#[test]
fn the_hosts_trace_continues_in_the_plugin_and_back_through_a_callback() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let host_spans = dir.path().join("host.spans");
    let plugin_spans = dir.path().join("plugin.spans");
    let logs = MirroredLogs::default();
    as_traced_host(&host_spans, logs.clone(), async {
        let mut command = plugin("");
        command.env("TEST_PLUGIN_SPANS", &plugin_spans);
        let client = Client::start(ClientConfig::new(HANDSHAKE, command))
            .await
            .expect("start");
        let tester = client.dispense::<TesterPlugin>().expect("dispense");

        // Outside any span first: nothing to continue.
        tester.echo(b"untraced".to_vec()).await.expect("echo");

        let root = tracing::info_span!("host-call");
        async {
            assert_eq!(tester.add_with(Adding, 2, 3).await.expect("add_with"), 5);
            tester
                .log("info".into(), "inside the trace".into())
                .await
                .expect("log");
        }
        .instrument(root)
        .await;

        let root = span_named(&host_spans, "host-call").await;
        assert!(root.is_root(), "{root:?}");
        let add_with = span_named(&plugin_spans, "plugintest.Tester/AddWith").await;
        add_with.assert_child_of(&root, "the plugin's span continues the host's");
        let sum = span_named(&host_spans, "plugintest.AddHelper/Sum").await;
        sum.assert_child_of(&add_with, "the callback's span continues the plugin's");

        let log = span_named(&plugin_spans, "plugintest.Tester/Log").await;
        assert_eq!(log.parent_span_id, root.span_id);
        eventually("the plugin's log line", || {
            logs.find("inside the trace").is_some()
        })
        .await;
        let (_, _, fields) = logs.find("inside the trace").expect("mirrored");
        assert!(
            fields.contains(&format!("trace_id={}", root.trace_id))
                && fields.contains(&format!("span_id={}", log.span_id)),
            "the mirrored line carries the plugin span's ids: {fields}"
        );

        let names: Vec<_> = read_spans(&plugin_spans)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert!(
            !names.iter().any(|name| name.ends_with("/Echo")),
            "a call without trace context gets no span: {names:?}"
        );
        assert!(
            !names
                .iter()
                .any(|name| name.starts_with("plugin.") || name.starts_with("grpc.")),
            "go-plugin's own services get no spans: {names:?}"
        );
        client.kill().await;
    });
}

/// A plugin that exports no spans (no tracer provider; or no subscriber at all) still passes the
/// host's trace on: its callback to the host is the host span's child.
#[test]
fn a_plugin_recording_nothing_passes_the_trace_on_to_its_callbacks() {
    for mode in ["", "no-logging"] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let host_spans = dir.path().join("host.spans");
        as_traced_host(&host_spans, MirroredLogs::default(), async {
            let client = Client::start(ClientConfig::new(HANDSHAKE, plugin(mode)))
                .await
                .expect("start");
            let tester = client.dispense::<TesterPlugin>().expect("dispense");
            let root = tracing::info_span!("host-call");
            async {
                assert_eq!(tester.add_with(Adding, 2, 3).await.expect("add_with"), 5);
            }
            .instrument(root)
            .await;
            let root = span_named(&host_spans, "host-call").await;
            let sum = span_named(&host_spans, "plugintest.AddHelper/Sum").await;
            sum.assert_child_of(
                &root,
                &format!("mode {mode:?}: the plugin passed the host span on as the parent"),
            );
            client.kill().await;
        });
    }
}
