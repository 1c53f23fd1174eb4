package socketio

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

const (
	testServerPath = "/v5/websocket"
	// A short heartbeat, so the heartbeat tests are fast.
	testPingInterval = 200 * time.Millisecond
	testPingTimeout  = 200 * time.Millisecond
)

// testServer is a Server on an httptest.Server with the namespace /cricket,
// whose accepted sockets arrive on joined, and /secure, which refuses
// everyone with "not authorized".
type testServer struct {
	srv    *Server
	http   *httptest.Server
	joined chan *ServerSocket
}

func startServer(t testing.TB, opts *ServerOptions) *testServer {
	t.Helper()
	o := ServerOptions{Path: testServerPath, PingInterval: testPingInterval, PingTimeout: testPingTimeout, AllowEIO3: true}
	if opts != nil {
		o = *opts
	}
	ts := &testServer{srv: NewServer(&o), joined: make(chan *ServerSocket, 16)}
	ts.srv.Namespace("/cricket").OnConnect(func(s *ServerSocket) error {
		ts.joined <- s
		return nil
	})
	ts.srv.Namespace("/secure").OnConnect(func(s *ServerSocket) error {
		return errors.New("not authorized")
	})
	ts.http = httptest.NewServer(ts.srv)
	t.Cleanup(func() {
		_ = ts.srv.Close()
		ts.http.Close()
	})
	return ts
}

func (ts *testServer) dial(t testing.TB, eio int) *Conn {
	t.Helper()
	c, err := Dial(testCtx(t), ts.http.URL, &Options{EIO: eio, Path: testServerPath})
	if err != nil {
		t.Fatalf("Dial EIO %d: %v", eio, err)
	}
	t.Cleanup(func() { closeAndCheck(t, c) })
	return c
}

// accepted returns the next ServerSocket accepted on /cricket.
func (ts *testServer) accepted(t testing.TB) *ServerSocket {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case s := <-ts.joined:
		return s
	case <-timer.C:
		t.Fatal("no socket joined /cricket within 10s")
		return nil
	}
}

var eioVersions = []struct {
	name string
	eio  int
}{{"EIO4", 4}, {"EIO3", 3}}

