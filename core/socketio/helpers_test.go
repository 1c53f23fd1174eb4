package socketio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	code := m.Run()
	// Check before stopping the shared peers: a Conn left open to one of
	// them would otherwise end with it and hide the leak.
	if code == 0 {
		if leaks := leakedGoroutines(2 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "socketio: goroutines leaked after all tests:\n%s\n", leaks)
			code = 1
		}
	}
	stopSharedPeers()
	os.Exit(code)
}

// leakedGoroutines waits up to limit for goroutines of this package or of
// coder/websocket to exit, and returns the stacks of those that remain.
func leakedGoroutines(limit time.Duration) string {
	var leaks string
	_ = eventually(limit, func() bool {
		leaks = ownGoroutines()
		return leaks == ""
	})
	return leaks
}

// ownGoroutines returns the stacks of live goroutines running this
// package's connection code (client or server) or coder/websocket, other
// than the caller.
func ownGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 { // the calling goroutine
			continue
		}
		if strings.Contains(g, "socketio.(*Conn)") || strings.Contains(g, "socketio.(*serverConn)") ||
			strings.Contains(g, "socketio.(*Server)") || strings.Contains(g, "coder/websocket") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// eventually polls cond on a ticker until it holds or limit passes.
func eventually(limit time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
			if cond() {
				return true
			}
		}
	}
}

// testCtx is the test's context with a deadline, so a hung peer fails the
// test instead of the whole run.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dialPeer dials p speaking eio, and closes the Conn at cleanup, checking
// that its goroutines are gone.
func dialPeer(t testing.TB, p *peer, eio int, opts *Options) *Conn {
	t.Helper()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.EIO = eio
	o.Path = peerPath
	c, err := Dial(testCtx(t), p.url(), &o)
	if err != nil {
		t.Fatalf("Dial %s EIO %d: %v", p.version, eio, err)
	}
	t.Cleanup(func() { closeAndCheck(t, c) })
	return c
}

// closeAndCheck closes c and checks that Close left no goroutine behind.
func closeAndCheck(t testing.TB, c *Conn) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for name, ch := range map[string]chan struct{}{"read loop": c.readerDone, "keepalive": c.keeperDone, "done": c.done} {
		select {
		case <-ch:
		default:
			t.Errorf("after Close, %s is still running", name)
		}
	}
	if c.Err() == nil {
		t.Errorf("after Close, Err() = nil")
	}
}

func join(t testing.TB, c *Conn, nsp string) *Socket {
	t.Helper()
	s, err := c.Join(testCtx(t), nsp, nil)
	if err != nil {
		t.Fatalf("Join %s: %v", nsp, err)
	}
	return s
}

// eventSource is either side of a namespace membership.
type eventSource interface {
	Events() <-chan Event
	Err() error
}

// waitEvent returns the next event named name on s (a Socket or a
// ServerSocket), skipping others, or fails the test at the deadline or when
// s ends.
func waitEvent(t testing.TB, s eventSource, name string) Event {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("waiting for %q: socket ended: %v", name, s.Err())
			}
			if ev.Name == name {
				return ev
			}
		case <-timer.C:
			t.Fatalf("waiting for %q: no such event within 10s", name)
		}
	}
}

// waitDone waits for done to close, or fails the test after limit.
func waitDone(t testing.TB, done <-chan struct{}, limit time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s: not done within %v", what, limit)
	}
}

func assertErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want one wrapping %v", err, target)
	}
}

func assertEqual[T any](t testing.TB, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

// argStrings renders args for comparison: JSON text, or "bin:<hex>".
func argStrings(args []Arg) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a.IsBinary() {
			out[i] = fmt.Sprintf("bin:%x", a.Bytes())
		} else {
			out[i] = string(a.JSON())
		}
	}
	return out
}
