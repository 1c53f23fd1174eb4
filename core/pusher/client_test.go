package pusher

import (
	"encoding/json"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
)

// TestPeerPublicAndPrivateChannels subscribes to a public and a private
// channel on soketi (the private one authorised through an auth endpoint
// with the headers given), triggers events through soketi's HTTP API and
// checks they arrive on the right channel with their data decoded.
func TestPeerPublicAndPrivateChannels(t *testing.T) {
	t.Parallel()
	sk := sharedSoketi(t)
	auth := newAuthServer(t)
	o := sk.options(appKey)
	o.AuthEndpoint = auth.URL
	o.AuthHeaders = map[string]string{"X-Test": "sgo"}
	c := mustNew(t, o)
	c.Subscribe("events-live")
	c.Subscribe("private-events")
	rec := newRecorder()
	running(t, c, rec)

	est := rec.next(t, "pusher:connection_established")
	var hs struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal(est.Data, &hs); err != nil || hs.SocketID == "" || hs.ActivityTimeout != 30 {
		t.Fatalf("connection_established data %s (%v): want socket_id and soketi's activity_timeout 30", est.Data, err)
	}
	got := map[string]bool{}
	for range 2 {
		got[rec.next(t, "pusher:subscription_succeeded").Channel] = true
	}
	if !got["events-live"] || !got["private-events"] {
		t.Fatalf("subscribed to %v, want both channels", got)
	}
	if n := auth.requests.Load(); n != 1 {
		t.Fatalf("auth endpoint called %d times, want 1 (private channel only)", n)
	}
	if h, _ := auth.lastHeader.Load().(string); h != "sgo" {
		t.Fatalf("auth request header X-Test = %q, want the configured one", h)
	}

	sk.trigger(t, "events-live", "data", `[{"eventID":"A"},{"eventID":"B"}]`)
	ev := rec.next(t, "data")
	if ev.Channel != "events-live" || eventIDs(t, ev.Data) != "[A B]" {
		t.Fatalf("got %s on %q, want [A B] on events-live", ev.Data, ev.Channel)
	}
	sk.trigger(t, "private-events", "data", `[{"eventID":"P"}]`)
	if ev := rec.next(t, "data"); ev.Channel != "private-events" || eventIDs(t, ev.Data) != "[P]" {
		t.Fatalf("got %s on %q, want [P] on private-events", ev.Data, ev.Channel)
	}
	// A string that is not JSON stays a string.
	sk.trigger(t, "events-live", "note", "plain text")
	if ev := rec.next(t, "note"); string(ev.Data) != `"plain text"` {
		t.Fatalf("note data %s, want the JSON string \"plain text\"", ev.Data)
	}
	// Unsubscribed channels stop delivering.
	c.Unsubscribe("events-live")
	sk.trigger(t, "events-live", "data", `[{"eventID":"gone"}]`)
	sk.trigger(t, "private-events", "data", `[{"eventID":"Q"}]`)
	if ev := rec.next(t, "data"); eventIDs(t, ev.Data) != "[Q]" {
		t.Fatalf("after unsubscribing got %s on %s, want only [Q] on private-events", ev.Data, ev.Channel)
	}
}