func TestServerWithOurClient(t *testing.T) {
	for _, v := range eioVersions {
		t.Run(v.name, func(t *testing.T) {
			ts := startServer(t, nil)
			c := ts.dial(t, v.eio)
			hs := c.Handshake()
			assertEqual(t, "ping interval", hs.PingInterval, testPingInterval)
			assertEqual(t, "ping timeout", hs.PingTimeout, testPingTimeout)
			if v.eio == 3 {
				// The unsolicited CONNECT for "/" lets Join("/") succeed at once.
				join(t, c, "/")
			}
			cs := join(t, c, "/cricket")
			ss := ts.accepted(t)
			assertEqual(t, "server socket eio", ss.EIO(), v.eio)
			if v.eio == 4 {
				assertEqual(t, "client sees the namespace sid", cs.ID(), ss.ID())
				if ss.ID() == c.Handshake().SID || ss.ID() == "" {
					t.Fatalf("namespace sid %q: want a new non-empty id", ss.ID())
				}
			}
			assertEqual(t, "engine sid", ss.SID(), hs.SID)
			ctx := testCtx(t)

			t.Run("client event with ack and binary", func(t *testing.T) {
				done := make(chan []Arg, 1)
				errc := make(chan error, 1)
				go func() {
					res, err := cs.EmitWithAck(ctx, "connect_to_match", map[string]string{"match_key": "m1"}, []byte{0x1f, 0x8b, 0})
					errc <- err
					done <- res
				}()
				ev := waitEvent(t, ss, "connect_to_match")
				assertEqual(t, "args", argStrings(ev.Args), []string{`{"match_key":"m1"}`, "bin:1f8b00"})
				if !ev.AckRequested() {
					t.Fatal("ack not requested")
				}
				if err := ev.Ack(ctx, "ok", []byte{7}); err != nil {
					t.Fatalf("Ack: %v", err)
				}
				if err := <-errc; err != nil {
					t.Fatalf("EmitWithAck: %v", err)
				}
				assertEqual(t, "ack args", argStrings(<-done), []string{`"ok"`, "bin:07"})
			})

			t.Run("server event with binary", func(t *testing.T) {
				if err := ss.Emit(ctx, "on_match_update", []byte{0x1f, 0x8b, 8, 0}, map[string]int{"n": 1}); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				ev := waitEvent(t, cs, "on_match_update")
				assertEqual(t, "args", argStrings(ev.Args), []string{"bin:1f8b0800", `{"n":1}`})
				if ev.AckRequested() {
					t.Fatal("ack requested without a callback")
				}
			})

			t.Run("server ack request", func(t *testing.T) {
				type result struct {
					args []Arg
					err  error
				}
				resc := make(chan result, 1)
				go func() {
					args, err := ss.EmitWithAck(ctx, "question", "why")
					resc <- result{args, err}
				}()
				ev := waitEvent(t, cs, "question")
				assertEqual(t, "question args", argStrings(ev.Args), []string{`"why"`})
				if err := ev.Ack(ctx, []byte{9, 8}, "because"); err != nil {
					t.Fatalf("Ack: %v", err)
				}
				res := <-resc
				if res.err != nil {
					t.Fatalf("EmitWithAck: %v", res.err)
				}
				assertEqual(t, "answer", argStrings(res.args), []string{"bin:0908", `"because"`})
			})

			t.Run("heartbeat keeps the connection", func(t *testing.T) {
				// Five ping intervals, longer than interval+timeout: without
				// heartbeats either side would have ended the connection.
				timer := time.NewTimer(5 * testPingInterval)
				defer timer.Stop()
				select {
				case <-c.Done():
					t.Fatalf("client connection ended: %v", c.Err())
				case <-ss.Done():
					t.Fatalf("server socket ended: %v", ss.Err())
				case <-timer.C:
				}
				if err := cs.Emit(ctx, "still_here"); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				waitEvent(t, ss, "still_here")
			})

			t.Run("client leaves", func(t *testing.T) {
				if err := cs.Leave(ctx); err != nil {
					t.Fatalf("Leave: %v", err)
				}
				waitDone(t, ss.Done(), 5*time.Second, "server socket after Leave")
				assertErrorIs(t, ss.Err(), ErrClientLeft)
			})

			t.Run("server disconnects the namespace", func(t *testing.T) {
				if v.eio == 4 {
					// Let the server act on the DISCONNECT before joining again.
					if _, err := c.Join(ctx, "/", nil); err != nil {
						t.Fatalf("Join /: %v", err)
					}
				}
				cs2 := join(t, c, "/cricket")
				ss2 := ts.accepted(t)
				if err := ss2.Disconnect(ctx); err != nil {
					t.Fatalf("Disconnect: %v", err)
				}
				waitDone(t, cs2.Done(), 5*time.Second, "client socket after Disconnect")
				assertErrorIs(t, cs2.Err(), ErrNamespaceDisconnected)
				assertErrorIs(t, ss2.Err(), ErrClosed)
				if c.Err() != nil {
					t.Fatalf("connection ended with the namespace: %v", c.Err())
				}
			})

			t.Run("connect error", func(t *testing.T) {
				_, err := c.Join(ctx, "/secure", nil)
				var ce *ConnectError
				if !errors.As(err, &ce) {
					t.Fatalf("Join /secure: %v, want a *ConnectError", err)
				}
				assertEqual(t, "message", ce.Message, "not authorized")
				_, err = c.Join(ctx, "/nowhere", nil)
				if !errors.As(err, &ce) {
					t.Fatalf("Join /nowhere: %v, want a *ConnectError", err)
				}
				assertEqual(t, "message", ce.Message, "Invalid namespace")
			})
		})
	}
}

