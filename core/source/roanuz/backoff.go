package roanuz

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential from min to max, with
// "equal jitter" (half the step fixed, half random) so a fleet of clients
// dropped together does not reconnect in lockstep.
type backoff struct {
	min, max time.Duration
	rand     func() float64 // [0,1); rand.Float64 unless a test fixes it
}

func newBackoff(lo, hi time.Duration) backoff {
	return backoff{min: lo, max: hi, rand: rand.Float64}
}

// delay returns the wait before attempt n (1-based): the step is
// min·2^(n-1) capped at max, and the delay lies in [step/2, step).
func (b backoff) delay(n int) time.Duration {
	step := b.min
	for i := 1; i < n && step < b.max; i++ {
		step *= 2
	}
	step = min(step, b.max)
	if step <= 0 {
		return 0
	}
	half := step / 2
	return half + time.Duration(b.rand()*float64(step-half))
}
