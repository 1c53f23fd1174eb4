package pluginhost

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopProcess sends SIGSTOP to pid and, when the test ends, SIGCONT and
// SIGKILL, so a process the test stopped is never left behind.
func stopProcess(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Usually long gone (the host killed it); the errors say so.
		_ = syscall.Kill(pid, syscall.SIGCONT)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	})
}

// exited returns the channel closed when the current process of s exits.
func exited(t *testing.T, s *Stage) <-chan struct{} {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inst == nil {
		t.Fatal("no plugin process")
	}
	return s.inst.bridge.exited
}

// TestHealthCheckReplacesStoppedPlugin stops a plugin process with SIGSTOP:
// it cannot answer the health check, so the host kills it, whether a call
// is waiting on it or not, and the next call runs on a new process.
func TestHealthCheckReplacesStoppedPlugin(t *testing.T) {
	for _, tc := range []struct {
		name     string
		inFlight bool
	}{
		{"idle", false},
		{"call in flight", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A timeout generous enough that a loaded machine (race
			// detector, parallel tests) never fails a healthy plugin.
			s := start(t, Config{HealthInterval: 50 * time.Millisecond, HealthTimeout: time.Second})
			pid := s.Pid()
			gone := exited(t, s)
			stopProcess(t, pid)
			stopped := time.Now()
			if tc.inFlight {
				// Far longer than detection takes: the call must fail
				// because of the health check, not its own deadline.
				ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				_, err := s.Process(ctx, events("a"))
				if err == nil || !strings.Contains(err.Error(), "failed its health check") || !strings.Contains(err.Error(), "signal: killed") {
					t.Fatalf("err = %v, want the health check's kill", err)
				}
			}
			select {
			case <-gone:
			case <-time.After(10 * time.Second):
				t.Fatal("stopped plugin still running after 10 s")
			}
			detected := time.Since(stopped)
			res, err := s.Process(t.Context(), events("b"))
			if err != nil {
				t.Fatalf("after the kill: %v", err)
			}
			if res[0].Events[0].ID != "B" {
				t.Fatalf("after the kill got %+v", res[0])
			}
			st := s.Stats()
			want := Stats{Restarts: 1, HealthFailures: 1, Pid: st.Pid}
			if st != want || st.Pid == pid || st.Pid == 0 {
				t.Fatalf("stats = %+v, want %+v with a new pid (old %d)", st, want, pid)
			}
			t.Logf("stopped plugin (pid %d) killed %v after SIGSTOP; new pid %d serving %v after SIGSTOP",
				pid, detected.Round(time.Millisecond), st.Pid, time.Since(stopped).Round(time.Millisecond))
		})
	}
}

// A healthy plugin that is merely busy keeps answering health checks (they
// do not go through the stage), so a slow batch is not mistaken for a hang.
func TestHealthCheckSparesBusyPlugin(t *testing.T) {
	t.Parallel()
	s := start(t, Config{HealthInterval: 20 * time.Millisecond, HealthTimeout: time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	if _, err := s.Process(ctx, events("slow")); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.HealthFailures != 0 || st.Restarts != 0 {
		t.Fatalf("stats = %+v, want no health failure", st)
	}
}
