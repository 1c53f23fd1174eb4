// Package retry holds ballcast's two ways of trying again: Do repeats an
// operation against a durable store until it succeeds, for steps that must
// not drop an event on a transient error (appending to the ingest log,
// publishing to the feed); Backoff spaces the reconnects of a client of a
// remote service (the provider sources, the Pusher client).
package retry

import (
	"context"
	"time"

	"github.com/rs/zerolog"
)

// Delay is the wait after the attempt-th failure (0-based): 50 ms
// doubling to 5 s.
func Delay(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt, 7), 5*time.Second)
}

// Do calls fn until it returns nil or ctx is done, waiting Delay between
// attempts and logging each failure as "<what> failed, retrying". It
// returns ctx's error when it gives up.
func Do(ctx context.Context, log zerolog.Logger, what string, fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log.Error().Err(err).Int("attempt", attempt+1).Msg(what + " failed, retrying")
		t := time.NewTimer(Delay(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
