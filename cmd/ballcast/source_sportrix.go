package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/sportrix"
	"github.com/ballcast/ballcast/core/source/sportrix/sportrixsim"
	"github.com/ballcast/ballcast/pipeline"
)

func init() {
	sourceFactories["sportrix"] = func(s pipeline.Section, log zerolog.Logger) (ingest.Source, error) {
		var c sportrix.Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return sportrix.New(c, log)
	}
	simulators["sportrix"] = simulateSportrix
}

// simulateSportrix serves the Sportrix stream simulator.
func simulateSportrix(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("simulate sportrix", stderr)
	listen := fs.String("listen", "127.0.0.1:9092", "address to serve the stream (ws://ADDR"+sportrixsim.Path+") on")
	keyEnv := fs.String("api-key-env", "SPORTRIX_API_KEY", "environment variable holding the API key the simulator accepts (default key when unset: sim-key)")
	interval := fs.Duration("interval", 2*time.Second, "time between state changes (deliveries, innings, result) of each match")
	ping := fs.Duration("ping-interval", 30*time.Second, "server ping period")
	pause := fs.Bool("pause-unwatched", true, "advance a match only while someone is subscribed to it (false: play on regardless, like a real match)")
	dropEvery := fs.Duration("drop-every", 0, "drop every connection at this period (0: never)")
	skipOnDrop := fs.Int("skip-on-drop", 0, "states each match moves on unseen at every drop")
	malformedEvery := fs.Int("malformed-every", 0, "send a truncated frame before every Nth update (0: never)")
	dupEvery := fs.Int("duplicate-every", 0, "send every Nth update twice (0: never)")
	errorAt := fs.Int("error-at", 0, "send one error frame per subscribed match after this many state changes (0: never)")
	delay := fs.Duration("delay", 0, "hold every push back by this long")
	revokeAt := fs.Int("revoke-key-at", 0, "revoke the key after this many state changes: connections drop, handshakes get 401 (0: never)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	byID, ids, err := simMatches(files)
	if err != nil {
		return err
	}
	// Sportrix match IDs are numbers: Cricsheet IDs are; other files get
	// their position, 1, 2, ...
	matches := make(map[int64][]event.Event, len(ids))
	nums := make([]int64, len(ids))
	for i, id := range ids {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			n = int64(i + 1)
		}
		if _, dup := matches[n]; dup {
			return fmt.Errorf("simulate sportrix: match id %d used twice (%s)", n, id)
		}
		matches[n], nums[i] = byID[id], n
	}
	frames, err := sportrixsim.FromEvents(matches)
	if err != nil {
		return err
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := sportrixsim.New(sportrixsim.Config{
		APIKey: simKey(*keyEnv), Interval: *interval, PingInterval: *ping, PauseUnwatched: *pause,
		Faults: sportrixsim.Faults{DropEvery: *dropEvery, SkipOnDrop: *skipOnDrop, MalformedEvery: *malformedEvery,
			DuplicateEvery: *dupEvery, ErrorAt: *errorAt, Delay: *delay, RevokeKeyAt: *revokeAt},
	}, frames, log)
	if err != nil {
		return err
	}
	return serveSim(ctx, *listen, sim.Handler(), sim.Run, func(addr string) {
		log.Info().Str("url", "ws://"+addr+sportrixsim.Path).Ints64("matches", nums).Msg("sportrix simulator serving")
	})
}
