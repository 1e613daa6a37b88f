//! Tests of the host's log channel: splitting and mirroring plugin stderr, and the round trip
//! from the plugin-side layer through the host-side parser.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use super::mirror::{LineReader, TARGET};
use super::*;
use crate::protocol::hclog::StderrParser;
use crate::protocol::hclog::testing::{SharedBuf, hclog_lines};

#[test]
fn round_trip_through_the_host_parser() {
    let cases = [
        (Level::TRACE, "tracing along"),
        (Level::DEBUG, "debugging"),
        (Level::INFO, "doubling"),
        (Level::WARN, "careful \"now\""),
        (Level::ERROR, "failed:\n  disk full"),
    ];
    let lines = hclog_lines(|| {
        for (level, message) in cases {
            match level {
                Level::TRACE => {
                    tracing::trace!(target: "kv", input = 21, name = "a b", "{message}")
                }
                Level::DEBUG => {
                    tracing::debug!(target: "kv", input = 21, name = "a b", "{message}")
                }
                Level::INFO => tracing::info!(target: "kv", input = 21, name = "a b", "{message}"),
                Level::WARN => tracing::warn!(target: "kv", input = 21, name = "a b", "{message}"),
                Level::ERROR => {
                    tracing::error!(target: "kv", input = 21, name = "a b", "{message}")
                }
            }
        }
    });
    assert_eq!(lines.len(), cases.len());
    let mut parser = StderrParser::new();
    for ((level, message), line) in cases.iter().zip(&lines) {
        let record = parser.parse(line.as_bytes());
        assert_eq!(record.level, *level, "{line}");
        assert_eq!(record.message, *message);
        assert_eq!(
            record.fields,
            vec![
                ("@module".to_string(), json!("kv")),
                ("input".to_string(), json!(21)),
                ("name".to_string(), json!("a b")),
            ]
        );
        assert_eq!(
            record.rendered_fields().as_deref(),
            Some(r#"@module=kv input=21 name="a b""#)
        );
        let ts = record.timestamp.unwrap();
        assert!(
            ts.ends_with('Z') && ts.len() == "2026-11-22T10:56:13.244Z".len(),
            "{ts}"
        );
    }
}

// ---- host side: line splitting -------------------------------------------------------------

/// An `AsyncRead` that hands out its data a few bytes at a time, then optionally fails.
pub(super) struct Trickle {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    fail_at_end: bool,
}

impl Trickle {
    pub(super) fn new(data: &[u8], step: usize) -> Self {
        Trickle {
            data: data.to_vec(),
            pos: 0,
            step,
            fail_at_end: false,
        }
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let end = (self.pos + self.step)
            .min(self.data.len())
            .min(self.pos + buf.remaining());
        if self.pos == end && self.fail_at_end {
            return Poll::Ready(Err(std::io::Error::other("pipe broke")));
        }
        buf.put_slice(&self.data[self.pos..end]);
        self.pos = end;
        Poll::Ready(Ok(()))
    }
}

async fn split(data: &[u8], buffer: usize, step: usize) -> Vec<(String, bool)> {
    let mut reader = LineReader::new(Trickle::new(data, step), buffer);
    let mut out = Vec::new();
    while let Some((line, prefix)) = reader.next_line().await.unwrap() {
        out.push((String::from_utf8_lossy(line).into_owned(), prefix));
    }
    out
}

fn owned(pieces: &[(&str, bool)]) -> Vec<(String, bool)> {
    pieces.iter().map(|(s, p)| (s.to_string(), *p)).collect()
}

#[tokio::test]
async fn lines_split_like_go_readline() {
    for step in [1, 3, 1000] {
        assert_eq!(
            split(b"a\nb\r\n\nc\r\rd\n\r\nlast", 64, step).await,
            owned(&[
                ("a", false),
                ("b", false),
                ("", false),
                ("c\r\rd", false),
                ("", false),
                ("last", false),
            ]),
            "step {step}"
        );
        assert_eq!(split(b"", 64, step).await, owned(&[]));
        assert_eq!(split(b"x\r", 64, step).await, owned(&[("x\r", false)]));
    }
}

#[tokio::test]
async fn long_lines_come_in_buffer_sized_pieces() {
    let line = "0123456789".repeat(4); // 40 bytes, buffer 16
    let input = format!("{line}\nshort\n");
    for step in [1, 7, 1000] {
        assert_eq!(
            split(input.as_bytes(), 16, step).await,
            owned(&[
                (&line[..16], true),
                (&line[16..32], true),
                (&line[32..], false),
                ("short", false),
            ])
        );
    }
    // Exactly one buffer long: Go ends the line with an empty piece.
    assert_eq!(
        split(b"0123456789abcdef\nx\n", 16, 1000).await,
        owned(&[("0123456789abcdef", true), ("", false), ("x", false)])
    );
    // A `\r` at the edge of the buffer waits for the next piece, so `\r\n` is still a line end.
    assert_eq!(
        split(b"0123456789abcde\r\nx\n", 16, 1000).await,
        owned(&[("0123456789abcde", true), ("", false), ("x", false)])
    );
    // Buffers smaller than Go's minimum of 16 are raised to it.
    assert_eq!(
        split(b"0123456789abcdefXY\n", 4, 1000).await,
        owned(&[("0123456789abcdef", true), ("XY", false)])
    );
}

#[tokio::test]
async fn a_read_error_comes_after_the_data_read_before_it() {
    let mut trickle = Trickle::new(b"one\ntwo", 100);
    trickle.fail_at_end = true;
    let mut reader = LineReader::new(trickle, 64);
    assert_eq!(
        reader.next_line().await.unwrap(),
        Some((&b"one"[..], false))
    );
    assert_eq!(
        reader.next_line().await.unwrap(),
        Some((&b"two"[..], false))
    );
    assert!(reader.next_line().await.is_err());
}

// ---- host side: mirroring into tracing ---------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub(super) struct Captured {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        struct Fields<'a>(&'a mut BTreeMap<String, String>);
        impl Visit for Fields<'_> {
            fn record_str(&mut self, field: &Field, value: &str) {
                self.0.insert(field.name().to_string(), value.to_string());
            }
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0
                    .insert(field.name().to_string(), format!("{value:?}"));
            }
        }
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

