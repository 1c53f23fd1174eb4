package pipeline_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/pipeline"
)

// streamer streams calls[i] as event a's line in its i-th call (the last
// entry for later calls) and fails its first fail calls after streaming;
// then it tags the event.
type streamer struct {
	mu    sync.Mutex
	n     int
	calls [][]string
	fail  int
}

func (s *streamer) Process(ctx context.Context, batch []event.Event) ([]pipeline.Result, error) {
	return s.ProcessStream(ctx, batch, func(pipeline.Delta) {})
}

func (s *streamer) ProcessStream(_ context.Context, batch []event.Event, emit func(pipeline.Delta)) ([]pipeline.Result, error) {
	s.mu.Lock()
	i := s.n
	s.n++
	s.mu.Unlock()
	pieces := s.calls[min(i, len(s.calls)-1)]
	out := make([]pipeline.Result, len(batch))
	for j, ev := range batch {
		for _, p := range pieces {
			emit(pipeline.Delta{Match: ev.Match, EventID: ev.ID, Text: p})
		}
		ev.Source += "s"
		out[j].Events = []event.Event{ev}
	}
	if i < s.fail {
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
	line := []string{"Full ", "and ", "driven."}
	cases := []struct {
		name  string
		calls [][]string
		fail  int
		want  []string
	}{
		{"streamed", [][]string{line}, 0, []string{"delta m a Full ", "delta m a and ", "delta m a driven.", "event a st"}},
		// A retry streams the line again from its start: only what goes
		// beyond what was shown is passed on.
		{"retried mid-line", [][]string{line[:1], line}, 1, []string{"delta m a Full ", "delta m a and ", "delta m a driven.", "event a st"}},
		{"retried whole line", [][]string{line}, 2, []string{"delta m a Full ", "delta m a and ", "delta m a driven.", "event a st"}},
		{"retry in other pieces", [][]string{line[:2], {"Full and dri", "ven."}}, 1, []string{"delta m a Full ", "delta m a and ", "delta m a dri", "delta m a ven.", "event a st"}},
		// A retry that says something else shows nothing more: the
		// final line replaces what was shown.
		{"retry differs", [][]string{line[:2], {"Short ", "of a length."}}, 1, []string{"delta m a Full ", "delta m a and ", "event a st"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := &journal{}
			specs := []pipeline.Spec{
				{Name: "commentary", Stage: &streamer{calls: tc.calls, fail: tc.fail}, Retries: 2},
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
			if !slices.Equal(j.log, tc.want) {
				t.Fatalf("got %q, want %q", j.log, tc.want)
			}
			if n := r.Stats()[0].Deltas.Load(); n != int64(len(tc.want)-1) {
				t.Fatalf("stage counted %d deltas, want %d", n, len(tc.want)-1)
			}
		})
	}
}

func TestNoDeltaSinkMeansProcess(t *testing.T) {
	j := &journal{}
	r := pipeline.NewRunner([]pipeline.Spec{{Name: "commentary", Stage: &streamer{calls: [][]string{{"x"}}}}}, j, zerolog.Nop())
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