func TestServerDropAndClose(t *testing.T) {
	for _, v := range eioVersions {
		t.Run(v.name, func(t *testing.T) {
			ts := startServer(t, nil)

			c := ts.dial(t, v.eio)
			cs := join(t, c, "/cricket")
			ss := ts.accepted(t)
			ss.Drop()
			assertErrorIs(t, ss.Err(), ErrDropped)
			waitDone(t, c.Done(), 5*time.Second, "client after Drop")
			waitDone(t, cs.Done(), time.Second, "client socket after Drop")
			if errors.Is(c.Err(), ErrClosed) {
				t.Fatalf("client Err after Drop = %v, want a transport error", c.Err())
			}

			c2 := ts.dial(t, v.eio)
			join(t, c2, "/cricket")
			ss2 := ts.accepted(t)
			ts.srv.CloseAll()
			assertErrorIs(t, ss2.Err(), ErrClosed)
			waitDone(t, c2.Done(), 5*time.Second, "client after CloseAll")
			assertErrorIs(t, c2.Err(), ErrServerClosed)
			if !eventually(5*time.Second, func() bool { return ts.srv.ConnCount() == 0 }) {
				t.Fatalf("after CloseAll, %d connections", ts.srv.ConnCount())
			}

			// The server keeps accepting after CloseAll, and DropAll breaks
			// the transport under every client.
			c3 := ts.dial(t, v.eio)
			c4 := ts.dial(t, v.eio)
			join(t, c3, "/cricket")
			ss3 := ts.accepted(t)
			ts.srv.DropAll()
			assertErrorIs(t, ss3.Err(), ErrDropped)
			for _, c := range []*Conn{c3, c4} {
				waitDone(t, c.Done(), 5*time.Second, "client after DropAll")
				if errors.Is(c.Err(), ErrServerClosed) || errors.Is(c.Err(), ErrClosed) {
					t.Fatalf("client Err after DropAll = %v, want a transport error", c.Err())
				}
			}
		})
	}
}

func TestServerRefusesHandshakes(t *testing.T) {
	ts := startServer(t, &ServerOptions{Path: testServerPath})
	for _, tc := range []struct {
		query, want string
		status      int
	}{
		{"EIO=4&transport=polling", "transport \"polling\" not supported", http.StatusBadRequest},
		{"EIO=3&transport=websocket", "unsupported engine.io protocol version", http.StatusBadRequest},
		{"EIO=5&transport=websocket", "unsupported engine.io protocol version", http.StatusBadRequest},
		{"EIO=4&transport=websocket&sid=abc", "upgrade not supported", http.StatusBadRequest},
	} {
		req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, ts.http.URL+testServerPath+"/?"+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.http.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.query, resp.StatusCode, body, tc.status, tc.want)
		}
	}
	// Our client, asking for EIO3 of a server without AllowEIO3, fails to dial.
	if c, err := Dial(testCtx(t), ts.http.URL, &Options{EIO: 3, Path: testServerPath}); err == nil {
		_ = c.Close()
		t.Fatal("Dial EIO 3 without AllowEIO3 succeeded")
	}
}

