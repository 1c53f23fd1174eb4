package sportrixsim

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/sportrix"
	"github.com/ballcast/ballcast/internal/polltest"
)

const id = 1298179

func start(t *testing.T, cfg Config) (*Simulator, string) {
	t.Helper()
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	frames, err := FromEvents(map[int64][]event.Event{id: evs})
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIKey = "sk_sim"
	sim, err := New(cfg, frames, zerolog.Nop())
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
	return sim, "ws" + strings.TrimPrefix(srv.URL, "http") + Path
}

func dial(t *testing.T, url string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.Dial(t.Context(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func send(t *testing.T, ws *websocket.Conn, msg string) {
	t.Helper()
	if err := ws.Write(t.Context(), websocket.MessageText, []byte(msg)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, ws *websocket.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, b, err := ws.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyIsCheckedBeforeTheUpgrade(t *testing.T) {
	sim, url := start(t, Config{Interval: time.Hour})
	for _, tc := range []struct {
		name string
		url  string
		hdr  http.Header
		code int
	}{
		{"no key", url, nil, 401},
		{"wrong key", url + "?key=nope", nil, 401},
		{"wrong header", url, http.Header{"X-API-Key": {"nope"}}, 401},
		{"query", url + "?key=sk_sim", nil, 101},
		{"header", url, http.Header{"X-API-Key": {"sk_sim"}}, 101},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, resp, err := websocket.Dial(t.Context(), tc.url, &websocket.DialOptions{HTTPHeader: tc.hdr})
			if resp == nil || resp.StatusCode != tc.code {
				t.Fatalf("status %v (%v), want %d", resp, err, tc.code)
			}
			if ws != nil {
				ws.CloseNow()
			}
		})
	}
	if n := sim.Stats().Unauthorized; n != 3 {
		t.Fatalf("unauthorized %d, want 3", n)
	}
}

func TestSubscribeSnapshotUpdatesAndErrors(t *testing.T) {
	var pings atomic.Int64
	sim, url := start(t, Config{Interval: time.Millisecond, PingInterval: 10 * time.Millisecond, PauseUnwatched: true})
	ws := dial(t, url+"?key=sk_sim", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true }})
	send(t, ws, `{"action":"subscribe","match_id":4}`)
	if f, err := sportrix.ParseFrame(read(t, ws)); err != nil || f.Op != sportrix.OpError || f.MatchID != 0 || f.Error != "match not live or not found" {
		t.Fatalf("unknown match: %+v %v", f, err)
	}
	send(t, ws, `not json`)
	if f, _ := sportrix.ParseFrame(read(t, ws)); f.Op != sportrix.OpError {
		t.Fatalf("bad message: %+v", f)
	}
	send(t, ws, `{"action":"dance","match_id":1}`)
	if f, _ := sportrix.ParseFrame(read(t, ws)); f.Op != sportrix.OpError || !strings.Contains(f.Error, "dance") {
		t.Fatalf("unknown action: %+v", f)
	}
	send(t, ws, `{"action":"subscribe","match_id":1298179}`)
	f, err := sportrix.ParseFrame(read(t, ws))
	if err != nil || f.Op != sportrix.OpSnapshot || f.MatchID != id || f.Sport != "cricket" {
		t.Fatalf("snapshot: %+v %v", f, err)
	}
	// Then every state, in order, to the result.
	tr := sportrix.NewTracker("m")
	tr.Apply(f) //nolint:errcheck // the first state
	n := 0
	for {
		f, err := sportrix.ParseFrame(read(t, ws))
		if err != nil || f.Op != sportrix.OpUpdate {
			t.Fatalf("update: %+v %v", f, err)
		}
		evs, err := tr.Apply(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(evs)
		if len(evs) > 0 && evs[len(evs)-1].ID == "m/status/completed" {
			break
		}
	}
	if n < 280 || !sim.Finished() {
		t.Fatalf("%d events, finished %v", n, sim.Finished())
	}
	send(t, ws, `{"action":"unsubscribe","match_id":1298179}`)
	polltest.Until(t, "the unsubscribe and two pings", func() bool { return sim.Stats().Unsubscribes > 0 && pings.Load() >= 2 })
}

func TestFaults(t *testing.T) {
	sim, url := start(t, Config{Interval: 2 * time.Millisecond, PauseUnwatched: true,
		Faults: Faults{DropEvery: 300 * time.Millisecond, MalformedEvery: 3, DuplicateEvery: 4, ErrorAt: 5, SkipOnDrop: 2}})
	ws := dial(t, url+"?key=sk_sim", nil)
	send(t, ws, `{"action":"subscribe","match_id":1298179}`)
	var malformed, dups, errs int
	var last []byte
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("connection not dropped")
			}
			break
		}
		f, perr := sportrix.ParseFrame(b)
		switch {
		case errors.Is(perr, sportrix.ErrFrame):
			malformed++
		case f.Op == sportrix.OpError:
			if f.MatchID != id {
				t.Fatalf("fault error frame names match %d", f.MatchID)
			}
			errs++
		case bytes.Equal(b, last):
			dups++
		}
		if perr == nil && f.Op != sportrix.OpError {
			last = b
		}
	}
	if malformed == 0 || dups == 0 || errs != 1 {
		t.Fatalf("malformed %d, duplicates %d, errors %d", malformed, dups, errs)
	}
	st := sim.Stats()
	if st.Drops == 0 || st.Malformed == 0 || st.Duplicates == 0 {
		t.Fatalf("stats %+v", st)
	}
}
