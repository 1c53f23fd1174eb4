package roanuz

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/internal/polltest"
)

func TestSourceTwoMatchesOneConnection(t *testing.T) {
	_, evs := bundled(t)
	want := ballsOf(evs)
	keys := []string{"rz_one", "rz_two"}
	var gens []*Generator
	for _, k := range keys {
		g, err := NewGenerator(k, evs)
		if err != nil {
			t.Fatal(err)
		}
		gens = append(gens, g)
	}
	api := newFakeAPI(t, gens...)
	sock := startSockPeer(t)
	r := startSource(t, testConfig(api, sock.url(), keys...))
	for _, k := range keys {
		polltest.Within(t, waitLimit, k+" joined", func() bool { return sock.roomSize(k) == 1 })
	}
	for i := 0; i < gens[0].Len(); i++ {
		for _, k := range keys {
			sock.push(k, api.document(k, i, EncodeGzip), true)
		}
	}
	got := map[string][]event.Event{}
	completed := 0
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for completed < len(keys) {
		select {
		case ev := <-r.out:
			got[ev.Match] = append(got[ev.Match], ev)
			if ev.Kind == event.KindStatus && ev.Status.State == event.StateCompleted {
				completed++
			}
		case <-deadline.C:
			t.Fatalf("only %d of %d matches completed", completed, len(keys))
		}
	}
	for _, k := range keys {
		id := strings.TrimPrefix(k, "rz_")
		balls := ballsOf(got[id])
		if len(balls) != len(want) {
			t.Fatalf("match %s: got %d balls, want %d", id, len(balls), len(want))
		}
		for i := range balls {
			if wantID := id + strings.TrimPrefix(want[i].ID, want[i].Match); balls[i].ID != wantID {
				t.Fatalf("match %s ball %d: got %s, want %s", id, i, balls[i].ID, wantID)
			}
		}
	}
	if st := r.src.Stats(); st.Connects != 1 {
		t.Fatalf("Connects = %d, want 1: every match shares one connection", st.Connects)
	}
}

// A token the server stops accepting: the next REST call gets 401, the
// source refreshes once, retries, and re-sends connect_to_match with it.
func TestSourceRESTUnauthorizedRefreshes(t *testing.T) {
	_, evs := bundled(t)
	g, err := NewGenerator("rz_m", evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	sock := startSockPeer(t)
	r := startSource(t, testConfig(api, sock.url(), "rz_m"))
	polltest.Within(t, waitLimit, "joined", func() bool { return r.src.Stats().Joins == 1 })
	api.mu.Lock()
	delete(api.tokens, "tok-1")
	api.mu.Unlock()
	sock.call(http.MethodPost, "/drop", nil, nil) // the reconnect subscribes over REST
	polltest.Within(t, waitLimit, "connect_to_match with tok-2", func() bool {
		for _, j := range sock.joins() {
			if j.Token == "tok-2" {
				return true
			}
		}
		return false
	})
	polltest.Within(t, waitLimit, "joined again", func() bool { return r.src.Stats().Joins >= 2 })
	api.mu.Lock()
	unauth, auths := api.unauth, api.calls["auth"]
	api.mu.Unlock()
	if unauth != 1 || auths != 2 {
		t.Fatalf("401s = %d, auth calls = %d; want one 401 and one refresh", unauth, auths)
	}
}

func TestServerError(t *testing.T) {
	cases := []struct {
		name, payload, key, msg string
	}{
		{"json string with error object", `"{\"error\":{\"code\":\"not_subscribed\",\"message\":\"match not subscribed\"},\"match_key\":\"k1\"}"`, "k1", "not_subscribed match not subscribed"},
		{"flat object", `{"code":"not_subscribed","key":"k2"}`, "k2", "not_subscribed"},
		{"plain string", `"not_subscribed"`, "", "not_subscribed"},
		{"unknown object", `{"foo":1}`, "", `{"foo":1}`},
		{"empty", ``, "", "(no payload)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key, msg := serverError([]byte(tc.payload))
			if key != tc.key || msg != tc.msg {
				t.Fatalf("got (%q, %q), want (%q, %q)", key, msg, tc.key, tc.msg)
			}
		})
	}
}

// No on_match_joined: after each join_timeout the source subscribes and
// emits again; after three misses it reconnects; once the server answers,
// the match is joined and resynchronised.
func TestSourceJoinTimeout(t *testing.T) {
	_, evs := bundled(t)
	g, err := NewGenerator("rz_m", evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	sock := startSockPeer(t)
	sock.call(http.MethodPost, "/nojoin", map[string]bool{"off": true}, nil)
	cfg := testConfig(api, sock.url(), "rz_m")
	cfg.JoinTimeout = 100 * time.Millisecond
	r := startSource(t, cfg)
	polltest.Within(t, waitLimit, "a reconnect after three join timeouts", func() bool { return r.src.Stats().Connects >= 2 })
	if n := len(sock.joins()); n < 3 {
		t.Fatalf("%d connect_to_match before reconnecting, want >= 3", n)
	}
	if n := api.count("subscribe rz_m"); n < 4 {
		t.Fatalf("%d subscribe calls, want >= 4 (one per connection and per timeout)", n)
	}
	sock.call(http.MethodPost, "/nojoin", map[string]bool{"off": false}, nil)
	polltest.Within(t, waitLimit, "joined and resynchronised", func() bool {
		st := r.src.Stats()
		return st.Joins >= 1 && st.Resyncs >= 1
	})
}

func FuzzServerError(f *testing.F) {
	for _, s := range []string{`"not_subscribed"`, `{"error":{"code":"x"}}`, `"{\"key\":1}"`, ``, `null`, `[1]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, msg := serverError(raw)
		if msg == "" {
			t.Fatalf("empty message for %q", raw)
		}
	})
}
