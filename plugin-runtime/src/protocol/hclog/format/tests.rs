//! The plugin-side layer: what each kind of event and field becomes in the hclog line.

use serde_json::{Value, json};
use tracing::Level;
use tracing_subscriber::prelude::*;

use super::super::timestamp;
use super::HclogLayer;
use crate::protocol::hclog::StderrParser;
use crate::protocol::hclog::testing::{SharedBuf, hclog_lines, hclog_objects};

#[derive(Debug)]
#[allow(dead_code, reason = "only read through Debug")]
struct Point {
    x: i32,
    y: i32,
}

#[test]
fn events_become_hclog_json() {
    let err = std::io::Error::other("disk full");
    let objects = hclog_objects(|| {
        tracing::info!(
            target: "kv_plugin",
            count = 21_i64,
            big = u64::MAX,
            ratio = 0.5_f64,
            ok = true,
            name = "alpha",
            point = ?Point { x: 1, y: -2 },
            shown = %"displayed",
            error = &err as &(dyn std::error::Error + 'static),
            "doubling {}",
            21
        );
    });
    assert_eq!(objects.len(), 1);
    let o = &objects[0];
    assert_eq!(o["@level"], json!("info"));
    assert_eq!(o["@message"], json!("doubling 21"));
    assert_eq!(o["@module"], json!("kv_plugin"));
    assert_eq!(o["count"], json!(21));
    assert_eq!(o["big"], json!(u64::MAX));
    assert_eq!(o["ratio"], json!(0.5));
    assert_eq!(o["ok"], json!(true));
    assert_eq!(o["name"], json!("alpha"));
    assert_eq!(o["point"], json!("Point { x: 1, y: -2 }"));
    assert_eq!(o["shown"], json!("displayed"));
    assert_eq!(o["error"], json!("disk full"));
    assert_eq!(o.len(), 12);
}

#[test]
fn timestamps_have_six_fractional_digits_in_utc() {
    let objects = hclog_objects(|| tracing::warn!("x"));
    let Value::String(ts) = &objects[0]["@timestamp"] else {
        panic!("{:?}", objects[0]);
    };
    assert_eq!(ts.len(), "2026-11-22T10:56:13.244512Z".len(), "{ts}");
    assert_eq!(&ts[19..20], ".");
    assert!(ts.ends_with('Z'));
    assert!(timestamp::Timestamp::parse(ts).is_some(), "{ts}");
}

#[test]
fn every_level_has_hclogs_name() {
    let objects = hclog_objects(|| {
        tracing::trace!("t");
        tracing::debug!("d");
        tracing::info!("i");
        tracing::warn!("w");
        tracing::error!("e");
    });
    let levels: Vec<&Value> = objects.iter().map(|o| &o["@level"]).collect();
    assert_eq!(
        levels,
        [
            &json!("trace"),
            &json!("debug"),
            &json!("info"),
            &json!("warn"),
            &json!("error")
        ]
    );
}

#[test]
fn one_line_per_event_with_everything_escaped() {
    let nasty =
        "quote \" backslash \\ newline \n cr \r tab \t bell \u{7} nul \0 del \u{7f} é ✓ \u{2028}";
    let lines = hclog_lines(|| tracing::info!(field = nasty, "{nasty}"));
    assert_eq!(lines.len(), 1);
    let o: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(o["@message"], json!(nasty));
    assert_eq!(o["field"], json!(nasty));
    assert!(lines[0].contains(r"\u0007") && lines[0].contains(r"\u0000"));
}

#[test]
fn an_event_without_a_message_has_an_empty_one() {
    let objects = hclog_objects(|| tracing::info!(k = 1));
    assert_eq!(objects[0]["@message"], json!(""));
    assert_eq!(objects[0]["k"], json!(1));
}

#[test]
fn a_non_string_message_is_still_a_string() {
    let objects = hclog_objects(|| tracing::info!(message = 42));
    assert_eq!(objects[0]["@message"], json!("42"));
    let objects = hclog_objects(|| tracing::info!(message = "literal"));
    assert_eq!(objects[0]["@message"], json!("literal"));
}

#[test]
fn reserved_names_cannot_replace_hclogs_keys() {
    let lines = hclog_lines(|| {
        tracing::info!(
            "@level" = "error",
            "@timestamp" = "never",
            "@module" = "m",
            "hello"
        );
    });
    let o: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(o["@level"], json!("info"));
    assert_eq!(o["_@level"], json!("error"));
    assert_eq!(o["_@timestamp"], json!("never"));
    assert_eq!(o["_@module"], json!("m"));
    let record = StderrParser::new().parse(lines[0].as_bytes());
    assert_eq!(record.level, Level::INFO);
}

#[test]
fn non_finite_floats_become_strings() {
    let objects = hclog_objects(|| {
        tracing::info!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            neg = f64::NEG_INFINITY,
            "x"
        );
    });
    assert_eq!(objects[0]["nan"], json!("NaN"));
    assert_eq!(objects[0]["inf"], json!("inf"));
    assert_eq!(objects[0]["neg"], json!("-inf"));
}

