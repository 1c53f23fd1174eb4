package broadcast_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
)

func TestSetEpoch(t *testing.T) {
	tests := []struct {
		name    string
		epoch   string
		wantErr error
	}{
		{name: "stream creation time", epoch: "feed:2026-11-23T20:00:00.123456789Z"},
		{name: "longest", epoch: strings.Repeat("e", broadcast.MaxEpoch)},
		{name: "empty", epoch: "", wantErr: broadcast.ErrBadEpoch},
		{name: "too long", epoch: strings.Repeat("e", broadcast.MaxEpoch+1), wantErr: broadcast.ErrBadEpoch},
		{name: "space", epoch: "a b", wantErr: broadcast.ErrBadEpoch},
		{name: "newline", epoch: "a\nid: 9", wantErr: broadcast.ErrBadEpoch},
		{name: "non-ascii", epoch: "é", wantErr: broadcast.ErrBadEpoch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := broadcast.NewHub(broadcast.Config{}, zerologNop)
			if err != nil {
				t.Fatalf("NewHub: %v", err)
			}
			before := h.Epoch()
			err = h.SetEpoch(tc.epoch)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("SetEpoch(%q): got %v, want %v", tc.epoch, err, tc.wantErr)
			}
			want := tc.epoch
			if tc.wantErr != nil {
				want = before
			}
			if h.Epoch() != want {
				t.Fatalf("Epoch: got %q, want %q", h.Epoch(), want)
			}
		})
	}
	// The default is random per hub.
	a, _ := broadcast.NewHub(broadcast.Config{}, zerologNop)
	b, _ := broadcast.NewHub(broadcast.Config{}, zerologNop)
	if a.Epoch() == b.Epoch() || len(a.Epoch()) != 25 {
		t.Fatalf("default epochs: got %q and %q, want two different random ones", a.Epoch(), b.Epoch())
	}
	// Not once running.
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot) // Run has started
	if err := env.hub.SetEpoch("late"); !errors.Is(err, broadcast.ErrRunning) {
		t.Fatalf("SetEpoch after Run: got %v, want %v", err, broadcast.ErrRunning)
	}
}