// TestServerMaxPayload checks that a message over MaxPayload ends the
// connection with ErrTooLarge. EIO3 clients are not told the limit, so our
// client sends the message and the server refuses it.
func TestServerMaxPayload(t *testing.T) {
	ts := startServer(t, &ServerOptions{Path: testServerPath, AllowEIO3: true, MaxPayload: 1000})
	c := ts.dial(t, 3)
	cs := join(t, c, "/cricket")
	ss := ts.accepted(t)
	ctx := testCtx(t)
	if err := cs.Emit(ctx, "small", make([]byte, 900)); err != nil {
		t.Fatalf("Emit small: %v", err)
	}
	ev := waitEvent(t, ss, "small")
	assertEqual(t, "attachment size", len(ev.Args[0].Bytes()), 900)
	_ = cs.Emit(ctx, "big", make([]byte, 2000)) // may fail: the server is closing
	waitDone(t, ss.Done(), 5*time.Second, "server socket after a big message")
	assertErrorIs(t, ss.Err(), ErrTooLarge)
	waitDone(t, c.Done(), 5*time.Second, "client after a big message")

	// EIO4 clients are told maxPayload and refuse to send more.
	c4 := ts.dial(t, 4)
	assertEqual(t, "announced max payload", c4.Handshake().MaxPayload, int64(1000))
	cs4 := join(t, c4, "/cricket")
	ts.accepted(t)
	assertErrorIs(t, cs4.Emit(ctx, "big", make([]byte, 2000)), ErrTooLarge)
}

// TestServerHeartbeatTimeout runs raw WebSocket clients that never answer
// the heartbeat: the server must end them.
func TestServerHeartbeatTimeout(t *testing.T) {
	for _, v := range eioVersions {
		t.Run(v.name, func(t *testing.T) {
			ts := startServer(t, nil)
			ctx := testCtx(t)
			u := strings.Replace(ts.http.URL, "http", "ws", 1) + testServerPath + "/?transport=websocket&EIO=" + map[int]string{3: "3", 4: "4"}[v.eio]
			ws, _, err := websocket.Dial(ctx, u, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer ws.CloseNow()
			_, frame, err := ws.Read(ctx)
			if err != nil || !strings.HasPrefix(string(frame), "0{") {
				t.Fatalf("open packet: %q, %v", frame, err)
			}
			if v.eio == 4 {
				if !strings.Contains(string(frame), `"maxPayload"`) {
					t.Fatalf("EIO4 open packet without maxPayload: %s", frame)
				}
			}
			if err := ws.Write(ctx, websocket.MessageText, []byte("40/cricket,")); err != nil {
				t.Fatal(err)
			}
			ss := ts.accepted(t)
			if v.eio == 3 {
				// One ping is answered with a pong.
				if err := ws.Write(ctx, websocket.MessageText, []byte("2")); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			waitDone(t, ss.Done(), 5*time.Second, "server socket of a silent client")
			assertErrorIs(t, ss.Err(), ErrHeartbeatTimeout)
			if d := time.Since(start); d < testPingInterval {
				t.Fatalf("ended after %v, before the ping interval", d)
			}
			// What the raw client read: (EIO3) the unsolicited "40", the
			// CONNECT reply, pings or a pong, then the close.
			var got []string
			for {
				_, f, err := ws.Read(ctx)
				if err != nil {
					break
				}
				got = append(got, string(f))
			}
			if v.eio == 3 && len(got) > 0 && got[0] == "40" {
				got = got[1:] // the unsolicited CONNECT for "/"
			}
			if len(got) == 0 || !strings.HasPrefix(got[0], "40/cricket,") {
				t.Fatalf("frames %q: want the CONNECT reply first", got)
			}
			want := "2" // EIO4: the server pings
			if v.eio == 3 {
				want = "3" // EIO3: the server answers the ping
			}
			if len(got) < 2 || got[1] != want {
				t.Fatalf("frames %q: want %q after the CONNECT reply", got, want)
			}
		})
	}
}

// nodeLine is one line client.js prints.
type nodeLine struct {
	Event   string            `json:"event"`
	ID      string            `json:"id"`
	Args    []json.RawMessage `json:"args"`
	Buffer  bool              `json:"buffer"`
	Hex     string            `json:"hex"`
	Reason  string            `json:"reason"`
	Message string            `json:"message"`
}

// runNodeClient starts client.js and returns its output lines as they come.
func runNodeClient(t *testing.T, version, url, nsp, mode string) <-chan nodeLine {
	t.Helper()
	checkPeerInstalled(t)
	for _, pkg := range []string{"socket.io-client", "socket.io-client-v2"} {
		if _, err := os.Stat(filepath.Join(peerDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("socketio: test client %s is not installed: run `%s` (from the repository root)", pkg, peerInstallCmd)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	cmd := exec.CommandContext(ctx, "node", "client.js", version, url, testServerPath, nsp, mode)
	cmd.Dir = peerDir
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start client.js: %v", err)
	}
	lines := make(chan nodeLine, 64)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l nodeLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("client.js printed %q: %v", sc.Text(), err)
				continue
			}
			lines <- l
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("client.js stderr:\n%s", stderr.String())
		}
	})
	return lines
}

