// Package ingest runs sources and turns their output into one ordered stream
// per match: it stamps each event with its per-match, gap-free Seq and its
// Received time, and either hands it on (Run) or appends it to the durable
// ingest log (Append). The loop goroutine owns the sequence counters.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/internal/retry"
)

// Source is a provider feed.
type Source interface {
	Name() string
	// Run delivers events to out until ctx is done, the feed ends (nil) or
	// fails fatally. It must not close out; the loop owns it.
	Run(ctx context.Context, out chan<- event.Event) error
}

// Log is the durable ingest log (core/bus implements it on JetStream).
type Log interface {
	// LastSeq is the Seq of the last entry of match, 0 if there is none.
	LastSeq(ctx context.Context, match string) (uint64, error)
	// Append stores ev. duplicate reports that an entry with ev.ID is
	// already stored; ev's Seq is then not used.
	Append(ctx context.Context, ev event.Event) (duplicate bool, err error)
}

// Resumer is implemented by sources that can skip what the log already
// holds after a restart (a replay continues where it stopped instead of
// replaying the match again). Append calls Resume before Run with a
// function reporting the ID of the last stored event of a match.
type Resumer interface {
	Resume(last func(ctx context.Context, match string) (id string, ok bool, err error))
}

// LastIDer is implemented by logs that can report the ID of a match's
// last entry; Append offers it to Resumer sources.
type LastIDer interface {
	LastID(ctx context.Context, match string) (id string, ok bool, err error)
}

// Counter is told about every event appended to the log (metrics).
type Counter interface {
	IngestAppended(source string, duplicate bool)
}

// Loop fans sources in and sequences their events.
type Loop struct {
	sources []Source
	log     zerolog.Logger
	now     func() time.Time
	seq     map[string]uint64
	counter Counter
}

// SetCounter installs c; call it before Append.
func (l *Loop) SetCounter(c Counter) { l.counter = c }

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
	return l.run(ctx, func(ev event.Event) error { return l.forward(ctx, ev, out) })
}

// Append runs every source like Run but appends the sequenced events to
// log instead of handing them on. An event the log already holds (a
// re-sent ball, a replay after a restart) does not consume a Seq, so each
// match's log stays gap-free. A failed append is retried with backoff
// until it succeeds or ctx is done: an event is never dropped for a
// transient log error.
func (l *Loop) Append(ctx context.Context, log Log) error {
	if li, ok := log.(LastIDer); ok {
		for _, s := range l.sources {
			if r, ok := s.(Resumer); ok {
				r.Resume(li.LastID)
			}
		}
	}
	return l.run(ctx, func(ev event.Event) error { return l.append(ctx, log, ev) })
}

func (l *Loop) append(ctx context.Context, log Log, ev event.Event) error {
	last, ok := l.seq[ev.Match]
	if !ok {
		if err := retry.Do(ctx, l.log, "ingest: read last seq of "+ev.Match, func() (err error) {
			last, err = log.LastSeq(ctx, ev.Match)
			return err
		}); err != nil {
			return err
		}
		l.seq[ev.Match] = last
	}
	ev.Seq = last + 1
	if ev.Received.IsZero() {
		ev.Received = l.now()
	}
	var (
		dup      bool
		attempts int
	)
	if err := retry.Do(ctx, l.log, "ingest: append "+ev.ID, func() (err error) {
		attempts++
		dup, err = log.Append(ctx, ev)
		return err
	}); err != nil {
		return err
	}
	if dup && attempts > 1 {
		// A failed attempt may have been stored with only its
		// acknowledgement lost (a server failing over): then this
		// "duplicate" is our own entry, and its Seq is taken. Treating it
		// as someone else's would hand the next event the same Seq.
		own, err := l.ownEntry(ctx, log, ev)
		if err != nil {
			return err
		}
		dup = !own
	}
	if l.counter != nil {
		l.counter.IngestAppended(ev.Source, dup)
	}
	if !dup {
		l.seq[ev.Match] = ev.Seq
	}
	return nil
}

// ownEntry reports whether the log's last entry of ev's match is ev
// itself, as stored by an earlier attempt.
func (l *Loop) ownEntry(ctx context.Context, log Log, ev event.Event) (bool, error) {
	var own bool
	err := retry.Do(ctx, l.log, "ingest: check last entry of "+ev.Match, func() error {
		if li, ok := log.(LastIDer); ok {
			id, found, err := li.LastID(ctx, ev.Match)
			own = found && id == ev.ID
			return err
		}
		last, err := log.LastSeq(ctx, ev.Match)
		own = last == ev.Seq
		return err
	})
	return own, err
}

func (l *Loop) run(ctx context.Context, emit func(event.Event) error) error {
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
			if err := emit(ev); err != nil {
				return err
			}
		}
	}
	// Drain what the sources sent before returning.
	for {
		select {
		case ev := <-raw:
			if err := emit(ev); err != nil {
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
