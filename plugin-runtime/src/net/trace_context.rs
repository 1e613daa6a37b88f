//! W3C trace context across the process boundary (the `opentelemetry` feature), as go-plugin peers
//! carry it with OpenTelemetry's otelgrpc handlers: gRPC metadata `traceparent` and `tracestate`.
//!
//! - Every call a [`Channel`](super::channel::Channel) sends carries the caller's trace context:
//!   the current OpenTelemetry context (which `tracing-opentelemetry` activates when a span is
//!   entered), else the current `tracing` span's ([`inject`]).
//! - Every server of the runtime (the plugin's, and the host's for callbacks through the broker)
//!   runs a call that carries a trace context inside a `tracing` span that continues it
//!   ([`ContinueTraceLayer`]). A call without one runs exactly as without the feature.
//!
//! The format is W3C Trace Context (<https://www.w3.org/TR/trace-context/>), whatever propagator
//! the application has installed globally: it is what otelgrpc's peers read and write. The
//! headers are read and written here, not with `opentelemetry_sdk`'s propagator: that one comes
//! only with the SDK's whole `trace` feature (span processors, exporters, `rand`, `futures`), which
//! every program with this feature would then build, for two header values.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use opentelemetry::trace::{
    FutureExt as _, SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    WithContext,
};
use tonic::body::Body;
use tracing::Instrument as _;
use tracing::instrument::Instrumented;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// Adds the caller's trace context to an outgoing call's `headers`, when it has one.
pub(crate) fn inject(headers: &mut http::HeaderMap) {
    let mut context = opentelemetry::Context::current();
    if !context.span().span_context().is_valid() {
        // A subscriber whose OpenTelemetry layer does not activate contexts on entry.
        let span = tracing::Span::current();
        if span.is_none() {
            return;
        }
        context = span.context();
        if !context.span().span_context().is_valid() {
            return;
        }
    }
    let span = context.span();
    let ids = span.span_context();
    let traceparent = format!(
        "00-{}-{}-{:02x}",
        ids.trace_id(),
        ids.span_id(),
        (ids.trace_flags() & TraceFlags::SAMPLED).to_u8()
    );
    if let Ok(value) = http::HeaderValue::from_str(&traceparent) {
        headers.insert(TRACEPARENT, value);
    }
    let state = ids.trace_state().header();
    if !state.is_empty()
        && let Ok(value) = http::HeaderValue::from_str(&state)
    {
        headers.insert(TRACESTATE, value);
    }
}

/// The trace context a call carries, when it carries a valid one.
fn extract(headers: &http::HeaderMap) -> Option<opentelemetry::Context> {
    let traceparent = headers.get(TRACEPARENT)?.to_str().ok()?;
    let (trace_id, span_id, flags) = parse_traceparent(traceparent)?;
    // A tracestate that does not parse is dropped, the trace kept (as the W3C text says).
    let state = headers
        .get(TRACESTATE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<TraceState>().ok())
        .unwrap_or_default();
    let parent = SpanContext::new(trace_id, span_id, flags, true, state);
    Some(opentelemetry::Context::new().with_remote_span_context(parent))
}

/// `version-traceid-parentid-flags`, lowercase hex of 2, 32, 16 and 2 digits. Version `ff` is
/// invalid, `00` has exactly these four fields, and a later version may add fields after them;
/// an all-zero trace or parent id is invalid.
fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let value = value.trim();
    let mut fields = value.splitn(5, '-');
    let version = hex_field(fields.next()?, 2)?;
    let trace_id = hex_field(fields.next()?, 32)?;
    let span_id = hex_field(fields.next()?, 16)?;
    let flags = hex_field(fields.next()?, 2)?;
    let later_fields = fields.next();
    if version == "ff" || (version == "00" && later_fields.is_some()) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?) & TraceFlags::SAMPLED;
    (trace_id != TraceId::INVALID && span_id != SpanId::INVALID)
        .then_some((trace_id, span_id, flags))
}

