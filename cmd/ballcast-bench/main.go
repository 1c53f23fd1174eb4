// Command ballcast-bench prints the plugin-pipeline figures of
// docs/benchmarks.md: the cost of one echo round trip, the latency of a live
// ball through dedup → stats → commentary, replay throughput, plugin start
// time, and the same pipeline behind the durable log (core/bus, NATS
// JetStream) as ballcast run wires it.
//
// Machines are shared and noisy, so every figure is printed next to a
// reference measured in the same run, as a ratio, and each is the median of
// several runs (-runs). The plugins are served by this same binary
// (`ballcast-bench plugin serve NAME`), so it needs nothing else.
//
// Section h is a fan-out load: one match replayed to -clients WebSocket
// clients (and -sse-clients SSE clients) of a broadcast.Hub on loopback,
// the clients in a separate process (`ballcast-bench loadclient`), against
// a minimal gorilla/websocket fan-out server on the same load.
//
// Usage:
//
//	ballcast-bench [-runs 5] [-events 1000] [-matches 16] [-data DIR] [-quick] [-json]
//	               [-clients 10000] [-sse-clients 1000] [-rounds 3] [-load-events 100]
//	               [-load-interval 200ms] [-load-only]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/dedup"
	"github.com/ballcast/ballcast/plugins/echo"
	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/stats"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, err)
		}
		os.Exit(1)
	}
}

// plugins are the stages this binary serves when re-executed as
// `ballcast-bench plugin serve NAME`.
var plugins = map[string]func() sdk.Stage{
	"echo":       func() sdk.Stage { return echo.New() },
	"dedup":      func() sdk.Stage { return dedup.New() },
	"stats":      func() sdk.Stage { return stats.New() },
	"commentary": func() sdk.Stage { return commentary.New() },
}

// pluginConfig is the JSON config each plugin is started with. Commentary
// is pinned to its template engine: an OPENAI_API_KEY in the environment
// must not turn the benchmark into a measurement of a remote LLM.
var pluginConfig = map[string]string{
	"commentary": `{"llm":{"enabled":false}}`,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "plugin":
			return servePlugin(args[1:])
		case "noop":
			// The process-start reference: exec this binary and exit.
			return nil
		case "loadclient":
			// The clients of section h, in a process of their own.
			return loadClientMain(ctx, args[1:])
		}
	}
	opts, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	res, err := measure(ctx, opts, stderr)
	if err != nil {
		return err
	}
	if opts.json {
		return writeJSON(stdout, res)
	}
	writeTable(stdout, res)
	return nil
}

func servePlugin(args []string) error {
	if len(args) != 2 || args[0] != "serve" {
		return errors.New("ballcast-bench: usage: ballcast-bench plugin serve NAME")
	}
	mk, ok := plugins[args[1]]
	if !ok {
		names := make([]string, 0, len(plugins))
		for n := range plugins {
			names = append(names, n)
		}
		sort.Strings(names)
		return fmt.Errorf("ballcast-bench: no plugin %q (have %s)", args[1], strings.Join(names, ", "))
	}
	sdk.Serve(mk(), nil)
	return nil
}

// options are the parsed command-line flags.
type options struct {
	runs    int    // measurement rounds; each figure is the median
	events  int    // events timed per latency figure
	matches int    // concurrent matches in the throughput figures
	data    string // directory of Cricsheet files for throughput; "" = the bundled match ×matches
	starts  int    // plugin starts per plugin per round
	quick   bool
	json    bool
	self    string // this executable, re-executed for plugins and load clients

	// Section h, the fan-out load.
	clients      int           // WebSocket clients; 0 skips them
	sseClients   int           // SSE clients; 0 skips them
	rounds       int           // load rounds; each load figure is the median
	loadEvents   int           // events replayed to the clients
	loadInterval time.Duration // between two published events
	loadOnly     bool          // skip sections a–g
	loadProfile  string        // directory for the hub's heap and CPU profiles; "" for none
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ballcast-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.runs, "runs", 5, "measurement `rounds`; every figure is the median over them")
	fs.IntVar(&o.events, "events", 1000, "events timed for each latency figure, one in flight at a time")
	fs.IntVar(&o.matches, "matches", 16, "matches replayed concurrently for the throughput figures (copies of the bundled match)")
	fs.StringVar(&o.data, "data", "", "`dir` of Cricsheet JSON files to replay for throughput instead of the bundled match ×matches")
	fs.BoolVar(&o.quick, "quick", false, "short run for CI smoke tests: -runs 1 -events 50 -matches 2 -clients 200 -sse-clients 20 -rounds 1 -load-events 20 -load-interval 20ms unless given")
	fs.BoolVar(&o.json, "json", false, "print machine-readable JSON instead of the table")
	fs.IntVar(&o.clients, "clients", 10000, "WebSocket `clients` of the fan-out load (section h); 0 skips them")
	fs.IntVar(&o.sseClients, "sse-clients", 1000, "SSE `clients` of the fan-out load (section h); 0 skips them")
	fs.IntVar(&o.rounds, "rounds", 3, "fan-out load `rounds`; every load figure is the median over them")
	fs.IntVar(&o.loadEvents, "load-events", 15, "events of the bundled match (spread over it) replayed to the load clients")
	fs.DurationVar(&o.loadInterval, "load-interval", 2*time.Second, "time between two events of the load replay (2s = 20× real time)")
	fs.BoolVar(&o.loadOnly, "load-only", false, "measure only the fan-out load (sections h and i)")
	fs.StringVar(&o.loadProfile, "load-profile", "", "`dir` to write the hub's idle heap profile and replay CPU profile to (first round, WebSocket)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: ballcast-bench [flags]")
		fmt.Fprintln(stderr, "Prints plugin-pipeline latency, throughput and start-up figures, each as a ratio to a reference measured in the same run.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return o, fmt.Errorf("ballcast-bench: unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.starts = 3
	if o.quick {
		if !set["runs"] {
			o.runs = 1
		}
		if !set["events"] {
			o.events = 50
		}
		if !set["matches"] {
			o.matches = 2
		}
		o.starts = 1
		for _, q := range []struct {
			flag string
			v    *int
			n    int
		}{{"clients", &o.clients, 200}, {"sse-clients", &o.sseClients, 20}, {"rounds", &o.rounds, 1}, {"load-events", &o.loadEvents, 20}} {
			if !set[q.flag] {
				*q.v = q.n
			}
		}
		if !set["load-interval"] {
			o.loadInterval = 20 * time.Millisecond
		}
	}
	if o.runs < 1 || o.events < 1 || o.matches < 1 {
		return o, errors.New("ballcast-bench: -runs, -events and -matches must be at least 1")
	}
	if o.clients < 0 || o.sseClients < 0 || o.rounds < 1 || o.loadEvents < 1 || o.loadInterval <= 0 {
		return o, errors.New("ballcast-bench: -clients and -sse-clients must not be negative; -rounds, -load-events and -load-interval must be positive")
	}
	self, err := os.Executable()
	if err != nil {
		return o, fmt.Errorf("ballcast-bench: find own executable: %w", err)
	}
	o.self = self
	return o, nil
}
