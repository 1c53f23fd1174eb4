package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/replay"
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
	apiKey := os.Getenv(*keyEnv)
	if apiKey == "" {
		apiKey = "sim-key"
	}
	matches := map[int64][]event.Event{}
	if len(files) == 0 {
		evs, err := replay.Parse(strings.TrimSuffix(replay.BundledMatch, ".json"), replay.Bundled())
		if err != nil {
			return err
		}
		id, _ := strconv.ParseInt(evs[0].Match, 10, 64)
		matches[id] = evs
	}
	for i, f := range files {
		m, err := replay.Load(f)
		if err != nil {
			return err
		}
		// Cricsheet files are named by a numeric match id; others get 1, 2, ...
		id, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), 10, 64)
		if err != nil || id <= 0 {
			id = int64(i + 1)
		}
		if _, dup := matches[id]; dup {
			return fmt.Errorf("simulate sportrix: match id %d used twice (%s)", id, f)
		}
		matches[id] = m.Events
	}
	frames, err := sportrixsim.FromEvents(matches)
	if err != nil {
		return err
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := sportrixsim.New(sportrixsim.Config{
		APIKey: apiKey, Interval: *interval, PingInterval: *ping, PauseUnwatched: *pause,
		Faults: sportrixsim.Faults{DropEvery: *dropEvery, SkipOnDrop: *skipOnDrop, MalformedEvery: *malformedEvery,
			DuplicateEvery: *dupEvery, ErrorAt: *errorAt, Delay: *delay, RevokeKeyAt: *revokeAt},
	}, frames, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	ids := make([]int64, 0, len(matches))
	for id := range matches {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	log.Info().Str("url", "ws://"+ln.Addr().String()+sportrixsim.Path).Ints64("matches", ids).Msg("sportrix simulator serving")
	go sim.Run(ctx) //nolint:errcheck // returns nil when ctx ends
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
