// Command plugin is a go-plugin (gRPC) KV plugin like go-plugin's
// examples/grpc/plugin-go-grpc, with what the interop tests need on top:
//
//   - GOPLUGIN_VERSIONS (default "1"): comma-separated app protocol versions it
//     serves, all over gRPC, so a host's version negotiation can be observed;
//     the stored value names the version that served the Put.
//   - on Put it logs one hclog record at each level (trace..error) with fields
//     key=<key> level_no=<0..4>, and writes "stdout: put <key>\n" to os.Stdout
//     and "stderr: put <key>\n" to os.Stderr (which go-plugin forwards over
//     GRPCStdio), then waits 100 ms so they reach the host before the reply.
//   - GOPLUGIN_TLS_CERT, GOPLUGIN_TLS_KEY (PEM files): serve with this
//     certificate through go-plugin's TLSProvider instead of AutoMTLS; with
//     GOPLUGIN_TLS_CLIENT_CA also require client certificates from that CA.
//   - GOPLUGIN_DEBUG=1: serve in go-plugin's test mode, as terraform-plugin-go's
//     -debug does: no cookie check, and instead of the handshake one line on
//     stdout with the reattach configuration as JSON (the value format of
//     Terraform's TF_REATTACH_PROVIDERS); SIGINT or SIGTERM ends it.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/examples/grpc/shared"
)

type kv struct {
	version int
	logger  hclog.Logger
}

func (k *kv) Put(key string, value []byte) error {
	k.logger.Trace("put trace", "key", key, "level_no", 0)
	k.logger.Debug("put debug", "key", key, "level_no", 1)
	k.logger.Info("put info", "key", key, "level_no", 2)
	k.logger.Warn("put warn", "key", key, "level_no", 3)
	k.logger.Error("put error", "key", key, "level_no", 4)
	fmt.Fprintf(os.Stdout, "stdout: put %s\n", key)
	fmt.Fprintf(os.Stderr, "stderr: put %s\n", key)
	// GRPCStdio copies these on its own stream, unordered with this call's
	// reply; a host that kills the plugin right after the reply could cut
	// them off. The pause lets them reach the host first.
	time.Sleep(100 * time.Millisecond)
	stored := fmt.Sprintf("%s\n\nWritten from interop-go-plugin version %d", value, k.version)
	return os.WriteFile("kv_"+key, []byte(stored), 0o644)
}

func (k *kv) Get(key string) ([]byte, error) {
	return os.ReadFile("kv_" + key)
}

func main() {
	// Created before Serve, so it keeps the process's real stderr: the
	// channel go-plugin hosts parse as hclog JSON.
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: os.Stderr, JSONFormat: true})

	versions := os.Getenv("GOPLUGIN_VERSIONS")
	if versions == "" {
		versions = "1"
	}
	sets := map[int]plugin.PluginSet{}
	for _, v := range strings.Split(versions, ",") {
		n, err := strconv.Atoi(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bad GOPLUGIN_VERSIONS %q: %v\n", versions, err)
			os.Exit(1)
		}
		sets[n] = plugin.PluginSet{"kv": &shared.KVGRPCPlugin{Impl: &kv{version: n, logger: logger}}}
	}

	config := &plugin.ServeConfig{
		HandshakeConfig:  shared.Handshake,
		VersionedPlugins: sets,
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	}
	if cert := os.Getenv("GOPLUGIN_TLS_CERT"); cert != "" {
		config.TLSProvider = func() (*tls.Config, error) {
			pair, err := tls.LoadX509KeyPair(cert, os.Getenv("GOPLUGIN_TLS_KEY"))
			if err != nil {
				return nil, err
			}
			config := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
			if ca := os.Getenv("GOPLUGIN_TLS_CLIENT_CA"); ca != "" {
				pem, err := os.ReadFile(ca)
				if err != nil {
					return nil, err
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("no certificate in %s", ca)
				}
				config.ClientCAs = pool
				config.ClientAuth = tls.RequireAndVerifyClientCert
			}
			return config, nil
		}
	}
	if os.Getenv("GOPLUGIN_DEBUG") != "" {
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		reattach := make(chan *plugin.ReattachConfig, 1)
		config.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach}
		go func() {
			rc := <-reattach
			out, _ := json.Marshal(map[string]interface{}{
				"Protocol":        string(rc.Protocol),
				"ProtocolVersion": rc.ProtocolVersion,
				"Pid":             rc.Pid,
				"Test":            rc.Test,
				"Addr":            map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
			})
			fmt.Println(string(out))
		}()
	}
	plugin.Serve(config)
}
