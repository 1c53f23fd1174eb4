package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/ingest"
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
	matches, ids, err := simMatches(files)
	if err != nil {
		return err
	}
	log := newLogger(pipeline.LogConfig{}, stderr)
	sim, err := sgosim.New(sgosim.Config{
		APIKey: simKey(*keyEnv), League: *league, Interval: *interval, Public: *public, Lockstep: *lockstep,
		Faults: sgosim.Faults{DropEvery: *dropEvery, ErrorEvery: *errorEvery, ErrorCodes: codes, MalformedEvery: *malformedEvery,
			DuplicateEvery: *dupEvery, WrongKeyFirst: *wrongKey, Delay: *delay},
	}, matches, log)
	if err != nil {
		return err
	}
	return serveSim(ctx, *listen, sim.Handler(), sim.Run, func(addr string) {
		log.Info().Str("api_url", "http://"+addr+"/v2").Str("league", *league).Strs("event_ids", ids).Msg("sportsgameodds simulator serving")
	})
}