fn event(level: Level, message: &str, extra: &[(&str, &str)]) -> Captured {
    let mut fields: BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    fields.insert("message".to_string(), message.to_string());
    fields.insert("plugin".to_string(), "kv-plugin".to_string());
    Captured {
        level,
        target: TARGET.to_string(),
        fields,
    }
}

/// Mirrors `input` with a capturing subscriber; returns the events and the raw copy.
pub(super) async fn mirror(input: &[u8], buffer: usize, step: usize) -> (Vec<Captured>, Vec<u8>) {
    let capture = Capture::default();
    let sink = SharedBuf::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    mirror_stderr(
        Trickle::new(input, step),
        "kv-plugin".to_string(),
        Some(Box::new(sink.clone())),
        buffer,
    )
    .await;
    let events = capture.0.lock().unwrap().clone();
    (events, sink.take())
}

#[tokio::test]
async fn stderr_lines_become_events_at_their_levels() {
    let input = concat!(
        r#"{"@level":"info","@message":"doubling","@timestamp":"2026-11-22T10:56:13.244512Z","input":21}"#,
        "\n",
        "[WARN] plain warning\r\n",
        "just text\n",
        r#"{"a":1}"#,
        "\n",
        "panic: boom\n",
        "goroutine 1 [running]:\n",
    );
    for step in [1, 5, 4096] {
        let (events, raw) = mirror(input.as_bytes(), DEFAULT_BUFFER, step).await;
        assert_eq!(
            events,
            vec![
                event(
                    Level::INFO,
                    "doubling",
                    &[
                        ("fields", "input=21"),
                        ("timestamp", "2026-11-22T10:56:13.244Z")
                    ]
                ),
                event(Level::WARN, "[WARN] plain warning", &[]),
                event(Level::DEBUG, "just text", &[]),
                event(Level::DEBUG, r#"{"a":1}"#, &[]),
                event(Level::ERROR, "panic: boom", &[]),
                event(Level::ERROR, "goroutine 1 [running]:", &[]),
            ],
            "step {step}"
        );
        // The raw copy has every line, with `\n` line ends.
        assert_eq!(raw, input.replace("\r\n", "\n").as_bytes());
    }
}

#[tokio::test]
async fn an_unterminated_last_line_still_counts() {
    let (events, raw) = mirror(b"[ERROR] no newline", DEFAULT_BUFFER, 4096).await;
    assert_eq!(events, vec![event(Level::ERROR, "[ERROR] no newline", &[])]);
    assert_eq!(raw, b"[ERROR] no newline\n");
}

#[tokio::test]
async fn long_lines_are_logged_in_pieces_at_debug() {
    // go-plugin's own test: a 64-byte buffer splits a JSON line into two DEBUG records.
    let line = r#"{"@level":"error","@message":"this message is long enough to be split","n":1}"#;
    assert!(line.len() > 64 && line.len() < 128);
    let input = format!("{line}\n[INFO] next\n");
    let (events, raw) = mirror(input.as_bytes(), 64, 4096).await;
    assert_eq!(
        events,
        vec![
            event(Level::DEBUG, &line[..64], &[]),
            event(Level::DEBUG, &line[64..], &[]),
            event(Level::INFO, "[INFO] next", &[]),
        ]
    );
    assert_eq!(raw, input.as_bytes());
}

#[tokio::test]
async fn odd_bytes_never_stop_the_mirror() {
    let input = b"\xff\xfe\n\n\r\n{\"@message\":7,\"@level\":\"info\"}\n[1,2]\n\"s\"\n{\"@level\":\"error\",\"@message\":\"still here\"}\n";
    let (events, raw) = mirror(input, DEFAULT_BUFFER, 3).await;
    let got: Vec<(Level, &str)> = events
        .iter()
        .map(|e| (e.level, e.fields["message"].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (Level::DEBUG, "\u{fffd}\u{fffd}"),
            (Level::DEBUG, ""),
            (Level::DEBUG, ""),
            (Level::DEBUG, r#"{"@message":7,"@level":"info"}"#),
            (Level::DEBUG, "[1,2]"),
            (Level::DEBUG, r#""s""#),
            (Level::ERROR, "still here"),
        ]
    );
    assert_eq!(raw.len(), input.len() - 1); // one `\r\n` became `\n`
}

#[tokio::test]
async fn a_read_error_is_logged_and_ends_the_mirror() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let mut trickle = Trickle::new(b"[INFO] before\n", 100);
    trickle.fail_at_end = true;
    mirror_stderr(trickle, "kv-plugin".to_string(), None, DEFAULT_BUFFER).await;
    let events = capture.0.lock().unwrap().clone();
    assert_eq!(
        events,
        vec![
            event(Level::INFO, "[INFO] before", &[]),
            event(
                Level::ERROR,
                "reading plugin stderr",
                &[("error", "pipe broke")]
            ),
        ]
    );
}

#[tokio::test]
async fn with_logging_off_the_raw_copy_still_happens() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(
        capture
            .clone()
            .with_filter(tracing_subscriber::filter::LevelFilter::OFF),
    );
    let _guard = tracing::subscriber::set_default(subscriber);
    let sink = SharedBuf::default();
    mirror_stderr(
        Trickle::new(b"[ERROR] one\ntwo\n", 100),
        "kv-plugin".to_string(),
        Some(Box::new(sink.clone())),
        DEFAULT_BUFFER,
    )
    .await;
    assert!(capture.0.lock().unwrap().is_empty());
    assert_eq!(sink.take(), b"[ERROR] one\ntwo\n");
}

#[tokio::test]
async fn plugin_output_round_trips_through_the_mirror() {
    let lines = hclog_lines(|| {
        tracing::warn!(target: "kv", key = "hello", attempts = 3, "retrying");
    });
    let input = format!("{}\n", lines[0]);
    let (events, _) = mirror(input.as_bytes(), DEFAULT_BUFFER, 4096).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Level::WARN);
    assert_eq!(events[0].fields["message"], "retrying");
    assert_eq!(
        events[0].fields["fields"],
        "@module=kv attempts=3 key=hello"
    );
}
