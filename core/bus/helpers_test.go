package bus

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// wait bounds every blocking step of a test.
const wait = 5 * time.Second

// testLog writes to the test log only when -v is set, keeping failures readable.
func testLog(t testing.TB) zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	}
	return zerolog.Nop()
}

// open opens a Bus and closes it at cleanup (Close is idempotent).
func open(t testing.TB, cfg Config) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := Open(ctx, cfg, testLog(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// ball is a minimal ingest event.
func ball(match string, seq uint64) event.Event {
	return event.Event{
		ID:     fmt.Sprintf("%s/%d", match, seq),
		Match:  match,
		Seq:    seq,
		Kind:   event.KindBall,
		Source: "test",
		Ball:   &event.Ball{Innings: 1, Over: int(seq / 6), Ball: int(seq%6) + 1, Legal: true, Batter: "A", Bowler: "B", RunsBat: int(seq % 7)},
	}
}

func appendAll(t testing.TB, b *Bus, evs ...event.Event) {
	t.Helper()
	for _, ev := range evs {
		dup, err := b.Append(t.Context(), ev)
		if err != nil {
			t.Fatalf("Append %s: %v", ev.ID, err)
		}
		if dup {
			t.Fatalf("Append %s: duplicate, want new", ev.ID)
		}
	}
}

// recv receives one value or fails after wait.
func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("channel closed, want a value")
		}
		return v
	case <-time.After(wait):
		t.Fatalf("nothing received within %s", wait)
	}
	panic("unreachable")
}

// waitClosed fails unless ch closes (draining it) within wait.
func waitClosed[T any](t testing.TB, ch <-chan T) {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("channel not closed within %s", wait)
		}
	}
}

func ids(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// silentListener accepts TCP connections and never writes.
func silentListener(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}
