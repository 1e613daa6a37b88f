// Command host is a go-plugin host (client) for the KV interface of
// go-plugin's examples/grpc, with the knobs the interop tests need that the
// example host lacks: offered protocol versions, allowed protocols, a JSON log
// file, SyncStdout/SyncStderr capture, Ping and a timed Kill.
//
// Usage:
//
//	host [flags] put KEY VALUE
//	host [flags] get KEY
//	host [flags] none          (start, dispense, optionally ping, kill; any plugin interface)
//
// With -hold it prints "holding PID" (the plugin's pid) after the command and
// waits to be killed instead of killing the plugin. With -reattach JSON (the
// value format of Terraform's TF_REATTACH_PROVIDERS) it connects to a running
// plugin instead of launching one.
//
// It prints one JSON object (see report) on stdout and exits 1 if anything
// failed before Kill.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
)

// report is what the tests read; every field is filled as far as the run got.
type report struct {
	NegotiatedVersion int     `json:"negotiated_version"`
	Protocol          string  `json:"protocol"`
	Ping              string  `json:"ping,omitempty"`
	Value             *string `json:"value,omitempty"`
	SyncStdout        string  `json:"sync_stdout"`
	SyncStderr        string  `json:"sync_stderr"`
	KillMillis        int64   `json:"kill_ms"`
	Error             string  `json:"error,omitempty"`
}

// hold makes the host wait to be killed once the command is done.
var hold bool

// reattachJSON, when set, is the plugin to reattach to.
var reattachJSON string

// autoMTLS turns on go-plugin's AutoMTLS; tlsCA, tlsCert and tlsKey build a
// TLSConfig of the host's own instead.
var (
	autoMTLS               bool
	tlsCA, tlsCert, tlsKey string
)

// hostTLS is the TLSConfig -tls-ca, -tls-cert and -tls-key describe, or nil.
func hostTLS() (*tls.Config, error) {
	if tlsCA == "" {
		return nil, nil
	}
	ca, err := os.ReadFile(tlsCA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no certificate in %s", tlsCA)
	}
	config := &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	if tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(tlsCert, tlsKey)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}

// reattachConfig reads Terraform's TF_REATTACH_PROVIDERS value format.
func reattachConfig(text string) (*plugin.ReattachConfig, error) {
	var rc struct {
		Protocol        string
		ProtocolVersion int
		Pid             int
		Test            bool
		Addr            struct{ Network, String string }
	}
	if err := json.Unmarshal([]byte(text), &rc); err != nil {
		return nil, fmt.Errorf("bad -reattach: %v", err)
	}
	var addr net.Addr
	switch rc.Addr.Network {
	case "unix":
		addr = &net.UnixAddr{Name: rc.Addr.String, Net: "unix"}
	case "tcp":
		a, err := net.ResolveTCPAddr("tcp", rc.Addr.String)
		if err != nil {
			return nil, err
		}
		addr = a
	default:
		return nil, fmt.Errorf("bad -reattach network %q", rc.Addr.Network)
	}
	return &plugin.ReattachConfig{
		Protocol:        plugin.Protocol(rc.Protocol),
		ProtocolVersion: rc.ProtocolVersion,
		Addr:            addr,
		Pid:             rc.Pid,
		Test:            rc.Test,
	}, nil
}

// syncBuffer collects what go-plugin copies from the plugin's GRPCStdio
// stream; it is written by go-plugin's goroutines and read by main.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pluginCommand runs the plugin through sh, except on Windows, which has none (go-plugin's own
// example hosts fail there: exec: "sh": executable file not found in %PATH%).
func pluginCommand(command string) *exec.Cmd {
	if runtime.GOOS == "windows" {
		words := strings.Fields(command)
		if len(words) == 0 {
			return exec.Command("")
		}
		return exec.Command(words[0], words[1:]...)
	}
	return exec.Command("sh", "-c", command)
}

