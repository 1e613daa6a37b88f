// Command gobench is go-plugin's side of the benchmark that scripts/bench-vs-go
// runs: a go-plugin v1.8.0 plugin serving plugintest.Tester (the interface of
// the Rust test-plugin, tests/support/lib.rs) and a go-plugin host that times
// Echo calls on any plugin serving it, Go or Rust.
//
// Usage:
//
//	gobench plugin                      (launched by a host: serves Tester)
//	gobench host [flags] PLUGIN [ARG...] (times PLUGIN, run without a shell)
//
// The host prints one line per measurement: NAME MEDIAN MEAN UNIT, for
// unary_small (16-byte Echo, µs), echo_1MiB (1 MiB Echo, ms) and
// start_call_kill (NewClient → Client → Dispense → first Echo → Kill, ms).
//
// tester.pb.go and tester_grpc.pb.go are protoc-gen-go v1.36.6 and
// protoc-gen-go-grpc v1.3.0 output (both pinned in ../gotools) for the .proto
// text of TesterPlugin::PROTO, with go_package interop/gobench;main. Regenerate
// them when Echo's messages change (the other methods only need to exist), with
// the tools tests/interop/setup.sh builds, from tester.proto holding that text:
//
//	target/interop-venv/bin/python -m grpc_tools.protoc -I. \
//	  --plugin=protoc-gen-go=target/interop-bin/tools/protoc-gen-go \
//	  --plugin=protoc-gen-go-grpc=target/interop-bin/tools/protoc-gen-go-grpc \
//	  --go_out=. --go_opt=paths=source_relative --go_opt=Mtester.proto='interop/gobench;main' \
//	  --go-grpc_out=. --go-grpc_opt=paths=source_relative --go-grpc_opt=Mtester.proto='interop/gobench;main' \
//	  tester.proto
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// handshake is tests::HANDSHAKE, so either host runs either plugin.
var handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "TEST_MAGIC_COOKIE",
	MagicCookieValue: "test",
}

// testerPlugin is Tester as a go-plugin gRPC plugin, for both sides.
type testerPlugin struct {
	plugin.NetRPCUnsupportedPlugin
}

func (testerPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	RegisterTesterServer(s, echoServer{})
	return nil
}

func (testerPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (interface{}, error) {
	return NewTesterClient(c), nil
}

// echoServer implements Echo as the Rust test-plugin does; the rest of Tester
// answers Unimplemented.
type echoServer struct {
	UnimplementedTesterServer
}

func (echoServer) Echo(_ context.Context, req *EchoRequest) (*EchoResponse, error) {
	return &EchoResponse{Value: req.Data}, nil
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "plugin":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: handshake,
			Plugins:         plugin.PluginSet{"tester": testerPlugin{}},
			GRPCServer:      plugin.DefaultGRPCServer,
		})
	case "host":
		if err := host(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "gobench host:", err)
			os.Exit(1)
		}
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gobench plugin | gobench host [flags] PLUGIN [ARG...]")
	os.Exit(2)
}

type config struct {
	small, big, starts int
	command            []string
}

func host(args []string) error {
	flags := flag.NewFlagSet("host", flag.ExitOnError)
	var c config
	flags.IntVar(&c.small, "small", 20000, "16-byte echoes to time")
	flags.IntVar(&c.big, "big", 300, "1 MiB echoes to time")
	flags.IntVar(&c.starts, "starts", 20, "start → first call → kill cycles to time")
	_ = flags.Parse(args)
	c.command = flags.Args()
	if len(c.command) == 0 {
		return errors.New("no plugin command")
	}

	client := newClient(c.command)
	defer client.Kill()
	tester, err := dispense(client)
	if err != nil {
		return err
	}

	small := bytes.Repeat([]byte{0x5a}, 16)
	big := bytes.Repeat([]byte{0xa5}, 1<<20)
	if err := report("unary_small", "us", c.small, c.small/10, tester, small); err != nil {
		return err
	}
	if err := report("echo_1MiB", "ms", c.big, c.big/10, tester, big); err != nil {
		return err
	}
	client.Kill()

	times := make([]time.Duration, 0, c.starts)
	for i := 0; i < c.starts; i++ {
		start := time.Now()
		client := newClient(c.command)
		tester, err := dispense(client)
		if err == nil {
			err = echo(tester, small)
		}
		client.Kill()
		if err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	summarize("start_call_kill", "ms", times)
	return nil
}

func newClient(command []string) *plugin.Client {
	return plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          plugin.PluginSet{"tester": testerPlugin{}},
		Cmd:              exec.Command(command[0], command[1:]...),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// A host's usual logger: the plugin's log lines are still parsed,
		// only warnings and errors are printed.
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn, Output: os.Stderr}),
	})
}

func dispense(client *plugin.Client) (TesterClient, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, err
	}
	raw, err := rpc.Dispense("tester")
	if err != nil {
		return nil, err
	}
	return raw.(TesterClient), nil
}

func echo(tester TesterClient, data []byte) error {
	resp, err := tester.Echo(context.Background(), &EchoRequest{Data: data})
	if err != nil {
		return err
	}
	if len(resp.Value) != len(data) {
		return fmt.Errorf("echo returned %d bytes, sent %d", len(resp.Value), len(data))
	}
	return nil
}

// report times n echoes of data after warmup untimed ones.
func report(name, unit string, n, warmup int, tester TesterClient, data []byte) error {
	for i := 0; i < warmup; i++ {
		if err := echo(tester, data); err != nil {
			return err
		}
	}
	times := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := echo(tester, data); err != nil {
			return err
		}
		times = append(times, time.Since(start))
	}
	summarize(name, unit, times)
	return nil
}

func summarize(name, unit string, times []time.Duration) {
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	var total time.Duration
	for _, t := range times {
		total += t
	}
	scale := map[string]float64{"us": 1e3, "ms": 1e6}[unit]
	median := float64(times[len(times)/2]) / scale
	mean := float64(total) / float64(len(times)) / scale
	fmt.Printf("%s %.3f %.3f %s\n", name, median, mean, unit)
}
