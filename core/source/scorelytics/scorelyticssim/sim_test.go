package scorelyticssim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/scorelytics"
)

func start(t *testing.T, cfg Config) (*Simulator, string) {
	t.Helper()
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIKey = "sk_test"
	sim, err := New(cfg, map[string][]event.Event{"m1": evs}, zerolog.Nop())
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

func get(t *testing.T, url string, h http.Header) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestRESTAndHandshakeErrors(t *testing.T) {
	_, base := start(t, Config{Interval: time.Hour})
	key := http.Header{"X-Api-Key": {"sk_test"}}
	cases := []struct {
		name string
		url  string
		h    http.Header
		want int
	}{
		{"snapshot", "/v1/cricket/matches/m1", key, 200},
		{"snapshot, query key", "/v1/cricket/matches/m1?api_key=sk_test", nil, 200},
		{"list", "/v1/cricket/matches", key, 200},
		{"no key", "/v1/cricket/matches/m1", nil, 401},
		{"wrong key", "/v1/cricket/matches/m1", http.Header{"X-Api-Key": {"sk_nope"}}, 401},
		{"unknown match", "/v1/cricket/matches/zz", key, 404},
		{"other sport", "/v1/football/matches/m1", key, 404},
		{"websocket without upgrade", "/v1/ws/match/m1", key, 426},
		{"live without upgrade", "/v1/ws/live", key, 426},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, base+tc.url, tc.h)
			if code != tc.want {
				t.Fatalf("got %d %s, want %d", code, body, tc.want)
			}
			if tc.name == "snapshot" {
				s, err := scorelytics.ParseSnapshot(body)
				if err != nil || s.ID != "m1" || s.StatusCode != scorelytics.StatusScheduled || s.HomeTeam != "England" && s.HomeTeam != "Pakistan" {
					t.Fatalf("snapshot %+v, %v", s, err)
				}
			}
		})
	}
	ws := strings.Replace(base, "http", "ws", 1)
	for _, tc := range []struct {
		path string
		h    http.Header
		want int
	}{{"/v1/ws/match/m1", nil, 401}, {"/v1/ws/match/zz", key, 404}} {
		_, resp, err := websocket.Dial(t.Context(), ws+tc.path, &websocket.DialOptions{HTTPHeader: tc.h})
		if err == nil || resp == nil || resp.StatusCode != tc.want {
			t.Fatalf("dial %s: got %v, want HTTP %d", tc.path, err, tc.want)
		}
	}
}

// TestDeltasFollowSnapshot: the frames after a snapshot apply on top of it
// with no gap: every delta a connection receives is the next step.
func TestDeltasFollowSnapshot(t *testing.T) {
	sim, base := start(t, Config{Interval: time.Millisecond})
	c, _, err := websocket.Dial(t.Context(), strings.Replace(base, "http", "ws", 1)+"/v1/ws/live?api_key=sk_test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	tr := scorelytics.NewTracker("m1")
	var balls int
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for !tr.Finished() {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		f, err := scorelytics.ParseFrame(b)
		if err != nil {
			t.Fatalf("frame %s: %v", b, err)
		}
		if f.Status != nil && f.Status.To == scorelytics.StatusFinished {
			break
		}
		evs, resync := tr.ApplyFrame(f)
		if resync {
			// Only innings starts ask for one when nothing is missed.
			var s scorelytics.Snapshot
			code, body := get(t, base+"/v1/cricket/matches/m1?api_key=sk_test", nil)
			if code != 200 || json.Unmarshal(body, &s) != nil {
				t.Fatalf("snapshot: %d", code)
			}
			evs = append(evs, tr.ApplySnapshot(&s)...)
		}
		for _, ev := range evs {
			if ev.Kind == event.KindBall {
				balls++
			}
		}
	}
	if balls < 200 || sim.Stats().Pushes == 0 {
		t.Fatalf("%d balls; stats %+v", balls, sim.Stats())
	}
}

func TestFaults(t *testing.T) {
	sim, base := start(t, Config{Interval: 2 * time.Millisecond, Faults: Faults{DropEvery: 300 * time.Millisecond, MalformedEvery: 3, DuplicateEvery: 4}})
	c, _, err := websocket.Dial(t.Context(), strings.Replace(base, "http", "ws", 1)+"/v1/ws/match/m1", &websocket.DialOptions{HTTPHeader: http.Header{"X-Api-Key": {"sk_test"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var malformed, dups int
	var last string
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				t.Fatal("connection was not dropped")
			}
			break
		}
		if _, err := scorelytics.ParseFrame(b); err != nil {
			malformed++
		}
		if string(b) == last {
			dups++
		}
		last = string(b)
	}
	if malformed == 0 || dups == 0 {
		t.Fatalf("%d malformed, %d duplicated frames before the drop; want both", malformed, dups)
	}
	if st := sim.Stats(); st.Drops == 0 {
		t.Fatalf("stats %+v: no drop", st)
	}
}
