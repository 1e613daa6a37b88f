// Command cataloghost is a go-plugin v1.8.0 host for a plugin serving the
// catalog.Catalog service, written only from the .proto text that
// `catalog-plugin proto` and `catalog-plugin scorer-proto` print: it dispenses
// the plugin through go-plugin, sends nested messages, enums and maps, reads a
// server stream, and serves the Scorer callback through go-plugin's broker as
// go-plugin's examples/bidirectional does.
//
// The stubs (catalog*.pb.go, scorer*.pb.go, package main) are not checked in:
// the interop test generates them and adds them to this package with
// `go build -overlay`, so this directory builds only that way.
//
// Usage: cataloghost PLUGIN — prints one line per call, in a form the test
// compares with the Python client's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

type catalogPlugin struct{ plugin.Plugin }

type catalog struct {
	client CatalogClient
	broker *plugin.GRPCBroker
}

func (catalogPlugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error {
	return errors.New("cataloghost only hosts the catalog")
}

func (catalogPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, conn *grpc.ClientConn) (interface{}, error) {
	return &catalog{client: NewCatalogClient(conn), broker: broker}, nil
}

// scorer is the host's callback: ten points per letter of the name, one per part.
type scorer struct {
	UnimplementedScorerServer
}

func (scorer) Score(_ context.Context, req *ScoreRequest) (*ScoreResponse, error) {
	return &ScoreResponse{Value: int64(len(req.Name))*10 + int64(req.Parts)}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: cataloghost PLUGIN")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "cataloghost:", err)
		os.Exit(1)
	}
}

func run(pluginPath string) error {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: plugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "BASIC_PLUGIN",
			MagicCookieValue: "hello",
		},
		Plugins:          map[string]plugin.Plugin{"catalog": &catalogPlugin{}},
		Cmd:              exec.Command(pluginPath),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
	})
	defer client.Kill()
	rpc, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpc.Dispense("catalog")
	if err != nil {
		return err
	}
	c := raw.(*catalog)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	described, err := c.client.Describe(ctx, &DescribeRequest{
		Item: &Item{
			Name:   "box",
			Parts:  []*Part{{Id: 1, Shade: Shade_SHADE_DARK}, {Id: 2, Shade: Shade_SHADE_LIGHT}},
			Counts: map[string]int64{"a": 1},
			Main:   &Part{Id: 9, Shade: Shade_SHADE_LIGHT},
			Labels: map[string]Shade{"old": Shade_SHADE_LIGHT},
		},
		Shade: Shade_SHADE_DARK,
		Tags:  map[string]Shade{"x": Shade_SHADE_LIGHT, "y": Shade_SHADE_DARK},
		Also:  []Shade{Shade_SHADE_DARK, Shade_SHADE_LIGHT, Shade_SHADE_DARK},
		Maybe: Shade_SHADE_UNSPECIFIED.Enum(),
	})
	if err != nil {
		return fmt.Errorf("Describe: %w", err)
	}
	fmt.Println("describe:", item(described.Value))

	stream, err := c.client.List(ctx, &ListRequest{Prefix: "it", Count: 3})
	if err != nil {
		return fmt.Errorf("List: %w", err)
	}
	var listed []string
	for {
		got, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("List stream: %w", err)
		}
		listed = append(listed, item(got.Value))
	}
	fmt.Println("list:", strings.Join(listed, " | "))

	id := c.broker.NextId()
	go c.broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		server := grpc.NewServer(opts...)
		RegisterScorerServer(server, scorer{})
		return server
	})
	total, err := c.client.Total(ctx, &TotalRequest{
		Scorer: id,
		Items:  []*Item{{Name: "a", Parts: []*Part{{}}}, {Name: "bcd", Parts: []*Part{{}, {}}}},
	})
	if err != nil {
		return fmt.Errorf("Total: %w", err)
	}
	fmt.Println("total:", total.Value)
	return nil
}

// item prints an item with its maps in key order.
func item(it *Item) string {
	if it == nil {
		return "<none>"
	}
	var parts []string
	for _, p := range it.Parts {
		parts = append(parts, fmt.Sprintf("%d:%s", p.Id, p.Shade))
	}
	main := "none"
	if it.Main != nil {
		main = fmt.Sprintf("%d:%s", it.Main.Id, it.Main.Shade)
	}
	return fmt.Sprintf("%s parts=[%s] counts=%s main=%s labels=%s",
		it.Name, strings.Join(parts, ","), sorted(it.Counts), main, sorted(it.Labels))
}

func sorted[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return "{" + strings.Join(out, ",") + "}"
}