#[test]
fn span_fields_are_included_outermost_first() {
    let lines = hclog_lines(|| {
        let outer = tracing::info_span!(
            "request",
            id = 7,
            user = "ann",
            late = tracing::field::Empty
        );
        let _outer = outer.enter();
        outer.record("late", "now");
        let inner = tracing::debug_span!("step", id = 8, message = "span message");
        let _inner = inner.enter();
        tracing::info!(extra = 1, "inside");
    });
    let line = &lines[0];
    let o: Value = serde_json::from_str(line).unwrap();
    // The innermost value wins, as the host keeps the last duplicate key.
    assert_eq!(o["id"], json!(8));
    assert_eq!(o["user"], json!("ann"));
    assert_eq!(o["late"], json!("now"));
    assert_eq!(o["message"], json!("span message"));
    assert_eq!(o["@message"], json!("inside"));
    assert!(line.find(r#""id":7"#) < line.find(r#""id":8"#), "{line}");
}

#[test]
fn recording_a_span_field_again_replaces_it() {
    let lines = hclog_lines(|| {
        let span = tracing::info_span!("loop", progress = 0u64, note = tracing::field::Empty);
        let _entered = span.enter();
        for i in 0..100_000u64 {
            span.record("progress", i);
            span.record("note", "x".repeat(100).as_str());
        }
        tracing::info!("done");
    });
    let line = &lines[0];
    // One pair per field, the latest value: the span's record stays its declared fields' size.
    assert_eq!(line.matches("\"progress\"").count(), 1, "{line}");
    assert!(line.contains("\"progress\":99999"), "{line}");
    assert!(line.len() < 400, "{} bytes", line.len());
}

#[test]
fn two_layers_in_one_subscriber_both_write() {
    let (a, b) = (SharedBuf::default(), SharedBuf::default());
    let (wa, wb) = (a.clone(), b.clone());
    let subscriber = tracing_subscriber::registry()
        .with(HclogLayer::with_writer(move || wa.clone()))
        .with(HclogLayer::with_writer(move || wb.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("s", id = 1);
        let _entered = span.enter();
        tracing::info!("x");
    });
    for buf in [a, b] {
        let o: Value = serde_json::from_str(buf.text().trim_end()).unwrap();
        assert_eq!(o["id"], json!(1));
    }
}

#[cfg(feature = "opentelemetry")]
#[test]
fn lines_in_a_trace_carry_its_ids() {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    };

    let ids = SpanContext::new(
        TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
        SpanId::from_hex("00f067aa0ba902b7").unwrap(),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let objects = hclog_objects(|| {
        tracing::info!("outside");
        let _attached = opentelemetry::Context::new()
            .with_remote_span_context(ids)
            .attach();
        tracing::info!("inside");
    });
    assert_eq!(objects.len(), 2);
    assert_eq!(objects[0].get("trace_id"), None);
    assert_eq!(objects[0].get("span_id"), None);
    assert_eq!(
        objects[1]["trace_id"],
        json!("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(objects[1]["span_id"], json!("00f067aa0ba902b7"));
}
