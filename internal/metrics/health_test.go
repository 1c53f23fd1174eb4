package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/metrics"
)

// get serves one GET of target from h and returns its status and body. It
// fails the test if the handler has not answered within 10 s, so a hung
// handler is a failure rather than a hung test.
func get(t testing.TB, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, target, nil))
	}()
	waitOn(t, done, 10*time.Second, "GET "+target)
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	return rec.Code, rec.Body.String()
}

// waitOn waits for ch to be closed, failing the test after d.
func waitOn(t testing.TB, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("%s: still waiting after %v", what, d)
	}
}

func wantResponse(t testing.TB, h http.Handler, target string, status int, body string) {
	t.Helper()
	gotStatus, gotBody := get(t, h, target)
	if gotStatus != status || gotBody != body {
		t.Errorf("GET %s = %d %q, want %d %q", target, gotStatus, gotBody, status, body)
	}
}

func TestHealthz(t *testing.T) {
	h := metrics.NewHealth()
	h.Set("bus", errors.New("nats: no servers available"))
	wantResponse(t, h.Healthz(), "/healthz", http.StatusOK, "ok\n") // liveness ignores readiness
}

func TestReadyzNamesEveryFailingCheck(t *testing.T) {
	h := metrics.NewHealth()
	wantResponse(t, h.Readyz(), "/readyz", http.StatusOK, "ready\n") // no checks: ready

	h.Set("pipeline", errors.New("starting"))
	h.Set("bus", errors.New("nats: no servers available"))
	h.Set("hub", nil)
	wantResponse(t, h.Readyz(), "/readyz", http.StatusServiceUnavailable,
		"not ready: bus: nats: no servers available\nnot ready: pipeline: starting\n")

	h.Set("bus", nil)
	wantResponse(t, h.Readyz(), "/readyz", http.StatusServiceUnavailable, "not ready: pipeline: starting\n")
	h.Set("pipeline", nil)
	wantResponse(t, h.Readyz(), "/readyz", http.StatusOK, "ready\n")
}

func TestReadyzVerbose(t *testing.T) {
	h := metrics.NewHealth()
	h.Set("bus", nil)
	h.Check("pipeline", func(context.Context) error { return nil })
	for _, tc := range []struct {
		name   string
		target string
		body   string
	}{
		{"flag", "/readyz?verbose", "ok: bus\nok: pipeline\nready\n"},
		{"one", "/readyz?verbose=1", "ok: bus\nok: pipeline\nready\n"},
		{"true", "/readyz?verbose=true", "ok: bus\nok: pipeline\nready\n"},
		{"zero", "/readyz?verbose=0", "ready\n"},
		{"absent", "/readyz", "ready\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantResponse(t, h.Readyz(), tc.target, http.StatusOK, tc.body)
		})
	}

	h.Set("bus", errors.New("nats: connection closed"))
	wantResponse(t, h.Readyz(), "/readyz?verbose=1", http.StatusServiceUnavailable,
		"not ready: bus: nats: connection closed\nok: pipeline\nnot ready\n")
}

func TestReadyzCheckFunctions(t *testing.T) {
	h := metrics.NewHealth()
	var broken atomic.Bool
	var calls atomic.Int64
	h.Check("bus", func(ctx context.Context) error {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			return errors.New("check called without a deadline")
		}
		if broken.Load() {
			return errors.Join(errors.New("nats: no servers available"), errors.New("jetstream: not enabled"))
		}
		return nil
	})
	wantResponse(t, h.Readyz(), "/readyz", http.StatusOK, "ready\n")
	broken.Store(true)
	// Several causes stay on the check's line.
	wantResponse(t, h.Readyz(), "/readyz", http.StatusServiceUnavailable,
		"not ready: bus: nats: no servers available; jetstream: not enabled\n")
	if got := calls.Load(); got != 2 {
		t.Errorf("check called %d times for 2 requests, want 2", got)
	}

	// Set replaces a function and Check replaces a state.
	h.Set("bus", nil)
	wantResponse(t, h.Readyz(), "/readyz", http.StatusOK, "ready\n")
	h.Check("bus", func(context.Context) error { return errors.New("down") })
	wantResponse(t, h.Readyz(), "/readyz", http.StatusServiceUnavailable, "not ready: bus: down\n")
	if got := calls.Load(); got != 2 {
		t.Errorf("replaced check called again: %d calls", got)
	}
}

func TestReadyzCheckTimesOut(t *testing.T) {
	h := metrics.NewHealth()
	h.Timeout = 50 * time.Millisecond
	returned := make(chan struct{})
	h.Check("bus", func(ctx context.Context) error {
		defer close(returned)
		<-ctx.Done() // a dependency that never answers
		return fmt.Errorf("bus: ping: %w", ctx.Err())
	})
	h.Set("pipeline", nil)
	start := time.Now()
	wantResponse(t, h.Readyz(), "/readyz?verbose=1", http.StatusServiceUnavailable,
		"not ready: bus: timed out after 50ms\nok: pipeline\nnot ready\n")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("request took %v with a 50ms check timeout", d)
	}
	waitOn(t, returned, 10*time.Second, "check function to see its context cancelled")
}

func TestReadyzCheckIgnoringItsContext(t *testing.T) {
	h := metrics.NewHealth()
	h.Timeout = 20 * time.Millisecond
	release := make(chan struct{})
	started := make(chan struct{})
	returned := make(chan struct{})
	var calls atomic.Int64
	h.Check("store", func(context.Context) error {
		defer close(returned)
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release // ignores ctx: misbehaves
		return nil
	})
	t.Cleanup(func() {
		close(release)
		waitOn(t, returned, 10*time.Second, "check function to return")
	})

	for range 3 {
		wantResponse(t, h.Readyz(), "/readyz", http.StatusServiceUnavailable, "not ready: store: timed out after 20ms\n")
	}
	waitOn(t, started, 10*time.Second, "check function to start")
	// The hung call is not started again for every request: no goroutine pile-up.
	if got := calls.Load(); got != 1 {
		t.Errorf("check started %d times, want 1 while it hangs", got)
	}
}

func ExampleHealth() {
	h := metrics.NewHealth()
	h.Set("pipeline", errors.New("starting"))
	h.Check("bus", func(ctx context.Context) error {
		return nil // e.g. ping NATS with ctx
	})

	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h.Healthz())
	mux.Handle("GET /readyz", h.Readyz())

	show := func(target string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		fmt.Printf("%s %d\n%s", target, rec.Code, rec.Body)
	}
	show("/healthz")
	show("/readyz")
	h.Set("pipeline", nil) // the pipeline is running
	show("/readyz?verbose=1")
	// Output:
	// /healthz 200
	// ok
	// /readyz 503
	// not ready: pipeline: starting
	// /readyz?verbose=1 200
	// ok: bus
	// ok: pipeline
	// ready
}
