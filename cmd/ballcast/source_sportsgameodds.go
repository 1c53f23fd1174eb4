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
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/sportsgameodds"
	"github.com/ballcast/ballcast/core/source/sportsgameodds/sgosim"
	"github.com/ballcast/ballcast/pipeline"
)

func init() {
	sourceFactories["sportsgameodds"] = func(s pipeline.Section, log zerolog.Logger) (ingest.Source, error) {
		var c sportsgameodds.Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return sportsgameodds.New(c, log)
	}
	simulators["sportsgameodds"] = simulateSGO
}

// simulateSGO serves the SportsGameOdds streaming simulator.
func simulateSGO(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("simulate sportsgameodds", stderr)
	listen := fs.String("listen", "127.0.0.1:9093", "address to serve the REST API (/v2/...) and the Pusher WebSocket (/app/KEY) on")
	keyEnv := fs.String("api-key-env", "SPORTSGAMEODDS_API_KEY", "environment variable holding the API key the simulator accepts (default key when unset: sim-key)")
	league := fs.String("league", "CRICKET", "leagueID of every match")
	interval := fs.Duration("interval", 2*time.Second, "time between state changes (deliveries, innings, result) of each match")
	public := fs.Bool("public", false, "use public channels instead of private- channels authorised at /v2/stream/auth")
	lockstep := fs.Bool("lockstep", true, "advance a match only once its current state was fetched (false: play on regardless, like a real match)")
	dropEvery := fs.Int("drop-every", 0, "drop every connection before every Nth notification (0: never)")
	errorEvery := fs.Int("error-every", 0, "send pusher:error and close every connection before every Nth notification (0: never)")
	errorCodes := fs.String("error-codes", "4200", "comma-separated pusher:error codes cycled by -error-every")
	malformedEvery := fs.Int("malformed-every", 0, "send malformed frames before every Nth notification (0: never)")
	dupEvery := fs.Int("duplicate-every", 0, "send every Nth notification twice (0: never)")
	wrongKey := fs.Int("wrong-key-first", 0, "answer the first N stream requests with a Pusher key the WebSocket refuses (4001)")
	delay := fs.Duration("delay", 0, "hold every notification back by this long")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	var codes []int
	for _, c := range strings.Split(*errorCodes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 4000 || n > 4999 {
			return usageError{fmt.Sprintf("simulate sportsgameodds: -error-codes: %q is not a code in 4000-4999", c)}
		}
		codes = append(codes, n)
	}
	apiKey := os.Getenv(*keyEnv)
	if apiKey == "" {
		apiKey = "sim-key"
	}
	matches := map[string][]event.Event{}
	if len(files) == 0 {
		evs, err := replay.Parse(strings.TrimSuffix(replay.BundledMatch, ".json"), replay.Bundled())
		if err != nil {
			return err
		}
		matches[evs[0].Match] = evs
	}
	for _, f := range files {
		m, err := replay.Load(f)
		if err != nil {
			return err
		}
		if _, dup := matches[m.ID]; dup {
			return fmt.Errorf("simulate sportsgameodds: match %s given twice", m.ID)
		}
		matches[m.ID] = m.Events
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := sgosim.New(sgosim.Config{
		APIKey: apiKey, League: *league, Interval: *interval, Public: *public, Lockstep: *lockstep,
		Faults: sgosim.Faults{DropEvery: *dropEvery, ErrorEvery: *errorEvery, ErrorCodes: codes, MalformedEvery: *malformedEvery,
			DuplicateEvery: *dupEvery, WrongKeyFirst: *wrongKey, Delay: *delay},
	}, matches, log)
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
	ids := make([]string, 0, len(matches))
	for id := range matches {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	log.Info().Str("api_url", "http://"+ln.Addr().String()+"/v2").Str("league", *league).Strs("event_ids", ids).Msg("sportsgameodds simulator serving")
	go sim.Run(ctx) //nolint:errcheck // returns nil when ctx ends
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
