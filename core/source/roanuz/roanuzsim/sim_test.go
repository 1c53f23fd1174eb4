package roanuzsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/socketio"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/roanuz"
)

const key = "icc_wc_2022_final"

// start runs a simulator of the bundled match; Run is driven by the test's
// context and stops at cleanup.
func start(t *testing.T, cfg Config) (*Simulator, *httptest.Server) {
	t.Helper()
	sim, srv, run := startPaused(t, cfg)
	run()
	return sim, srv
}

// startPaused serves a simulator whose clock starts only when run is
// called, so a test can join before the first delivery or fault.
func startPaused(t *testing.T, cfg Config) (sim *Simulator, srv *httptest.Server, run func()) {
	t.Helper()
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	cfg.ProjectKey, cfg.APIKey = "proj", "secret"
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Millisecond
	}
	sim, err = New(cfg, map[string][]event.Event{key: evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(sim.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var once sync.Once
	run = func() { once.Do(func() { go func() { done <- sim.Run(ctx) }() }) }
	t.Cleanup(func() {
		run() // so that done is always sent
		cancel()
		<-done
		srv.Close()
	})
	return sim, srv, run
}

func post(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(b))
	if token != "" {
		req.Header.Set("rs-token", token)
	}
	return do(t, req)
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	req.Header.Set("rs-token", token)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body) //nolint:errcheck // test
	return res.StatusCode, buf.Bytes()
}

func token(t *testing.T, base string) string {
	t.Helper()
	code, body := post(t, base+"/v5/core/proj/auth/", "", map[string]string{"api_key": "secret"})
	if code != 200 {
		t.Fatalf("auth: %d %s", code, body)
	}
	a, err := roanuz.DecodeAuth(body)
	if err != nil {
		t.Fatal(err)
	}
	return a.Token
}