// TestPeerPrivateChannelRefused: an auth endpoint that refuses, and one
// that signs with the wrong secret (soketi rejects the signature), both
// surface as pusher:subscription_error while the connection stays up.
func TestPeerPrivateChannelRefused(t *testing.T) {
	t.Parallel()
	sk := sharedSoketi(t)
	for _, tc := range []struct {
		name       string
		setup      func(*authServer)
		wantStatus float64
	}{
		{"endpoint answers 403", func(a *authServer) { a.reject.Store(true) }, 403},
		{"wrong signature", func(a *authServer) { a.wrongSecret.Store(true) }, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			auth := newAuthServer(t)
			tc.setup(auth)
			o := sk.options(appKey)
			o.AuthEndpoint = auth.URL
			c := mustNew(t, o)
			c.Subscribe("private-x")
			c.Subscribe("public-x")
			rec := newRecorder()
			running(t, c, rec)
			ev := rec.next(t, "pusher:subscription_error")
			var d struct {
				Type   string  `json:"type"`
				Status float64 `json:"status"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil || ev.Channel != "private-x" || d.Type != "AuthError" || d.Status != tc.wantStatus {
				t.Fatalf("subscription_error %s on %q: want AuthError %v on private-x", ev.Data, ev.Channel, tc.wantStatus)
			}
			sk.trigger(t, "public-x", "data", `[{"eventID":"still"}]`)
			if ev := rec.next(t, "data"); eventIDs(t, ev.Data) != "[still]" {
				t.Fatalf("public channel got %s", ev.Data)
			}
			if st := c.Stats(); st.Connections != 1 || st.SubscriptionErrors != 1 {
				t.Fatalf("stats %+v: want one connection kept and one subscription error", st)
			}
		})
	}
}

// TestPeerPingPong: with a short activity timeout the client pings soketi
// when the line is quiet and soketi's pong keeps the connection.
func TestPeerPingPong(t *testing.T) {
	t.Parallel()
	sk := sharedSoketi(t)
	o := sk.options(appKey)
	o.ActivityTimeout = 100 * time.Millisecond
	o.PongTimeout = 5 * time.Second
	c := mustNew(t, o)
	rec := newRecorder()
	running(t, c, rec)
	rec.next(t, "pusher:connection_established")
	polltest.Until(t, "three pongs", func() bool { return c.Stats().PongsReceived >= 3 })
	if st := c.Stats(); st.Connections != 1 || st.PongTimeouts != 0 || st.PingsSent < 3 {
		t.Fatalf("stats %+v: want pings answered on one connection", st)
	}
}

// TestPeerPongTimeout freezes soketi (SIGSTOP): the client's ping goes
// unanswered, it drops the connection after PongTimeout and reconnects
// and resubscribes once soketi runs again.
func TestPeerPongTimeout(t *testing.T) {
	sk := startSoketi(t, 0)
	o := sk.options(appKey)
	o.ActivityTimeout = 100 * time.Millisecond
	o.PongTimeout = 200 * time.Millisecond
	o.HandshakeTimeout = 300 * time.Millisecond
	c := mustNew(t, o)
	c.Subscribe("events")
	rec := newRecorder()
	running(t, c, rec)
	rec.next(t, "pusher:subscription_succeeded")
	if err := sk.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	polltest.Until(t, "a pong timeout", func() bool { return c.Stats().PongTimeouts >= 1 })
	if err := sk.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	rec.next(t, "pusher:connection_established") // the second one
	rec.next(t, "pusher:subscription_succeeded")
	sk.trigger(t, "events", "data", `[{"eventID":"after"}]`)
	if ev := rec.next(t, "data"); eventIDs(t, ev.Data) != "[after]" {
		t.Fatalf("after reconnect got %s", ev.Data)
	}
	if st := c.Stats(); st.Connections < 2 {
		t.Fatalf("stats %+v: want a second connection", st)
	}
}

// TestPeerRestart stops soketi gracefully (pusher:error 4200, "reconnect
// shortly"), starts a new one behind the same address, and checks the
// client reconnects, subscribes every channel again and receives events.
func TestPeerRestart(t *testing.T) {
	sk := startSoketi(t, 0)
	proxy := newTCPProxy(t, sk.Port)
	auth := newAuthServer(t)
	o := sk.options(appKey)
	o.WSPort = proxy.port()
	o.AuthEndpoint = auth.URL
	c := mustNew(t, o)
	c.Subscribe("events")
	c.Subscribe("private-events")
	rec := newRecorder()
	running(t, c, rec)
	rec.next(t, "pusher:subscription_succeeded")
	rec.next(t, "pusher:subscription_succeeded")
	sk.stop(t)
	if e := rec.next(t, "pusher:error"); !strings.Contains(string(e.Data), "4200") {
		t.Fatalf("pusher:error %s, want code 4200", e.Data)
	}
	sk2 := startSoketi(t, 0)
	proxy.backend.Store(int64(sk2.Port))
	rec.next(t, "pusher:connection_established")
	subs := map[string]bool{}
	for range 2 {
		subs[rec.next(t, "pusher:subscription_succeeded").Channel] = true
	}
	if !subs["events"] || !subs["private-events"] {
		t.Fatalf("resubscribed to %v, want both channels", subs)
	}
	sk2.trigger(t, "private-events", "data", `[{"eventID":"R"}]`)
	if ev := rec.next(t, "data"); eventIDs(t, ev.Data) != "[R]" {
		t.Fatalf("after restart got %s", ev.Data)
	}
	if st := c.Stats(); st.LastCode != 4200 || st.Connections != 2 || auth.requests.Load() != 2 {
		t.Fatalf("stats %+v, auth requests %d: want code 4200, two connections, the private channel authorised again", st, auth.requests.Load())
	}
}

// TestPeerRefused: soketi refuses an unknown key (4001) and a disabled
// app (4003); both are 4000–4099, so Run ends at once without retrying.
func TestPeerRefused(t *testing.T) {
	t.Parallel()
	sk := sharedSoketi(t)
	for _, tc := range []struct {
		key  string
		code int
	}{{"no-such-key", 4001}, {"off-key", 4003}} {
		t.Run(tc.key, func(t *testing.T) {
			c := mustNew(t, sk.options(tc.key))
			rec := newRecorder()
			done, _ := running(t, c, rec)
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Run still retrying a refused key")
			}
			var pe *Error
			if !errors.Is(err, ErrRefused) || !errors.As(err, &pe) || pe.Code != tc.code {
				t.Fatalf("Run = %v, want ErrRefused with code %d", err, tc.code)
			}
			if st := c.Stats(); st.ServerErrors != 1 || st.Connections != 0 {
				t.Fatalf("stats %+v: want exactly one attempt", st)
			}
		})
	}
}

// TestPeerOverQuota: soketi answers 4100 (over connection quota) while
// another client holds the app's only connection; the client retries after
// RetryLaterDelay and gets in once the other leaves.
func TestPeerOverQuota(t *testing.T) {
	t.Parallel()
	sk := sharedSoketi(t)
	first := mustNew(t, sk.options("quota-key"))
	rec1 := newRecorder()
	_, stop1 := running(t, first, rec1)
	rec1.next(t, "pusher:connection_established")

	o := sk.options("quota-key")
	o.RetryLaterDelay = 50 * time.Millisecond
	second := mustNew(t, o)
	rec2 := newRecorder()
	running(t, second, rec2)
	if e := rec2.next(t, "pusher:error"); !strings.Contains(string(e.Data), "4100") {
		t.Fatalf("pusher:error %s, want 4100", e.Data)
	}
	rec2.next(t, "pusher:error") // it retried and was refused again
	stop1()                      //nolint:errcheck // ctx error
	rec2.next(t, "pusher:connection_established")
	if st := second.Stats(); st.LastCode != 4100 || st.ServerErrors < 2 {
		t.Fatalf("stats %+v: want retries after 4100", st)
	}
}
