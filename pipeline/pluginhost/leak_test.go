package pluginhost

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// ownGoroutines lists the goroutines running this package's code.
func ownGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var own []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "pluginhost.(*Stage).watch") || strings.Contains(g, "pluginhost.(*instance).receive") ||
			strings.Contains(g, "pluginhost.serveStore") {
			own = append(own, g)
		}
	}
	return own
}

// Close and restarts leave none of the stage's goroutines (health watch,
// stream receiver, store server) behind. Not parallel: it must see only
// its own stage's goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	s := start(t, Config{HealthInterval: 10 * time.Millisecond})
	if _, err := s.Process(t.Context(), events("a")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.inst.kill(causeRestart, nil) // as after a failure: the next call restarts
	s.mu.Unlock()
	if _, err := s.Process(t.Context(), events("b")); err != nil {
		t.Fatal(err)
	}
	if n := len(ownGoroutines()); n < 3 {
		t.Fatalf("%d stage goroutines before Close, want watch, receive and the store server: the check is blind", n)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		own := ownGoroutines()
		if len(own) == 0 {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("%d goroutines left 5 s after Close:\n%s", len(own), strings.Join(own, "\n\n"))
		case <-poll.C:
		}
	}
}
