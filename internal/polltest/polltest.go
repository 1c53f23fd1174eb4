// Package polltest waits in tests for state that announces no change (a
// counter, a server's consumer list, a process table): it checks a
// condition every few milliseconds until it holds, and fails the test when
// a deadline passes first. Where there is an event or a channel to wait
// on, tests wait on that instead.
package polltest

import (
	"testing"
	"time"
)

// Limit is how long Until waits: long enough for a loaded 2-core CI
// machine, short enough to fail a stuck test well before go test's own
// timeout.
const Limit = 20 * time.Second

// Until waits up to Limit for cond to hold; what names it in the failure.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Limit, what, cond)
}

// Within waits up to limit for cond to hold; what names it in the failure.
func Within(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
	}
}
