// Command otelhost is a go-plugin v1.8.0 host that propagates W3C trace
// context (traceparent in gRPC metadata) to the KV plugin it starts, through
// otelgrpc's client stats handler.
//
// Usage:
//
//	otelhost PLUGIN_PATH
//
// It starts PLUGIN_PATH (no shell) with the handshake and plugin map of
// go-plugin's examples/grpc, opens a root span "otelhost" and, in its context,
// calls Put("traced", "yes") and Get("traced") on the plugin's KV service over
// the gRPC connection go-plugin made. After ending the root span it prints
//
//	value <the value Get returned>
//	span <name> <trace id> <span id> <parent span id>   (each ended span, in the order they ended)
//
// with ids in hex and a root span's parent as 0000000000000000. Errors go to
// stderr with exit status 1. go-plugin's own log goes to stderr at the level
// named by OTEL_TEST_LOG_LEVEL (trace, debug, info, warn, error; default info).
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/proto"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: otelhost PLUGIN_PATH")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	recorder := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	defer provider.Shutdown(context.Background())
	propagator := propagation.TraceContext{}
	otel.SetTracerProvider(provider)
	otel.SetTextMapPropagator(propagator)

	level := hclog.LevelFromString(os.Getenv("OTEL_TEST_LOG_LEVEL"))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          map[string]plugin.Plugin{"kv_grpc": &shared.KVGRPCPlugin{}},
		Cmd:              exec.Command(path),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: level, Output: os.Stderr}),
		GRPCDialOptions: []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(
			otelgrpc.WithTracerProvider(provider),
			otelgrpc.WithPropagators(propagator),
		))},
	})
	defer client.Kill()

	protocol, err := client.Client()
	if err != nil {
		return err
	}
	grpcClient, ok := protocol.(*plugin.GRPCClient)
	if !ok {
		return fmt.Errorf("plugin protocol is %T, not *plugin.GRPCClient", protocol)
	}
	kv := proto.NewKVClient(grpcClient.Conn)

	ctx, root := provider.Tracer("otelhost").Start(context.Background(), "otelhost")
	if _, err := kv.Put(ctx, &proto.PutRequest{Key: "traced", Value: []byte("yes")}); err != nil {
		root.End()
		return fmt.Errorf("put: %w", err)
	}
	got, err := kv.Get(ctx, &proto.GetRequest{Key: "traced"})
	root.End()
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}

	fmt.Printf("value %s\n", got.Value)
	for _, s := range recorder.Ended() {
		fmt.Println(spanLine(s.Name(), s.SpanContext(), s.Parent()))
	}
	return nil
}

// spanLine is "span NAME TRACE_ID SPAN_ID PARENT_SPAN_ID"; an invalid parent's
// span id is all zeros.
func spanLine(name string, span, parent trace.SpanContext) string {
	return fmt.Sprintf("span %s %s %s %s", name, span.TraceID(), span.SpanID(), parent.SpanID())
}
