//go:build browser

// The live page in real headless Chromium. Opt-in, because it needs a
// browser on the machine (Debian: apt-get install chromium-headless-shell):
//
//	go test -tags browser -run TestBrowser ./broadcast/
//
// BALLCAST_CHROMIUM names the binary; otherwise chromium-headless-shell,
// chromium or google-chrome is looked up in PATH. A missing browser fails
// the test: it never skips.

package broadcast_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
)

// TestBrowser loads the page, follows the bundled match live, drops the
// page's connection and checks that it resumes with exactly the missed
// events: no duplicate, no gap, no reset.
func TestBrowser(t *testing.T) {
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatalf("parse bundled match: %v", err)
	}
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
		evs[i].Commentary = &event.Commentary{Text: fmt.Sprintf("line %d", i+1), Language: "en"}
	}
	env := startHub(t, broadcast.Config{}, nil)
	conns := &connTracker{}
	ts := trackConnections(t, env, conns)

	publishAll(t, env.hub, evs[:150]...)
	page := openPage(t, ts+"/#m=1298179")

	state := page.waitFor(t, "top === 150")
	if state.Dups != 0 || !state.Desc || state.Conn != "live" || !strings.Contains(state.Title, "Pakistan v England") {
		t.Fatalf("after load: got %+v, want top 150, live, no duplicates, newest first", state)
	}
	if !strings.Contains(state.Footer, "cricsheet.org") {
		t.Fatalf("footer: got %q, want the Cricsheet credit", state.Footer)
	}
	before := state.N

	publishAll(t, env.hub, evs[150:170]...)
	state = page.waitFor(t, "top === 170")
	if state.N != before+20 || state.Dups != 0 || !state.Desc {
		t.Fatalf("live: got %+v, want %d lines, no duplicates", state, before+20)
	}

	// Drop every connection; while the page is away, 10 more events.
	conns.closeAll()
	page.waitFor(t, "conn !== 'live'")
	publishAll(t, env.hub, evs[170:180]...)
	state = page.waitFor(t, "top === 180 && conn === 'live'")
	if state.N != before+30 || state.Dups != 0 || !state.Desc {
		t.Fatalf("after resume: got %+v, want %d lines (a resume, not a reset), no duplicates", state, before+30)
	}
}

// pageState is what the page shows, as read by pageStateJS.
type pageState struct {
	Conn   string `json:"conn"`
	Title  string `json:"title"`
	Footer string `json:"footer"`
	N      int    `json:"n"`
	Top    int    `json:"top"`
	Dups   int    `json:"dups"`
	Desc   bool   `json:"desc"`
}

const pageStateJS = `(() => {
  if (!document.getElementById('conn') || !document.querySelector('footer')) return null; // still loading
  const seqs = [...document.querySelectorAll('#lines li')].map((l) => +l.dataset.seq);
  return {
    conn: document.getElementById('conn').textContent,
    title: document.getElementById('title').textContent,
    footer: document.querySelector('footer').textContent,
    n: seqs.length, top: seqs[0] || 0, dups: seqs.length - new Set(seqs).size,
    desc: seqs.every((v, i) => i === 0 || seqs[i - 1] > v),
  };
})()`

type page struct {
	conn *websocket.Conn
	id   int
}

// waitFor resolves, inside the page, once cond (an expression over the
// fields of pageState) holds, and returns the state; it fails the test
// after 30 s.
func (p *page) waitFor(t *testing.T, cond string) pageState {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	expr := `new Promise((resolve) => {
  const check = () => {
    const s = ` + pageStateJS + `;
    if (s) {
      const { conn, n, top, dups, desc } = s;
      if (` + cond + `) { resolve(JSON.stringify(s)); return; }
    }
    setTimeout(check, 20);
  };
  check();
})`
	var res struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	if err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true}, &res); err != nil {
		t.Fatalf("waiting for %s: %v", cond, err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("waiting for %s: %v", cond, res.ExceptionDetails)
	}
	var s pageState
	if err := json.Unmarshal([]byte(res.Result.Value), &s); err != nil {
		t.Fatalf("decode page state %q: %v", res.Result.Value, err)
	}
	t.Logf("page: %s: %+v", cond, s)
	return s
}

// call sends one DevTools command and waits for its answer, skipping events.
func (p *page) call(ctx context.Context, method string, params, result any) error {
	p.id++
	req, err := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	if err != nil {
		return err
	}
	if err := p.conn.Write(ctx, websocket.MessageText, req); err != nil {
		return err
	}
	for {
		_, b, err := p.conn.Read(ctx)
		if err != nil {
			return err
		}
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &msg); err != nil {
			return err
		}
		if msg.ID != p.id {
			continue
		}
		if msg.Error != nil {
			return fmt.Errorf("%s: %s", method, msg.Error.Message)
		}
		if result == nil {
			return nil
		}
		return json.Unmarshal(msg.Result, result)
	}
}

// openPage starts headless Chromium on url and connects to its page over
// the DevTools protocol. The browser is stopped at cleanup.
func openPage(t *testing.T, url string) *page {
	t.Helper()
	bin := os.Getenv("BALLCAST_CHROMIUM")
	if bin == "" {
		for _, name := range []string{"chromium-headless-shell", "chromium", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				bin = p
				break
			}
		}
	}
	if bin == "" {
		t.Fatalf("no Chromium: install chromium-headless-shell or set BALLCAST_CHROMIUM")
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-port=0", "--window-size=412,900", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatalf("chromium stderr: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Chromium announces its DevTools endpoint on stderr.
	endpoint := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, ws, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				select {
				case endpoint <- ws:
				default:
				}
			}
		}
	}()
	var browserWS string
	select {
	case browserWS = <-endpoint:
	case <-exited:
		t.Fatalf("chromium exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatalf("chromium did not announce DevTools within 30s")
	}
	host := strings.TrimPrefix(browserWS, "ws://")
	host = host[:strings.IndexByte(host, '/')]

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/json/list", nil)
	if err != nil {
		t.Fatalf("devtools list: %v", err)
	}
	req.Close = true // no idle connection left behind
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("devtools list: %v", err)
	}
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	err = json.NewDecoder(resp.Body).Decode(&targets)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("devtools list: %v", err)
	}
	var pageWS string
	for _, tg := range targets {
		if tg.Type == "page" {
			pageWS = tg.WS
		}
	}
	if pageWS == "" {
		t.Fatalf("devtools list: no page target in %+v", targets)
	}
	conn, _, err := websocket.Dial(ctx, pageWS, nil)
	if err != nil {
		t.Fatalf("devtools dial: %v", err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	p := &page{conn: conn}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	return p
}

// connTracker remembers a server's connections so a test can drop them all.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

type trackingListener struct {
	net.Listener
	t *connTracker
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.t.mu.Lock()
		l.t.conns = append(l.t.conns, c)
		l.t.mu.Unlock()
	}
	return c, err
}

// trackConnections serves env's hub on a second server whose connections
// are tracked, and returns its URL.
func trackConnections(t *testing.T, env *testEnv, tr *connTracker) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{Handler: env.hub.Handler()}
	done := make(chan struct{})
	go func() { _ = srv.Serve(trackingListener{Listener: ln, t: tr}); close(done) }()
	t.Cleanup(func() {
		_ = srv.Close()
		tr.closeAll()
		<-done
	})
	return "http://" + ln.Addr().String()
}
