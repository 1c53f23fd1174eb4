// Package streamtest is a streaming stage for tests of the delta path
// (plugin → host → pipeline → broadcast): for every event it emits a
// commentary line word by word as deltas (sdk.StreamStage), then returns
// the event with the whole line as its commentary. Hooks in its config let
// a test hold the final line back until it has seen the deltas, and crash
// the process in the middle of a stream.
package streamtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Config is the stage's config.
type Config struct {
	// Words make the line; each is one delta. Default: DefaultWords.
	Words []string `json:"words"`
	// Gate, when set, is a Unix socket the test listens on. After an
	// event's deltas and before returning its final line the stage
	// connects to it and waits for one byte, so a test can check what
	// arrived before the final line without sleeping. Each wait is its own
	// connection: the test releases exactly the waits it accepts.
	Gate string `json:"gate"`
	// Hold, when set with Gate, is the ID of the one event that waits at
	// the gate, twice: before its first delta (so a test can subscribe
	// first) and before its final line. Other events do not wait.
	Hold string `json:"hold"`
	// CrashOnce, when set, is a marker file: if it does not exist, the
	// stage creates it and exits (status 3) after the first delta of the
	// next event (the Hold event, if set; with a Gate: once the gate
	// opens, so the test knows the delta arrived first). The restarted
	// process then streams normally.
	CrashOnce string `json:"crash_once"`
	// Stamp appends "@" and the send time (Unix nanoseconds) to each delta's
	// word, so a client on the same machine can measure the delta's
	// latency. The final line has no stamps.
	Stamp bool `json:"stamp"`
	// Pace is the pause between deltas (a Go duration), as a model's
	// tokens come; default none.
	Pace string `json:"pace"`
}

// DefaultWords is the line of a stage configured without words.
var DefaultWords = []string{"Full", "and", "driven", "through", "cover", "for", "four."}

// Stage is the streaming test stage.
type Stage struct {
	cfg  Config
	pace time.Duration
}

// New returns a stage.
func New() *Stage { return &Stage{} }

// Line is the final line a stage configured with words writes.
func Line(words []string) string { return strings.Join(words, " ") }

// Describe implements sdk.Describer.
func (*Stage) Describe() sdk.Description {
	return sdk.Description{Name: "streamtest", Version: "0.1.0", Description: "streams a commentary line word by word (tests)"}
}

// Configure implements sdk.Stage.
func (s *Stage) Configure(_ context.Context, cfg sdk.Config) error {
	c := Config{Words: DefaultWords}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if len(c.Words) == 0 {
		return errors.New("streamtest: words is empty")
	}
	s.pace = 0
	if c.Pace != "" {
		d, err := time.ParseDuration(c.Pace)
		if err != nil {
			return fmt.Errorf("streamtest: pace: %w", err)
		}
		s.pace = d
	}
	s.cfg = c
	return nil
}

// Process implements sdk.Stage: the line without streaming.
func (s *Stage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	return s.stream(ctx, ev, func(sdk.Delta) {})
}

// ProcessStream implements sdk.StreamStage.
func (s *Stage) ProcessStream(ctx context.Context, batch []*sdk.Event, emit func(sdk.Delta)) ([][]*sdk.Event, []error) {
	outs := make([][]*sdk.Event, len(batch))
	errs := make([]error, len(batch))
	for i, ev := range batch {
		outs[i], errs[i] = s.stream(ctx, ev, emit)
	}
	return outs, errs
}

// stream streams and returns one event's line.
func (s *Stage) stream(ctx context.Context, ev *sdk.Event, emit func(sdk.Delta)) ([]*sdk.Event, error) {
	chosen := s.cfg.Hold == "" || ev.GetId() == s.cfg.Hold
	gated := s.cfg.Gate != "" && chosen
	if gated && s.cfg.Hold != "" {
		if err := wait(ctx, s.cfg.Gate); err != nil {
			return nil, err
		}
	}
	for i, w := range s.cfg.Words {
		if i > 0 && s.pace > 0 {
			time.Sleep(s.pace) // pacing the output, as a model does
		}
		if s.cfg.Stamp {
			w += "@" + strconv.FormatInt(time.Now().UnixNano(), 10)
		}
		if i < len(s.cfg.Words)-1 {
			w += " "
		}
		emit(sdk.Delta{EventID: ev.GetId(), Match: ev.GetMatch(), Text: w})
		if i == 0 && s.cfg.CrashOnce != "" && chosen {
			if f, err := os.OpenFile(s.cfg.CrashOnce, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
				f.Close()
				if s.cfg.Gate != "" {
					_ = wait(ctx, s.cfg.Gate)
				}
				os.Exit(3)
			}
		}
	}
	if gated {
		if err := wait(ctx, s.cfg.Gate); err != nil {
			return nil, err
		}
	}
	ev.Commentary = &pb.Commentary{Text: Line(s.cfg.Words), Language: "en"}
	return []*sdk.Event{ev}, nil
}

// wait connects to the gate at path and waits for one byte from it.
func wait(ctx context.Context, path string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("streamtest: gate %s: %w", path, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("streamtest: gate %s: %w", path, err)
	}
	return nil
}