// TestEpochAcrossRestart restarts the server: a hub rebuilt from the same
// feed with the same epoch resumes a client exactly; a hub whose feed was
// recreated (another epoch) answers the same resume with a reset.
func TestEpochAcrossRestart(t *testing.T) {
	const epoch = "feed:1763900000"
	first := startHub(t, broadcast.Config{}, &envOptions{epoch: epoch})
	publishAll(t, first.hub, balls("m1", 1, 50)...)
	c := broadcasttest.Dial(t, first.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	snap := c.NextOp(ctxT(t), broadcast.OpSnapshot)
	if snap.Epoch != epoch || snap.Seq != 50 {
		t.Fatalf("got snapshot epoch=%q seq=%d, want %q 50", snap.Epoch, snap.Seq, epoch)
	}
	c.Close()
	first.stop()

	// Rebuilt from the feed, which has grown meanwhile.
	second := startHub(t, broadcast.Config{}, &envOptions{epoch: epoch})
	publishAll(t, second.hub, balls("m1", 1, 60)...)
	c = broadcasttest.Dial(t, second.url)
	c.Resume("m1", snap.Seq, snap.Epoch)
	if f := c.NextOp(ctxT(t), broadcast.OpResumed); f.Since != 50 || f.Seq != 60 || f.Epoch != epoch {
		t.Fatalf("got resumed since=%d seq=%d epoch=%q, want 50 60 %q", f.Since, f.Seq, f.Epoch, epoch)
	}
	expectEvents(t, c, "m1", 51, 60)

	// The feed was recreated: same seqs, another numbering.
	third := startHub(t, broadcast.Config{}, &envOptions{epoch: "feed:1763999999"})
	publishAll(t, third.hub, balls("m1", 1, 60)...)
	c = broadcasttest.Dial(t, third.url)
	c.Resume("m1", 50, epoch)
	if s := c.NextReset(ctxT(t), "m1", broadcast.ReasonEpochChanged); s.Epoch != "feed:1763999999" || s.Seq != 60 {
		t.Fatalf("got snapshot epoch=%q seq=%d, want the new epoch at 60", s.Epoch, s.Seq)
	}
}

func TestMatchWebSocket(t *testing.T) {
	const epoch = "E1"
	env := startHub(t, broadcast.Config{History: 20}, &envOptions{epoch: epoch})
	publishAll(t, env.hub, balls("m1", 1, 30)...)
	base := broadcasttest.URL(env.srv.URL) + "/match/m1"
	tests := []struct {
		name       string
		query      string
		wantReason string // a reset
		wantOp     string
		wantFrom   uint64 // first replayed event when resumed
	}{
		{name: "fresh", query: "", wantOp: broadcast.OpSnapshot},
		{name: "resume", query: "?since=25&epoch=E1", wantOp: broadcast.OpResumed, wantFrom: 26},
		{name: "history gone", query: "?since=2&epoch=E1", wantReason: broadcast.ReasonHistoryGone},
		{name: "ahead", query: "?since=31&epoch=E1", wantReason: broadcast.ReasonAhead},
		{name: "epoch changed", query: "?since=25&epoch=E0", wantReason: broadcast.ReasonEpochChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := broadcasttest.Dial(t, base+tc.query)
			switch {
			case tc.wantReason != "":
				c.NextReset(ctxT(t), "m1", tc.wantReason)
			case tc.wantOp == broadcast.OpResumed:
				c.NextOp(ctxT(t), broadcast.OpResumed)
				expectEvents(t, c, "m1", tc.wantFrom, 30)
			default:
				if s := c.NextOp(ctxT(t), tc.wantOp); s.Seq != 30 || s.Epoch != epoch {
					t.Fatalf("got snapshot seq=%d epoch=%q, want 30 %q", s.Seq, s.Epoch, epoch)
				}
			}
			// Requests are refused; the connection stays open.
			c.Subscribe("m2", broadcasttest.Fresh)
			if f := c.NextOp(ctxT(t), broadcast.OpError); f.Code != broadcast.CodeBadRequest {
				t.Fatalf("got error code %q, want %q", f.Code, broadcast.CodeBadRequest)
			}
			c.Close()
		})
	}
	// Live events reach a single-match client.
	c := broadcasttest.Dial(t, base+"?mode=latest")
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	publishAll(t, env.hub, ball("m1", 31), ball("m2", 1))
	expectEvents(t, c, "m1", 31, 31)

	for _, q := range []string{"?since=x", "?since=-1", "?epoch=a%20b", "?mode=every"} {
		if status, _, body := get(t, env, "/v1/ws/match/m1"+q); status != http.StatusBadRequest || !strings.Contains(string(body), broadcast.CodeBadRequest) {
			t.Fatalf("GET /v1/ws/match/m1%s: got %d %s, want 400 %s", q, status, body, broadcast.CodeBadRequest)
		}
	}
}

func sseURL(env *testEnv, match, query string) string {
	return env.srv.URL + "/v1/sse/matches/" + match + query
}

