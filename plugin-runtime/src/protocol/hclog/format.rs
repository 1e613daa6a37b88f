//! Plugin side: `tracing` events written as hclog JSON lines, the format a go-plugin host parses
//! from plugin stderr.

use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::Write as _;
use std::sync::Arc;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

use super::timestamp;
use crate::error::Error;

#[cfg(test)]
mod tests;

/// The filter [`init_plugin_logging`](crate::init_plugin_logging) uses when `RUST_LOG` is unset or empty.
///
/// Everything at DEBUG and above: the host decides what it shows, so the plugin sends enough
/// for it to choose. The HTTP/2 and gRPC transport crates are held at INFO because their DEBUG
/// output is per-frame noise that would dwarf the plugin's own logs.
const DEFAULT_FILTER: &str = "debug,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info";

/// Keys hclog reserves; an event field of the same name is written with a `_` in front so that it
/// cannot replace the real one (a Go host keeps the last duplicate key).
const RESERVED: [&str; 4] = ["@level", "@message", "@module", "@timestamp"];

/// A [`Layer`] that writes each `tracing` event as one hclog JSON line, which a go-plugin host
/// turns back into a log record at the same level.
///
/// A line looks like
/// `{"@level":"info","@timestamp":"2026-11-22T10:56:13.244512Z","input":21,"@message":"doubling","@module":"kv_plugin"}`:
///
/// - `@level` is `trace`, `debug`, `info`, `warn` or `error`;
/// - `@timestamp` is UTC with exactly six fractional digits, the only form a host accepts;
/// - `@module` is the event's target (for `log` records, the record's target), where hclog puts
///   its logger name;
/// - the fields of the event and of the spans it is in (outermost first) follow as JSON values:
///   integers and floats as numbers, booleans as booleans, errors by their `Display`, everything
///   else as a string.
///
/// Most plugins call [`init_plugin_logging`](crate::init_plugin_logging) instead of building this themselves.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(go_plugin::HclogLayer::with_writer(std::io::stderr));
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(input = 21, "doubling");
/// });
/// ```
pub struct HclogLayer<W = Arc<File>> {
    make_writer: W,
}

impl<W> fmt::Debug for HclogLayer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HclogLayer").finish_non_exhaustive()
    }
}

impl HclogLayer {
    /// A layer writing to a duplicate of the process's stderr, taken now.
    ///
    /// Taking the duplicate early matters: once serving starts, the runtime points file
    /// descriptor 2 at the pipe that carries `eprintln!` output to the host, while log lines must
    /// keep reaching the host's log parser.
    pub fn new() -> Result<Self, Error> {
        let stderr = crate::sys::stdio::duplicate_stderr()
            .map_err(|err| Error::io("failed to duplicate stderr for logging", err))?;
        Ok(HclogLayer::with_writer(Arc::new(stderr)))
    }
}

impl<W> HclogLayer<W>
where
    W: for<'a> MakeWriter<'a> + 'static,
{
    /// A layer writing through `make_writer` (for example `std::io::stderr`, or an in-memory
    /// buffer in tests). Each line is written with a single `write_all`.
    pub fn with_writer(make_writer: W) -> Self {
        HclogLayer { make_writer }
    }
}

/// Installs `layer` as the global `tracing` subscriber, with the filter from `RUST_LOG` (the
/// host's environment is passed on to plugins), or [`DEFAULT_FILTER`] when that is unset or
/// empty. It also routes `log` crate records.
pub(crate) fn install(layer: HclogLayer) -> Result<(), Error> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::new(directives),
        _ => EnvFilter::new(DEFAULT_FILTER),
    };
    let subscriber = tracing_subscriber::registry().with(filter).with(layer);
    // Served calls that continue a host's trace run in spans (net/trace_context.rs): exported
    // through whatever tracer provider the plugin installs globally, before or after this.
    #[cfg(feature = "opentelemetry")]
    let subscriber = subscriber.with(tracing_opentelemetry::layer().with_tracer(GlobalTracer));
    subscriber
        .try_init()
        .map_err(|err| Error::Serve(format!("failed to install the plugin logger: {err}")))
}

