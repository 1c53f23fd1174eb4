package sgosim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/pusher"
	"github.com/ballcast/ballcast/core/source/replay"
	sgo "github.com/ballcast/ballcast/core/source/sportsgameodds"
)

func newSim(t *testing.T, cfg Config) (*Simulator, *httptest.Server) {
	t.Helper()
	evs, err := replay.Parse("m1", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIKey = "k"
	s, err := New(cfg, map[string][]event.Event{"m1": evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func get(t *testing.T, u string, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestRESTAnswers checks the status codes and shapes of the REST
// endpoints for good and bad requests.
func TestRESTAnswers(t *testing.T) {
	_, hs := newSim(t, Config{})
	key := map[string]string{"x-api-key": "k"}
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		status     int
		has        string
	}{
		{"no key", "/v2/stream/events?feed=events:live", nil, 401, `"success":false`},
		{"key as query parameter", "/v2/stream/events?feed=events:live&apiKey=k", nil, 200, `"channel":"private-sgo-live"`},
		{"bad feed", "/v2/stream/events?feed=events:all", key, 400, "Invalid feed"},
		{"upcoming without league", "/v2/stream/events?feed=events:upcoming", key, 400, "leagueID"},
		{"upcoming", "/v2/stream/events?feed=events:upcoming&leagueID=CRICKET", key, 200, `"eventID":"m1"`},
		{"byid unknown", "/v2/stream/events?feed=events:byid&eventID=nope", key, 404, "not found"},
		{"byid", "/v2/stream/events?feed=events:byid&eventID=m1", key, 200, `"pusherKey":"sgosim-key"`},
		{"events", "/v2/events?eventIDs=m1,nope", key, 200, `"eventID":"m1"`},
		{"events no key", "/v2/events?eventIDs=m1", nil, 401, "API key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, hs.URL+tc.path, tc.hdr)
			if code != tc.status || !strings.Contains(string(body), tc.has) {
				t.Fatalf("HTTP %d %s; want %d containing %q", code, body, tc.status, tc.has)
			}
		})
	}
}

// TestPusherWire connects with a bare WebSocket and checks the frames as
// they go over the wire: connection_established, the auth endpoint, the
// subscription, and a notification double-encoded as Pusher sends it.
func TestPusherWire(t *testing.T) {
	sim, hs := newSim(t, Config{Interval: time.Millisecond})
	_, body := get(t, hs.URL+"/v2/stream/events?feed=events:byid&eventID=m1", map[string]string{"x-api-key": "k"})
	var si sgo.StreamInfo
	if err := json.Unmarshal(body, &si); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	ws := strings.Replace(hs.URL, "http://", "ws://", 1) + "/app/" + si.PusherKey + "?protocol=7&client=test&version=1"
	c, _, err := websocket.Dial(ctx, ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow() //nolint:errcheck // test
	read := func() pusher.Frame {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f, err := pusher.ParseFrame(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if len(f.Data) > 0 && f.Data[0] != '"' {
			t.Fatalf("server frame %s: data is not a JSON string", b)
		}
		return f
	}
	est := read()
	var hsData struct {
		SocketID string `json:"socket_id"`
	}
	if est.Event != "pusher:connection_established" || json.Unmarshal(est.Decoded(), &hsData) != nil {
		t.Fatalf("first frame %+v", est)
	}
	// A bad token is refused; the stream's token signs.
	form := url.Values{"socket_id": {hsData.SocketID}, "channel_name": {si.Channel}}
	post := func(token string) (int, pusher.Authorization) {
		req, _ := http.NewRequest(http.MethodPost, si.PusherOptions.ChannelAuthorization.Endpoint, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("x-stream-token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a pusher.Authorization
		json.NewDecoder(resp.Body).Decode(&a) //nolint:errcheck // checked by the caller
		return resp.StatusCode, a
	}
	if code, _ := post("bogus"); code != http.StatusForbidden {
		t.Fatalf("auth with a bad token: HTTP %d, want 403", code)
	}
	code, a := post(si.PusherOptions.ChannelAuthorization.Headers["x-stream-token"])
	if code != http.StatusOK || a.Auth != pusher.Sign("sgosim-key", "sgosim-secret", hsData.SocketID, si.Channel, "") {
		t.Fatalf("auth: HTTP %d %+v", code, a)
	}
	sub, _ := json.Marshal(map[string]any{"event": "pusher:subscribe", "data": map[string]string{"channel": si.Channel, "auth": a.Auth}})
	if err := c.Write(ctx, websocket.MessageText, sub); err != nil {
		t.Fatal(err)
	}
	if f := read(); f.Event != "pusher_internal:subscription_succeeded" || f.Channel != si.Channel {
		t.Fatalf("after subscribe: %+v", f)
	}
	go sim.Run(ctx) //nolint:errcheck // ends with ctx
	f := read()
	if f.Event != "data" || f.Channel != si.Channel || string(f.Decoded()) != `[{"eventID":"m1"}]` {
		t.Fatalf("notification %+v (data %s), want [{\"eventID\":\"m1\"}] on %s", f, f.Data, si.Channel)
	}
}
