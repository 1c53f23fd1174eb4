package pluginhost

import (
	"context"
	"syscall"
	"testing"
)

// processOne sends one event of match through s and returns its output ID,
// retrying (as the runner does) while the call fails because the plugin
// was killed.
func processOne(t *testing.T, s *Stage, id, match string) string {
	t.Helper()
	ev := events(id)
	ev[0].Match = match
	var err error
	for range 3 {
		res, perr := s.Process(t.Context(), ev)
		if err = perr; err == nil {
			return res[0].Events[0].ID
		}
	}
	t.Fatalf("process %s: %v", id, err)
	return ""
}

// A restarted plugin process reads what the old one wrote to the host's
// store; keys are namespaced by stage, so two stages on one store do not
// collide.
func TestStoreSurvivesRestart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		store Store
	}{
		{"default per-stage store", nil},
		{"shared store", NewMemStore()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, Config{Stage: "counter", Plugin: "test-count", Command: command("count"), Store: tc.store})
			for i, want := range []string{"a#1", "b#2"} {
				if got := processOne(t, s, []string{"a", "b"}[i], "m"); got != want {
					t.Fatalf("got %s, want %s", got, want)
				}
			}
			if got := processOne(t, s, "x", "other-match"); got != "x#1" {
				t.Fatalf("other match: got %s, want x#1", got)
			}
			pid := s.Pid()
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if got := processOne(t, s, "c", "m"); got != "c#3" {
				t.Fatalf("after restart: got %s, want c#3 (the count kept in the store)", got)
			}
			if s.Pid() == pid || s.Restarts() != 1 {
				t.Fatalf("pid %d (old %d), restarts %d; want a new process", s.Pid(), pid, s.Restarts())
			}
			if tc.store == nil {
				return
			}
			other := start(t, Config{Stage: "counter2", Plugin: "test-count", Command: command("count"), Store: tc.store})
			if got := processOne(t, other, "z", "m"); got != "z#1" {
				t.Fatalf("second stage on the same store: got %s, want z#1", got)
			}
			for key, want := range map[string]string{"counter/m": "3", "counter2/m": "1", "counter/other-match": "1"} {
				v, ok, err := tc.store.Get(context.Background(), key)
				if err != nil || !ok || string(v) != want {
					t.Fatalf("store %s = %q, %v, %v; want %q", key, v, ok, err, want)
				}
			}
		})
	}
}

// Values of several MB travel both ways.
func TestStoreLargeValue(t *testing.T) {
	t.Parallel()
	st := NewMemStore()
	big := make([]byte, 5<<20)
	for i := range big {
		big[i] = byte(i)
	}
	if err := st.Put(t.Context(), "counter/m", []byte("41")); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(t.Context(), "counter/big", big); err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Stage: "counter", Plugin: "test-count", Command: command("count"), Store: st})
	// "big" is not a number: the plugin counts from 0 and overwrites it,
	// after reading 5 MB through the broker.
	if got := processOne(t, s, "a", "big"); got != "a#1" {
		t.Fatalf("got %s, want a#1", got)
	}
	if got := processOne(t, s, "b", "m"); got != "b#42" {
		t.Fatalf("got %s, want b#42", got)
	}
	if got := processOne(t, s, "big-write", "m"); got != "big-write#43" {
		t.Fatalf("got %s, want big-write#43", got)
	}
	if v, ok, err := st.Get(t.Context(), "counter/m/big"); err != nil || !ok || len(v) != 5<<20 {
		t.Fatalf("store has %d bytes, %v, %v; want 5 MB", len(v), ok, err)
	}
}
