package access

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// sweepEvery is how often idle limiters are dropped.
const sweepEvery = time.Minute

// rateLimiters is a token bucket per remote IP and per credential. A bucket
// that has refilled completely is the same as a new one, so the periodic
// sweep drops it; memory stays proportional to recent clients.
type rateLimiters struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	m       map[string]*rate.Limiter
	sweptAt time.Time
}

func newRateLimiters(perSecond float64, burst int) rateLimiters {
	return rateLimiters{limit: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

// allow takes one token from key's bucket at now. When the bucket is empty
// it returns false and how long until a token is available.
func (rl *rateLimiters) allow(key string, now time.Time) (time.Duration, bool) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if now.Sub(rl.sweptAt) >= sweepEvery {
		for k, l := range rl.m {
			if l.TokensAt(now) >= float64(rl.burst) {
				delete(rl.m, k)
			}
		}
		rl.sweptAt = now
	}
	l := rl.m[key]
	if l == nil {
		l = rate.NewLimiter(rl.limit, rl.burst)
		rl.m[key] = l
	}
	if l.AllowN(now, 1) {
		return 0, true
	}
	need := 1 - l.TokensAt(now)
	wait := time.Duration(need / float64(rl.limit) * float64(time.Second))
	if wait < time.Second/10 {
		wait = time.Second / 10
	}
	return wait, false
}

// size is the number of live buckets (for tests).
func (rl *rateLimiters) size() int {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return len(rl.m)
}
