// Package replay is the recorded-match source: it replays Cricsheet
// ball-by-ball files as live events at a chosen pace. One real match is
// embedded so ballcast runs with no configuration.
package replay

import (
	"context"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

//go:embed matches/*.json
var bundled embed.FS

// BundledMatch is the file name of the embedded default match.
const BundledMatch = "1298179.json"

// Bundled returns the embedded default match file.
func Bundled() []byte {
	b, err := bundled.ReadFile("matches/" + BundledMatch)
	if err != nil {
		panic(err) // embedded at build time
	}
	return b
}

// RealtimeInterval is the gap between deliveries at "realtime" pace: a T20
// innings of about 125 deliveries takes about 85 minutes.
const RealtimeInterval = 40 * time.Second

// Config configures a replay source.
type Config struct {
	// Files are Cricsheet JSON files; each becomes a match whose ID is the
	// file name without extension. Empty: the bundled match.
	Files []string `yaml:"files" json:"files"`
	// Speed is the pace: "realtime" (one delivery every 40 s), "Nx"
	// (N times faster than realtime, e.g. "20x"), "max" (as fast as the
	// pipeline takes them), or a Go duration between deliveries ("2s").
	// Default "max".
	Speed string `yaml:"speed" json:"speed"`
	// Loop restarts the replay when every match has finished, under new
	// match IDs suffixed "-2", "-3", ... Default false.
	Loop bool `yaml:"loop" json:"loop"`
}

// Validate checks the config without touching files.
func (c Config) Validate() error {
	_, err := ParseSpeed(c.Speed)
	return err
}

// ParseSpeed returns the interval between deliveries for a Speed value.
func ParseSpeed(s string) (time.Duration, error) {
	switch s = strings.TrimSpace(strings.ToLower(s)); {
	case s == "" || s == "max":
		return 0, nil
	case s == "realtime":
		return RealtimeInterval, nil
	case strings.HasSuffix(s, "x"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
		if err != nil || f <= 0 {
			return 0, fmt.Errorf("replay: speed %q: want a positive factor such as 20x", s)
		}
		return time.Duration(float64(RealtimeInterval) / f), nil
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("replay: speed %q: want realtime, max, Nx or a duration", s)
		}
		return d, nil
	}
}

// Match is a parsed match ready to replay.
type Match struct {
	ID     string
	Events []event.Event
}

// Source replays matches. Each match runs on its own goroutine so several
// matches interleave as they would live.
type Source struct {
	matches  []Match
	interval time.Duration
	loop     bool
	last     func(ctx context.Context, match string) (id string, ok bool, err error)
}

// Resume implements ingest.Resumer: after a restart each match continues
// after the last event the ingest log holds, instead of from the start.
func (s *Source) Resume(last func(ctx context.Context, match string) (id string, ok bool, err error)) {
	s.last = last
}

// New parses the configured files (or the bundled match).
func New(cfg Config) (*Source, error) {
	interval, err := ParseSpeed(cfg.Speed)
	if err != nil {
		return nil, err
	}
	s := &Source{interval: interval, loop: cfg.Loop}
	if len(cfg.Files) == 0 {
		evs, err := Parse(strings.TrimSuffix(BundledMatch, ".json"), Bundled())
		if err != nil {
			return nil, err
		}
		s.matches = append(s.matches, Match{ID: evs[0].Match, Events: evs})
		return s, nil
	}
	for _, f := range cfg.Files {
		m, err := Load(f)
		if err != nil {
			return nil, err
		}
		s.matches = append(s.matches, m)
	}
	return s, nil
}

// Load reads and parses one Cricsheet file.
func Load(path string) (Match, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Match{}, fmt.Errorf("replay: %w", err)
	}
	id := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	evs, err := Parse(id, data)
	if err != nil {
		return Match{}, err
	}
	return Match{ID: id, Events: evs}, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return "replay" }

// Matches returns the parsed matches.
func (s *Source) Matches() []Match { return s.matches }

// Len is the number of events one pass emits.
func (s *Source) Len() int {
	n := 0
	for _, m := range s.matches {
		n += len(m.Events)
	}
	return n
}

// Run emits every event of every match to out, pacing deliveries, and
// returns nil when all are sent (or ctx.Err() if cancelled).
func (s *Source) Run(ctx context.Context, out chan<- event.Event) error {
	for pass := 1; ; pass++ {
		var wg sync.WaitGroup
		errs := make(chan error, len(s.matches))
		for _, m := range s.matches {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.play(ctx, m, pass, out)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		if !s.loop {
			return nil
		}
	}
}

func (s *Source) play(ctx context.Context, m Match, pass int, out chan<- event.Event) error {
	var tick *time.Ticker
	if s.interval > 0 {
		tick = time.NewTicker(s.interval)
		defer tick.Stop()
	}
	suffix := ""
	if pass > 1 {
		suffix = "-" + strconv.Itoa(pass)
	}
	events := m.Events
	if s.last != nil {
		id, ok, err := s.last(ctx, m.ID+suffix)
		if err != nil {
			return fmt.Errorf("replay: %s: resume: %w", m.ID+suffix, err)
		}
		if ok {
			for i, ev := range events {
				if ev.Match+suffix+strings.TrimPrefix(ev.ID, ev.Match) == id {
					events = events[i+1:]
					break
				}
			}
		}
	}
	for _, ev := range events {
		if tick != nil && ev.Kind == event.KindBall {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		if suffix != "" {
			ev.Match += suffix
			ev.ID = ev.Match + strings.TrimPrefix(ev.ID, m.ID)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case out <- ev:
		}
	}
	return nil
}
