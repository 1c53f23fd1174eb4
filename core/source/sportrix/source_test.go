package sportrix_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/sportrix"
	"github.com/ballcast/ballcast/core/source/sportrix/sportrixsim"
	"github.com/ballcast/ballcast/internal/polltest"
)

var _ ingest.Source = (*sportrix.Source)(nil)

const bundledID = 1298179

func bundled(t testing.TB) []event.Event {
	t.Helper()
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// startSim serves a simulator of the given matches; Run stops at cleanup.
func startSim(t *testing.T, cfg sportrixsim.Config, frames map[int64][][]byte) (*sportrixsim.Simulator, string) {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = "sk_test"
	}
	cfg.PauseUnwatched = true
	sim, err := sportrixsim.New(cfg, frames, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return sim, "ws" + strings.TrimPrefix(srv.URL, "http") + sportrixsim.Path
}

func cricket(t testing.TB, matches map[int64][]event.Event) map[int64][][]byte {
	t.Helper()
	fr, err := sportrixsim.FromEvents(matches)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// newSource builds a source over url with the key in an env var.
func newSource(t *testing.T, url, key string, cfg sportrix.Config, log zerolog.Logger) *sportrix.Source {
	t.Helper()
	t.Setenv("TEST_SPORTRIX_KEY", key)
	cfg.URL, cfg.APIKeyEnv = url, "TEST_SPORTRIX_KEY"
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	}
	src, err := sportrix.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// run runs src, collecting its events until Run returns.
func run(ctx context.Context, src *sportrix.Source) ([]event.Event, error) {
	out := make(chan event.Event, 64)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, out); close(out) }()
	var got []event.Event
	for ev := range out {
		got = append(got, ev)
	}
	return got, <-errc
}