func nextLine(t *testing.T, lines <-chan nodeLine, event string) nodeLine {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case l, ok := <-lines:
		if !ok {
			t.Fatalf("waiting for %q: client.js exited", event)
		}
		if l.Event != event {
			t.Fatalf("client.js printed %+v, want event %q", l, event)
		}
		return l
	case <-timer.C:
		t.Fatalf("waiting for %q: nothing from client.js within 10s", event)
	}
	return nodeLine{}
}

// TestServerWithOfficialClients runs socket.io-client 4.8 (EIO4) and 2.5
// (EIO3) against our server.
func TestServerWithOfficialClients(t *testing.T) {
	for _, v := range []struct{ name, version string }{{"v4", "v4"}, {"v2", "v2"}} {
		t.Run(v.name, func(t *testing.T) {
			ts := startServer(t, nil)
			ctx := testCtx(t)
			lines := runNodeClient(t, v.version, ts.http.URL, "/cricket", "normal")
			ss := ts.accepted(t)
			wantEIO := map[string]int{"v4": 4, "v2": 3}[v.version]
			assertEqual(t, "eio", ss.EIO(), wantEIO)
			if wantEIO == 4 {
				assertEqual(t, "auth", string(ss.Auth()), `{"token":"abc"}`)
			} else {
				assertEqual(t, "query token", ss.Query().Get("token"), "abc")
			}
			nextLine(t, lines, "connect")

			ev := waitEvent(t, ss, "connect_to_match")
			assertEqual(t, "connect_to_match args", argStrings(ev.Args), []string{`{"match_key":"m1"}`})
			if err := ev.Ack(ctx, "joined", map[string]string{"key": "m1"}); err != nil {
				t.Fatalf("Ack: %v", err)
			}
			ack := nextLine(t, lines, "ack")
			assertEqual(t, "ack args", len(ack.Args), 2)
			assertEqual(t, "ack arg 0", string(ack.Args[0]), `"joined"`)
			assertEqual(t, "ack arg 1", string(ack.Args[1]), `{"key":"m1"}`)

			gz := []byte{0x1f, 0x8b, 0x08, 0x00, 0xff}
			if err := ss.Emit(ctx, "on_match_update", gz); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			up := nextLine(t, lines, "on_match_update")
			if !up.Buffer || up.Hex != "1f8b0800ff" {
				t.Fatalf("client got %+v, want Buffer 1f8b0800ff", up)
			}
			seen := waitEvent(t, ss, "update_seen")
			assertEqual(t, "update_seen", argStrings(seen.Args), []string{`{"hex":"1f8b0800ff"}`})
			upload := waitEvent(t, ss, "upload")
			assertEqual(t, "upload", argStrings(upload.Args), []string{"bin:010203"})

			answer, err := ss.EmitWithAck(ctx, "question", "why")
			if err != nil {
				t.Fatalf("EmitWithAck: %v", err)
			}
			q := nextLine(t, lines, "question")
			assertEqual(t, "question", string(q.Args[0]), `"why"`)
			assertEqual(t, "answer", argStrings(answer), []string{`"answer"`, "bin:090807"})

			// The official client keeps the heartbeat going: five ping
			// intervals, more than interval+timeout, and still connected.
			timer := time.NewTimer(5 * testPingInterval)
			defer timer.Stop()
			select {
			case <-ss.Done():
				t.Fatalf("server socket ended: %v", ss.Err())
			case l := <-lines:
				t.Fatalf("client.js printed %+v while idle", l)
			case <-timer.C:
			}

			if err := ss.Disconnect(ctx); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			d := nextLine(t, lines, "disconnect")
			assertEqual(t, "disconnect reason", d.Reason, "io server disconnect")
		})
		t.Run(v.name+"_drop", func(t *testing.T) {
			ts := startServer(t, nil)
			lines := runNodeClient(t, v.version, ts.http.URL, "/cricket", "normal")
			ss := ts.accepted(t)
			nextLine(t, lines, "connect")
			ss.Drop()
			d := nextLine(t, lines, "disconnect")
			assertEqual(t, "disconnect reason", d.Reason, "transport close")
		})
		t.Run(v.name+"_refused", func(t *testing.T) {
			ts := startServer(t, nil)
			lines := runNodeClient(t, v.version, ts.http.URL, "/secure", "refused")
			l := nextLine(t, lines, "connect_error")
			assertEqual(t, "message", l.Message, "not authorized")
		})
	}
}

