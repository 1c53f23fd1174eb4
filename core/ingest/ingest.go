// Package ingest runs sources and turns their output into one ordered stream
// per match: it stamps each event with its per-match, gap-free Seq and its
// Received time. The loop goroutine owns the sequence counters.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// Source is a provider feed.
type Source interface {
	Name() string
	// Run delivers events to out until ctx is done, the feed ends (nil) or
	// fails fatally. It must not close out; the loop owns it.
	Run(ctx context.Context, out chan<- event.Event) error
}

// Loop fans sources in and sequences their events.
type Loop struct {
	sources []Source
	log     zerolog.Logger
	now     func() time.Time
	seq     map[string]uint64
}

// New returns a loop over sources.
func New(log zerolog.Logger, sources ...Source) *Loop {
	return &Loop{sources: sources, log: log, now: time.Now, seq: map[string]uint64{}}
}

// Run runs every source and sends sequenced events to out until all sources
// have returned or ctx is done. It closes out when it returns. A source that
// fails is logged and the others carry on; Run returns the joined errors,
// or ctx's error when it was cancelled.
func (l *Loop) Run(ctx context.Context, out chan<- event.Event) error {
	defer close(out)
	raw := make(chan event.Event, 256)
	done := make(chan error, len(l.sources))
	for _, s := range l.sources {
		go func() {
			err := s.Run(ctx, raw)
			if err != nil && !errors.Is(err, context.Canceled) {
				l.log.Error().Err(err).Str("source", s.Name()).Msg("source stopped")
				err = fmt.Errorf("ingest: source %s: %w", s.Name(), err)
			} else {
				err = nil
			}
			done <- err
		}()
	}
	var errs []error
	for running := len(l.sources); running > 0; {
		select {
		case err := <-done:
			running--
			errs = append(errs, err)
		case ev := <-raw:
			if err := l.forward(ctx, ev, out); err != nil {
				return err
			}
		}
	}
	// Drain what the sources sent before returning.
	for {
		select {
		case ev := <-raw:
			if err := l.forward(ctx, ev, out); err != nil {
				return err
			}
		default:
			if err := ctx.Err(); err != nil {
				return err
			}
			return errors.Join(errs...)
		}
	}
}

func (l *Loop) forward(ctx context.Context, ev event.Event, out chan<- event.Event) error {
	l.seq[ev.Match]++
	ev.Seq = l.seq[ev.Match]
	if ev.Received.IsZero() {
		ev.Received = l.now()
	}
	select {
	case out <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