/// `field` when it is exactly `digits` lowercase hexadecimal digits.
fn hex_field(field: &str, digits: usize) -> Option<&str> {
    (field.len() == digits
        && field
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then_some(field)
}

/// Whether `path` is a call to one of go-plugin's own services (broker, controller, stdio,
/// health): their streams last as long as the plugin, and a span for them would say nothing.
fn is_go_plugins_own(path: &str) -> bool {
    path.starts_with("/plugin.") || path.starts_with("/grpc.health.")
}

/// The layer every server of the runtime is built with (see [`ContinueTrace`]).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ContinueTraceLayer;

impl<S> tower::Layer<S> for ContinueTraceLayer {
    type Service = ContinueTrace<S>;

    fn layer(&self, inner: S) -> ContinueTrace<S> {
        ContinueTrace { inner }
    }
}

/// A server that runs each call carrying a trace context inside a span continuing it: the span
/// `grpc call`, at INFO, target `go_plugin::rpc`, with otelgrpc's name for the span
/// (`otel.name`: `package.Service/Method`), `otel.kind = "server"`, `rpc.system = "grpc"`,
/// `rpc.service`, `rpc.method`, and `rpc.grpc.status_code` (with `otel.status_code = "ERROR"` when
/// it is not OK) once the answer is known. The span lasts until the answer's last frame, and is
/// entered whenever the handler or its response stream runs. The caller's context is also the
/// current OpenTelemetry context there, so a plugin without an OpenTelemetry layer still passes
/// the trace on to the calls it makes, callbacks to its host included.
#[derive(Clone, Debug)]
pub(crate) struct ContinueTrace<S> {
    inner: S,
}

impl<S> tower::Service<http::Request<Body>> for ContinueTrace<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = ContinueTraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path();
        let parent = match extract(request.headers()) {
            Some(parent) if !is_go_plugins_own(path) => parent,
            _ => {
                return ContinueTraceFuture::Untraced {
                    future: self.inner.call(request),
                };
            }
        };
        let name = path.trim_start_matches('/');
        let (service, method) = name.split_once('/').unwrap_or((name, ""));
        let span = tracing::info_span!(
            target: "go_plugin::rpc",
            "grpc call",
            otel.name = name,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = service,
            rpc.method = method,
            rpc.grpc.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        // Fails only without an OpenTelemetry layer, where the context below still carries the
        // trace on.
        let _ = span.set_parent(parent.clone());
        let future = {
            let _entered = span.enter();
            let _attached = parent.clone().attach();
            self.inner.call(request)
        };
        ContinueTraceFuture::Traced {
            future: future.instrument(span.clone()).with_context(parent.clone()),
            span: Some((span, parent)),
        }
    }
}

pin_project_lite::pin_project! {
    /// A served call's answer, in its span when it continues a trace.
    #[project = Projected]
    pub(crate) enum ContinueTraceFuture<F> {
        Untraced {
            #[pin]
            future: F,
        },
        Traced {
            #[pin]
            future: WithContext<Instrumented<F>>,
            span: Option<(tracing::Span, opentelemetry::Context)>,
        },
    }
}

impl<F, E> Future for ContinueTraceFuture<F>
where
    F: Future<Output = Result<http::Response<Body>, E>>,
{
    type Output = Result<http::Response<Body>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            Projected::Untraced { future } => future.poll(cx),
            Projected::Traced { future, span } => {
                let response = std::task::ready!(future.poll(cx))?;
                let Some((span, context)) = span.take() else {
                    return Poll::Ready(Ok(response));
                };
                // A trailers-only answer (an error before any message) has its status here.
                record_status(&span, response.headers());
                Poll::Ready(Ok(response.map(|body| {
                    Body::new(TracedBody {
                        body,
                        span,
                        context,
                    })
                })))
            }
        }
    }
}

/// Records a call's `grpc-status` in its span, when `headers` (or trailers) carry one.
fn record_status(span: &tracing::Span, headers: &http::HeaderMap) {
    let Some(code) = headers
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
    else {
        return;
    };
    span.record("rpc.grpc.status_code", code);
    if code != 0 {
        span.record("otel.status_code", "ERROR");
    }
}

