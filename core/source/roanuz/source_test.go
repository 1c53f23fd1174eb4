package roanuz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/nodepeer"
	"github.com/ballcast/ballcast/internal/polltest"
)

// The fake Roanuz: fakeAPI is an httptest.Server serving auth, subscribe,
// unsubscribe, match and ball-by-ball from Generators; the socket side is
// the official npm Socket.IO server running testdata/roanuz_socket.js.

const (
	testProject = "proj"
	testKeyEnv  = "BALLCAST_TEST_ROANUZ_KEY"
	testAPIKey  = "s3cret-api-key"
	nodeModules = "../../socketio/testdata/node/node_modules/socket.io/package.json"
	waitLimit   = 30 * time.Second
)

// fakeAPI is the REST side of the fake Roanuz.
type fakeAPI struct {
	t   testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	gens       map[string]*Generator
	cur        map[string]int // document index revealed so far, per match key
	tokens     map[string]time.Time
	issued     int
	lifetimes  []time.Duration // lifetime of the n-th token; the last repeats
	authStatus int             // non-zero: auth answers with this status
	calls      map[string]int  // "auth", "subscribe KEY", "unsubscribe KEY", "match KEY", "bbb KEY"
	unauth     int             // requests answered 401
	failMatch  int             // GET match answers 500 while > 0, counting down
}