func join(t *testing.T, base, tok string) (*socketio.Conn, *socketio.Socket) {
	t.Helper()
	conn, err := socketio.Dial(t.Context(), base, &socketio.Options{Path: "/v5/websocket"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	sock, err := conn.Join(t.Context(), "/cricket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sock.Emit(t.Context(), "connect_to_match", map[string]string{"token": tok, "match_key": key}); err != nil {
		t.Fatal(err)
	}
	return conn, sock
}

func next(t *testing.T, sock *socketio.Socket) socketio.Event {
	t.Helper()
	select {
	case ev, ok := <-sock.Events():
		if !ok {
			t.Fatalf("socket ended: %v", sock.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return socketio.Event{}
}

func TestRESTAuthAndErrors(t *testing.T) {
	_, srv := start(t, Config{Interval: time.Hour})
	base := srv.URL
	if code, _ := post(t, base+"/v5/core/proj/auth/", "", map[string]string{"api_key": "wrong"}); code != 400 {
		t.Fatalf("bad api key: got %d, want 400", code)
	}
	if code, _ := post(t, base+"/v5/core/other/auth/", "", map[string]string{"api_key": "secret"}); code != 400 {
		t.Fatalf("bad project: got %d, want 400", code)
	}
	tok := token(t, base)
	if code, body := get(t, base+"/v5/cricket/proj/match/"+key+"/", "nope"); code != 401 || !bytes.Contains(body, []byte("A-401-0")) {
		t.Fatalf("bad token: got %d %s, want 401 A-401-0", code, body)
	}
	if code, _ := get(t, base+"/v5/cricket/proj/match/unknown/", tok); code != 400 {
		t.Fatalf("unknown match: got %d, want 400", code)
	}
	code, body := get(t, base+"/v5/cricket/proj/match/"+key+"/", tok)
	if code != 200 {
		t.Fatalf("match: %d %s", code, body)
	}
	env, err := roanuz.DecodeUpdate(body, 1<<25)
	if err != nil || env.Data.Key != key {
		t.Fatalf("match document: %v %+v", err, env)
	}
}

func TestPushesEveryDeliveryInEveryEncoding(t *testing.T) {
	for _, enc := range roanuz.Encodings() {
		t.Run(enc.String(), func(t *testing.T) {
			sim, srv := start(t, Config{Encoding: enc.String(), Interval: time.Millisecond})
			tok := token(t, srv.URL)
			_, sock := join(t, srv.URL, tok)
			if ev := next(t, sock); ev.Name != "on_error" || !bytes.Contains(ev.Args[0].JSON(), []byte("not_subscribed")) {
				t.Fatalf("join before subscribe: got %s %s, want on_error not_subscribed", ev.Name, ev.Args[0].JSON())
			}
			if code, body := post(t, srv.URL+"/v5/cricket/proj/match/"+key+"/subscribe/", tok, map[string]string{"method": "web_socket"}); code != 200 {
				t.Fatalf("subscribe: %d %s", code, body)
			}
			if err := sock.Emit(t.Context(), "connect_to_match", map[string]string{"token": tok, "match_key": key}); err != nil {
				t.Fatal(err)
			}
			if ev := next(t, sock); ev.Name != "on_match_joined" {
				t.Fatalf("got %s, want on_match_joined", ev.Name)
			}
			// The default encoding plays the whole match; the others 20 updates.
			whole := enc == roanuz.EncodeGzip
			var last string
			for n := 0; whole || n < 20; n++ {
				ev := next(t, sock)
				if ev.Name != "on_match_update" {
					t.Fatalf("got %s, want on_match_update", ev.Name)
				}
				payload := ev.Args[0].Bytes()
				if !ev.Args[0].IsBinary() {
					payload = ev.Args[0].JSON()
				}
				env, err := roanuz.DecodeUpdate(payload, 1<<25)
				if err != nil {
					t.Fatalf("update does not decode: %v", err)
				}
				if lk := env.Data.Play.Live; lk != nil && lk.LastBallKey != "" {
					last = lk.LastBallKey
				}
				if env.Data.Status == "completed" {
					break
				}
			}
			if last == "" || whole && !sim.Finished() {
				t.Fatalf("last ball key %q, finished %v", last, sim.Finished())
			}
		})
	}
}

func TestFaults(t *testing.T) {
	// The clock starts once the client has joined: the token expires at
	// the third delivery, and the drop a second later leaves time for
	// several malformed updates (every third) even on a starved machine.
	sim, srv, run := startPaused(t, Config{Interval: 2 * time.Millisecond, Faults: Faults{DropEvery: time.Second, MalformedEvery: 3, DuplicateEvery: 5, ExpireTokenAt: 3}})
	tok := token(t, srv.URL)
	post(t, srv.URL+"/v5/cricket/proj/match/"+key+"/subscribe/", tok, map[string]string{"method": "web_socket"})
	conn, sock := join(t, srv.URL, tok)
	run()
	var malformed int
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
loop:
	for {
		select {
		case ev, ok := <-sock.Events():
			if !ok {
				break loop
			}
			if ev.Name == "on_match_update" && ev.Args[0].IsBinary() {
				if _, err := roanuz.DecodeUpdate(ev.Args[0].Bytes(), 1<<25); errors.Is(err, roanuz.ErrBadEncoding) {
					malformed++
				}
			}
		case <-ctx.Done():
			t.Fatal("connection was not dropped")
		}
	}
	<-conn.Done()
	if malformed == 0 {
		t.Fatal("no malformed update arrived before the drop")
	}
	// The token expired at the third delivery, before the drop at 1 s.
	if code, _ := get(t, srv.URL+"/v5/cricket/proj/match/"+key+"/", tok); code != 401 {
		t.Fatalf("expired token: got %d, want 401", code)
	}
	st := sim.Stats()
	if st.Drops == 0 || st.Duplicates == 0 || st.Malformed == 0 {
		t.Fatalf("stats %+v: want drops, duplicates and malformed updates", st)
	}
}
