// Command otelplugin is a go-plugin v1.8.0 plugin serving the KV interface of
// go-plugin's examples/grpc (in memory) on a gRPC server with otelgrpc's server
// stats handler, so a W3C traceparent in a call's metadata becomes the parent
// of the server span.
//
// Every span that ends is appended to the file named by OTEL_TEST_SPANS, one
// line written at once as it ends:
//
//	span <name> <trace id> <span id> <parent span id>
//
// with ids in hex (a root span's parent is 0000000000000000). Without
// OTEL_TEST_SPANS nothing is recorded.
//
// A gRPC server span ends after the response has been sent, so a host that
// stops the plugin as soon as its last call returns could otherwise stop it
// before that span is written: go-plugin's Shutdown stops the server without
// waiting for handlers, and Serve returns. Before exiting, the plugin waits
// (at most a second, well within the two seconds go-plugin's Kill allows) for
// every span that started to end.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

// memKV is shared.KV in a map.
type memKV struct {
	mu     sync.Mutex
	values map[string][]byte
}

func (kv *memKV) Put(key string, value []byte) error {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	kv.values[key] = append([]byte(nil), value...)
	return nil
}

func (kv *memKV) Get(key string) ([]byte, error) {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	return kv.values[key], nil
}

// spanFile is a SpanProcessor appending a line per ended span to a file.
type spanFile struct {
	mu   sync.Mutex
	path string
	open atomic.Int64 // spans started and not yet written
}

func (f *spanFile) OnStart(context.Context, sdktrace.ReadWriteSpan) { f.open.Add(1) }

func (f *spanFile) OnEnd(s sdktrace.ReadOnlySpan) {
	defer f.open.Add(-1)
	line := spanLine(s.Name(), s.SpanContext(), s.Parent()) + "\n"
	f.mu.Lock()
	defer f.mu.Unlock()
	out, err := os.OpenFile(f.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "otelplugin: spans file:", err)
		return
	}
	defer out.Close()
	if _, err := out.Write([]byte(line)); err != nil {
		fmt.Fprintln(os.Stderr, "otelplugin: spans file:", err)
	}
}

// spanLine is "span NAME TRACE_ID SPAN_ID PARENT_SPAN_ID"; an invalid parent's
// span id is all zeros.
func spanLine(name string, span, parent trace.SpanContext) string {
	return fmt.Sprintf("span %s %s %s %s", name, span.TraceID(), span.SpanID(), parent.SpanID())
}

// drain waits until every started span has been written, or timeout passes.
func (f *spanFile) drain(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for f.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

func (*spanFile) Shutdown(context.Context) error   { return nil }
func (*spanFile) ForceFlush(context.Context) error { return nil }

func main() {
	var opts []sdktrace.TracerProviderOption
	var spans *spanFile
	if path := os.Getenv("OTEL_TEST_SPANS"); path != "" {
		spans = &spanFile{path: path}
		opts = append(opts, sdktrace.WithSpanProcessor(spans))
	}
	provider := sdktrace.NewTracerProvider(opts...)
	propagator := propagation.TraceContext{}
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagator)

	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins: map[string]plugin.Plugin{
			"kv_grpc": &shared.KVGRPCPlugin{Impl: &memKV{values: map[string][]byte{}}},
		},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(
				otelgrpc.WithTracerProvider(provider),
				otelgrpc.WithPropagators(propagator),
			)))...)
		},
	})
	if spans != nil {
		spans.drain(time.Second)
	}
}
