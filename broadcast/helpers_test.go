package broadcast_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
)

// testEnv is a running hub behind an httptest server.
type testEnv struct {
	hub  *broadcast.Hub
	srv  *httptest.Server
	url  string // WebSocket endpoint
	logs *logSink
	stop func() // cancels Run and waits for it; idempotent
}

type envOptions struct {
	// sendBuffer, when positive, sets the kernel send buffer of accepted
	// connections (bytes), so a client that does not read backs up the
	// server quickly.
	sendBuffer int
	// epoch, when set, is passed to SetEpoch.
	epoch string
	// guard, when set, is passed to SetGuard.
	guard broadcast.Guard
}

// startHub runs a hub with cfg until the test ends and checks that no
// goroutine outlives it. Call it first in a test: its cleanup must run last.
func startHub(t *testing.T, cfg broadcast.Config, opts *envOptions) *testEnv {
	t.Helper()
	checkLeaks(t)
	if opts == nil {
		opts = &envOptions{}
	}
	logs := newLogSink()
	h, err := broadcast.NewHub(cfg, zerolog.New(logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatalf("NewHub: got %v, want nil", err)
	}
	if opts.epoch != "" {
		if err := h.SetEpoch(opts.epoch); err != nil {
			t.Fatalf("SetEpoch: got %v, want nil", err)
		}
	}
	if opts.guard != nil {
		h.SetGuard(opts.guard)
	}
	srv := httptest.NewUnstartedServer(h.Handler())
	if opts.sendBuffer > 0 {
		srv.Listener = &bufListener{Listener: srv.Listener, size: opts.sendBuffer}
	}
	srv.Start()

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- h.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-runErr:
				if err != nil {
					t.Errorf("Run: got %v, want nil", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("Run did not return within 15s of cancel")
			}
		})
	}
	t.Cleanup(func() {
		stop()
		srv.Close()
	})
	return &testEnv{hub: h, srv: srv, url: broadcasttest.URL(srv.URL), logs: logs, stop: stop}
}

// checkLeaks fails the test if, at cleanup, more goroutines run than at the
// start, after waiting up to 10 s for them to finish.
func checkLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Fatalf("goroutines: got %d, want <= %d\n%s", runtime.NumGoroutine(), base, buf)
			}
			<-tick.C
		}
	})
}

// bufListener sets the send buffer of every accepted TCP connection.
type bufListener struct {
	net.Listener
	size int
}

func (l *bufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		if err := tc.SetWriteBuffer(l.size); err != nil {
			_ = c.Close()
			return nil, err
		}
	}
	return c, err
}

// logSink collects log lines so tests can wait for one.
type logSink struct {
	mu    sync.Mutex
	lines []string
	added chan struct{} // receives after every write, without blocking
}

func newLogSink() *logSink { return &logSink{added: make(chan struct{}, 1)} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.lines = append(s.lines, string(bytes.TrimSpace(p)))
	s.mu.Unlock()
	select {
	case s.added <- struct{}{}:
	default:
	}
	return len(p), nil
}

// wait blocks until a log line contains substr, or fails the test.
func (s *logSink) wait(t *testing.T, substr string, timeout time.Duration) {
	t.Helper()
	s.waitN(t, substr, 1, timeout)
}

// waitN blocks until n log lines contain substr, or fails the test.
func (s *logSink) waitN(t *testing.T, substr string, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		found := 0
		for _, l := range s.lines {
			if strings.Contains(l, substr) {
				found++
			}
		}
		s.mu.Unlock()
		if found >= n {
			return
		}
		select {
		case <-s.added:
		case <-deadline.C:
			t.Fatalf("log: %d lines containing %q within %s, want %d", found, substr, timeout, n)
		}
	}
}

// ball makes the n-th (1-based) delivery event of a match, with commentary.
func ball(match string, n int) event.Event {
	over, pos := (n-1)/6, (n-1)%6+1
	b := &event.Ball{
		Innings: 1, BattingTeam: "Australia", BowlingTeam: "England", Over: over, Ball: pos, Legal: true,
		Batter: "Smith", NonStriker: "Head", Bowler: "Anderson", RunsBat: n % 7,
	}
	if n%50 == 0 {
		b.Wickets = []event.Wicket{{Kind: "caught", PlayerOut: "Smith", Fielders: []string{"Root"}}}
	}
	return event.Event{
		ID: fmt.Sprintf("%s/%s", match, b.Key()), Match: match, Seq: uint64(n), Kind: event.KindBall,
		Time: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(n) * 40 * time.Second), Source: "test",
		Ball:       b,
		Commentary: &event.Commentary{Text: fmt.Sprintf("ball %d", n), Language: "en", Fallback: true},
		Scorecard: &event.Scorecard{State: event.StateLive, Innings: []event.InningsCard{{
			Number: 1, Team: "Australia", Runs: n * 3, Wickets: n / 50, LegalBalls: n,
			RunRate: 18.0 / 1, Batters: []event.BatterCard{{Name: "Smith", Runs: n, Balls: n, StrikeRate: 100}},
			Bowlers: []event.BowlerCard{{Name: "Anderson", LegalBalls: n, Runs: n * 3}},
		}}},
	}
}

// publishAll publishes events with a deadline.
func publishAll(t *testing.T, h *broadcast.Hub, evs ...event.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for _, ev := range evs {
		if err := h.Publish(ctx, ev); err != nil {
			t.Fatalf("Publish(%s): got %v, want nil", ev.ID, err)
		}
	}
}

// balls makes deliveries from..to (inclusive) of a match.
func balls(match string, from, to int) []event.Event {
	out := make([]event.Event, 0, to-from+1)
	for n := from; n <= to; n++ {
		out = append(out, ball(match, n))
	}
	return out
}

// expectEvents reads events and checks their seqs are from..to in order.
func expectEvents(t *testing.T, c *broadcasttest.Client, match string, from, to uint64) []broadcasttest.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	return c.NextEvents(ctx, match, from, to)
}

// ctxT is a context for one step of a test: generous, since the test
// machines are often loaded, but bounded.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

var zerologNop = zerolog.Nop()
