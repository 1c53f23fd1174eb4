package retry

import (
	"math/rand/v2"
	"time"
)

// Backoff is the reconnect delay of a client of a remote service:
// exponential from Min, capped at Max, with "equal jitter" (half the step
// fixed, half random) so that clients dropped together do not come back
// in lockstep. Every provider source and the Pusher client use it.
type Backoff struct {
	Min, Max time.Duration
	// Rand returns a number in [0,1); nil means math/rand/v2's Float64.
	// Tests fix it.
	Rand func() float64
}

// Delay is the wait before attempt n (1-based): the step is Min·2^(n-1)
// capped at Max, and the delay lies in [step/2, step).
func (b Backoff) Delay(n int) time.Duration {
	step := b.Min
	for i := 1; i < n && step < b.Max; i++ {
		step *= 2
	}
	step = min(step, b.Max)
	if step <= 0 {
		return 0
	}
	r := rand.Float64
	if b.Rand != nil {
		r = b.Rand
	}
	half := step / 2
	return half + time.Duration(r()*float64(step-half))
}
