package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/pipeline"
)

// streamer streams "<id>:1 " and "<id>:2" per event, then tags it; its
// first call fails after streaming when failFirst is set.
type streamer struct {
	mu        sync.Mutex
	calls     int
	failFirst bool
}

func (s *streamer) Process(ctx context.Context, batch []event.Event) ([]pipeline.Result, error) {
	return s.ProcessStream(ctx, batch, func(pipeline.Delta) {})
}

func (s *streamer) ProcessStream(_ context.Context, batch []event.Event, emit func(pipeline.Delta)) ([]pipeline.Result, error) {
	s.mu.Lock()
	s.calls++
	fail := s.failFirst && s.calls == 1
	s.mu.Unlock()
	out := make([]pipeline.Result, len(batch))
	for i, ev := range batch {
		emit(pipeline.Delta{Match: ev.Match, EventID: ev.ID, Text: ev.ID + ":1 "})
		emit(pipeline.Delta{Match: ev.Match, EventID: ev.ID, Text: ev.ID + ":2"})
		ev.Source += "s"
		out[i].Events = []event.Event{ev}
	}
	if fail {
		return nil, errors.New("crashed mid-stream")
	}
	return out, nil
}

func (*streamer) Close(context.Context) error { return nil }

// journal records deltas and published events in the one order they
// happened.
type journal struct {
	mu  sync.Mutex
	log []string
}

func (j *journal) PublishDelta(match, id, text string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.log = append(j.log, "delta "+match+" "+id+" "+text)
}

func (j *journal) Publish(_ context.Context, ev event.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.log = append(j.log, "event "+ev.ID+" "+ev.Source)
	return nil
}

func TestDeltasGoStraightToTheDeltaSink(t *testing.T) {
	cases := []struct {
		name      string
		failFirst bool
		want      []string
	}{
		{"streamed", false, []string{"delta m a a:1 ", "delta m a a:2", "event a st"}},
		// A retried batch streams again; the final event is published once.
		{"retried", true, []string{"delta m a a:1 ", "delta m a a:2", "delta m a a:1 ", "delta m a a:2", "event a st"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &journal{}
			specs := []pipeline.Spec{
				{Name: "commentary", Stage: &streamer{failFirst: tc.failFirst}, Retries: 1},
				// A later stage sees the final event only, never a delta.
				{Name: "tag", Stage: tag("t")},
			}
			r := pipeline.NewRunner(specs, j, zerolog.Nop())
			r.SetDeltaSink(j)
			in := make(chan event.Event, 1)
			in <- event.Event{ID: "a", Match: "m", Seq: 1, Kind: event.KindBall}
			close(in)
			if err := r.Run(t.Context(), in); err != nil {
				t.Fatal(err)
			}
			if len(j.log) != len(tc.want) {
				t.Fatalf("got %q, want %q", j.log, tc.want)
			}
			for i := range tc.want {
				if j.log[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", j.log, tc.want)
				}
			}
			if n := r.Stats()[0].Deltas.Load(); n != int64(len(tc.want)-1) {
				t.Fatalf("stage counted %d deltas, want %d", n, len(tc.want)-1)
			}
		})
	}
}

func TestNoDeltaSinkMeansProcess(t *testing.T) {
	j := &journal{}
	r := pipeline.NewRunner([]pipeline.Spec{{Name: "commentary", Stage: &streamer{}}}, j, zerolog.Nop())
	in := make(chan event.Event, 1)
	in <- event.Event{ID: "a", Match: "m", Seq: 1, Kind: event.KindBall}
	close(in)
	if err := r.Run(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if len(j.log) != 1 || j.log[0] != "event a s" {
		t.Fatalf("got %q, want the event alone", j.log)
	}
}
