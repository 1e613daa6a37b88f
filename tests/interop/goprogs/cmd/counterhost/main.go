// counterhost is a go-plugin host of ours for the broker interop cells: it runs
// a counter plugin (COUNTER_PLUGIN, through sh -c) with go-plugin's
// examples/bidirectional interfaces, and can ask for the broker features the
// example host leaves off. Built against go-plugin v1.8.0 only (go18): the
// GRPCBrokerMultiplex option does not exist in v1.4.10.
//
//	counterhost [-multiplex] [-auto-mtls] put KEY N | get KEY
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/bidirectional/shared"
)

// adder is the host's side of every sum, offset so a test can tell that the
// plugin really called back into this host.
type adder struct{ offset int64 }

func (a adder) Sum(x, y int64) (int64, error) { return x + y + a.offset, nil }

func fail(err error) {
	fmt.Println("Error:", err.Error())
	os.Exit(1)
}

func main() {
	multiplex := flag.Bool("multiplex", false, "set GRPCBrokerMultiplex")
	autoMTLS := flag.Bool("auto-mtls", false, "set AutoMTLS")
	offset := flag.Int64("offset", 0, "added to every sum the host does")
	flag.Parse()
	log.SetOutput(io.Discard)

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:     shared.Handshake,
		Plugins:             shared.PluginMap,
		Cmd:                 exec.Command("sh", "-c", os.Getenv("COUNTER_PLUGIN")),
		AllowedProtocols:    []plugin.Protocol{plugin.ProtocolGRPC},
		GRPCBrokerMultiplex: *multiplex,
		AutoMTLS:            *autoMTLS,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "counterhost", Level: hclog.Trace, Output: os.Stderr,
		}),
	})
	defer client.Kill()

	rpcClient, err := client.Client()
	if err != nil {
		fail(err)
	}
	raw, err := rpcClient.Dispense("counter")
	if err != nil {
		fail(err)
	}
	counter := raw.(shared.Counter)

	args := flag.Args()
	switch {
	case len(args) == 2 && args[0] == "get":
		count, err := counter.Get(args[1])
		if err != nil {
			fail(err)
		}
		fmt.Println(count)
	case len(args) == 3 && args[0] == "put":
		n, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			fail(err)
		}
		if err := counter.Put(args[1], n, adder{*offset}); err != nil {
			fail(err)
		}
	default:
		fail(fmt.Errorf("usage: counterhost [-multiplex] [-auto-mtls] put KEY N | get KEY"))
	}
}
