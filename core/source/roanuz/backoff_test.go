package roanuz

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	cases := []struct {
		name     string
		attempt  int
		rand     float64
		min, max time.Duration
	}{
		{"first, no jitter", 1, 0, 500 * time.Millisecond, 500 * time.Millisecond},
		{"first, full jitter", 1, 0.999999, 999 * time.Millisecond, time.Second},
		{"third", 3, 0, 2 * time.Second, 2 * time.Second},
		{"capped", 10, 0, 30 * time.Second, 30 * time.Second},
		{"capped, jitter", 50, 0.5, 45 * time.Second, 45 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackoff(time.Second, time.Minute)
			b.rand = func() float64 { return tc.rand }
			if got := b.delay(tc.attempt); got < tc.min || got > tc.max {
				t.Fatalf("delay(%d) = %v, want in [%v, %v]", tc.attempt, got, tc.min, tc.max)
			}
		})
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	b := newBackoff(time.Second, time.Minute)
	for n := 1; n <= 12; n++ {
		step := min(time.Second<<(n-1), time.Minute)
		for range 50 {
			if d := b.delay(n); d < step/2 || d >= step {
				t.Fatalf("delay(%d) = %v, want in [%v, %v)", n, d, step/2, step)
			}
		}
	}
}
