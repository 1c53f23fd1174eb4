package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

type fakeSource struct {
	name   string
	events []event.Event
	err    error
}

func (f *fakeSource) Name() string { return f.name }

func (f *fakeSource) Run(ctx context.Context, out chan<- event.Event) error {
	for _, ev := range f.events {
		select {
		case out <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.err
}

func evs(match string, n int) []event.Event {
	out := make([]event.Event, n)
	for i := range out {
		out[i] = event.Event{ID: fmt.Sprintf("%s/%d", match, i), Match: match, Kind: event.KindBall}
	}
	return out
}

func TestLoopSequencesEachMatchGapFree(t *testing.T) {
	// Two sources feed match "a" (as two providers would), one feeds "b",
	// and one fails after its events: the others carry on.
	srcs := []Source{
		&fakeSource{name: "p1", events: evs("a", 300)},
		&fakeSource{name: "p2", events: evs("a", 200)},
		&fakeSource{name: "p3", events: evs("b", 100), err: errors.New("feed gone")},
	}
	out := make(chan event.Event)
	done := make(chan error, 1)
	go func() { done <- New(zerolog.Nop(), srcs...).Run(t.Context(), out) }()
	seqs := map[string]uint64{}
	ids := map[string]int{}
	for ev := range out {
		seqs[ev.Match]++
		if ev.Seq != seqs[ev.Match] {
			t.Fatalf("match %s: got seq %d, want %d", ev.Match, ev.Seq, seqs[ev.Match])
		}
		if ev.Received.IsZero() {
			t.Fatalf("event %s has no Received time", ev.ID)
		}
		ids[ev.ID]++
	}
	if seqs["a"] != 500 || seqs["b"] != 100 {
		t.Fatalf("got %d events for a and %d for b, want 500 and 100", seqs["a"], seqs["b"])
	}
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "source p3") || !strings.Contains(err.Error(), "feed gone") {
		t.Fatalf("err = %v, want the failed source named", err)
	}
}

func TestLoopStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan event.Event) // never read: the loop must not hang
	done := make(chan error, 1)
	go func() { done <- New(zerolog.Nop(), &fakeSource{name: "p", events: evs("a", 10)}).Run(ctx, out) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