/// A traced call's response body: its frames are made inside the call's span and context (a
/// server stream's items come from the handler's stream as the body is polled), and the span ends
/// when the body is done with.
struct TracedBody {
    body: Body,
    span: tracing::Span,
    context: opentelemetry::Context,
}

impl http_body::Body for TracedBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, tonic::Status>>> {
        let this = &mut *self;
        let _entered = this.span.enter();
        let _attached = this.context.clone().attach();
        let frame = Pin::new(&mut this.body).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &frame
            && let Some(trailers) = frame.trailers_ref()
        {
            record_status(&this.span, trailers);
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn context_of(traceparent: &str) -> Option<opentelemetry::Context> {
        let mut headers = http::HeaderMap::new();
        headers.insert(TRACEPARENT, traceparent.parse().unwrap());
        extract(&headers)
    }

    #[test]
    fn a_call_without_a_valid_traceparent_has_no_context() {
        assert!(extract(&http::HeaderMap::new()).is_none());
        for invalid in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "",
        ] {
            assert!(context_of(invalid).is_none(), "{invalid:?} was taken");
        }
    }

    #[test]
    fn a_later_version_may_add_fields() {
        let context = context_of("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what")
            .expect("a later version's first four fields");
        let span = context.span();
        assert!(span.span_context().is_sampled());
        assert_eq!(
            span.span_context().trace_flags(),
            TraceFlags::SAMPLED,
            "only `sampled` is kept"
        );
    }

    #[test]
    fn traceparent_read_is_written_back_the_same() {
        let mut headers = http::HeaderMap::new();
        headers.insert(TRACEPARENT, PARENT.parse().unwrap());
        headers.insert(TRACESTATE, "vendor=value,other=2".parse().unwrap());
        let context = extract(&headers).expect("a valid traceparent");
        let span = context.span();
        let span_context = span.span_context();
        assert_eq!(
            span_context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(span_context.span_id().to_string(), "00f067aa0ba902b7");
        assert!(span_context.is_remote());

        let mut written = http::HeaderMap::new();
        let _attached = context.clone().attach();
        inject(&mut written);
        assert_eq!(written["traceparent"], PARENT);
        assert_eq!(written["tracestate"], "vendor=value,other=2");
    }

    #[test]
    fn nothing_is_injected_outside_a_trace() {
        let mut headers = http::HeaderMap::new();
        inject(&mut headers);
        assert!(headers.is_empty());
    }

    #[test]
    fn go_plugins_own_services_are_not_traced() {
        assert!(is_go_plugins_own("/plugin.GRPCBroker/StartStream"));
        assert!(is_go_plugins_own("/grpc.health.v1.Health/Check"));
        assert!(!is_go_plugins_own("/proto.KV/Get"));
        assert!(!is_go_plugins_own("/pluginx.Service/Method"));
    }
}

/// The feature is all or nothing in the build: without it, no OpenTelemetry crate is a dependency.
#[cfg(test)]
mod build {
    /// The crates `go-plugin`'s normal dependencies resolve to, with `features`.
    fn dependencies(features: &[&str]) -> String {
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        let output = std::process::Command::new(env!("CARGO"))
            .args([
                "tree",
                "--offline",
                "--locked",
                "-e",
                "normal",
                "--prefix",
                "none",
            ])
            .args(["--manifest-path", manifest, "-p", "go-plugin"])
            .args(features)
            .output()
            .expect("run cargo tree");
        assert!(
            output.status.success(),
            "cargo tree failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn has(tree: &str, name: &str) -> bool {
        tree.lines()
            .any(|line| line.starts_with(&format!("{name} v")))
    }

    #[test]
    fn without_the_feature_no_opentelemetry_crate_is_built() {
        let default = dependencies(&[]);
        let everything = dependencies(&["--all-features"]);
        for name in ["opentelemetry", "tracing-opentelemetry"] {
            assert!(
                !has(&default, name),
                "{name} without the feature:\n{default}"
            );
            assert!(has(&everything, name), "{name} with it:\n{everything}");
        }
        assert!(
            !default.lines().any(|line| line.contains("opentelemetry")),
            "{default}"
        );
    }
}