func TestSSE(t *testing.T) {
	const epoch = "feed:1:2" // colons inside the epoch
	env := startHub(t, broadcast.Config{History: 20}, &envOptions{epoch: epoch})
	publishAll(t, env.hub, balls("m1", 1, 30)...)
	tests := []struct {
		name        string
		query       string
		lastEventID string
		wantReason  string
		wantFrom    uint64 // resumed: first replayed seq
	}{
		{name: "fresh"},
		{name: "last event id", lastEventID: epoch + ":25", wantFrom: 26},
		{name: "last event id wins over query", query: "?since=1&epoch=x", lastEventID: epoch + ":28", wantFrom: 29},
		{name: "query on first connect", query: "?since=27&epoch=" + epoch, wantFrom: 28},
		{name: "history gone", lastEventID: epoch + ":3", wantReason: broadcast.ReasonHistoryGone},
		{name: "ahead", lastEventID: epoch + ":99", wantReason: broadcast.ReasonAhead},
		{name: "epoch changed", lastEventID: "feed:0:0:25", wantReason: broadcast.ReasonEpochChanged},
		{name: "malformed last event id", lastEventID: "25", wantReason: broadcast.ReasonEpochChanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := http.Header{}
			if tc.lastEventID != "" {
				hdr.Set("Last-Event-ID", tc.lastEventID)
			}
			s := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", tc.query), hdr)
			if got := s.Resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("Cache-Control: got %q, want no-store", got)
			}
			m, err := s.ReadMessage(ctxT(t))
			if err != nil || m.Retry != "1000" {
				t.Fatalf("first message: got %+v (err %v), want retry 1000", m, err)
			}
			switch {
			case tc.wantReason != "":
				s.NextReset(ctxT(t), "m1", tc.wantReason)
			case tc.wantFrom > 0:
				r := s.NextOp(ctxT(t), broadcast.OpResumed)
				if r.Frame.Since != tc.wantFrom-1 || r.Frame.Seq != 30 {
					t.Fatalf("got resumed since=%d seq=%d, want %d 30", r.Frame.Since, r.Frame.Seq, tc.wantFrom-1)
				}
				s.NextEvents(ctxT(t), "m1", tc.wantFrom, 30)
			default:
				if m := s.NextOp(ctxT(t), broadcast.OpSnapshot); m.Frame.Seq != 30 || m.Frame.Epoch != epoch || m.ID != epoch+":30" {
					t.Fatalf("got snapshot seq=%d epoch=%q id=%q, want 30 %q %s:30", m.Frame.Seq, m.Frame.Epoch, m.ID, epoch, epoch)
				}
			}
		})
	}
	// Live events, with ids an EventSource can resume from.
	s := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), nil)
	s.NextOp(ctxT(t), broadcast.OpSnapshot)
	publishAll(t, env.hub, balls("m1", 31, 33)...)
	got := s.NextEvents(ctxT(t), "m1", 31, 33)
	if got[2].ID != epoch+":33" || got[2].Frame.Data.Ball == nil {
		t.Fatalf("got id %q ball %v, want %s:33 and a ball", got[2].ID, got[2].Frame.Data.Ball, epoch)
	}
	s2 := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), http.Header{"Last-Event-Id": {got[0].ID}})
	s2.NextOp(ctxT(t), broadcast.OpResumed)
	s2.NextEvents(ctxT(t), "m1", 32, 33)
	if st := env.hub.Stats(); st.ClientsSSE != 2 {
		t.Fatalf("Stats: got %d SSE clients, want 2", st.ClientsSSE)
	}

	for _, q := range []string{"?since=x", "?epoch=a%20b", "?mode=x"} {
		if status, _, body := get(t, env, "/v1/sse/matches/m1"+q); status != http.StatusBadRequest {
			t.Fatalf("GET /v1/sse/matches/m1%s: got %d %s, want 400", q, status, body)
		}
	}
}

func TestSSEHeartbeat(t *testing.T) {
	env := startHub(t, broadcast.Config{PingInterval: 20 * time.Millisecond}, nil)
	s := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), nil)
	s.NextOp(ctxT(t), broadcast.OpSnapshot)
	for range 2 {
		m, err := s.ReadMessage(ctxT(t))
		if err != nil || m.Comment != "ping" {
			t.Fatalf("got %+v (err %v), want the comment %q", m, err, "ping")
		}
	}
	// Events still flow between heartbeats.
	publishAll(t, env.hub, ball("m1", 1))
	for {
		m, err := s.ReadMessage(ctxT(t))
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Comment == "" {
			if m.Frame.Op != broadcast.OpEvent || m.Frame.Seq != 1 {
				t.Fatalf("got %+v, want event 1", m.Frame)
			}
			break
		}
	}
}

