package pusher

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/nodepeer"
)

// The real peer: soketi, a Pusher Channels protocol server from npm, run
// by testdata/node/server.js (apps listed there).

const (
	peerDir        = "testdata/node"
	peerInstallCmd = "npm ci --prefix core/pusher/testdata/node"
	appID, appKey  = "app-id", "app-key"
	appSecret      = "app-secret"
)

// checkPeerInstalled fails (never skips) when soketi is not installed.
func checkPeerInstalled(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("pusher: node is not on PATH (%v): the tests run soketi, a Pusher server from npm; install Node.js 18+ and run `%s`", err, peerInstallCmd)
	}
	for _, pkg := range []string{"@soketi/soketi", "uWebSockets.js"} {
		if _, err := os.Stat(filepath.Join(peerDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("pusher: test peer %s is not installed: run `%s` (from the repository root)", pkg, peerInstallCmd)
		}
	}
}

// soketi is one running server.
type soketi struct {
	*nodepeer.Process
}

// startSoketi starts soketi on port (0: a free one); it is killed at cleanup.
func startSoketi(t testing.TB, port int) *soketi {
	t.Helper()
	checkPeerInstalled(t)
	p, err := nodepeer.Start(peerDir, "server.js", nil, 30*time.Second, strconv.Itoa(port))
	if err != nil {
		t.Fatalf("start soketi: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() && p.Stderr() != "" {
			t.Logf("soketi stderr (tail):\n%s", tail(p.Stderr(), 2000))
		}
	})
	return &soketi{p}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// stop shuts soketi down gracefully (SIGTERM: pusher:error 4200 to every
// client, close 4200) and waits for it to exit.
func (s *soketi) stop(t testing.TB) {
	t.Helper()
	if err := s.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop soketi: %v", err)
	}
	select {
	case <-s.Exited():
	case <-time.After(20 * time.Second):
		t.Fatalf("soketi did not exit after SIGTERM")
	}
}

// options for a client of the soketi app with key.
func (s *soketi) options(key string) Options {
	return Options{Key: key, WSHost: "127.0.0.1", WSPort: s.Port, Insecure: true, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond}
}

// trigger publishes an event through soketi's HTTP API (signed as the
// Pusher HTTP API requires) with data sent as the string it is.
func (s *soketi) trigger(t testing.TB, channel, event, data string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": event, "channels": []string{channel}, "data": data})
	path := "/apps/" + appID + "/events"
	sum := md5.Sum(body)
	q := url.Values{
		"auth_key": {appKey}, "auth_timestamp": {strconv.FormatInt(time.Now().Unix(), 10)},
		"auth_version": {"1.0"}, "body_md5": {hex.EncodeToString(sum[:])},
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+q.Get(k))
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte("POST\n" + path + "\n" + strings.Join(parts, "&")))
	q.Set("auth_signature", hex.EncodeToString(m.Sum(nil)))
	resp, err := http.Post(s.URL()+path+"?"+q.Encode(), "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("trigger %s on %s: %v", event, channel, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var b bytes.Buffer
		b.ReadFrom(resp.Body) //nolint:errcheck // for the message only
		t.Fatalf("trigger %s on %s: HTTP %d: %s", event, channel, resp.StatusCode, b.String())
	}
}

// authServer is a channel auth endpoint as an app backend runs it: it
// signs with the app secret. reject makes it answer 403; wrongSecret
// makes it sign with a wrong secret.
type authServer struct {
	*httptest.Server
	requests    atomic.Int64
	reject      atomic.Bool
	wrongSecret atomic.Bool
	lastHeader  atomic.Value // string: the X-Test header of the last request
}

func newAuthServer(t testing.TB) *authServer {
	a := &authServer{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		a.lastHeader.Store(r.Header.Get("X-Test"))
		if r.Method != http.MethodPost || r.ParseForm() != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if a.reject.Load() {
			http.Error(w, `{"error":"forbidden"}`, http.StatusForbidden)
			return
		}
		secret := appSecret
		if a.wrongSecret.Load() {
			secret = "not-the-secret"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(Authorization{Auth: Sign(appKey, secret, r.PostForm.Get("socket_id"), r.PostForm.Get("channel_name"), "")}) //nolint:errcheck // test
	}))
	t.Cleanup(a.Close)
	return a
}

