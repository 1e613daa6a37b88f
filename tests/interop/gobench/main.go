// Command gobench is go-plugin's side of the benchmark that scripts/bench-vs-go
// runs: a go-plugin v1.8.0 plugin serving plugintest.Tester (the interface of
// the Rust test-plugin, tests/support/lib.rs) and a go-plugin host that
// measures any plugin serving it, Go or Rust.
//
// Usage:
//
//	gobench plugin                      (launched by a host: serves Tester)
//	gobench host [flags] PLUGIN [ARG...] (measures PLUGIN, run without a shell)
//
// The host makes the measurements of our host's tests/benches/sidebyside.rs,
// the same way, and prints them in the same format, one line each: NAME VALUE
// UNIT. The calls are made from goroutines:
//
//   - idle_rss (KiB): the plugin process's VmRSS after start, one echo and
//     500 ms idle.
//   - unary_p50, unary_p99 (us): -small sequential 16-byte echoes, timed one
//     by one after a tenth as many untimed, each sending what the last returned.
//   - echo_1MiB (ms): the median of -big sequential 1 MiB echoes, the same way.
//   - throughput_1, throughput_8, throughput_64 (calls/s): that many
//     goroutines share one dispensed client and echo 16 bytes of their own,
//     every answer checked, for -seconds after 0.3 s of warm-up; answered calls
//     over elapsed time.
//   - start_call (ms): the median, over the cycles below, of the time from
//     NewClient until the first Echo has been answered.
//   - start_call_kill (ms): the median of -starts cycles of NewClient →
//     Client → Dispense → first Echo → Kill, after one untimed.
//   - ready_100 (ms, ready_N for -fleet N): the median over -fleet-rounds
//     rounds of starting N plugins at once until every one has answered a
//     first Echo; after each round, untimed, all are killed and every process
//     is checked to be gone.
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
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

const (
	small = 16
	big   = 1 << 20
	// idle is how long a plugin idles before its memory is read.
	idle = 500 * time.Millisecond
	// throughputWarmUp is how long throughput callers call before the clock starts.
	throughputWarmUp = 300 * time.Millisecond
	// reapGrace is how long a killed plugin may take to disappear from /proc
	// before it counts as left behind.
	reapGrace = 2 * time.Second
)

type config struct {
	small, big, starts, fleet, fleetRounds int
	seconds                                float64
	command                                []string
}

func host(args []string) error {
	flags := flag.NewFlagSet("host", flag.ExitOnError)
	var c config
	flags.IntVar(&c.small, "small", 20000, "16-byte echoes to time")
	flags.IntVar(&c.big, "big", 300, "1 MiB echoes to time")
	flags.Float64Var(&c.seconds, "seconds", 2, "seconds each throughput run is timed")
	flags.IntVar(&c.starts, "starts", 20, "start → first call → kill cycles to time")
	flags.IntVar(&c.fleet, "fleet", 100, "plugins started at once")
	flags.IntVar(&c.fleetRounds, "fleet-rounds", 3, "rounds of starting -fleet plugins")
	_ = flags.Parse(args)
	c.command = flags.Args()
	if len(c.command) == 0 {
		return errors.New("no plugin command")
	}
	if c.small <= 0 || c.big <= 0 || c.starts <= 0 || c.fleet <= 0 || c.fleetRounds <= 0 || c.seconds <= 0 {
		return errors.New("every count and -seconds must be positive")
	}

	client := newClient(c.command)
	defer client.Kill()
	tester, err := dispense(client)
	if err != nil {
		return err
	}
	if err := echoChecked(tester, bytes.Repeat([]byte{0x5a}, small)); err != nil {
		return err
	}
	time.Sleep(idle)
	rss, err := rssKiB(client.ReattachConfig().Pid)
	if err != nil {
		return err
	}
	report("idle_rss", float64(rss), "KiB")

	times, err := timeEchoes(tester, c.small, small)
	if err != nil {
		return err
	}
	report("unary_p50", micros(percentile(times, 50)), "us")
	report("unary_p99", micros(percentile(times, 99)), "us")
	if times, err = timeEchoes(tester, c.big, big); err != nil {
		return err
	}
	report("echo_1MiB", millis(percentile(times, 50)), "ms")
	period := time.Duration(c.seconds * float64(time.Second))
	for _, callers := range []int{1, 8, 64} {
		rate, err := throughput(tester, callers, period)
		if err != nil {
			return err
		}
		report(fmt.Sprintf("throughput_%d", callers), rate, "calls/s")
	}
	client.Kill()

	firstCalls, cycles, err := startCallKill(c.command, c.starts)
	if err != nil {
		return err
	}
	report("start_call", millis(percentile(firstCalls, 50)), "ms")
	report("start_call_kill", millis(percentile(cycles, 50)), "ms")
	times = times[:0]
	for i := 0; i < c.fleetRounds; i++ {
		elapsed, err := ready(c.command, c.fleet)
		if err != nil {
			return err
		}
		times = append(times, elapsed)
	}
	report(fmt.Sprintf("ready_%d", c.fleet), millis(percentile(times, 50)), "ms")
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

// echo sends data and returns what came back.
func echo(tester TesterClient, data []byte) ([]byte, error) {
	resp, err := tester.Echo(context.Background(), &EchoRequest{Data: data})
	if err != nil {
		return nil, err
	}
	return resp.Value, nil
}

// echoChecked echoes data and checks that the same bytes came back.
func echoChecked(tester TesterClient, data []byte) error {
	got, err := echo(tester, data)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("echo returned %d other bytes, sent %d", len(got), len(data))
	}
	return nil
}