// TestSSESlowClient checks that an SSE client that stops reading has its
// response ended while another is served, and that it resumes with
// Last-Event-ID.
func TestSSESlowClient(t *testing.T) {
	const queue = 16
	env := startHub(t, broadcast.Config{QueueSize: queue}, &envOptions{sendBuffer: 16 << 10})
	slow := broadcasttest.DialSSE(t, broadcasttest.SmallBufferClient(t, env.srv.Client(), 16<<10), sseURL(env, "m1", ""), nil)
	fast := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), nil)
	slow.NextOp(ctxT(t), broadcast.OpSnapshot)
	fast.NextOp(ctxT(t), broadcast.OpSnapshot)

	evs := balls("m1", 1, 10*queue)
	for i := range evs {
		evs[i].Commentary.Text = strings.Repeat("x", 8<<10)
	}
	// Bursts under the queue size, the fast client keeping up.
	const burst = queue / 2
	for start := 0; start < len(evs); start += burst {
		publishAll(t, env.hub, evs[start:start+burst]...)
		fast.NextEvents(ctxT(t), "m1", uint64(start+1), uint64(start+burst))
	}
	env.logs.wait(t, "slow consumer disconnected", 10*time.Second)
	if st := env.hub.Stats(); st.SlowDropped != 1 {
		t.Fatalf("Stats: got %d slow clients dropped, want 1", st.SlowDropped)
	}

	// Reading at last, the slow client finds what it was sent, then the end.
	last := ""
	for {
		m, err := slow.ReadMessage(ctxT(t))
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.Fatalf("slow client: response not ended: %v", err)
			}
			break // EOF, or a reset connection
		}
		if m.ID != "" {
			last = m.ID
		}
	}
	// Its EventSource reconnects with the last id it got.
	re := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), http.Header{"Last-Event-ID": {last}})
	r := re.NextOp(ctxT(t), broadcast.OpResumed)
	if r.Frame.Seq != uint64(len(evs)) {
		t.Fatalf("got resumed seq %d, want %d", r.Frame.Seq, len(evs))
	}
	if r.Frame.Since < uint64(len(evs)) {
		re.NextEvents(ctxT(t), "m1", r.Frame.Since+1, uint64(len(evs)))
	}
}

