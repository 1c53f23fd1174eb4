package retry

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
		{"attempt 0 is the first", 0, 0, 500 * time.Millisecond, 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := Backoff{Min: time.Second, Max: time.Minute, Rand: func() float64 { return tc.rand }}
			if got := b.Delay(tc.attempt); got < tc.min || got > tc.max {
				t.Fatalf("Delay(%d) = %v, want in [%v, %v]", tc.attempt, got, tc.min, tc.max)
			}
		})
	}
	if d := (Backoff{}).Delay(3); d != 0 {
		t.Errorf("zero Backoff: Delay = %v, want 0", d)
	}
}

func TestBackoffJitterStaysInRange(t *testing.T) {
	b := Backoff{Min: time.Second, Max: time.Minute}
	for n := 1; n <= 12; n++ {
		step := min(time.Second<<(n-1), time.Minute)
		for range 50 {
			if d := b.Delay(n); d < step/2 || d >= step {
				t.Fatalf("Delay(%d) = %v, want in [%v, %v)", n, d, step/2, step)
			}
		}
	}
}
