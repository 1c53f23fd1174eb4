package broadcast_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
)

func get(t *testing.T, env *testEnv, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, env.srv.URL+path, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := env.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp.StatusCode, resp.Header, body
}

func getMatches(t *testing.T, env *testEnv) broadcast.MatchList {
	t.Helper()
	status, _, body := get(t, env, "/v1/matches")
	if status != http.StatusOK {
		t.Fatalf("GET /v1/matches: got status %d, want 200 (%s)", status, body)
	}
	var l broadcast.MatchList
	if err := json.Unmarshal(body, &l); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return l
}

func TestMatchList(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	done := event.Event{
		ID: "b/status", Match: "b", Kind: event.KindStatus,
		Info:   &event.MatchInfo{Title: "C v D", Teams: []string{"C", "D"}, Format: "ODI"},
		Status: &event.Status{State: event.StateCompleted, Result: "C won by 3 runs"},
	}
	publishAll(t, env.hub, done)
	publishAll(t, env.hub, balls("a", 1, 14)...)
	score := event.Event{ID: "c/score/1", Match: "c", Kind: event.KindScore, Score: &event.Score{Innings: 1, Team: "E", Runs: 40, Wickets: 1, Balls: 33}}
	publishAll(t, env.hub, score)

	got := getMatches(t, env).Matches
	want := []struct {
		id, title, state, summary string
		seq                       uint64
	}{
		{"a", "a", event.StateLive, "Australia 42/0 (2.2)", 14},
		{"c", "c", event.StateLive, "E 40/1 (5.3)", 1},
		{"b", "C v D", event.StateCompleted, "", 1},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d matches, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.ID != w.id || g.Title != w.title || g.State != w.state || g.Summary != w.summary || g.Seq != w.seq {
			t.Fatalf("match %d: got id=%q title=%q state=%q summary=%q seq=%d, want %q %q %q %q %d",
				i, g.ID, g.Title, g.State, g.Summary, g.Seq, w.id, w.title, w.state, w.summary, w.seq)
		}
	}
	if got[2].Result != "C won by 3 runs" || len(got[2].Teams) != 2 {
		t.Fatalf("got result %q teams %v, want %q and two teams", got[2].Result, got[2].Teams, "C won by 3 runs")
	}
}

func TestMatchSnapshotREST(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	publishAll(t, env.hub, balls("m1", 1, 40)...)
	tests := []struct {
		name       string
		path       string
		wantStatus int
		wantCode   string
		wantSeq    uint64
	}{
		{name: "known", path: "/v1/matches/m1", wantStatus: 200, wantSeq: 40},
		{name: "unknown", path: "/v1/matches/nope", wantStatus: 404, wantCode: broadcast.CodeNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := get(t, env, tc.path)
			if status != tc.wantStatus || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("got status %d type %q, want %d application/json (%s)", status, hdr.Get("Content-Type"), tc.wantStatus, body)
			}
			var f broadcasttest.Frame
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if f.Code != tc.wantCode || f.Seq != tc.wantSeq {
				t.Fatalf("got code %q seq %d, want %q %d", f.Code, f.Seq, tc.wantCode, tc.wantSeq)
			}
			if tc.wantStatus == 200 && (f.Op != broadcast.OpSnapshot || f.Scorecard == nil || len(f.Commentary) == 0) {
				t.Fatalf("got %s, want a snapshot with scorecard and commentary", body)
			}
		})
	}
}