// TestSourceThroughSimulatorWithFaults replays a real match through the
// simulator with connections dropped, malformed and duplicated frames and
// an error frame, and wants the replay source's events exactly once, in
// order, with the same balls; the reconnects must have re-subscribed and
// re-snapshotted.
func TestSourceThroughSimulatorWithFaults(t *testing.T) {
	want := bundled(t)
	sim, url := startSim(t, sportrixsim.Config{
		Interval: 4 * time.Millisecond,
		// Each drop lets 4 states pass unseen (play goes on while the
		// source is away): the reconnect's snapshot must recover them.
		Faults: sportrixsim.Faults{DropEvery: 250 * time.Millisecond, SkipOnDrop: 4, MalformedEvery: 7, DuplicateEvery: 5, ErrorAt: 40},
	}, cricket(t, map[int64][]event.Event{bundledID: want}))
	src := newSource(t, url, "sk_test", sportrix.Config{Matches: []int64{bundledID}}, zerolog.Nop())
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	got, err := run(ctx, src)
	if err != nil {
		t.Fatalf("Run: %v (after %d events)", err, len(got))
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if seen[ev.ID] {
			t.Fatalf("event %s delivered twice", ev.ID)
		}
		seen[ev.ID] = true
		if i >= len(want) || ev.ID != want[i].ID {
			t.Fatalf("event %d is %s, want %s", i, ev.ID, idAt(want, i))
		}
		if ev.Source != "sportrix" || ev.Match != "1298179" || ev.Received.IsZero() {
			t.Fatalf("event %s: source %q match %q received %v", ev.ID, ev.Source, ev.Match, ev.Received)
		}
		if ev.Kind == event.KindBall {
			g, w := ev.Ball, want[i].Ball
			if g.Runs() != w.Runs() || g.RunsBat != w.RunsBat || g.Legal != w.Legal || len(g.Wickets) != len(w.Wickets) || g.Bowler != w.Bowler {
				t.Fatalf("ball %s: got %+v, want %+v", ev.ID, *g, *w)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	// The unsubscribe went out before the close; the simulator reads it
	// on its own goroutine.
	polltest.Until(t, "the finished match's unsubscribe", func() bool { return sim.Stats().Unsubscribes > 0 })
	st, ss := src.Stats(), sim.Stats()
	if ss.Drops == 0 || ss.Malformed == 0 || ss.Duplicates == 0 || ss.Errors == 0 {
		t.Fatalf("faults not all injected: %+v", ss)
	}
	if st.Connects < 2 || st.Subscribes < 2 || st.Snapshots < 2 {
		t.Fatalf("no reconnect with a fresh snapshot: %+v", st)
	}
	if st.Malformed == 0 || st.ServerErrors == 0 || st.Gaps != 0 {
		t.Fatalf("source stats %+v: want malformed frames and server errors seen, no gaps", st)
	}
	t.Logf("%d events exactly once in order; source %+v; simulator %+v", len(got), st, ss)
}

func idAt(evs []event.Event, i int) string {
	if i < len(evs) {
		return evs[i].ID
	}
	return "nothing"
}

// TestUnauthorizedIsNotRetried: a wrong key is a configuration error,
// reported at once and never retried, whichever way the key is sent.
func TestUnauthorizedIsNotRetried(t *testing.T) {
	for _, auth := range []string{"query", "header"} {
		t.Run(auth, func(t *testing.T) {
			sim, url := startSim(t, sportrixsim.Config{APIKey: "sk_right"}, cricket(t, map[int64][]event.Event{bundledID: bundled(t)}))
			var logs bytes.Buffer
			src := newSource(t, url, "sk_wrong", sportrix.Config{Matches: []int64{bundledID}, Auth: auth, MaxAttempts: 5}, zerolog.New(&logs))
			_, err := run(t.Context(), src)
			if !errors.Is(err, sportrix.ErrUnauthorized) {
				t.Fatalf("Run: %v, want ErrUnauthorized", err)
			}
			if n := sim.Stats().Unauthorized; n != 1 {
				t.Fatalf("%d attempts, want 1 (no retry)", n)
			}
			if strings.Contains(err.Error()+logs.String(), "sk_wrong") {
				t.Fatal("the key leaked into the error or the logs")
			}
		})
	}
	// The right key through the header works.
	sim, url := startSim(t, sportrixsim.Config{APIKey: "sk_right", Interval: time.Millisecond}, cricket(t, map[int64][]event.Event{bundledID: bundled(t)}))
	src := newSource(t, url, "sk_right", sportrix.Config{Matches: []int64{bundledID}, Auth: "header"}, zerolog.Nop())
	if _, err := run(t.Context(), src); err != nil || sim.Stats().Unauthorized != 0 {
		t.Fatalf("header auth: %v, %+v", err, sim.Stats())
	}
}

// TestKeyRevokedMidMatch: a key revoked while the match plays (the
// connection drops, the redial gets 401) ends Run with ErrUnauthorized
// after one refused attempt, having delivered what came before.
func TestKeyRevokedMidMatch(t *testing.T) {
	sim, url := startSim(t, sportrixsim.Config{Interval: 2 * time.Millisecond, Faults: sportrixsim.Faults{RevokeKeyAt: 30}},
		cricket(t, map[int64][]event.Event{bundledID: bundled(t)}))
	src := newSource(t, url, "sk_test", sportrix.Config{Matches: []int64{bundledID}}, zerolog.Nop())
	got, err := run(t.Context(), src)
	if !errors.Is(err, sportrix.ErrUnauthorized) {
		t.Fatalf("Run: %v, want ErrUnauthorized", err)
	}
	if len(got) < 20 || sim.Stats().Unauthorized != 1 {
		t.Fatalf("%d events before the revocation, %d refused handshakes (want 1)", len(got), sim.Stats().Unauthorized)
	}
}

// TestKeyNeverInErrorsOrLogs: the key goes in the dial URL, and dial
// errors quote the URL; neither the error nor the logs may show it.
func TestKeyNeverInErrorsOrLogs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial fails
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, []byte("sk_secret_123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	src, err := sportrix.New(sportrix.Config{
		URL: "ws://" + addr + "/v1/stream", APIKeyFile: keyFile, Matches: []int64{1},
		BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond, MaxAttempts: 3,
	}, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t.Context(), src)
	if err == nil || !strings.Contains(err.Error(), "3 connection attempts") {
		t.Fatalf("Run: %v, want the attempts exhausted", err)
	}
	if strings.Contains(err.Error()+logs.String(), "sk_secret_123") {
		t.Fatalf("the key leaked:\n%v\n%s", err, logs.String())
	}
}

// TestErrorFrameIsPerMatch: a subscription the server refuses (its error
// frame names no match) is attributed to that match, counted, retried
// later, and the other match plays to the end regardless.
func TestErrorFrameIsPerMatch(t *testing.T) {
	sim, url := startSim(t, sportrixsim.Config{Interval: time.Millisecond}, cricket(t, map[int64][]event.Event{bundledID: bundled(t)}))
	src := newSource(t, url, "sk_test", sportrix.Config{Matches: []int64{777, bundledID}, BackoffMin: 20 * time.Millisecond, BackoffMax: 40 * time.Millisecond}, zerolog.Nop())
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan event.Event, 64)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, out) }()
	deadline := time.After(time.Minute)
	n := 0
	for done := false; !done; {
		select {
		case ev := <-out:
			if ev.Match != "1298179" {
				t.Fatalf("event for %s", ev.Match)
			}
			n++
			done = ev.ID == "1298179/status/completed"
		case err := <-errc:
			t.Fatalf("Run ended: %v", err)
		case <-deadline:
			t.Fatal("match did not complete")
		}
	}
	// The refused subscription is retried.
	polltest.Until(t, "a retried subscription", func() bool { return src.Stats().ServerErrors >= 2 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	st := src.Stats()
	if st.LastServerError != "777: match not live or not found" {
		t.Fatalf("last server error %q", st.LastServerError)
	}
	polltest.Until(t, "the unsubscribes", func() bool { return sim.Stats().Unsubscribes >= 1 })
	ss := sim.Stats()
	if ss.Subscribes < 3 {
		t.Fatalf("simulator %+v: want the retries and an unsubscribe", ss)
	}
	t.Logf("%d events; source %+v", n, st)
}

// TestPingsKeepTheConnectionAlive: with no frames at all, the server's
// pings alone keep a connection whose read timeout is shorter than the
// silence; a server that neither sends nor pings is redialled.
func TestPingsKeepTheConnectionAlive(t *testing.T) {
	sim, url := startSim(t, sportrixsim.Config{Interval: time.Hour, PingInterval: 20 * time.Millisecond}, cricket(t, map[int64][]event.Event{bundledID: bundled(t)}))
	src := newSource(t, url, "sk_test", sportrix.Config{Matches: []int64{bundledID}, PingInterval: 20 * time.Millisecond, ReadTimeout: 400 * time.Millisecond}, zerolog.Nop())
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan event.Event, 1024)
	errc := make(chan error, 1)
	go func() { errc <- src.Run(ctx, out) }()
	polltest.Until(t, "50 pings (2.5 read timeouts)", func() bool { return src.Stats().Pings >= 50 })
	cancel()
	<-errc
	if c := src.Stats().Connects; c != 1 {
		t.Fatalf("%d connections, want 1: pings must reset the read deadline", c)
	}
	polltest.Until(t, "the unsubscribe at shutdown", func() bool { return sim.Stats().Unsubscribes == 1 })

	// A silent server: accepted, never a frame nor a ping.
	var mu sync.Mutex
	conns := 0
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns++
		mu.Unlock()
		for { // read and ignore the subscriptions; never answer
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}))
	defer silent.Close()
	src = newSource(t, "ws"+strings.TrimPrefix(silent.URL, "http"), "k", sportrix.Config{Matches: []int64{1}, PingInterval: 10 * time.Millisecond, ReadTimeout: 40 * time.Millisecond, MaxAttempts: 3}, zerolog.Nop())
	_, err := run(t.Context(), src)
	if err == nil || !strings.Contains(err.Error(), "no frame or ping for 40ms") {
		t.Fatalf("Run: %v, want a read timeout", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if conns != 3 {
		t.Fatalf("%d connections, want 3 (redialled until max_attempts)", conns)
	}
}

// TestSoccerThroughSimulator: soccer snapshots pass through as status and
// score events.
func TestSoccerThroughSimulator(t *testing.T) {
	raw, err := os.ReadFile("testdata/soccer.json")
	if err != nil {
		t.Fatal(err)
	}
	var states []json.RawMessage
	if err := json.Unmarshal(raw, &states); err != nil {
		t.Fatal(err)
	}
	frames := make([][]byte, len(states))
	for i, s := range states {
		frames[i] = s
	}
	_, url := startSim(t, sportrixsim.Config{Interval: time.Millisecond, Faults: sportrixsim.Faults{DuplicateEvery: 2}}, map[int64][][]byte{41282: frames})
	src := newSource(t, url, "sk_test", sportrix.Config{Matches: []int64{41282}}, zerolog.Nop())
	got, err := run(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, strings.TrimPrefix(ev.ID, "41282/")+":"+ev.Kind.String())
	}
	want := "status/not_started:status status/live/1H:status score/home/1:score status/ht:status status/live/2H:status score/away/1:score score/home/2:score score/away/2:score score/home/3:score status/ft:status"
	if g := strings.Join(ids, " "); g != want {
		t.Fatalf("events\n got %s\nwant %s", g, want)
	}
	last := got[len(got)-1].Status
	if last.State != event.StateCompleted || last.Winner != "Arsenal" || last.Result != "Arsenal 3-2 Chelsea" {
		t.Fatalf("final status %+v", last)
	}
}