// FuzzServerFrames sends arbitrary frame sequences to a live Server: it must
// not panic, and every connection must end once the client goes away. The
// script is split on newlines; a line starting with "b:" is a binary frame
// of the rest, any other a text frame.
func FuzzServerFrames(f *testing.F) {
	for _, s := range []struct {
		eio3   bool
		script string
	}{
		{false, "40/cricket,\n42/cricket,[\"a\",1]\n3"},
		{false, "40/cricket,{\"token\":\"x\"}\n451-/cricket,[\"up\",{\"_placeholder\":true,\"num\":0}]\nb:\x1f\x8b"},
		{false, "40/cricket,\n461-/cricket,3[{\"_placeholder\":true,\"num\":0}]\nb:x\n41/cricket,\n1"},
		{true, "2\n40/cricket?token=a%20b,\n451-/cricket,[\"up\",{\"_placeholder\":true,\"num\":0}]\nb:\x04\x1f\x8b"},
		{true, "40/cricket\n42/cricket,0[\"q\"]\n40/nowhere,\n44/cricket,\"x\""},
		{true, "40/cricket?%zz,\n452-[\"a\",{\"_placeholder\":true,\"num\":7}]\nb:\x04\nb:\x04"},
		{false, "40/secure,\n9\n\n4\n42[]\nb:"},
	} {
		f.Add(s.eio3, []byte(s.script))
	}
	srv := NewServer(&ServerOptions{Path: testServerPath, PingInterval: time.Minute, PingTimeout: time.Minute, AllowEIO3: true, EventBuffer: 8})
	srv.Namespace("/cricket")
	srv.Namespace("/secure").OnConnect(func(*ServerSocket) error { return errors.New("not authorized") })
	var panicked atomicValue
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				panicked.set(p)
			}
		}()
		srv.ServeHTTP(w, r)
	}))
	f.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	base := strings.Replace(hs.URL, "http", "ws", 1) + testServerPath + "/?transport=websocket&EIO="

	f.Fuzz(func(t *testing.T, eio3 bool, script []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		eio := "4"
		if eio3 {
			eio = "3"
		}
		ws, _, err := websocket.Dial(ctx, base+eio, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if _, _, err := ws.Read(ctx); err != nil {
			t.Fatalf("open packet: %v", err)
		}
		drained := make(chan struct{})
		go func() { // read what the server says, so its writes never stall
			defer close(drained)
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
			}
		}()
		for _, line := range strings.Split(string(script), "\n") {
			typ, frame := websocket.MessageText, []byte(line)
			if rest, ok := strings.CutPrefix(line, "b:"); ok {
				typ, frame = websocket.MessageBinary, []byte(rest)
			}
			if err := ws.Write(ctx, typ, frame); err != nil {
				break // the server ended the connection
			}
		}
		_ = ws.CloseNow()
		<-drained
		if !eventually(5*time.Second, func() bool { return srv.ConnCount() == 0 }) {
			t.Fatalf("%d connections left after the client went away", srv.ConnCount())
		}
		if p := panicked.get(); p != nil {
			t.Fatalf("server panicked: %v", p)
		}
	})
}

