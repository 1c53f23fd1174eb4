package scorelytics

import (
	"context"
	"crypto/sha256"
	"sync"
)

// limiter holds the WebSocket connections open under one API key in this
// process, so several sources sharing a key stay within the provider's
// per-key cap together. A connection beyond the cap waits for a slot.
type limiter struct {
	slots chan struct{}
}

var (
	limitersMu sync.Mutex
	limiters   = map[[32]byte]*limiter{} // by SHA-256 of the key, never the key itself
)

// limiterFor returns the process-wide limiter of key; the first source to
// ask sets its size.
func limiterFor(key string, n int) *limiter {
	h := sha256.Sum256([]byte(key))
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l := limiters[h]
	if l == nil {
		l = &limiter{slots: make(chan struct{}, n)}
		limiters[h] = l
	}
	return l
}

// tryAcquire takes a slot if one is free.
func (l *limiter) tryAcquire() bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// acquire waits for a slot until ctx ends.
func (l *limiter) acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }
