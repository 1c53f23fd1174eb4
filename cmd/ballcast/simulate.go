package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/roanuz/roanuzsim"
	"github.com/ballcast/ballcast/pipeline"
)

// simulators are the providers "ballcast simulate" can stand in for, each
// given the arguments after the provider's name. Providers in other files
// add themselves from init.
var simulators = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"roanuz": simulateRoanuz,
}

// cmdSimulate runs a provider simulator: a wire-exact stand-in that replays
// Cricsheet matches as that provider's live feed.
func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	names := make([]string, 0, len(simulators))
	for k := range simulators {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(args) == 0 {
		return usageError{"simulate: want a provider: " + strings.Join(names, ", ")}
	}
	sim, ok := simulators[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("simulate: unknown provider %q; known: %s", args[0], strings.Join(names, ", "))}
	}
	return sim(ctx, args[1:], stdout, stderr)
}

// simulateRoanuz serves the Roanuz v5 simulator.
func simulateRoanuz(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("simulate roanuz", stderr)
	listen := fs.String("listen", "127.0.0.1:9090", "address to serve the REST API and Socket.IO on")
	project := fs.String("project-key", "sim", "project key the simulator accepts")
	keyEnv := fs.String("api-key-env", "ROANUZ_API_KEY", "environment variable holding the API key the simulator accepts (default key when unset: sim-key)")
	interval := fs.Duration("interval", 2*time.Second, "time between deliveries")
	enc := fs.String("encoding", "gzip", "on_match_update encoding: gzip, zlib, json, json-string, base64-gzip, base64-zlib, bare")
	dropEvery := fs.Duration("drop-every", 0, "drop every socket connection at this period (0: never)")
	expireAt := fs.Int("expire-token-at", 0, "expire every token after this many deliveries (0: never)")
	malformedEvery := fs.Int("malformed-every", 0, "send a corrupt update before every Nth update (0: never)")
	dupEvery := fs.Int("duplicate-every", 0, "send every Nth update twice (0: never)")
	errorAt := fs.Int("error-at", 0, "send one on_error after this many deliveries (0: never)")
	delay := fs.Duration("delay", 0, "hold every push back by this long")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	matches, ids, err := simMatches(files)
	if err != nil {
		return err
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := roanuzsim.New(roanuzsim.Config{
		ProjectKey: *project, APIKey: simKey(*keyEnv), Interval: *interval, Encoding: *enc,
		Faults: roanuzsim.Faults{DropEvery: *dropEvery, ExpireTokenAt: *expireAt, MalformedEvery: *malformedEvery,
			DuplicateEvery: *dupEvery, ErrorAt: *errorAt, Delay: *delay},
	}, matches, log)
	if err != nil {
		return err
	}
	return serveSim(ctx, *listen, sim.Handler(), sim.Run, func(addr string) {
		log.Info().Str("url", "http://"+addr).Str("project_key", *project).Strs("matches", ids).Msg("roanuz simulator serving")
	})
}

// simKey is the API key a simulator accepts: the value of the environment
// variable env, or "sim-key" when it is unset.
func simKey(env string) string {
	if k := os.Getenv(env); k != "" {
		return k
	}
	return "sim-key"
}

// simMatches loads the matches a simulator replays, by match ID: the
// Cricsheet files, or the bundled match when there are none. ids lists
// them in the order given. A match given twice is an error.
func simMatches(files []string) (matches map[string][]event.Event, ids []string, err error) {
	matches = map[string][]event.Event{}
	add := func(id string, evs []event.Event, from string) error {
		if _, dup := matches[id]; dup {
			return fmt.Errorf("simulate: match %s given twice (%s)", id, from)
		}
		matches[id] = evs
		ids = append(ids, id)
		return nil
	}
	if len(files) == 0 {
		evs, err := replay.Parse(strings.TrimSuffix(replay.BundledMatch, ".json"), replay.Bundled())
		if err != nil {
			return nil, nil, err
		}
		return matches, ids, add(evs[0].Match, evs, "bundled")
	}
	for _, f := range files {
		m, err := replay.Load(f)
		if err != nil {
			return nil, nil, err
		}
		if err := add(m.ID, m.Events, f); err != nil {
			return nil, nil, err
		}
	}
	return matches, ids, nil
}

// serveSim serves a simulator's handler on listen and runs its clock until
// ctx ends. serving is told the address once the listener is open (to log
// where the simulator is).
func serveSim(ctx context.Context, listen string, h http.Handler, run func(context.Context) error, serving func(addr string)) error {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	serving(ln.Addr().String())
	go run(ctx) //nolint:errcheck // a simulator's Run returns nil when ctx ends
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