// recorder collects a client's events for the test goroutine.
type recorder struct {
	ch chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1024)} }

func (r *recorder) handle(ev Event) {
	select {
	case r.ch <- ev:
	default:
		panic("recorder full")
	}
}

// next returns the next event named name (others are skipped), failing
// after a deadline.
func (r *recorder) next(t testing.TB, name string) Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-r.ch:
			if ev.Event == name {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within 20s", name)
		}
	}
}

// running starts c.Run. done yields Run's error once it returns; stop
// ends Run and returns its error. Both may be used, in either order.
func running(t testing.TB, c *Client, rec *recorder) (done <-chan error, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	finished := make(chan struct{})
	var runErr error
	go func() {
		runErr = c.Run(ctx, rec.handle)
		close(finished)
		errc <- runErr
	}()
	stop = func() error {
		cancel()
		<-finished
		return runErr
	}
	t.Cleanup(func() { stop() }) //nolint:errcheck // cleanup
	return errc, stop
}

func mustNew(t testing.TB, o Options) *Client {
	t.Helper()
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func eventIDs(t testing.TB, data json.RawMessage) string {
	t.Helper()
	var ids []struct {
		EventID string `json:"eventID"`
	}
	if err := json.Unmarshal(data, &ids); err != nil {
		t.Fatalf("data %s: %v", data, err)
	}
	var out []string
	for _, id := range ids {
		out = append(out, id.EventID)
	}
	return fmt.Sprint(out)
}

// tcpProxy forwards connections to the current backend port, so a client
// keeps one address while the server behind it is restarted (soketi cannot
// listen again on a port whose closed connections are in TIME_WAIT).
type tcpProxy struct {
	ln      net.Listener
	backend atomic.Int64
}

func newTCPProxy(t testing.TB, backend int) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	p.backend.Store(int64(backend))
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				b, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(int(p.backend.Load())))
				if err != nil {
					return
				}
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(b, c); done <- struct{}{} }() //nolint:errcheck // ends with either side
				go func() { io.Copy(c, b); done <- struct{}{} }() //nolint:errcheck // as above
				<-done
			}()
		}
	}()
	return p
}

func (p *tcpProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// shared is one soketi for the tests that do not disturb the server; it is
// started on first use and killed by TestMain.
var shared struct {
	sync.Mutex
	p *soketi
}

func sharedSoketi(t testing.TB) *soketi {
	t.Helper()
	checkPeerInstalled(t)
	shared.Lock()
	defer shared.Unlock()
	if shared.p == nil {
		p, err := nodepeer.Start(peerDir, "server.js", nil, 30*time.Second, "0")
		if err != nil {
			t.Fatalf("start shared soketi: %v", err)
		}
		shared.p = &soketi{p}
	}
	select {
	case <-shared.p.Exited():
		t.Fatalf("shared soketi exited: %s", tail(shared.p.Stderr(), 2000))
	default:
	}
	return shared.p
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaks := leakedGoroutines(3 * time.Second); leaks != "" {
			fmt.Fprintf(os.Stderr, "pusher: goroutines leaked after all tests:\n%s\n", leaks)
			code = 1
		}
	}
	shared.Lock()
	if shared.p != nil {
		shared.p.Kill()
	}
	shared.Unlock()
	os.Exit(code)
}

// leakedGoroutines waits up to limit for goroutines running this package's
// client or server code, or coder/websocket, to end, and returns the
// stacks of those that remain.
func leakedGoroutines(limit time.Duration) string {
	deadline := time.Now().Add(limit)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var out []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i > 0 && (strings.Contains(g, "core/pusher.(*") || strings.Contains(g, "coder/websocket")) {
				out = append(out, g)
			}
		}
		if len(out) == 0 || time.Now().After(deadline) {
			return strings.Join(out, "\n\n")
		}
		time.Sleep(20 * time.Millisecond) // polling the goroutine list; nothing to wait on
	}
}
