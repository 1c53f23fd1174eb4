package broadcast_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
)

// goroutinesIn counts the goroutines whose stack has a frame of each name.
func goroutinesIn(names ...string) map[string]int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	counts := make(map[string]int, len(names))
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for _, name := range names {
			if strings.Contains(g, name) {
				counts[name]++
			}
		}
	}
	return counts
}

// waitGoroutines polls until want holds for the named frames or the
// deadline passes, and returns the last counts.
func waitGoroutines(t *testing.T, want map[string]int) map[string]int {
	t.Helper()
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := goroutinesIn(names...)
		ok := true
		for name, n := range want {
			ok = ok && got[name] == n
		}
		if ok || time.Now().After(deadline) {
			return got
		}
		runtime.Gosched()
	}
}

// TestIdleConnectionHoldsNoWriter checks that a WebSocket with nothing to
// send keeps only its handler goroutine (the read loop): the writer runs
// while frames are queued and pings come from a timer.
func TestIdleConnectionHoldsNoWriter(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	const n = 20
	clients := make([]*broadcasttest.Client, n)
	for i := range clients {
		clients[i] = broadcasttest.Dial(t, env.url)
		clients[i].Subscribe("m1", broadcasttest.Fresh)
		clients[i].NextOp(ctxT(t), broadcast.OpSnapshot)
	}
	// One goroutine per connection, its handler in the read loop; none
	// running a client's or a pinger's method.
	const reader, client, pinger = "broadcast.(*Hub).readLoop", "broadcast.(*client).", "broadcast.(*pinger)."
	want := map[string]int{reader: n, client: 0, pinger: 0}
	idle := func(got map[string]int) bool { return got[reader] == n && got[client] == 0 && got[pinger] == 0 }
	if got := waitGoroutines(t, want); !idle(got) {
		t.Fatalf("idle after the snapshot: goroutines %v, want %v", got, want)
	}

	publishAll(t, env.hub, ball("m1", 1))
	for _, c := range clients {
		expectEvents(t, c, "m1", 1, 1)
	}
	if got := waitGoroutines(t, want); !idle(got) {
		t.Fatalf("idle after an event: goroutines %v, want %v", got, want)
	}
}
