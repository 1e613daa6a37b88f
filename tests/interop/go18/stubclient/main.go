// Command stubclient talks to a go-plugin KV plugin using nothing but the Go
// stubs that protoc generates from the .proto text `kv proto` prints: it
// speaks the go-plugin handshake itself instead of using go-plugin.
//
// The stubs (kv.pb.go, kv_grpc.pb.go, package main) are not checked in: the
// interop test generates them and adds them to this package with
// `go build -overlay`, so this directory builds only that way.
//
// Usage: stubclient PLUGIN KEY VALUE — starts PLUGIN in the current directory,
// puts VALUE under KEY, gets it back and prints it (exactly, no newline added).
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: stubclient PLUGIN KEY VALUE")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "stubclient:", err)
		os.Exit(1)
	}
}

func run(pluginPath, key, value string) error {
	cmd := exec.Command(pluginPath)
	cmd.Env = append(os.Environ(), "BASIC_PLUGIN=hello", "PLUGIN_PROTOCOL_VERSIONS=1")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	// The first stdout line is the handshake; the rest is drained so the
	// plugin never blocks on a full pipe.
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		return fmt.Errorf("plugin printed no handshake line: %v", lines.Err())
	}
	handshake := strings.TrimSpace(lines.Text())
	go func() {
		for lines.Scan() {
		}
	}()
	parts := strings.Split(handshake, "|")
	if len(parts) < 5 || parts[0] != "1" || parts[1] != "1" || parts[4] != "grpc" {
		return fmt.Errorf("unexpected handshake line %q", handshake)
	}
	var target string
	switch parts[2] {
	case "unix":
		target = "unix://" + parts[3]
	case "tcp":
		target = parts[3]
	default:
		return fmt.Errorf("unknown network %q in %q", parts[2], handshake)
	}

	conn, err := grpc.Dial(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	kv := NewKVClient(conn)
	if _, err := kv.Put(ctx, &PutRequest{Key: key, Value: []byte(value)}); err != nil {
		return fmt.Errorf("Put: %w", err)
	}
	resp, err := kv.Get(ctx, &GetRequest{Key: key})
	if err != nil {
		return fmt.Errorf("Get: %w", err)
	}
	fmt.Print(string(resp.GetValue()))
	return nil
}