// timeEchoes times n sequential echoes of size bytes one by one, after n/10
// untimed; each sends what the previous one returned.
func timeEchoes(tester TesterClient, n, size int) ([]time.Duration, error) {
	data := bytes.Repeat([]byte{0xa5}, size)
	var err error
	for i := 0; i < n/10; i++ {
		if data, err = echo(tester, data); err != nil {
			return nil, err
		}
	}
	times := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if data, err = echo(tester, data); err != nil {
			return nil, err
		}
		times = append(times, time.Since(start))
		if len(data) != size {
			return nil, fmt.Errorf("echo returned %d bytes, sent %d", len(data), size)
		}
	}
	return times, nil
}

// throughput is the calls per second answered to callers goroutines sharing
// tester, each echoing 16 bytes of its own and checking every answer, over
// period after throughputWarmUp.
func throughput(tester TesterClient, callers int, period time.Duration) (float64, error) {
	var answered atomic.Int64
	var stop atomic.Bool
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for caller := 0; caller < callers; caller++ {
		wg.Add(1)
		go func(caller int) {
			defer wg.Done()
			own := []byte(fmt.Sprintf("caller %9d", caller))
			data := own
			for !stop.Load() {
				got, err := echo(tester, data)
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got, own) {
					errs <- fmt.Errorf("caller %d got %q back", caller, got)
					return
				}
				data = got
				answered.Add(1)
			}
		}(caller)
	}
	time.Sleep(throughputWarmUp)
	before, start := answered.Load(), time.Now()
	time.Sleep(period)
	after, elapsed := answered.Load(), time.Since(start)
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(after-before) / elapsed.Seconds(), nil
}

// startCallKill times n cycles of start → dispense → first echo → kill, after
// one untimed: for each, the time until the echo was answered and the time
// until the kill was done.
func startCallKill(command []string, n int) ([]time.Duration, []time.Duration, error) {
	firstCalls := make([]time.Duration, 0, n)
	cycles := make([]time.Duration, 0, n)
	for cycle := 0; cycle <= n; cycle++ {
		start := time.Now()
		client := newClient(command)
		tester, err := dispense(client)
		if err == nil {
			err = echoChecked(tester, bytes.Repeat([]byte{0x5a}, small))
		}
		answered := time.Since(start)
		client.Kill()
		if err != nil {
			return nil, nil, err
		}
		if cycle > 0 {
			firstCalls = append(firstCalls, answered)
			cycles = append(cycles, time.Since(start))
		}
	}
	return firstCalls, cycles, nil
}

// ready is the time to start n plugins at once until every one has answered
// a first echo. Then, untimed, it kills them all and checks that no process is
// left.
func ready(command []string, n int) (time.Duration, error) {
	start := time.Now()
	clients := make([]*plugin.Client, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			clients[i] = newClient(command)
			tester, err := dispense(clients[i])
			if err == nil {
				err = echoChecked(tester, []byte(fmt.Sprintf("plugin %9d", i)))
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)

	var pids []int
	for _, client := range clients {
		if reattach := client.ReattachConfig(); reattach != nil {
			pids = append(pids, reattach.Pid)
		}
	}
	for _, client := range clients {
		wg.Add(1)
		go func(client *plugin.Client) {
			defer wg.Done()
			client.Kill()
		}(client)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return elapsed, allGone(pids)
}

// allGone fails when any of pids is still in /proc reapGrace after its
// process was killed.
func allGone(pids []int) error {
	deadline := time.Now().Add(reapGrace)
	for {
		var left []int
		for _, pid := range pids {
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes left after kill: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rssKiB is the resident set of process pid, in KiB (VmRSS in
// /proc/PID/status).
func rssKiB(pid int) (int, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		if value, ok := strings.CutPrefix(lines.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}

// percentile is the pth percentile of times (sorted here), picked as
// sidebyside.rs picks it.
func percentile(times []time.Duration, p int) time.Duration {
	sorted := append([]time.Duration(nil), times...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	return sorted[min(len(sorted)*p/100, len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / 1e3 }
func millis(d time.Duration) float64 { return float64(d) / 1e6 }

// report prints one measurement as sidebyside.rs prints it.
func report(name string, value float64, unit string) {
	fmt.Printf("%s %.3f %s\n", name, value, unit)
}
