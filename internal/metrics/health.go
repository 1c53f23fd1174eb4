package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultCheckTimeout bounds how long a /readyz request waits for the
// check functions registered with [Health.Check].
const DefaultCheckTimeout = 2 * time.Second

// Health tracks named readiness checks and serves /healthz and /readyz.
// Create it with [NewHealth]. With no checks it is ready.
type Health struct {
	// Timeout bounds how long one /readyz request waits for the check
	// functions; a check still running then is reported as timed out, and
	// its context is cancelled. Zero means DefaultCheckTimeout. Set it
	// before serving.
	Timeout time.Duration

	mu     sync.Mutex
	checks map[string]*check
}

// check is one named readiness check: a state set with Set, or a function
// registered with Check.
type check struct {
	err      error // the state, when fn is nil
	fn       func(context.Context) error
	inflight *evaluation // fn's evaluation in progress, shared by concurrent requests
}

// evaluation is one run of a check function; err is set before done is closed.
type evaluation struct {
	done chan struct{}
	err  error
}

// NewHealth returns a Health with no checks.
func NewHealth() *Health {
	return &Health{checks: make(map[string]*check)}
}

// Set records the state of the check called name: nil means ready,
// anything else is not ready, with err as the reason shown by /readyz. It
// replaces a function registered under the same name.
func (h *Health) Set(name string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = &check{err: err}
}

// Check registers fn as the check called name, evaluated on every /readyz
// request: nil means ready. fn must return when ctx is done; a call that
// outlives the request's timeout is reported as timed out (and a later
// request waits for that same call rather than starting another). It
// replaces a state set under the same name.
func (h *Health) Check(name string, fn func(ctx context.Context) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks[name] = &check{fn: fn}
}

// Healthz returns the liveness handler: 200 "ok" for as long as the
// process serves HTTP. It looks at no check, so a dependency that is down
// makes the process unready, never restarted.
func (h *Health) Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writePlain(w, http.StatusOK, "ok\n")
	})
}

// Readyz returns the readiness handler. It answers 200 "ready" when every
// check passes; otherwise 503 with one line per check that is not ready,
// in name order, each "not ready: NAME: REASON". With ?verbose=1 it lists
// every check, "ok: NAME" or "not ready: NAME: REASON", followed by a last
// line "ready" or "not ready", whatever the status.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		results := h.evaluate(r.Context())
		verbose := false
		if r.URL.Query().Has("verbose") {
			v := r.URL.Query().Get("verbose")
			b, err := strconv.ParseBool(v)
			verbose = v == "" || err != nil || b
		}
		ready := true
		var b strings.Builder
		for _, res := range results {
			switch {
			case res.err != nil:
				ready = false
				fmt.Fprintf(&b, "not ready: %s: %s\n", res.name, oneLine(res.err.Error()))
			case verbose:
				fmt.Fprintf(&b, "ok: %s\n", res.name)
			}
		}
		status := http.StatusOK
		switch {
		case !ready:
			status = http.StatusServiceUnavailable
			if verbose {
				b.WriteString("not ready\n")
			}
		default:
			b.WriteString("ready\n")
		}
		writePlain(w, status, b.String())
	})
}

type result struct {
	name string
	err  error
}

// evaluate returns every check's result in name order, running the check
// functions concurrently and waiting for them at most the timeout.
func (h *Health) evaluate(ctx context.Context) []result {
	timeout := h.Timeout
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	h.mu.Lock()
	names := make([]string, 0, len(h.checks))
	for name := range h.checks {
		names = append(names, name)
	}
	slices.Sort(names)
	results := make([]result, len(names))
	pending := make([]*evaluation, len(names))
	for i, name := range names {
		c := h.checks[name]
		results[i] = result{name: name, err: c.err}
		if c.fn != nil {
			pending[i] = h.start(ctx, c, timeout)
		}
	}
	h.mu.Unlock()

	for i, ev := range pending {
		if ev == nil {
			continue
		}
		results[i].err = wait(ctx, ev)
		if errors.Is(results[i].err, context.DeadlineExceeded) {
			results[i].err = fmt.Errorf("timed out after %v", timeout)
		}
	}
	return results
}

// wait returns ev's result, or ctx's error if ctx ends first. A result that
// is already in wins over an expired ctx.
func wait(ctx context.Context, ev *evaluation) error {
	select {
	case <-ev.done:
		return ev.err
	default:
	}
	select {
	case <-ev.done:
		return ev.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start returns c's evaluation in flight, starting one if there is none.
// The evaluation's context keeps ctx's values but not its cancellation, and
// has its own timeout, so a client that goes away does not fail the
// evaluation for the requests that share it. h.mu must be held.
func (h *Health) start(ctx context.Context, c *check, timeout time.Duration) *evaluation {
	if c.inflight != nil {
		return c.inflight
	}
	ev := &evaluation{done: make(chan struct{})}
	c.inflight = ev
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	go func() {
		defer cancel()
		err := c.fn(ctx)
		h.mu.Lock()
		c.inflight = nil
		h.mu.Unlock()
		ev.err = err
		close(ev.done)
	}()
	return ev
}

// oneLine keeps a reason on its line: an errors.Join of several causes is
// shown separated by "; ".
func oneLine(s string) string {
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", "; ")
}

func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