func TestEventsREST(t *testing.T) {
	env := startHub(t, broadcast.Config{History: 50}, &envOptions{epoch: "E7"})
	publishAll(t, env.hub, balls("m1", 1, 120)...)
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantCode   string
		wantSeqs   [2]uint64 // first and last seq returned; zero for none
		wantCount  int
	}{
		{name: "default", query: "?since=70", wantStatus: 200, wantSeqs: [2]uint64{71, 120}, wantCount: 50},
		{name: "limit", query: "?since=80&limit=5", wantStatus: 200, wantSeqs: [2]uint64{81, 85}, wantCount: 5},
		{name: "oldest held", query: "?since=70&limit=1", wantStatus: 200, wantSeqs: [2]uint64{71, 71}, wantCount: 1},
		{name: "up to date", query: "?since=120", wantStatus: 200},
		{name: "ahead", query: "?since=500", wantStatus: 200},
		{name: "gone", query: "?since=10", wantStatus: 410, wantCode: broadcast.CodeHistoryGone},
		{name: "no since, gone", query: "", wantStatus: 410, wantCode: broadcast.CodeHistoryGone},
		{name: "same epoch", query: "?since=80&limit=5&epoch=E7", wantStatus: 200, wantSeqs: [2]uint64{81, 85}, wantCount: 5},
		{name: "epoch changed", query: "?since=80&epoch=E6", wantStatus: 410, wantCode: broadcast.CodeEpochChanged},
		{name: "bad epoch", query: "?since=80&epoch=a%20b", wantStatus: 400, wantCode: broadcast.CodeBadRequest},
		{name: "bad since", query: "?since=x", wantStatus: 400, wantCode: broadcast.CodeBadRequest},
		{name: "bad limit", query: "?since=100&limit=0", wantStatus: 400, wantCode: broadcast.CodeBadRequest},
		{name: "limit too big", query: "?since=100&limit=100000", wantStatus: 400, wantCode: broadcast.CodeBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := get(t, env, "/v1/matches/m1/events"+tc.query)
			if status != tc.wantStatus {
				t.Fatalf("got status %d, want %d (%s)", status, tc.wantStatus, body)
			}
			if tc.wantCode != "" {
				var e broadcast.ErrorFrame
				if err := json.Unmarshal(body, &e); err != nil || e.Code != tc.wantCode {
					t.Fatalf("got %s (err %v), want code %q", body, err, tc.wantCode)
				}
				return
			}
			var p broadcast.EventPage
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if p.Match != "m1" || p.Epoch != "E7" || p.Seq != 120 || p.FirstSeq != 71 || len(p.Events) != tc.wantCount {
				t.Fatalf("got match %q epoch %q seq %d first %d events %d, want m1 E7 120 71 %d", p.Match, p.Epoch, p.Seq, p.FirstSeq, len(p.Events), tc.wantCount)
			}
			for i, e := range p.Events {
				if e.Op != broadcast.OpEvent || e.Epoch != "E7" || e.Seq != tc.wantSeqs[0]+uint64(i) || e.Data.Ball == nil {
					t.Fatalf("event %d: got op %q seq %d, want event %d with a ball", i, e.Op, e.Seq, tc.wantSeqs[0]+uint64(i))
				}
			}
			if n := len(p.Events); n > 0 && p.Events[n-1].Seq != tc.wantSeqs[1] {
				t.Fatalf("got last seq %d, want %d", p.Events[n-1].Seq, tc.wantSeqs[1])
			}
		})
	}
	if status, _, _ := get(t, env, "/v1/matches/nope/events"); status != http.StatusNotFound {
		t.Fatalf("unknown match: got status %d, want 404", status)
	}
}

func TestWebPage(t *testing.T) {
	env := startHub(t, broadcast.Config{}, nil)
	tests := []struct {
		path     string
		wantType string
		wantBody []string
	}{
		{path: "/", wantType: "text/html", wantBody: []string{`src="app.js"`, "cricsheet.org", "ODC-By"}},
		{path: "/app.js", wantType: "text/javascript", wantBody: []string{"/v1/ws", "since"}},
		{path: "/style.css", wantType: "text/css", wantBody: []string{"@media"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			status, hdr, body := get(t, env, tc.path)
			if status != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Type"), tc.wantType) {
				t.Fatalf("got status %d type %q, want 200 %s", status, hdr.Get("Content-Type"), tc.wantType)
			}
			for _, w := range tc.wantBody {
				if !strings.Contains(string(body), w) {
					t.Fatalf("body does not contain %q", w)
				}
			}
		})
	}
	if status, _, _ := get(t, env, "/nope.js"); status != http.StatusNotFound {
		t.Fatalf("missing file: got status %d, want 404", status)
	}
}

func TestOrigins(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		origin  string
		wantOK  bool
	}{
		{name: "same origin", origin: "", wantOK: true},
		{name: "cross origin refused", origin: "http://evil.example", wantOK: false},
		{name: "cross origin allowed", allowed: []string{"*.example.com"}, origin: "https://app.example.com", wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := startHub(t, broadcast.Config{AllowedOrigins: tc.allowed}, nil)
			req, err := http.NewRequestWithContext(ctxT(t), http.MethodGet, env.srv.URL+"/v1/ws", nil)
			if err != nil {
				t.Fatalf("new request: %v", err)
			}
			req.Header.Set("Connection", "Upgrade")
			req.Header.Set("Upgrade", "websocket")
			req.Header.Set("Sec-WebSocket-Version", "13")
			req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.wantOK {
				// A real client, so the connection is closed properly.
				c := broadcasttest.DialWith(t, env.url, &broadcasttest.DialOptions{Origin: tc.origin})
				c.Subscribe("m1", broadcasttest.Fresh)
				c.NextOp(ctxT(t), broadcast.OpSnapshot)
				c.Close()
				return
			}
			resp, err := env.srv.Client().Do(req)
			if err != nil {
				t.Fatalf("GET /v1/ws: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("got status %d, want 403", resp.StatusCode)
			}
		})
	}
}
