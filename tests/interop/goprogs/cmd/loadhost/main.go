// Command loadhost is a go-plugin host that puts load on one KV plugin (the
// interface of go-plugin's examples/grpc): -callers goroutines share one
// dispensed client, and each does -calls Put/Get pairs, checking every value it
// gets back.
//
// Usage:
//
//	loadhost [-callers 64] [-calls 100] [-signature TEXT] -plugin CMD
//
// Every value is unique to its caller and call, and Get must return it
// followed by -signature (what the plugin appends, "\n\nWritten from
// plugin-rust" for kv-plugin), so an answer meant for another call is caught.
// Each caller cycles through keys of its own (at most -keys of them), so a
// long run does not leave one file per call in the plugin's directory.
//
// It prints one JSON object (see report) on stdout and exits 1 when any pair
// failed or mismatched.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
)

type report struct {
	Callers     int     `json:"callers"`
	Calls       int     `json:"calls"`
	Pairs       int64   `json:"pairs"`
	Errors      int64   `json:"errors"`
	Mismatches  int64   `json:"mismatches"`
	FirstError  string  `json:"first_error,omitempty"`
	Seconds     float64 `json:"seconds"`
	PairsPerSec float64 `json:"pairs_per_sec"`
	Error       string  `json:"error,omitempty"`
}

func main() {
	pluginCmd := flag.String("plugin", "", "plugin command, run with sh -c")
	callers := flag.Int("callers", 64, "concurrent callers")
	calls := flag.Int("calls", 100, "Put/Get pairs per caller")
	keys := flag.Int("keys", 256, "keys per caller, used in turn")
	signature := flag.String("signature", "\n\nWritten from plugin-rust", "what Get adds after the value put")
	flag.Parse()

	rep := report{Callers: *callers, Calls: *calls}
	err := run(&rep, *pluginCmd, *callers, *calls, *keys, []byte(*signature))
	if err != nil {
		rep.Error = err.Error()
	}
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	if err != nil || rep.Errors > 0 || rep.Mismatches > 0 || rep.Pairs != int64(*callers)*int64(*calls) {
		os.Exit(1)
	}
}

func run(rep *report, pluginCmd string, callers, calls, keys int, signature []byte) error {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          plugin.PluginSet{"kv": &shared.KVGRPCPlugin{}},
		Cmd:              exec.Command("sh", "-c", pluginCmd),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// The plugin logs every put; parsing those is part of the load, showing them is not.
		Logger: hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Warn, Output: os.Stderr}),
	})
	defer client.Kill()

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense("kv")
	if err != nil {
		return err
	}
	kv := raw.(shared.KV)

	var firstError sync.Once
	fail := func(counter *int64, text string) {
		atomic.AddInt64(counter, 1)
		firstError.Do(func() { rep.FirstError = text })
	}
	started := time.Now()
	var wg sync.WaitGroup
	for caller := 0; caller < callers; caller++ {
		wg.Add(1)
		go func(caller int) {
			defer wg.Done()
			for call := 0; call < calls; call++ {
				key := fmt.Sprintf("load-%d-%d", caller, call%keys)
				value := []byte(fmt.Sprintf("caller %d call %d", caller, call))
				if err := kv.Put(key, value); err != nil {
					fail(&rep.Errors, fmt.Sprintf("put %s: %v", key, err))
					continue
				}
				got, err := kv.Get(key)
				if err != nil {
					fail(&rep.Errors, fmt.Sprintf("get %s: %v", key, err))
					continue
				}
				if want := append(value, signature...); !bytes.Equal(got, want) {
					fail(&rep.Mismatches, fmt.Sprintf("get %s: %q, want %q", key, got, want))
					continue
				}
				atomic.AddInt64(&rep.Pairs, 1)
			}
		}(caller)
	}
	wg.Wait()
	rep.Seconds = time.Since(started).Seconds()
	rep.PairsPerSec = float64(rep.Pairs) / rep.Seconds
	return nil
}