func main() {
	pluginCmd := flag.String("plugin", os.Getenv("KV_PLUGIN"), "plugin command, run with sh -c (on Windows: the program and its arguments, split at spaces)")
	versions := flag.String("versions", "1", "comma-separated app protocol versions the host offers")
	protocols := flag.String("protocols", "grpc", "comma-separated AllowedProtocols (grpc, netrpc)")
	logPath := flag.String("log", "", "write the host's hclog records as JSON lines to this file (default: text on stderr)")
	ping := flag.Bool("ping", false, "call Ping after Dispense")
	wantStdout := flag.String("want-stdout", "", "wait (up to 10 s) until SyncStdout has received this text")
	wantStderr := flag.String("want-stderr", "", "wait (up to 10 s) until SyncStderr has received this text")
	cookie := flag.String("cookie", "", "magic cookie KEY=VALUE (default: the examples' BASIC_PLUGIN=hello)")
	flag.BoolVar(&hold, "hold", false, "after the command, print \"holding PID\" and wait to be killed")
	flag.StringVar(&reattachJSON, "reattach", "", "reattach to this running plugin (JSON) instead of launching one")
	flag.BoolVar(&autoMTLS, "auto-mtls", false, "turn on go-plugin's AutoMTLS")
	flag.StringVar(&tlsCA, "tls-ca", "", "TLSConfig: trust this CA certificate (PEM file) for the plugin's certificate")
	flag.StringVar(&tlsCert, "tls-cert", "", "TLSConfig: present this client certificate (PEM file, with -tls-key)")
	flag.StringVar(&tlsKey, "tls-key", "", "TLSConfig: the client certificate's key (PEM file)")
	flag.Parse()

	handshake := shared.Handshake
	if *cookie != "" {
		key, value, _ := strings.Cut(*cookie, "=")
		handshake.MagicCookieKey, handshake.MagicCookieValue = key, value
	}

	var rep report
	err := run(&rep, handshake, *pluginCmd, *versions, *protocols, *logPath, *ping, *wantStdout, *wantStderr, flag.Args())
	if err != nil {
		rep.Error = err.Error()
	}
	out, _ := json.Marshal(rep)
	fmt.Println(string(out))
	if err != nil {
		os.Exit(1)
	}
}

func run(rep *report, handshake plugin.HandshakeConfig, pluginCmd, versions, protocols, logPath string, ping bool,
	wantStdout, wantStderr string, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command: put KEY VALUE, get KEY or none")
	}

	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Trace, Output: os.Stderr})
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Level: hclog.Trace, Output: f, JSONFormat: true})
	}

	sets := map[int]plugin.PluginSet{}
	for _, v := range strings.Split(versions, ",") {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("bad -versions %q: %v", versions, err)
		}
		sets[n] = plugin.PluginSet{"kv": &shared.KVGRPCPlugin{}}
	}
	var allowed []plugin.Protocol
	for _, p := range strings.Split(protocols, ",") {
		allowed = append(allowed, plugin.Protocol(p))
	}

	var syncOut, syncErr syncBuffer
	config := &plugin.ClientConfig{
		HandshakeConfig:  handshake,
		VersionedPlugins: sets,
		Cmd:              pluginCommand(pluginCmd),
		AllowedProtocols: allowed,
		Logger:           logger,
		Stderr:           io.Discard,
		SyncStdout:       &syncOut,
		SyncStderr:       &syncErr,
	}
	config.AutoMTLS = autoMTLS
	tlsConfig, err := hostTLS()
	if err != nil {
		return err
	}
	config.TLSConfig = tlsConfig
	if reattachJSON != "" {
		rc, err := reattachConfig(reattachJSON)
		if err != nil {
			return err
		}
		config.Cmd = nil
		config.Reattach = rc
		config.Plugins = plugin.PluginSet{"kv": &shared.KVGRPCPlugin{}}
	}
	client := plugin.NewClient(config)
	defer func() {
		start := time.Now()
		client.Kill()
		rep.KillMillis = time.Since(start).Milliseconds()
		rep.SyncStdout = syncOut.String()
		rep.SyncStderr = syncErr.String()
	}()

	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	rep.NegotiatedVersion = client.NegotiatedVersion()
	rep.Protocol = string(client.Protocol())

	raw, err := rpcClient.Dispense("kv")
	if err != nil {
		return err
	}
	kv := raw.(shared.KV)

	switch {
	case args[0] == "put" && len(args) == 3:
		if err := kv.Put(args[1], []byte(args[2])); err != nil {
			return err
		}
	case args[0] == "get" && len(args) == 2:
		v, err := kv.Get(args[1])
		if err != nil {
			return err
		}
		s := string(v)
		rep.Value = &s
	case args[0] == "none" && len(args) == 1:
	default:
		return fmt.Errorf("bad command %q", args)
	}

	if ping {
		if err := rpcClient.Ping(); err != nil {
			rep.Ping = err.Error()
		} else {
			rep.Ping = "ok"
		}
	}

	if hold {
		fmt.Printf("holding %d\n", client.ReattachConfig().Pid)
		select {}
	}

	// GRPCStdio data travels on its own stream, so it can arrive after the
	// RPC that caused it has returned.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) &&
		!(strings.Contains(syncOut.String(), wantStdout) && strings.Contains(syncErr.String(), wantStderr)) {
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