/// A tracer that starts each span with the tracer provider installed globally at that moment
/// (`opentelemetry::global::set_tracer_provider`), so a plugin may install its provider after
/// its logger; with none installed, spans only carry their parent's context on.
#[cfg(feature = "opentelemetry")]
#[derive(Debug)]
struct GlobalTracer;

#[cfg(feature = "opentelemetry")]
impl opentelemetry::trace::Tracer for GlobalTracer {
    type Span = opentelemetry::global::BoxedSpan;

    fn build_with_context(
        &self,
        builder: opentelemetry::trace::SpanBuilder,
        parent: &opentelemetry::Context,
    ) -> Self::Span {
        opentelemetry::global::tracer("go-plugin").build_with_context(builder, parent)
    }
}

/// Writes the current OpenTelemetry span's ids as `,"trace_id":"…","span_id":"…"`, when there is
/// one (`tracing-opentelemetry` makes an entered span's context the current one), so the host's
/// copy of the line can be joined with the trace.
#[cfg(feature = "opentelemetry")]
fn write_trace_ids(line: &mut Vec<u8>) {
    use opentelemetry::trace::TraceContextExt as _;

    let context = opentelemetry::Context::current();
    let span = context.span();
    let ids = span.span_context();
    if ids.is_valid() {
        write!(
            Bytes(line),
            ",\"trace_id\":\"{}\",\"span_id\":\"{}\"",
            ids.trace_id(),
            ids.span_id()
        )
        .ok();
    }
}

