package scorelytics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/scorelytics"
	"github.com/ballcast/ballcast/core/source/scorelytics/scorelyticssim"
	"github.com/ballcast/ballcast/internal/polltest"
)

func bundled(t testing.TB) []event.Event {
	t.Helper()
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// startSim serves a simulator until the test ends.
func startSim(t *testing.T, cfg scorelyticssim.Config, matches map[string][]event.Event) (*scorelyticssim.Simulator, string) {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = "sk_test_" + strings.ReplaceAll(t.Name(), "/", "_")
	}
	sim, err := scorelyticssim.New(cfg, matches, zerolog.Nop())
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
	return sim, srv.URL
}

// run runs a source until it returns, collecting its events.
func run(t *testing.T, src *scorelytics.Source, limit time.Duration) ([]event.Event, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	out := make(chan event.Event)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	var evs []event.Event
	for {
		select {
		case ev := <-out:
			evs = append(evs, ev)
		case err := <-done:
			return evs, err
		}
	}
}

func newSource(t *testing.T, key string, cfg scorelytics.Config) *scorelytics.Source {
	t.Helper()
	env := "TEST_SCORELYTICS_KEY_" + strings.ToUpper(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	t.Setenv(env, key)
	cfg.APIKeyEnv = env
	if cfg.BackoffMin == 0 {
		cfg.BackoffMin, cfg.BackoffMax = 5*time.Millisecond, 50*time.Millisecond
	}
	src, err := scorelytics.New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// sameAsReplay checks that evs, score events aside, are exactly the
// replay's events, in order, and that no ID repeats.
func sameAsReplay(t *testing.T, evs, want []event.Event) {
	t.Helper()
	seen := map[string]bool{}
	var got []event.Event
	for _, ev := range evs {
		if seen[ev.ID] {
			t.Fatalf("%s delivered twice", ev.ID)
		}
		seen[ev.ID] = true
		if ev.Source != "scorelytics" {
			t.Fatalf("%s has source %q", ev.ID, ev.Source)
		}
		if ev.Kind != event.KindScore {
			got = append(got, ev)
		}
	}
	for i := range min(len(got), len(want)) {
		if got[i].ID != want[i].ID {
			t.Fatalf("event %d is %s, want %s (missing, repeated or out of order)", i, got[i].ID, want[i].ID)
		}
		if want[i].Ball != nil && !reflect.DeepEqual(got[i].Ball, want[i].Ball) {
			t.Fatalf("ball %s: got %+v, want %+v", want[i].ID, got[i].Ball, want[i].Ball)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events besides scores, want %d", len(got), len(want))
	}
}

// TestRealMatchWithFaults replays the bundled match (the 2022 T20 World
// Cup final) through the simulator with every fault on; the source must
// deliver every state change once and in order, and re-fetch the snapshot
// before every reconnect.
func TestRealMatchWithFaults(t *testing.T) {
	want := bundled(t)
	sim, url := startSim(t, scorelyticssim.Config{
		Interval: 2 * time.Millisecond, PingInterval: 20 * time.Millisecond,
		Faults: scorelyticssim.Faults{DropEvery: 80 * time.Millisecond, MalformedEvery: 7, DuplicateEvery: 5, Delay: time.Millisecond},
	}, map[string][]event.Event{"sl-final": want})
	key := "sk_test_" + strings.ReplaceAll(t.Name(), "/", "_")
	src := newSource(t, key, scorelytics.Config{Matches: []string{"sl-final"}, APIURL: url})
	evs, err := run(t, src, time.Minute)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	// The source names events by the Scorelytics ID; the replay by file.
	for i := range want {
		want[i].ID = "sl-final" + strings.TrimPrefix(want[i].ID, "1298179")
		if want[i].Ball != nil {
			b := *want[i].Ball
			want[i].Ball = &b
		}
	}
	sameAsReplay(t, evs, want)

	st, ss := src.Stats(), sim.Stats()
	if ss.Drops == 0 || ss.Malformed == 0 || ss.Duplicates == 0 || st.Malformed == 0 || st.Connects < 2 {
		t.Fatalf("faults not all exercised: source %+v, simulator %+v", st, ss)
	}
	// Every connection, the first and each reconnect, comes after a fresh snapshot.
	trace := sim.Trace()
	fresh := false
	for _, line := range trace {
		switch {
		case strings.HasPrefix(line, "snapshot "):
			fresh = true
		case strings.HasPrefix(line, "connect "):
			if !fresh {
				t.Fatalf("connected without a fresh snapshot:\n%s", strings.Join(trace, "\n"))
			}
			fresh = false
		}
	}
	t.Logf("%d events; source %+v; simulator %+v", len(evs), st, ss)
}

// TestTotalsOnlyFeed: without the ball field the source emits score and
// status events only, one per state, in order.
func TestTotalsOnlyFeed(t *testing.T) {
	want := bundled(t)
	_, url := startSim(t, scorelyticssim.Config{Interval: time.Millisecond, TotalsOnly: true}, map[string][]event.Event{"m1": want})
	src := newSource(t, "sk_test_"+t.Name(), scorelytics.Config{Matches: []string{"m1"}, APIURL: url})
	evs, err := run(t, src, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var scores, balls int
	last := map[int]int{}
	for _, ev := range evs {
		switch ev.Kind {
		case event.KindBall:
			balls++
		case event.KindScore:
			scores++
			if ev.Score.Balls < last[ev.Score.Innings] {
				t.Fatalf("score %s goes back", ev.ID)
			}
			last[ev.Score.Innings] = ev.Score.Balls
		}
	}
	if balls != 0 || scores < 200 || evs[len(evs)-1].ID != "m1/status/completed" {
		t.Fatalf("got %d balls, %d scores, last %s; want 0 balls, a score per delivery, completion last", balls, scores, evs[len(evs)-1].ID)
	}
}

// TestLiveEndpoint: one /v1/ws/live connection serves the followed
// matches; frames of other matches are dropped.
func TestLiveEndpoint(t *testing.T) {
	evs := bundled(t)
	sim, url := startSim(t, scorelyticssim.Config{Interval: time.Millisecond},
		map[string][]event.Event{"a": evs, "b": evs, "c": evs})
	src := newSource(t, "sk_test_"+t.Name(), scorelytics.Config{Matches: []string{"a", "b"}, Endpoint: "live", APIURL: url})
	got, err := run(t, src, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, ev := range got {
		per[ev.Match]++
	}
	if per["c"] != 0 || per["a"] == 0 || per["a"] != per["b"] {
		t.Fatalf("events per match %v: want a and b alike, no c", per)
	}
	if st := sim.Stats(); st.Connects != 1 {
		t.Fatalf("%d connections, want 1", st.Connects)
	}
	if src.Stats().Unrouted == 0 {
		t.Fatal("no frame of match c was seen and dropped")
	}
}

// TestPingsAnswered: an idle connection stays open across many server
// pings because the source answers them; a client that does not read is
// closed after two unanswered pings.
func TestPingsAnswered(t *testing.T) {
	sim, url := startSim(t, scorelyticssim.Config{Interval: time.Hour, PingInterval: 100 * time.Millisecond},
		map[string][]event.Event{"m": bundled(t)})
	src := newSource(t, "sk_test_"+t.Name(), scorelytics.Config{Matches: []string{"m"}, APIURL: url, ReadTimeout: time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan event.Event, 64)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	polltest.Until(t, "6 pongs", func() bool { return sim.Stats().Pongs >= 6 })
	cancel()
	<-done
	st, ss := src.Stats(), sim.Stats()
	if ss.PingTimeouts != 0 || st.Connects != 1 || st.Pings < 6 || st.Timeouts != 0 {
		t.Fatalf("source %+v, simulator %+v: want one connection kept alive by answered pings", st, ss)
	}

	// A raw client that never reads never answers.
	h := http.Header{"X-Api-Key": {"sk_test_" + t.Name()}}
	c, _, err := websocket.Dial(t.Context(), strings.Replace(url, "http", "ws", 1)+"/v1/ws/match/m", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	polltest.Until(t, "the silent client closed", func() bool { return sim.Stats().PingTimeouts == 1 })
}

// TestSilentConnectionIsReplaced: a connection with neither messages nor
// pings for read_timeout is closed and reopened after a fresh snapshot.
func TestSilentConnectionIsReplaced(t *testing.T) {
	sim, url := startSim(t, scorelyticssim.Config{Interval: time.Hour, PingInterval: time.Hour},
		map[string][]event.Event{"m": bundled(t)})
	src := newSource(t, "sk_test_"+t.Name(), scorelytics.Config{Matches: []string{"m"}, APIURL: url, ReadTimeout: 30 * time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, make(chan event.Event, 64)) }()
	polltest.Until(t, "three connections", func() bool { return sim.Stats().Connects >= 3 })
	cancel()
	<-done
	if st := src.Stats(); st.Timeouts < 2 || st.Snapshots < 3 {
		t.Fatalf("source %+v: want timeouts, each followed by a snapshot", st)
	}
}

// TestConnectionLimit: match mode refuses more matches than the per-key
// cap at validation; the simulator refuses a sixth connection with 429,
// which the source reports and retries; sources sharing a key in one
// process queue for a slot.
func TestConnectionLimit(t *testing.T) {
	six := []string{"a", "b", "c", "d", "e", "f"}
	err := scorelytics.Config{Matches: six}.Validate()
	if err == nil || !strings.Contains(err.Error(), "limit of 5 per API key") || !strings.Contains(err.Error(), "endpoint: live") {
		t.Fatalf("6 matches in match mode: got %v, want the connection limit named with the way out", err)
	}
	if err := (scorelytics.Config{Matches: six, Endpoint: "live"}).Validate(); err != nil {
		t.Fatalf("6 matches on live: %v", err)
	}

	evs := bundled(t)
	key := "sk_test_" + t.Name()
	sim, url := startSim(t, scorelyticssim.Config{APIKey: key, Interval: time.Hour, PingInterval: time.Hour}, map[string][]event.Event{"m": evs})
	h := http.Header{"X-Api-Key": {key}}
	ws := strings.Replace(url, "http", "ws", 1) + "/v1/ws/match/m"
	for i := range 5 {
		c, _, err := websocket.Dial(t.Context(), ws, &websocket.DialOptions{HTTPHeader: h})
		if err != nil {
			t.Fatalf("connection %d: %v", i+1, err)
		}
		c.CloseRead(t.Context())
		defer c.CloseNow()
	}
	_, resp, err := websocket.Dial(t.Context(), ws, &websocket.DialOptions{HTTPHeader: h})
	if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sixth connection: got %v, want HTTP 429", err)
	}
	// The source sees the 429 as a retryable, clearly named error.
	src := newSource(t, key, scorelytics.Config{Matches: []string{"m"}, APIURL: url, MaxAttempts: 2, MaxConnections: 50})
	_, err = run(t, src, 10*time.Second)
	if sim.Stats().Refused < 3 {
		t.Fatalf("simulator refused %d connections, want 3 (the test's sixth, then the source's two attempts)", sim.Stats().Refused)
	}
	if !errors.Is(err, scorelytics.ErrTooManyConnections) || !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("source over the server's cap: got %v, want ErrTooManyConnections after 2 attempts", err)
	}
}

// TestSharedKeyQueues: two sources of one process with one key and a cap
// of one connection: the second waits until the first's match ends.
func TestSharedKeyQueues(t *testing.T) {
	evs := bundled(t)
	key := "sk_test_" + t.Name()
	_, url := startSim(t, scorelyticssim.Config{APIKey: key, Interval: time.Millisecond}, map[string][]event.Event{"a": evs, "b": evs})
	a := newSource(t, key, scorelytics.Config{Matches: []string{"a"}, APIURL: url, MaxConnections: 1})
	b := newSource(t, key, scorelytics.Config{Matches: []string{"b"}, APIURL: url, MaxConnections: 1})
	errs := make(chan error, 2)
	for _, s := range []*scorelytics.Source{a, b} {
		go func() {
			_, err := run(t, s, time.Minute)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if a.Stats().LimitWaits+b.Stats().LimitWaits == 0 {
		t.Fatal("neither source waited for the shared connection slot")
	}
}

// TestKeyRejected: a wrong key, or one revoked mid-match, ends Run with
// ErrUnauthorized and no retry; the key never appears in the error.
func TestKeyRejected(t *testing.T) {
	evs := bundled(t)
	for _, auth := range []string{"header", "query"} {
		t.Run("wrong key/"+auth, func(t *testing.T) {
			sim, url := startSim(t, scorelyticssim.Config{APIKey: "sk_live_right", Interval: time.Hour}, map[string][]event.Event{"m": evs})
			src := newSource(t, "sk_live_WRONG", scorelytics.Config{Matches: []string{"m"}, APIURL: url, Auth: auth})
			_, err := run(t, src, 10*time.Second)
			if !errors.Is(err, scorelytics.ErrUnauthorized) || strings.Contains(err.Error(), "WRONG") {
				t.Fatalf("got %v, want ErrUnauthorized without the key", err)
			}
			if st := sim.Stats(); st.Unauthorized != 1 {
				t.Fatalf("%d unauthorised requests, want 1 (no retry)", st.Unauthorized)
			}
		})
	}
	t.Run("revoked mid-match", func(t *testing.T) {
		_, url := startSim(t, scorelyticssim.Config{APIKey: "sk_live_k", Interval: time.Millisecond, Faults: scorelyticssim.Faults{RejectKeyAt: 40}},
			map[string][]event.Event{"m": evs})
		src := newSource(t, "sk_live_k", scorelytics.Config{Matches: []string{"m"}, APIURL: url, Auth: "query"})
		got, err := run(t, src, 10*time.Second)
		if !errors.Is(err, scorelytics.ErrUnauthorized) || strings.Contains(err.Error(), "sk_live_k") {
			t.Fatalf("got %v, want ErrUnauthorized without the key", err)
		}
		if len(got) == 0 {
			t.Fatal("no events before the key was revoked")
		}
	})
	t.Run("unknown match", func(t *testing.T) {
		_, url := startSim(t, scorelyticssim.Config{APIKey: "sk_live_k", Interval: time.Hour}, map[string][]event.Event{"m": evs})
		src := newSource(t, "sk_live_k", scorelytics.Config{Matches: []string{"nope"}, APIURL: url})
		if _, err := run(t, src, 10*time.Second); !errors.Is(err, scorelytics.ErrNotFound) {
			t.Fatalf("got %v, want ErrNotFound", err)
		}
	})
}

// TestAPIKeyFile: the key may come from a file; never inline, and not
// from both places.
func TestAPIKeyFile(t *testing.T) {
	evs := bundled(t)
	_, url := startSim(t, scorelyticssim.Config{APIKey: "sk_file", Interval: time.Millisecond}, map[string][]event.Event{"m": evs})
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte("sk_file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := scorelytics.New(scorelytics.Config{Matches: []string{"m"}, APIURL: url, APIKeyFile: path}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, src, time.Minute); err != nil {
		t.Fatal(err)
	}
	err = scorelytics.Config{Matches: []string{"m"}, APIKeyFile: path, APIKeyEnv: "X"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both key settings: got %v", err)
	}
	if _, err := scorelytics.New(scorelytics.Config{Matches: []string{"m"}, APIKeyEnv: "TEST_SCORELYTICS_UNSET_VAR"}, zerolog.Nop()); err == nil ||
		!strings.Contains(err.Error(), "TEST_SCORELYTICS_UNSET_VAR") {
		t.Fatalf("unset key variable: got %v, want it named", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	err := scorelytics.Config{Endpoint: "all", Auth: "cookie", APIURL: "ftp://x", BackoffMax: time.Minute, Matches: []string{"a/b", "c", "c"}}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"endpoint", "auth", "api_url", "backoff_max", "30s", "matches[0]", "matches[2]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	fmt.Fprint(new(strings.Builder), err)
}

// TestQueryKeyNeverInErrors: with auth: query the key is in the handshake
// URL, which transport errors quote; the source's errors and logs carry
// it redacted.
func TestQueryKeyNeverInErrors(t *testing.T) {
	const key = "sk_live_SECRETQUERY"
	sim, err := scorelyticssim.New(scorelyticssim.Config{APIKey: key, Interval: time.Hour}, map[string][]event.Event{"m": bundled(t)}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/ws/") {
			c, _, err := w.(http.Hijacker).Hijack() // the connection dies mid-handshake
			if err == nil {
				c.Close()
			}
			return
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	t.Setenv("TEST_SCORELYTICS_QUERY_KEY", key)
	var logs strings.Builder
	src, err := scorelytics.New(scorelytics.Config{Matches: []string{"m"}, APIURL: srv.URL, Auth: "query", APIKeyEnv: "TEST_SCORELYTICS_QUERY_KEY",
		BackoffMin: time.Millisecond, BackoffMax: time.Millisecond, MaxAttempts: 2}, zerolog.New(&logs))
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t, src, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("got %v, want a dial error with the key redacted", err)
	}
	if strings.Contains(err.Error(), "SECRETQUERY") || strings.Contains(logs.String(), "SECRETQUERY") {
		t.Fatalf("the key leaked:\n%v\n%s", err, logs.String())
	}
}

// TestResumeAfterRestart: a restarted source does not send again what the
// ingest log already holds.
func TestResumeAfterRestart(t *testing.T) {
	_, url := startSim(t, scorelyticssim.Config{Interval: time.Millisecond}, map[string][]event.Event{"m": bundled(t)})
	key := "sk_test_" + t.Name()
	all, err := run(t, newSource(t, key, scorelytics.Config{Matches: []string{"m"}, APIURL: url}), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		last string
		want int
	}{
		{"after event 100", all[99].ID, len(all) - 100},
		{"another provider's event", "m/something/else", len(all)},
		{"nothing logged", "", len(all)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(t, key, scorelytics.Config{Matches: []string{"m"}, APIURL: url})
			src.Resume(func(_ context.Context, match string) (string, bool, error) {
				if match != "m" {
					t.Errorf("asked about match %q", match)
				}
				return tc.last, tc.last != "", nil
			})
			got, err := run(t, src, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want || !reflect.DeepEqual(got[0].ID, all[len(all)-tc.want].ID) {
				t.Fatalf("got %d events from %s, want %d from %s", len(got), got[0].ID, tc.want, all[len(all)-tc.want].ID)
			}
		})
	}
}

// TestRunLeavesNoGoroutines: when Run returns, every goroutine it started
// has ended, whether the matches finished or ctx was cancelled.
func TestRunLeavesNoGoroutines(t *testing.T) {
	_, url := startSim(t, scorelyticssim.Config{Interval: time.Millisecond, PingInterval: 5 * time.Millisecond,
		Faults: scorelyticssim.Faults{DropEvery: 50 * time.Millisecond}}, map[string][]event.Event{"a": bundled(t), "b": bundled(t)})
	key := "sk_test_" + t.Name()
	if _, err := run(t, newSource(t, key, scorelytics.Config{Matches: []string{"a", "b"}, APIURL: url}), time.Minute); err != nil {
		t.Fatal(err)
	}
	noSourceGoroutines(t)
	// A match that never moves: Run ends only by cancellation.
	sim, idle := startSim(t, scorelyticssim.Config{APIKey: key, Interval: time.Hour}, map[string][]event.Event{"a": bundled(t), "b": bundled(t)})
	src := newSource(t, key, scorelytics.Config{Matches: []string{"a", "b"}, APIURL: idle, Endpoint: "live"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, make(chan event.Event, 64)) }()
	polltest.Until(t, "the live connection", func() bool { return sim.Conns() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run returned %v", err)
	}
	noSourceGoroutines(t)
}

func noSourceGoroutines(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "scorelytics.(*Source)") {
			t.Fatalf("goroutine left behind:\n%s", g)
		}
	}
}
