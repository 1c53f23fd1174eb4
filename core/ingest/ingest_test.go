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

// memLog is an in-memory Log that refuses duplicate IDs, like JetStream's
// message-ID de-duplication, and fails the first append of some IDs.
type memLog struct {
	entries map[string][]event.Event
	ids     map[string]bool
	failing map[string]int // ID -> failures left
	ackLost map[string]int // ID -> appends stored whose acknowledgement is lost
}

func (m *memLog) LastSeq(_ context.Context, match string) (uint64, error) {
	es := m.entries[match]
	if len(es) == 0 {
		return 0, nil
	}
	return es[len(es)-1].Seq, nil
}

func (m *memLog) LastID(_ context.Context, match string) (string, bool, error) {
	es := m.entries[match]
	if len(es) == 0 {
		return "", false, nil
	}
	return es[len(es)-1].ID, true, nil
}

func (m *memLog) Append(_ context.Context, ev event.Event) (bool, error) {
	if m.failing[ev.ID] > 0 {
		m.failing[ev.ID]--
		return false, errors.New("nats: timeout")
	}
	if m.ackLost[ev.ID] > 0 && !m.ids[ev.ID] {
		// Stored, but the acknowledgement never arrives.
		m.ackLost[ev.ID]--
		m.ids[ev.ID] = true
		m.entries[ev.Match] = append(m.entries[ev.Match], ev)
		return false, errors.New("nats: timeout")
	}
	if m.ids[ev.ID] {
		return true, nil
	}
	m.ids[ev.ID] = true
	m.entries[ev.Match] = append(m.entries[ev.Match], ev)
	return false, nil
}

// resumingSource records the resume point it was given.
type resumingSource struct {
	fakeSource
	last func(context.Context, string) (string, bool, error)
}

func (r *resumingSource) Resume(last func(context.Context, string) (string, bool, error)) {
	r.last = last
}

func TestAppendKeepsTheLogGapFreeAcrossRestarts(t *testing.T) {
	log := &memLog{entries: map[string][]event.Event{}, ids: map[string]bool{}, failing: map[string]int{"a/3": 2}}
	// First run: 5 balls of a, one of them sent twice, one failing twice.
	first := append(evs("a", 5), evs("a", 2)[1])
	if err := New(zerolog.Nop(), &fakeSource{name: "p", events: first}).Append(t.Context(), log); err != nil {
		t.Fatal(err)
	}
	// A restart: the source sends everything again plus three new balls.
	src := &resumingSource{fakeSource: fakeSource{name: "p", events: evs("a", 8)}}
	if err := New(zerolog.Nop(), src).Append(t.Context(), log); err != nil {
		t.Fatal(err)
	}
	if src.last == nil {
		t.Fatal("a Resumer source was not told where the log stops")
	}
	if id, ok, _ := src.last(t.Context(), "a"); !ok || id != "a/7" {
		t.Errorf("resume point %q %v, want a/7", id, ok)
	}
	got := log.entries["a"]
	if len(got) != 8 {
		t.Fatalf("log holds %d entries, want 8", len(got))
	}
	for i, ev := range got {
		if ev.Seq != uint64(i+1) || ev.ID != fmt.Sprintf("a/%d", i) {
			t.Fatalf("entry %d: %s seq %d, want a/%d seq %d", i, ev.ID, ev.Seq, i, i+1)
		}
	}
}

func TestAppendStopsOnCancelWhileRetrying(t *testing.T) {
	log := &memLog{entries: map[string][]event.Event{}, ids: map[string]bool{}, failing: map[string]int{"a/0": 1 << 30}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- New(zerolog.Nop(), &fakeSource{name: "p", events: evs("a", 1)}).Append(ctx, log) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Append returned %v, want context.Canceled", err)
	}
}

// TestAppendAfterLostAcknowledgement: an append is stored but its
// acknowledgement is lost (a NATS node failing over); the retry is told
// "duplicate". The loop must recognise its own entry and give the next
// event the next Seq, not the same one (found by the multi-node test).
func TestAppendAfterLostAcknowledgement(t *testing.T) {
	for _, withLastID := range []bool{true, false} {
		t.Run(fmt.Sprintf("LastID=%v", withLastID), func(t *testing.T) {
			ml := &memLog{entries: map[string][]event.Event{}, ids: map[string]bool{}, ackLost: map[string]int{"a/2": 1}}
			var log Log = ml
			if !withLastID {
				log = seqOnly{ml}
			}
			if err := New(zerolog.Nop(), &fakeSource{name: "p", events: evs("a", 5)}).Append(t.Context(), log); err != nil {
				t.Fatal(err)
			}
			got := ml.entries["a"]
			if len(got) != 5 {
				t.Fatalf("log holds %d entries, want 5", len(got))
			}
			for i, ev := range got {
				if ev.Seq != uint64(i+1) {
					t.Fatalf("entry %d (%s) has seq %d, want %d", i, ev.ID, ev.Seq, i+1)
				}
			}
		})
	}
}

// seqOnly hides memLog's LastID.
type seqOnly struct{ m *memLog }

func (s seqOnly) LastSeq(ctx context.Context, match string) (uint64, error) {
	return s.m.LastSeq(ctx, match)
}

func (s seqOnly) Append(ctx context.Context, ev event.Event) (bool, error) {
	return s.m.Append(ctx, ev)
}