// TestLatestMode lets a latest-mode client and an all-mode client fall far
// behind: the all-mode one is dropped, the latest-mode one gets increasing
// seqs ending at the newest, fewer than were published, and stays.
func TestLatestMode(t *testing.T) {
	const queue, n = 16, 160
	env := startHub(t, broadcast.Config{QueueSize: queue}, &envOptions{sendBuffer: 16 << 10})
	opts := &broadcasttest.DialOptions{ReadBuffer: 16 << 10}
	latest := broadcasttest.DialWith(t, env.url, opts)
	latest.Send(broadcast.Request{Action: broadcast.ActionSubscribe, Match: "m1", Mode: broadcast.ModeLatest})
	latest.NextOp(ctxT(t), broadcast.OpSnapshot)
	all := broadcasttest.DialWith(t, env.url, opts)
	all.Subscribe("m1", broadcasttest.Fresh)
	all.NextOp(ctxT(t), broadcast.OpSnapshot)

	evs := balls("m1", 1, n)
	for i := range evs {
		evs[i].Commentary.Text = strings.Repeat("x", 8<<10)
	}
	publishAll(t, env.hub, evs...)
	env.logs.wait(t, "slow consumer disconnected", 10*time.Second)
	if got := all.CloseStatus(ctxT(t)); got != broadcast.CloseSlowConsumer {
		t.Fatalf("all-mode client: got close %v, want %v", got, broadcast.CloseSlowConsumer)
	}

	var seqs []uint64
	for len(seqs) == 0 || seqs[len(seqs)-1] < n {
		f := latest.NextOp(ctxT(t), broadcast.OpEvent)
		if len(seqs) > 0 && f.Seq <= seqs[len(seqs)-1] {
			t.Fatalf("latest mode: got seq %d after %d, want increasing", f.Seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, f.Seq)
	}
	st := env.hub.Stats()
	if len(seqs) >= n || st.FramesCoalesced == 0 || st.SlowDropped != 1 {
		t.Fatalf("latest mode: got %d events, %d coalesced, %d dropped; want fewer than %d, some coalesced, 1 dropped", len(seqs), st.FramesCoalesced, st.SlowDropped, n)
	}
	t.Logf("latest mode: %d of %d events delivered, %d coalesced", len(seqs), n, st.FramesCoalesced)

	// Still subscribed, and a latest-mode resume sends only the newest event.
	publishAll(t, env.hub, ball("m1", n+1))
	expectEvents(t, latest, "m1", n+1, n+1)
	since := uint64(10)
	c := broadcasttest.Dial(t, env.url)
	c.Send(broadcast.Request{Action: broadcast.ActionSubscribe, Match: "m1", Since: &since, Epoch: env.hub.Epoch(), Mode: broadcast.ModeLatest})
	if f := c.NextOp(ctxT(t), broadcast.OpResumed); f.Since != 10 || f.Seq != n+1 {
		t.Fatalf("got resumed since=%d seq=%d, want 10 %d", f.Since, f.Seq, n+1)
	}
	expectEvents(t, c, "m1", n+1, n+1)
}

// fakeGuard admits requests by their "Authorization: Bearer <key>" header:
// key "limited" is refused with 429, an unknown or missing key with 401,
// and key k may follow the matches in keys[k]. It counts tickets out.
type fakeGuard struct {
	keys map[string][]string

	mu       sync.Mutex
	out      int
	released chan struct{}
}

type limitError struct{}

func (limitError) Error() string      { return "too many connections for this key" }
func (limitError) HTTPStatus() int    { return http.StatusTooManyRequests }
func (limitError) Code() string       { return "too_many_connections" }
func (g *fakeGuard) outstanding() int { g.mu.Lock(); defer g.mu.Unlock(); return g.out }

func (g *fakeGuard) Admit(r *http.Request) (broadcast.Ticket, error) {
	key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if key == "limited" {
		return nil, limitError{}
	}
	matches, ok := g.keys[key]
	if !ok {
		return nil, errors.New("unknown API key")
	}
	g.mu.Lock()
	g.out++
	g.mu.Unlock()
	return &fakeTicket{g: g, matches: matches}, nil
}

type fakeTicket struct {
	g       *fakeGuard
	matches []string
	once    sync.Once
}

func (t *fakeTicket) Allowed(m string) bool {
	for _, a := range t.matches {
		if a == m || a == "*" {
			return true
		}
	}
	return false
}

func (t *fakeTicket) Release() {
	t.once.Do(func() {
		t.g.mu.Lock()
		t.g.out--
		t.g.mu.Unlock()
		t.g.released <- struct{}{}
	})
}

func TestGuard(t *testing.T) {
	g := &fakeGuard{keys: map[string][]string{"k1": {"m1"}, "all": {"*"}}, released: make(chan struct{}, 100)}
	env := startHub(t, broadcast.Config{}, &envOptions{guard: g})
	publishAll(t, env.hub, ball("m1", 1), ball("m2", 1))
	bearer := func(k string) http.Header {
		if k == "" {
			return http.Header{}
		}
		return http.Header{"Authorization": {"Bearer " + k}}
	}

	t.Run("connect refused", func(t *testing.T) {
		tests := []struct {
			name, path, key, wantCode string
			wantStatus                int
		}{
			{"ws no key", "/v1/ws", "", broadcast.CodeUnauthorized, 401},
			{"ws bad key", "/v1/ws", "nope", broadcast.CodeUnauthorized, 401},
			{"ws limited", "/v1/ws", "limited", "too_many_connections", 429},
			{"match ws no key", "/v1/ws/match/m1", "", broadcast.CodeUnauthorized, 401},
			{"match ws forbidden", "/v1/ws/match/m2", "k1", broadcast.CodeForbidden, 403},
			{"sse no key", "/v1/sse/matches/m1", "", broadcast.CodeUnauthorized, 401},
			{"sse forbidden", "/v1/sse/matches/m2", "k1", broadcast.CodeForbidden, 403},
			{"list no key", "/v1/matches", "", broadcast.CodeUnauthorized, 401},
			{"snapshot forbidden", "/v1/matches/m2", "k1", broadcast.CodeForbidden, 403},
			{"events forbidden", "/v1/matches/m2/events", "k1", broadcast.CodeForbidden, 403},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				url := env.srv.URL + tc.path
				if strings.HasPrefix(tc.path, "/v1/ws") {
					url = "ws" + strings.TrimPrefix(url, "http")
					_, resp, err := websocket.Dial(ctxT(t), url, &websocket.DialOptions{HTTPClient: env.srv.Client(), HTTPHeader: bearer(tc.key)})
					if err == nil {
						t.Fatalf("dial %s: got a connection, want %d", tc.path, tc.wantStatus)
					}
					checkRefusal(t, resp, tc.wantStatus, tc.wantCode)
					return
				}
				req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, url, nil)
				req.Header = bearer(tc.key)
				resp, err := env.srv.Client().Do(req)
				if err != nil {
					t.Fatalf("GET %s: %v", tc.path, err)
				}
				checkRefusal(t, resp, tc.wantStatus, tc.wantCode)
			})
		}
	})

	t.Run("subscribe forbidden", func(t *testing.T) {
		c := broadcasttest.DialWith(t, env.url, &broadcasttest.DialOptions{Header: bearer("k1")})
		c.Subscribe("m2", broadcasttest.Fresh)
		if f := c.NextOp(ctxT(t), broadcast.OpError); f.Code != broadcast.CodeForbidden || f.Match != "m2" {
			t.Fatalf("got error code=%q match=%q, want %q m2", f.Code, f.Match, broadcast.CodeForbidden)
		}
		// The connection stays open, the allowed match works, and the
		// refused one is not followed.
		c.Subscribe("m1", broadcasttest.Fresh)
		c.NextOp(ctxT(t), broadcast.OpSnapshot)
		publishAll(t, env.hub, ball("m2", 2), ball("m1", 2))
		expectEvents(t, c, "m1", 2, 2)
		c.Close()
	})

	t.Run("admitted", func(t *testing.T) {
		s := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), bearer("k1"))
		s.NextOp(ctxT(t), broadcast.OpSnapshot)
		s.Close()
		req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, env.srv.URL+"/v1/matches", nil)
		req.Header = bearer("k1")
		resp, err := env.srv.Client().Do(req)
		if err != nil {
			t.Fatalf("GET /v1/matches: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"m1"`) || strings.Contains(string(body), `"id":"m2"`) {
			t.Fatalf("GET /v1/matches: got %d %s, want 200 listing m1 only", resp.StatusCode, body)
		}
	})

	// Every ticket is released once its connection or request is over.
	deadline := time.After(10 * time.Second)
	for g.outstanding() > 0 {
		select {
		case <-g.released:
		case <-deadline:
			t.Fatalf("tickets: %d not released within 10s", g.outstanding())
		}
	}
	st := env.hub.Stats()
	if st.ConnectionsRefused != 6 || st.SubscriptionsRefused != 5 {
		t.Fatalf("Stats: got %d connections and %d subscriptions refused, want 6 and 5", st.ConnectionsRefused, st.SubscriptionsRefused)
	}
}

