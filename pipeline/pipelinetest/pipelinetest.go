// Package pipelinetest has helpers for testing pipelines: a recording sink
// and event builders.
package pipelinetest

import (
	"context"
	"fmt"
	"sync"

	"github.com/ballcast/ballcast/core/event"
)

// Sink records everything published to it, per match in order.
type Sink struct {
	mu     sync.Mutex
	events map[string][]event.Event
	n      int
	notify chan struct{}
}

// NewSink returns an empty recording sink.
func NewSink() *Sink {
	return &Sink{events: map[string][]event.Event{}, notify: make(chan struct{}, 1)}
}

// Publish implements pipeline.Sink.
func (s *Sink) Publish(_ context.Context, ev event.Event) error {
	s.mu.Lock()
	s.events[ev.Match] = append(s.events[ev.Match], ev)
	s.n++
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

// Events returns what was published for match.
func (s *Sink) Events(match string) []event.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event.Event(nil), s.events[match]...)
}

// Len is the number of events published so far.
func (s *Sink) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// WaitLen blocks until at least n events were published or ctx is done.
func (s *Sink) WaitLen(ctx context.Context, n int) error {
	for {
		if s.Len() >= n {
			return nil
		}
		select {
		case <-s.notify:
		case <-ctx.Done():
			return fmt.Errorf("pipelinetest: got %d events, want %d: %w", s.Len(), n, ctx.Err())
		}
	}
}

// Balls returns n ball events of match with IDs match/1..n and Seq 1..n.
func Balls(match string, n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = event.Event{
			ID: fmt.Sprintf("%s/%d", match, i+1), Match: match, Seq: uint64(i + 1), Kind: event.KindBall,
			Ball: &event.Ball{Innings: 1, Over: i / 6, Ball: i%6 + 1, Legal: true},
		}
	}
	return evs
}

// Feed sends evs on a new channel, closing it after the last one.
func Feed(evs ...[]event.Event) <-chan event.Event {
	ch := make(chan event.Event, 64)
	go func() {
		defer close(ch)
		for _, e := range evs {
			for _, ev := range e {
				ch <- ev
			}
		}
	}()
	return ch
}