/// A span's fields, each already written as a `,"key":value` pair, by name. A field recorded
/// again replaces its pair, so a span takes as much room as its declared fields' latest values,
/// however often `span.record()` is called (a span can only record the fields it declared).
#[derive(Default)]
struct SpanFields(Vec<(&'static str, Vec<u8>)>);

impl SpanFields {
    fn write_to(&self, line: &mut Vec<u8>) {
        for (_, pair) in &self.0 {
            line.extend_from_slice(pair);
        }
    }
}

/// Records each field into its own pair of [`SpanFields`].
struct PerField<'a>(&'a mut SpanFields);

impl PerField<'_> {
    fn pair(&mut self, field: &Field, write: impl FnOnce(&mut JsonFields<'_>)) {
        let mut pair = Vec::new();
        write(&mut JsonFields::for_span(&mut pair));
        let fields = &mut (self.0).0;
        match fields.iter_mut().find(|(name, _)| *name == field.name()) {
            Some((_, old)) => *old = pair,
            None => fields.push((field.name(), pair)),
        }
    }
}

impl Visit for PerField<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |json| json.record_i64(field, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |json| json.record_u64(field, value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.pair(field, |json| json.record_i128(field, value));
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.pair(field, |json| json.record_u128(field, value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.pair(field, |json| json.record_f64(field, value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |json| json.record_bool(field, value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |json| json.record_str(field, value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.pair(field, |json| json.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |json| json.record_debug(field, value));
    }
}

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut fields = SpanFields::default();
        attrs.record(&mut PerField(&mut fields));
        // `replace`, not `insert`: a second HclogLayer in the same subscriber must not panic.
        span.extensions_mut().replace(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut PerField(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut line = Vec::with_capacity(256);
        line.extend_from_slice(b"{\"@level\":\"");
        line.extend_from_slice(level_name(*metadata.level()).as_bytes());
        line.extend_from_slice(b"\",\"@timestamp\":\"");
        timestamp::write_utc(&mut line, SystemTime::now());
        line.push(b'"');

        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    fields.write_to(&mut line);
                }
            }
        }

        #[cfg(feature = "opentelemetry")]
        write_trace_ids(&mut line);

        let from_log_crate =
            metadata.target() == "log" && metadata.fields().field("log.target").is_some();
        let mut visitor = JsonFields {
            out: &mut line,
            event: Some(EventState {
                from_log_crate,
                has_message: false,
                log_target: None,
            }),
        };
        event.record(&mut visitor);
        let state = visitor.event.take().unwrap_or_default();
        if !state.has_message {
            line.extend_from_slice(b",\"@message\":\"\"");
        }
        line.extend_from_slice(b",\"@module\":");
        write_json_str(
            &mut line,
            state.log_target.as_deref().unwrap_or(metadata.target()),
        );
        line.extend_from_slice(b"}\n");

        // Logging has nowhere to report its own failure; a lost line is the lesser evil.
        let _ = self.make_writer.make_writer_for(metadata).write_all(&line);
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

#[derive(Default)]
struct EventState {
    from_log_crate: bool,
    has_message: bool,
    /// The target of a `log` crate record, which names its module better than `log` does.
    log_target: Option<String>,
}

/// Appends fields as `,"key":value`. For an event (`event` is `Some`), the `message` field
/// becomes `@message` and the bookkeeping fields of `log` records are dropped.
struct JsonFields<'a> {
    out: &'a mut Vec<u8>,
    event: Option<EventState>,
}

impl<'a> JsonFields<'a> {
    fn for_span(out: &'a mut Vec<u8>) -> Self {
        JsonFields { out, event: None }
    }

    /// Writes `,"key":` for `field` and returns true, or returns false when the field is not
    /// written as a plain key (the message, or `log` bookkeeping).
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if let Some(event) = &self.event
            && (name == "message" || (event.from_log_crate && name.starts_with("log.")))
        {
            return false;
        }
        self.out.push(b',');
        if RESERVED.contains(&name) {
            self.out.extend_from_slice(b"\"_");
            JsonEscape(self.out).write_str(name).ok();
            self.out.push(b'"');
        } else {
            write_json_str(self.out, name);
        }
        self.out.push(b':');
        true
    }

    /// Handles the fields `key` declined; `text` renders the value when it is the message.
    fn special(&mut self, field: &Field, text: impl fmt::Display) {
        let Some(event) = &mut self.event else {
            return;
        };
        match field.name() {
            "message" => {
                event.has_message = true;
                self.out.extend_from_slice(b",\"@message\":\"");
                write!(JsonEscape(self.out), "{text}").ok();
                self.out.push(b'"');
            }
            "log.target" => event.log_target = Some(text.to_string()),
            _ => {}
        }
    }

    fn number(&mut self, field: &Field, value: impl fmt::Display) {
        if self.key(field) {
            write!(Bytes(self.out), "{value}").ok();
        } else {
            self.special(field, value);
        }
    }
}

impl Visit for JsonFields<'_> {
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.number(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.number(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.number(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.number(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if !self.key(field) {
            self.special(field, value);
        } else if value.is_finite() {
            // serde_json writes the shortest form that reads back as the same number.
            if serde_json::to_writer(&mut *self.out, &value).is_err() {
                self.out.extend_from_slice(b"null");
            }
        } else {
            // JSON has no NaN or infinity; a string keeps the information.
            write_json_str(self.out, &value.to_string());
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.number(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.key(field) {
            write_json_str(self.out, value);
        } else {
            self.special(field, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.key(field) {
            self.out.push(b'"');
            write!(JsonEscape(self.out), "{value}").ok();
            self.out.push(b'"');
        } else {
            self.special(field, value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.key(field) {
            self.out.push(b'"');
            write!(JsonEscape(self.out), "{value:?}").ok();
            self.out.push(b'"');
        } else {
            self.special(field, format_args!("{value:?}"));
        }
    }
}

/// Writes formatted text into the line buffer unchanged.
struct Bytes<'a>(&'a mut Vec<u8>);

impl fmt::Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Writes formatted text into the line buffer as the inside of a JSON string.
struct JsonEscape<'a>(&'a mut Vec<u8>);

impl fmt::Write for JsonEscape<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let escape: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x00..=0x1f => b"",
                _ => continue,
            };
            self.0.extend_from_slice(&bytes[start..i]);
            if escape.is_empty() {
                write!(Bytes(self.0), "\\u{b:04x}")?;
            } else {
                self.0.extend_from_slice(escape);
            }
            start = i + 1;
        }
        self.0.extend_from_slice(&bytes[start..]);
        Ok(())
    }
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    JsonEscape(out).write_str(s).ok();
    out.push(b'"');
}