func checkRefusal(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	if resp == nil {
		t.Fatalf("got no response, want %d", status)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status || !strings.Contains(string(body), `"code":"`+code+`"`) {
		t.Fatalf("got %d %s, want %d with code %q", resp.StatusCode, body, status, code)
	}
}

// TestShutdownStats counts clients by transport and checks that shutdown
// ends SSE responses as it closes WebSockets.
func TestShutdownStats(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	m := broadcasttest.Dial(t, broadcasttest.URL(env.srv.URL)+"/match/m1")
	m.NextOp(ctxT(t), broadcast.OpSnapshot)
	s := broadcasttest.DialSSE(t, env.srv.Client(), sseURL(env, "m1", ""), nil)
	s.NextOp(ctxT(t), broadcast.OpSnapshot)
	publishAll(t, env.hub, ball("m1", 1))
	expectEvents(t, c, "m1", 1, 1)
	expectEvents(t, m, "m1", 1, 1)
	s.NextEvents(ctxT(t), "m1", 1, 1)
	if st := env.hub.Stats(); st.ClientsWS != 2 || st.ClientsSSE != 1 {
		t.Fatalf("Stats: got %d WS, %d SSE clients, want 2, 1", st.ClientsWS, st.ClientsSSE)
	}

	// The WebSocket clients read, so that they answer the close handshake.
	closed := make(chan websocket.StatusCode, 2)
	for _, cl := range []*broadcasttest.Client{c, m} {
		go func() {
			for {
				if _, _, err := cl.Conn().Read(context.Background()); err != nil {
					closed <- websocket.CloseStatus(err)
					return
				}
			}
		}()
	}
	env.stop()
	for {
		_, err := s.ReadMessage(ctxT(t))
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SSE after shutdown: got %v, want EOF", err)
		}
	}
	for range 2 {
		select {
		case got := <-closed:
			if got != websocket.StatusGoingAway {
				t.Fatalf("WebSocket after shutdown: got close %v, want %v", got, websocket.StatusGoingAway)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("WebSocket not closed within 10s of shutdown")
		}
	}
	if st := env.hub.Stats(); st.ClientsWS != 0 || st.ClientsSSE != 0 || st.FramesSent != 6 {
		t.Fatalf("Stats after shutdown: got %d WS, %d SSE clients, %d frames sent; want 0, 0, 6", st.ClientsWS, st.ClientsSSE, st.FramesSent)
	}
	if status, _, _ := get(t, env, "/v1/sse/matches/m1"); status != http.StatusServiceUnavailable {
		t.Fatalf("SSE after shutdown: got status %d, want 503", status)
	}
}

// expiringGuard admits everyone with credentials that expire after ttl.
type expiringGuard struct{ ttl time.Duration }

type expiringTicket struct{ exp time.Time }

func (g expiringGuard) Admit(*http.Request) (broadcast.Ticket, error) {
	return expiringTicket{exp: time.Now().Add(g.ttl)}, nil
}

func (expiringTicket) Allowed(string) bool  { return true }
func (expiringTicket) Release()             {}
func (t expiringTicket) Expires() time.Time { return t.exp }

// TestExpiredCredentialsCloseTheConnection: a connection admitted with
// credentials that expire (a JWT's exp) is closed when they do, on both
// transports, so a revoked or short-lived token cannot follow a match
// forever.
func TestExpiredCredentialsCloseTheConnection(t *testing.T) {
	env := startHub(t, broadcast.Config{}, &envOptions{guard: expiringGuard{ttl: 200 * time.Millisecond}})
	publishAll(t, env.hub, ball("m1", 1))

	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("m1", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	if got := c.CloseStatus(ctxT(t)); got != broadcast.CloseTokenExpired {
		t.Fatalf("WebSocket closed with %d, want %d (token expired)", got, broadcast.CloseTokenExpired)
	}

	s := broadcasttest.DialSSE(t, env.srv.Client(), env.srv.URL+"/v1/sse/matches/m1", nil)
	ctx := ctxT(t)
	for {
		if _, err := s.ReadMessage(ctx); err != nil {
			if ctx.Err() != nil {
				t.Fatal("the SSE response did not end when the credentials expired")
			}
			return // the response ended
		}
	}
}