func newFakeAPI(t testing.TB, gens ...*Generator) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, gens: map[string]*Generator{}, cur: map[string]int{}, tokens: map[string]time.Time{},
		lifetimes: []time.Duration{time.Hour}, calls: map[string]int{}}
	for _, g := range gens {
		f.gens[g.Key()] = g
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// document advances match key to document i and returns it encoded.
func (f *fakeAPI) document(key string, i int, enc Encoding) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur[key] = i
	b, err := Encode(f.gens[key].Document(i), enc)
	if err != nil {
		f.t.Errorf("encode: %v", err)
	}
	return b
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.URL.Path == "/v5/core/"+testProject+"/auth/" && r.Method == http.MethodPost {
		f.calls["auth"]++
		var body struct {
			APIKey string `json:"api_key"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if f.authStatus != 0 {
			reply(f.authStatus, map[string]any{"error": map[string]any{"msg": "invalid"}})
			return
		}
		if body.APIKey != testAPIKey {
			reply(http.StatusBadRequest, map[string]any{"error": map[string]any{"msg": "bad api key"}})
			return
		}
		f.issued++
		life := f.lifetimes[min(f.issued, len(f.lifetimes))-1]
		tok := "tok-" + strconv.Itoa(f.issued)
		exp := time.Now().Add(life)
		f.tokens[tok] = exp
		// Alternate the two forms expires comes in.
		var expires any = float64(exp.UnixNano()) / 1e9
		if f.issued%2 == 1 {
			expires = strconv.FormatFloat(float64(exp.UnixNano())/1e9, 'f', 3, 64)
		}
		reply(http.StatusOK, map[string]any{"status_code": 200, "data": map[string]any{"token": tok, "expires": expires}})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v5/cricket/"+testProject+"/match/")
	if !ok {
		reply(http.StatusNotFound, map[string]any{"error": "not found"})
		return
	}
	if exp, ok := f.tokens[r.Header.Get("rs-token")]; !ok || time.Now().After(exp) {
		f.unauth++
		reply(http.StatusUnauthorized, map[string]any{"error": map[string]any{"msg": "invalid token"}})
		return
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	g := f.gens[parts[0]]
	if g == nil {
		reply(http.StatusNotFound, map[string]any{"error": "no such match"})
		return
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		f.calls["match "+parts[0]]++
		if f.failMatch > 0 {
			f.failMatch--
			reply(http.StatusInternalServerError, map[string]any{"error": "try later"})
			return
		}
		reply(http.StatusOK, g.Document(f.cur[parts[0]]))
	case len(parts) == 2 && (parts[1] == "subscribe" || parts[1] == "unsubscribe") && r.Method == http.MethodPost:
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body["method"] != "web_socket" {
			reply(http.StatusBadRequest, map[string]any{"error": "method"})
			return
		}
		f.calls[parts[1]+" "+parts[0]]++
		reply(http.StatusOK, map[string]any{"data": map[string]any{"message": "ok"}})
	case len(parts) == 3 && parts[1] == "ball-by-ball" && r.Method == http.MethodGet:
		f.calls["bbb "+parts[0]]++
		g.Document(f.cur[parts[0]]) // reveal as of the current document
		resp, err := g.Over(parts[2])
		if err != nil {
			reply(http.StatusNotFound, map[string]any{"error": err.Error()})
			return
		}
		reply(http.StatusOK, resp)
	default:
		reply(http.StatusNotFound, map[string]any{"error": "not found"})
	}
}

// sockPeer is one running testdata/roanuz_socket.js.
type sockPeer struct {
	t    testing.TB
	port int
	*nodepeer.Process
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSockPeer starts the Socket.IO side; it fails (never skips) when
// node or the npm server is missing.
func startSockPeer(t testing.TB) *sockPeer { t.Helper(); return startSockPeerOn(t, 0) }

// startSockPeerOn starts the Socket.IO side on port (0: a free one),
// accepting Engine.IO v3 and v4 clients.
func startSockPeerOn(t testing.TB, port int) *sockPeer {
	t.Helper()
	return startSockPeerEIO(t, port, true)
}

// startSockPeerEIO is startSockPeerOn; eio3 false makes the server refuse
// Engine.IO v3 clients, as a Socket.IO v4 server does by default.
func startSockPeerEIO(t testing.TB, port int, eio3 bool) *sockPeer {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH (%v): the Roanuz source tests run the official Socket.IO server", err)
	}
	if _, err := os.Stat(nodeModules); err != nil {
		t.Fatalf("socket.io is not installed for the tests: run `npm ci --prefix core/socketio/testdata/node`")
	}
	env := []string{"PING_INTERVAL=1000", "PING_TIMEOUT=3000"}
	if eio3 {
		env = append(env, "EIO3=1")
	}
	proc, err := nodepeer.Start("testdata", "roanuz_socket.js", env, 15*time.Second, strconv.Itoa(port))
	if err != nil {
		t.Fatalf("socket peer: %v", err)
	}
	p := &sockPeer{t: t, port: proc.Port, Process: proc}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() && p.Stderr() != "" {
			t.Logf("socket peer stderr:\n%s", p.Stderr())
		}
	})
	return p
}

func (p *sockPeer) kill() { p.Kill() }

func (p *sockPeer) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

func (p *sockPeer) call(method, path string, body any, out any) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url()+path, rd)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("socket peer %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		p.t.Fatalf("socket peer %s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			p.t.Fatalf("socket peer %s %s: %v", method, path, err)
		}
	}
}

// push emits on_match_update to room match.
func (p *sockPeer) push(match string, payload []byte, binary bool) {
	p.t.Helper()
	p.call(http.MethodPost, "/push", map[string]any{"match": match, "payload": base64.StdEncoding.EncodeToString(payload), "binary": binary}, nil)
}

func (p *sockPeer) roomSize(match string) int {
	var r struct{ N int }
	p.call(http.MethodGet, "/rooms?match="+match, nil, &r)
	return r.N
}

type joinLog struct {
	Token    string `json:"token"`
	MatchKey string `json:"match_key"`
}

func (p *sockPeer) joins() []joinLog {
	var out []joinLog
	p.call(http.MethodGet, "/log", nil, &out)
	return out
}

// within reports whether cond holds within limit, checking every few milliseconds.
func within(limit time.Duration, cond func() bool) bool {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// testConfig is a fast config against the fakes.
func testConfig(api *fakeAPI, sock string, keys ...string) Config {
	cfg := Config{
		ProjectKey: testProject, APIKeyEnv: testKeyEnv, APIURL: api.srv.URL, SocketURL: sock,
		Heartbeat: 50 * time.Millisecond, StaleAfter: 5 * time.Second, JoinTimeout: time.Second,
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, MaxAttempts: 10,
		HTTPTimeout: 5 * time.Second,
	}
	for _, k := range keys {
		cfg.Matches = append(cfg.Matches, MatchConfig{Key: k, ID: strings.TrimPrefix(k, "rz_")})
	}
	return cfg
}

// running is a Source running in the background.
type running struct {
	src  *Source
	out  chan event.Event
	done chan error
	stop func()
}

func startSource(t *testing.T, cfg Config) *running {
	t.Helper()
	t.Setenv(testKeyEnv, testAPIKey)
	logs := &lockedBuffer{}
	src, err := New(cfg, zerolog.New(logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{src: src, out: make(chan event.Event, 1<<14), done: make(chan error, 1), stop: cancel}
	go func() { r.done <- src.Run(ctx, r.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(waitLimit):
			t.Errorf("Run did not return after cancel")
		}
		all := logs.String()
		if strings.Contains(all, testAPIKey) {
			t.Errorf("the API key appears in the logs")
		}
		if t.Failed() {
			if len(all) > 8000 {
				all = "…" + all[len(all)-8000:]
			}
			t.Logf("source logs:\n%s", all)
		}
	})
	return r
}

// wait returns Run's error.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(waitLimit):
		t.Fatalf("Run did not return within %v", waitLimit)
		return nil
	}
}

// collectUntilCompleted reads events until the match's completed status.
func (r *running) collectUntilCompleted(t *testing.T) []event.Event {
	t.Helper()
	var got []event.Event
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		select {
		case ev := <-r.out:
			got = append(got, ev)
			if ev.Kind == event.KindStatus && ev.Status.State == event.StateCompleted {
				return got
			}
		case err := <-r.done:
			t.Fatalf("Run returned early: %v", err)
		case <-deadline.C:
			t.Fatalf("no completed status within %v; got %d events (%d balls)", waitLimit, len(got), len(ballsOf(got)))
		}
	}
}

func bundled(t testing.TB) (string, []event.Event) {
	t.Helper()
	id := strings.TrimSuffix(replay.BundledMatch, ".json")
	evs, err := replay.Parse(id, replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	return id, evs
}

func TestSourceWholeMatch(t *testing.T) {
	id, evs := bundled(t)
	want := ballsOf(evs)
	key := "rz_" + id
	cases := []struct {
		name string
		eio  int
		// each document i is pushed with pushes(i) payloads (binary or not)
		encode     func(i int) []Encoding
		malformed  map[int][]byte // raw payloads pushed before document i
		drop       func(i int) bool
		lifetimes  []time.Duration
		serverErr  map[int]string // on_error message pushed before document i
		check      func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer)
		wantMalfmd uint64
		failMatchN int // GET match answers 500 this many times first
	}{
		{name: "gzip in order", encode: func(int) []Encoding { return []Encoding{EncodeGzip} }},
		{name: "engine.io v3", eio: 3, encode: func(int) []Encoding { return []Encoding{EncodeGzip} }},
		{name: "every encoding", encode: func(i int) []Encoding { return []Encoding{Encoding(i % int(numEncodings))} }},
		{name: "duplicated updates", encode: func(i int) []Encoding { return []Encoding{EncodeGzip, EncodeJSONString, EncodeGzip} }},
		{
			name:   "malformed updates",
			encode: func(int) []Encoding { return []Encoding{EncodeZlib} },
			malformed: map[int][]byte{
				10: {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef}, // bad gzip
				40: []byte(`{"data": {"key": ""}}`),                  // missing key
				70: []byte(`{not json`),                              // bad json
				90: bytes.Repeat([]byte("A"), 4<<10),                 // base64 of nothing useful
			},
			wantMalfmd: 4,
		},
		{
			name:   "connection dropped every 40 documents",
			encode: func(int) []Encoding { return []Encoding{EncodeGzip} },
			drop:   func(i int) bool { return i%40 == 20 },
			check: func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer) {
				if st := r.src.Stats(); st.Connects < 2 || st.Joins < 2 || st.Resyncs < 2 {
					t.Errorf("stats %+v: want several connects, joins and resyncs", st)
				}
			},
		},
		{
			name:      "token expiry",
			encode:    func(int) []Encoding { return []Encoding{EncodeGzip} },
			lifetimes: []time.Duration{800 * time.Millisecond, time.Hour},
			check: func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer) {
				polltest.Within(t, waitLimit, "connect_to_match with the refreshed token", func() bool {
					for _, j := range sock.joins() {
						if j.Token == "tok-2" && j.MatchKey == key {
							return true
						}
					}
					return false
				})
				if st := r.src.Stats(); st.TokenRefreshes < 1 {
					t.Errorf("TokenRefreshes = %d, want >= 1", st.TokenRefreshes)
				}
			},
		},
		{
			name:      "on_error token rejected",
			encode:    func(int) []Encoding { return []Encoding{EncodeGzip} },
			serverErr: map[int]string{25: `{"error":{"code":"invalid_token","message":"token expired"}}`},
			check: func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer) {
				polltest.Within(t, waitLimit, "connect_to_match with the new token", func() bool {
					for _, j := range sock.joins() {
						if j.Token == "tok-2" {
							return true
						}
					}
					return false
				})
				if st := r.src.Stats(); st.TokenRefreshes != 1 || st.Resubscribes != 0 {
					t.Errorf("stats %+v: want one token refresh and no resubscribe", st)
				}
			},
		},
		{
			name:       "resync fails first",
			encode:     func(int) []Encoding { return []Encoding{EncodeGzip} },
			failMatchN: 2,
			check: func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer) {
				if st := r.src.Stats(); st.ResyncFailures != 2 || st.Resyncs < 3 {
					t.Errorf("stats %+v: want 2 failed resyncs, then a good one", st)
				}
			},
		},
		{
			name:      "on_error not subscribed",
			encode:    func(int) []Encoding { return []Encoding{EncodeGzip} },
			serverErr: map[int]string{30: `{"error":{"code":"not_subscribed","message":"match not subscribed"},"match_key":"` + key + `"}`},
			check: func(t *testing.T, r *running, api *fakeAPI, sock *sockPeer) {
				st := r.src.Stats()
				if st.ServerErrors != 1 || st.Resubscribes != 1 || !strings.Contains(st.LastServerError, id+": not_subscribed match not subscribed") {
					t.Errorf("stats %+v: want the error surfaced once and one resubscribe", st)
				}
				if n := api.count("subscribe " + key); n < 2 {
					t.Errorf("subscribe calls = %d, want >= 2", n)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, err := NewGenerator(key, evs)
			if err != nil {
				t.Fatal(err)
			}
			api := newFakeAPI(t, g)
			if tc.lifetimes != nil {
				api.lifetimes = tc.lifetimes
			}
			api.failMatch = tc.failMatchN
			sock := startSockPeer(t)
			cfg := testConfig(api, sock.url(), key)
			cfg.EIO = tc.eio
			r := startSource(t, cfg)
			polltest.Within(t, waitLimit, "the match joined", func() bool { return sock.roomSize(key) == 1 })
			for i := 0; i < g.Len(); i++ {
				if p, ok := tc.malformed[i]; ok {
					// Push until it is counted: a push while the connection
					// is down (a slow machine can miss a heartbeat) is lost.
					n := r.src.Stats().Malformed
					counted := false
					for try := 0; try < 5 && !counted; try++ {
						sock.push(key, p, p[0] == 0x1f)
						counted = within(2*time.Second, func() bool { return r.src.Stats().Malformed > n })
					}
					if !counted {
						t.Fatalf("malformed payload before document %d never counted", i)
					}
				}
				if msg, ok := tc.serverErr[i]; ok {
					n := r.src.Stats().ServerErrors
					counted := false
					for try := 0; try < 5 && !counted; try++ {
						sock.call(http.MethodPost, "/error", map[string]string{"match": key, "message": msg}, nil)
						counted = within(2*time.Second, func() bool { return r.src.Stats().ServerErrors > n })
					}
					if !counted {
						t.Fatalf("on_error before document %d never surfaced", i)
					}
				}
				if tc.drop != nil && tc.drop(i) {
					sock.call(http.MethodPost, "/drop", nil, nil)
				}
				for _, enc := range tc.encode(i) {
					sock.push(key, api.document(key, i, enc), enc == EncodeGzip || enc == EncodeZlib)
				}
			}
			got := r.collectUntilCompleted(t)
			for _, ev := range got {
				if ev.Source != "roanuz" || ev.Match != id {
					t.Fatalf("event %s: source %q match %q, want roanuz %q", ev.ID, ev.Source, ev.Match, id)
				}
			}
			compareBalls(t, ballsOf(got), want)
			if tc.wantMalfmd != 0 {
				if st := r.src.Stats(); st.Malformed != tc.wantMalfmd {
					t.Errorf("Malformed = %d, want %d", st.Malformed, tc.wantMalfmd)
				}
			}
			if tc.check != nil {
				tc.check(t, r, api, sock)
			}
			r.stop()
			if err := r.wait(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			if n := api.count("unsubscribe " + key); n != 1 {
				t.Errorf("unsubscribe calls = %d, want 1", n)
			}
			checkNoLeaks(t)
		})
	}
}

// checkNoLeaks fails if a goroutine of the source or of its Socket.IO
// connection outlives Run.
func checkNoLeaks(t *testing.T) {
	t.Helper()
	var stacks string
	polltest.Within(t, 5*time.Second, "source goroutines to end", func() bool {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "source/roanuz.(*Source)") && !strings.Contains(stacks, "socketio.(*Conn)")
	})
}

func TestSourceAuthRejected(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			api := newFakeAPI(t)
			api.authStatus = code
			r := startSource(t, testConfig(api, "http://127.0.0.1:1", "rz_m"))
			err := r.wait(t)
			if !errors.Is(err, ErrAuthRejected) || !strings.Contains(err.Error(), "http "+strconv.Itoa(code)) {
				t.Fatalf("Run = %v, want ErrAuthRejected naming http %d", err, code)
			}
			if strings.Contains(err.Error(), testAPIKey) {
				t.Fatalf("error leaks the API key: %v", err)
			}
			if n := api.count("auth"); n != 1 {
				t.Fatalf("auth calls = %d, want 1 (no retry)", n)
			}
		})
	}
}

func TestSourceMaxAttempts(t *testing.T) {
	_, evs := bundled(t)
	g, err := NewGenerator("rz_m", evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := testConfig(api, dead, "rz_m")
	cfg.MaxAttempts = 3
	r := startSource(t, cfg)
	err = r.wait(t)
	if err == nil || !strings.Contains(err.Error(), "gave up after 3 failed connection attempts") {
		t.Fatalf("Run = %v, want the max attempts error", err)
	}
	if n := api.count("subscribe rz_m"); n != 3 {
		t.Fatalf("subscribe calls = %d, want one per attempt (3)", n)
	}
}

// The Socket.IO server goes away and comes back on the same address: the
// source keeps dialling with backoff, rejoins and resynchronises.
func TestSourceServerRestart(t *testing.T) {
	id, evs := bundled(t)
	key := "rz_" + id
	g, err := NewGenerator(key, evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	sock := startSockPeer(t)
	cfg := testConfig(api, sock.url(), key)
	// The node server takes a while to come back on a loaded machine: allow
	// ~20 s of failed dials (50 ms apart at most) rather than ~0.3 s.
	cfg.MaxAttempts = 400
	r := startSource(t, cfg)
	polltest.Within(t, waitLimit, "joined", func() bool { return sock.roomSize(key) == 1 })
	half := g.Len() / 2
	for i := 0; i < half; i++ {
		sock.push(key, api.document(key, i, EncodeGzip), true)
	}
	sock.kill()
	for i := half; i < half+10; i++ {
		api.document(key, i, EncodeGzip) // pushed while the server is down: lost
	}
	sock = startSockPeerOn(t, sock.port)
	polltest.Within(t, waitLimit, "joined again", func() bool { return sock.roomSize(key) == 1 })
	for i := half + 10; i < g.Len(); i++ {
		sock.push(key, api.document(key, i, EncodeGzip), true)
	}
	got := r.collectUntilCompleted(t)
	compareBalls(t, ballsOf(got), ballsOf(evs))
	if st := r.src.Stats(); st.Connects != 2 {
		t.Errorf("Connects = %d, want 2", st.Connects)
	}
}

// A source configured for Engine.IO v3 against a v4-only server detects the
// mismatch, switches to v4 on the next attempt and follows the match.
func TestSourceDetectsEngineIORevision(t *testing.T) {
	id, evs := bundled(t)
	key := "rz_" + id
	g, err := NewGenerator(key, evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	sock := startSockPeerEIO(t, 0, false)
	cfg := testConfig(api, sock.url(), key)
	cfg.EIO = 3
	r := startSource(t, cfg)
	polltest.Within(t, waitLimit, "joined over engine.io v4", func() bool { return sock.roomSize(key) == 1 })
	for i := 0; i < g.Len(); i++ {
		sock.push(key, api.document(key, i, EncodeGzip), true)
	}
	got := r.collectUntilCompleted(t)
	compareBalls(t, ballsOf(got), ballsOf(evs))
	if st := r.src.Stats(); st.EIOSwitches != 1 || st.Connects != 1 {
		t.Errorf("EIOSwitches = %d, Connects = %d; want 1 switch and 1 connection", st.EIOSwitches, st.Connects)
	}
}

func TestSourceStaleReconnects(t *testing.T) {
	_, evs := bundled(t)
	g, err := NewGenerator("rz_m", evs)
	if err != nil {
		t.Fatal(err)
	}
	api := newFakeAPI(t, g)
	sock := startSockPeer(t)
	cfg := testConfig(api, sock.url(), "rz_m")
	cfg.StaleAfter = 300 * time.Millisecond
	r := startSource(t, cfg)
	polltest.Within(t, waitLimit, "joined", func() bool { return r.src.Stats().Joins == 1 })
	// The server stops answering: probes go unanswered, nothing is pushed.
	sock.call(http.MethodPost, "/nojoin", map[string]bool{"off": true}, nil)
	polltest.Within(t, waitLimit, "a reconnect after staleness", func() bool { return r.src.Stats().Connects >= 2 })
	sock.call(http.MethodPost, "/nojoin", map[string]bool{"off": false}, nil)
	polltest.Within(t, waitLimit, "joined again", func() bool { return r.src.Stats().Joins >= 2 })
}

func TestConfigValidate(t *testing.T) {
	ok := Config{ProjectKey: "p", Matches: []MatchConfig{{Key: "k"}}}
	many := ok
	many.Matches = nil
	for i := range 21 {
		many.Matches = append(many.Matches, MatchConfig{Key: "k" + strconv.Itoa(i)})
	}
	cases := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none: valid
	}{
		{"defaults", ok, nil},
		{"eio 3", func() Config { c := ok; c.EIO = 3; return c }(), nil},
		{"empty", Config{}, []string{"project_key: required", "matches: at least one"}},
		{"bad values", Config{
			ProjectKey: "a/b", APIURL: "ftp://x", SocketURL: "nohost", SocketPath: "v5", Namespace: "cricket", EIO: 2,
			Matches: []MatchConfig{{Key: "k"}, {Key: "k"}, {Key: ""}}, Heartbeat: time.Minute, StaleAfter: time.Second,
			BackoffMin: time.Minute, BackoffMax: time.Second, MaxAttempts: -1, MaxUpdateBytes: -1, MaxConnections: -1,
		}, []string{
			"project_key:", "api_url:", "socket_url:", "socket_path:", "namespace:", "eio: 2", "matches[1].key: \"k\" listed twice",
			"matches[2].key: required", "max_connections:", "backoff_max:", "stale_after:", "max_attempts:", "max_update_bytes:",
		}},
		{"over the connection cap", many, []string{"21 matches over the max_connections cap of 20"}},
		{"duplicate ids", Config{ProjectKey: "p", Matches: []MatchConfig{{Key: "a", ID: "x"}, {Key: "b", ID: "x"}}}, []string{`matches[1].id: "x" used twice`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v\nwant it to mention %q", err, w)
				}
			}
		})
	}
}

func TestNewNeedsAPIKey(t *testing.T) {
	t.Setenv(testKeyEnv, "")
	cfg := Config{ProjectKey: "p", APIKeyEnv: testKeyEnv, Matches: []MatchConfig{{Key: "k"}}}
	_, err := New(cfg, zerolog.Nop())
	if err == nil || !strings.Contains(err.Error(), testKeyEnv) {
		t.Fatalf("New = %v, want an error naming %s", err, testKeyEnv)
	}
	t.Setenv(testKeyEnv, "x")
	s, err := New(cfg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "roanuz" || s.workers["k"].id != "k" {
		t.Fatalf("name %q, id %q: want roanuz and the key as default id", s.Name(), s.workers["k"].id)
	}
	// A key file (a mounted secret) wins over the variable.
	cfg.APIKeyFile = filepath.Join(t.TempDir(), "key")
	if _, err := New(cfg, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "key file") {
		t.Fatalf("missing key file: %v", err)
	}
	if err := os.WriteFile(cfg.APIKeyFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err = New(cfg, zerolog.Nop()); err != nil || s.auth.apiKey != "from-file" {
		t.Fatalf("key file: %v", err)
	}
}
