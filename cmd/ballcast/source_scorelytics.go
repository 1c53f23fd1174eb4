package main

import (
	"context"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/scorelytics"
	"github.com/ballcast/ballcast/core/source/scorelytics/scorelyticssim"
	"github.com/ballcast/ballcast/pipeline"
)

func init() {
	sourceFactories["scorelytics"] = func(s pipeline.Section, log zerolog.Logger) (ingest.Source, error) {
		var c scorelytics.Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return scorelytics.New(c, log)
	}
	simulators["scorelytics"] = simulateScorelytics
}

// simulateScorelytics serves the Scorelytics simulator.
func simulateScorelytics(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("simulate scorelytics", stderr)
	listen := fs.String("listen", "127.0.0.1:9091", "address to serve the REST API and the WebSockets on")
	keyEnv := fs.String("api-key-env", "SCORELYTICS_API_KEY", "environment variable holding the API key the simulator accepts (default key when unset: sim-key)")
	interval := fs.Duration("interval", 2*time.Second, "time between steps (deliveries, status changes) of each match")
	ping := fs.Duration("ping-interval", 30*time.Second, "server ping period; two unanswered pings close the connection")
	maxConns := fs.Int("max-connections", scorelytics.DefaultMaxConnections, "concurrent WebSocket connections allowed per key (429 beyond)")
	totals := fs.Bool("totals-only", false, "serve scores without the ball-by-ball field")
	dropEvery := fs.Duration("drop-every", 0, "drop every WebSocket connection at this period (0: never)")
	malformedEvery := fs.Int("malformed-every", 0, "send a corrupt frame before every Nth delta (0: never)")
	dupEvery := fs.Int("duplicate-every", 0, "send every Nth delta twice (0: never)")
	delay := fs.Duration("delay", 0, "hold every delta back by this long")
	rejectAt := fs.Int("reject-key-at", 0, "revoke the key after this many steps: connections close, requests get 401 (0: never)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	matches, ids, err := simMatches(files)
	if err != nil {
		return err
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := scorelyticssim.New(scorelyticssim.Config{
		APIKey: simKey(*keyEnv), Interval: *interval, PingInterval: *ping, MaxConnections: *maxConns, TotalsOnly: *totals,
		Faults: scorelyticssim.Faults{DropEvery: *dropEvery, MalformedEvery: *malformedEvery, DuplicateEvery: *dupEvery,
			Delay: *delay, RejectKeyAt: *rejectAt},
	}, matches, log)
	if err != nil {
		return err
	}
	return serveSim(ctx, *listen, sim.Handler(), sim.Run, func(addr string) {
		log.Info().Str("url", "http://"+addr).Strs("matches", ids).Msg("scorelytics simulator serving")
	})
}
