package pusher

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
)

// startServer serves a Server for key/secret on httptest, with an auth
// endpoint at /auth that signs like an app backend.
func startServer(t testing.TB, opts ServerOptions) (*Server, *httptest.Server) {
	t.Helper()
	s := NewServer(opts)
	mux := http.NewServeMux()
	mux.Handle("/app/", s)
	mux.HandleFunc("POST /auth", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()                                                                                                                                //nolint:errcheck // empty form fails the signature
		json.NewEncoder(w).Encode(Authorization{Auth: Sign(opts.Key, opts.Secret, r.PostForm.Get("socket_id"), r.PostForm.Get("channel_name"), "")}) //nolint:errcheck // test
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return s, hs
}

func serverOptions(hs *httptest.Server, key string) Options {
	host, port, _ := strings.Cut(strings.TrimPrefix(hs.URL, "http://"), ":")
	o := Options{Key: key, WSHost: host, Insecure: true, AuthEndpoint: hs.URL + "/auth",
		BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, RetryLaterDelay: 30 * time.Millisecond}
	o.WSPort = atoi(port)
	return o
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestServerFaultsAndReconnect drives the client through the server's
// faults: every code range's reconnect rule, an abrupt drop, and the
// server's own ping, checking the client resubscribes each time.
func TestServerFaultsAndReconnect(t *testing.T) {
	srv, hs := startServer(t, ServerOptions{Key: "k", Secret: "s", ActivityTimeout: time.Second})
	c := mustNew(t, serverOptions(hs, "k"))
	c.Subscribe("private-feed")
	rec := newRecorder()
	running(t, c, rec)
	rec.next(t, "pusher:subscription_succeeded")

	for _, tc := range []struct {
		name string
		do   func()
		code int
	}{
		{"4200 reconnect now", func() { srv.ErrorAll(context.Background(), 4200, "Generic reconnect") }, 4200},
		{"4100 reconnect later", func() { srv.ErrorAll(context.Background(), 4100, "Over capacity") }, 4100},
		{"4201 pong not received", func() { srv.ErrorAll(context.Background(), 4201, "Pong reply not received") }, 4201},
		{"drop", func() { srv.DropAll() }, 4201},
	} {
		before := c.Stats().Connections
		tc.do()
		rec.next(t, "pusher:subscription_succeeded")
		if n := srv.Trigger(context.Background(), "private-feed", "data", []map[string]string{{"eventID": tc.name}}); n != 1 {
			t.Fatalf("%s: trigger reached %d connections, want 1", tc.name, n)
		}
		if ev := rec.next(t, "data"); eventIDs(t, ev.Data) != "["+tc.name+"]" {
			t.Fatalf("%s: got %s", tc.name, ev.Data)
		}
		if st := c.Stats(); st.Connections != before+1 || st.LastCode != tc.code {
			t.Fatalf("%s: stats %+v, want one new connection and last code %d", tc.name, st, tc.code)
		}
	}
	// The server pings after its activity timeout when the client is
	// quiet (the client's own timeout is longer); the client answers.
	polltest.Until(t, "the server's ping answered", func() bool { return c.Stats().PingsAnswered >= 1 })
	if st := srv.Stats(); st.PingsSent < 1 || st.AuthFailures != 0 {
		t.Fatalf("server stats %+v", st)
	}
}

// TestServerRefusesWrongKey: 4001 ends Run after one attempt.
func TestServerRefusesWrongKey(t *testing.T) {
	_, hs := startServer(t, ServerOptions{Key: "k", Secret: "s"})
	c := mustNew(t, serverOptions(hs, "wrong"))
	done, _ := running(t, c, newRecorder())
	select {
	case err := <-done:
		var pe *Error
		if !errors.Is(err, ErrRefused) || !errors.As(err, &pe) || pe.Code != 4001 {
			t.Fatalf("Run = %v, want ErrRefused 4001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept retrying a refused key")
	}
}

// TestMaxAttempts: a server that is not there ends Run after MaxAttempts
// failed dials, naming the cause.
func TestMaxAttempts(t *testing.T) {
	_, hs := startServer(t, ServerOptions{Key: "k", Secret: "s"})
	o := serverOptions(hs, "k")
	hs.Close()
	o.MaxAttempts = 3
	c := mustNew(t, o)
	done, _ := running(t, c, newRecorder())
	select {
	case err := <-done:
		if !errors.Is(err, ErrAttempts) || !strings.Contains(err.Error(), "dial") {
			t.Fatalf("Run = %v, want ErrAttempts naming the dial", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not give up")
	}
}

func TestURL(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Key: "abc", Cluster: "mt1"}, "wss://ws-mt1.pusher.com:443/app/abc?client=ballcast-go&flash=false&protocol=7&version=1.0.0"},
		{Options{Key: "abc", WSHost: "stream.example", WSPort: 6001, Insecure: true, WSPath: "/ws/"}, "ws://stream.example:6001/ws/app/abc?client=ballcast-go&flash=false&protocol=7&version=1.0.0"},
		{Options{Key: "abc", WSHost: "stream.example", WSSPort: 8443}, "wss://stream.example:8443/app/abc?client=ballcast-go&flash=false&protocol=7&version=1.0.0"},
	} {
		if got := mustNew(t, tc.o).URL(); got != tc.want {
			t.Errorf("URL = %s, want %s", got, tc.want)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without a key succeeded")
	}
}
