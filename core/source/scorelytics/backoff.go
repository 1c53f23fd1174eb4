package scorelytics

import (
	"math/rand/v2"
	"time"
)

// backoff computes reconnect delays: exponential from min, capped at max,
// with equal jitter (the delay lies in [step/2, step)) so clients dropped
// together do not come back in lockstep.
type backoff struct {
	min, max time.Duration
	rand     func() float64 // [0,1)
}

// delay is the wait before attempt n (1-based): step = min·2^(n-1), capped.
func (b backoff) delay(n int) time.Duration {
	step := b.min
	for i := 1; i < n && step < b.max; i++ {
		step *= 2
	}
	step = min(step, b.max)
	if step <= 0 {
		return 0
	}
	r := rand.Float64
	if b.rand != nil {
		r = b.rand
	}
	half := step / 2
	return half + time.Duration(r()*float64(step-half))
}
