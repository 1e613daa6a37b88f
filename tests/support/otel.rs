//! Recording OpenTelemetry spans across processes, for the trace context tests: an exporter that
//! writes each ended span as one line to a file, the line format the Go peers (`interop/gootel`)
//! write too, and a reader of such files.
//!
//! A line is `span NAME TRACE_ID SPAN_ID PARENT_SPAN_ID`, ids in lowercase hex (the parent id all
//! zeros for a root span).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use go_plugin::opentelemetry::trace::SpanId;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::registry::Registry;

/// One span a process recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
}

impl RecordedSpan {
    /// Whether the span has no parent in its trace.
    pub fn is_root(&self) -> bool {
        self.parent_span_id == SpanId::INVALID.to_string()
    }

    /// Asserts that this span is `parent`'s child, in its trace; `what` says which spans these are.
    pub fn assert_child_of(&self, parent: &RecordedSpan, what: &str) {
        assert_eq!(
            self.trace_id, parent.trace_id,
            "{what}: in the parent's trace"
        );
        assert_eq!(
            self.parent_span_id, parent.span_id,
            "{what}: the parent's child"
        );
    }
}

/// Runs `body` on this thread as a host whose spans go to `host_spans` (through
/// `tracing-opentelemetry`), with `layer` beside; the subscriber is this thread's default.
pub fn as_traced_host<L, F>(host_spans: &Path, layer: L, body: F)
where
    L: Layer<Registry> + Send + Sync + 'static,
    F: Future<Output = ()>,
{
    use go_plugin::opentelemetry::trace::TracerProvider as _;

    let provider = provider_writing_to(host_spans);
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(go_plugin::tracing_opentelemetry::layer().with_tracer(provider.tracer("host")));
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(body);
}

/// The spans recorded in `path` so far, in the order they ended; none when it does not exist.
pub fn read_spans(path: &Path) -> Vec<RecordedSpan> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse_spans(&text)
}

/// The `span …` lines of `text` (a Go peer's output, or a span file).
pub fn parse_spans(text: &str) -> Vec<RecordedSpan> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            if words.next()? != "span" {
                return None;
            }
            let span = RecordedSpan {
                name: words.next()?.to_owned(),
                trace_id: words.next()?.to_owned(),
                span_id: words.next()?.to_owned(),
                parent_span_id: words.next()?.to_owned(),
            };
            words.next().is_none().then_some(span)
        })
        .collect()
}

/// Writes each ended span as a line of `path`, as it ends.
#[derive(Debug)]
pub struct SpanFile(PathBuf);

impl SpanExporter for SpanFile {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let mut lines = String::new();
        for span in batch {
            lines.push_str(&format!(
                "span {} {} {} {}\n",
                span.name.replace(char::is_whitespace, "_"),
                span.span_context.trace_id(),
                span.span_context.span_id(),
                span.parent_span_id
            ));
        }
        let written = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.0)
            .and_then(|mut file| file.write_all(lines.as_bytes()));
        written.map_err(|err| {
            opentelemetry_sdk::error::OTelSdkError::InternalFailure(format!(
                "{}: {err}",
                self.0.display()
            ))
        })
    }
}

/// A tracer provider that samples every span and writes each to `path` as it ends.
pub fn provider_writing_to(path: impl Into<PathBuf>) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_simple_exporter(SpanFile(path.into()))
        .build()
}
