package retry

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func TestDoRetriesUntilSuccess(t *testing.T) {
	n := 0
	err := Do(t.Context(), zerolog.Nop(), "op", func() error {
		n++
		if n < 3 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("err %v after %d calls, want nil after 3", err, n)
	}
}

func TestDoStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	n := 0
	err := Do(ctx, zerolog.Nop(), "op", func() error {
		n++
		cancel()
		return errors.New("down")
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("err %v after %d calls, want context.Canceled after 1", err, n)
	}
}

func TestDelay(t *testing.T) {
	for attempt, want := range map[int]time.Duration{0: 50 * time.Millisecond, 1: 100 * time.Millisecond, 6: 3200 * time.Millisecond, 7: 5 * time.Second, 40: 5 * time.Second} {
		if got := Delay(attempt); got != want {
			t.Errorf("Delay(%d) = %v, want %v", attempt, got, want)
		}
	}
}