// atomicValue holds a recovered panic value.
type atomicValue struct {
	mu sync.Mutex
	v  any
}

func (a *atomicValue) set(v any) {
	a.mu.Lock()
	a.v = v
	a.mu.Unlock()
}

func (a *atomicValue) get() any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.v
}

// TestServerSlowConsumer checks that an undrained ServerSocket ends its
// connection with ErrSlowConsumer instead of stalling the read loop.
func TestServerSlowConsumer(t *testing.T) {
	ts := startServer(t, &ServerOptions{Path: testServerPath, EventBuffer: 2})
	c := ts.dial(t, 4)
	cs := join(t, c, "/cricket")
	ss := ts.accepted(t)
	ctx := testCtx(t)
	for i := range 3 {
		if err := cs.Emit(ctx, "spam", i); err != nil {
			break // the server may already have closed
		}
	}
	waitDone(t, ss.Done(), 5*time.Second, "undrained server socket")
	assertErrorIs(t, ss.Err(), ErrSlowConsumer)
	waitDone(t, c.Done(), 5*time.Second, "client of an undrained server socket")
}

// A Roanuz-like feed: namespace /cricket on /v5/websocket, answering
// connect_to_match with on_match_joined and a gzip Buffer.
func ExampleNewServer() {
	srv := NewServer(&ServerOptions{Path: "/v5/websocket", AllowEIO3: true})
	srv.Namespace("/cricket").OnConnect(func(s *ServerSocket) error {
		go func() { // serve s; OnConnect must return promptly
			for ev := range s.Events() {
				if ev.Name != "connect_to_match" {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = s.Emit(ctx, "on_match_joined", map[string]string{"key": "m1"})
				_ = s.Emit(ctx, "on_match_update", []byte{0x1f, 0x8b, 0x08}) // a binary attachment
				cancel()
			}
		}()
		return nil
	})
	hs := httptest.NewServer(srv) // or http.Handle("/v5/websocket/", srv)
	defer hs.Close()
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := Dial(ctx, hs.URL, &Options{Path: "/v5/websocket"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()
	sock, err := conn.Join(ctx, "/cricket", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = sock.Emit(ctx, "connect_to_match", map[string]string{"match_key": "m1"})
	for ev := range sock.Events() {
		fmt.Println(ev.Name, ev.Args[0])
		if ev.Name == "on_match_update" {
			break
		}
	}
	// Output:
	// on_match_joined {"key":"m1"}
	// on_match_update <binary 3 bytes>
}

// TestServerDefaults serves NewServer(nil): path /socket.io/, namespace "/"
// accepting everyone, other paths 404.
func TestServerDefaults(t *testing.T) {
	srv := NewServer(nil)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	c, err := Dial(testCtx(t), hs.URL, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { closeAndCheck(t, c) })
	assertEqual(t, "ping interval", c.Handshake().PingInterval, 25*time.Second)
	assertEqual(t, "max payload", c.Handshake().MaxPayload, int64(1_000_000))
	if s := join(t, c, "/"); s.ID() == "" {
		t.Fatal("no namespace sid for /")
	}
	assertEqual(t, "connections", srv.ConnCount(), 1)

	status := func(path string) int {
		t.Helper()
		req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, hs.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assertEqual(t, "status for another path", status("/elsewhere/?EIO=4&transport=websocket"), http.StatusNotFound)

	_ = srv.Close()
	waitDone(t, c.Done(), 5*time.Second, "client after Server.Close")
	assertEqual(t, "status after Close", status("/socket.io/?EIO=4&transport=websocket"), http.StatusServiceUnavailable)
}
