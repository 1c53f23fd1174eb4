package socketio

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// Every test here talks to the official Socket.IO servers (see peer_test.go),
// each behaviour against v4 (EIO4), v4 with allowEIO3 (EIO3) and v2 (EIO3).

func TestPeerJoinAndEvents(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			hs := c.Handshake()
			if hs.SID == "" || hs.PingInterval != peerPingInterval || hs.PingTimeout != peerPingTimeout {
				t.Fatalf("handshake %+v: want a sid and the peer's heartbeat", hs)
			}
			if got, want := hs.MaxPayload > 0, pv.version != "v2"; got != want {
				t.Fatalf("handshake maxPayload %d: announced %v, want %v", hs.MaxPayload, got, want)
			}
			s := join(t, c, "/cricket")
			assertEqual(t, "namespace", s.Namespace(), "/cricket")
			if got, want := s.ID() != "", pv.eio == 4; got != want {
				t.Fatalf("socket id %q: set %v, want %v", s.ID(), got, want)
			}
			if s.ID() == hs.SID && s.ID() != "" {
				t.Fatalf("socket id %q equals the engine sid", s.ID())
			}

			ctx := testCtx(t)
			if err := s.Emit(ctx, "echo", "hello", map[string]any{"n": 1}, nil, json.RawMessage(`[1,"a"]`)); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			ev := waitEvent(t, s, "echo")
			assertEqual(t, "echo args", argStrings(ev.Args), []string{`"hello"`, `{"n":1}`, `null`, `[1,"a"]`})
			if ev.AckRequested() {
				t.Fatalf("echo event asks for an ack")
			}
			var got string
			if err := ev.Args[0].Decode(&got); err != nil || got != "hello" {
				t.Fatalf("Decode: %q, %v", got, err)
			}
		})
	}
}

// TestPeerHandshake checks what the server sees of the handshake: query
// parameters (the URL's and Options.Query), headers, the engine revision.
func TestPeerHandshake(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			p := sharedPeer(t, pv.version)
			var logs syncBuffer
			c, err := Dial(testCtx(t), p.url()+"?from_url=1", &Options{
				EIO:    pv.eio,
				Path:   strings.TrimSuffix(peerPath, "/"),
				Query:  url.Values{"q": {"a b"}},
				Header: http.Header{"X-Ballcast": {"yes"}},
				Logger: zerolog.New(&logs).Level(zerolog.DebugLevel),
			})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			t.Cleanup(func() { closeAndCheck(t, c) })
			assertEqual(t, "EIO", c.EIO(), pv.eio)
			got, err := join(t, c, "/cricket").EmitWithAck(testCtx(t), "handshake")
			if err != nil || len(got) != 1 {
				t.Fatalf("EmitWithAck: %v, %v", argStrings(got), err)
			}
			var hs struct {
				Query  map[string]string
				Header string
			}
			if err := got[0].Decode(&hs); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			assertEqual(t, "header", hs.Header, "yes")
			for k, want := range map[string]string{"from_url": "1", "q": "a b", "EIO": strconv.Itoa(pv.eio), "transport": "websocket"} {
				if hs.Query[k] != want {
					t.Errorf("query %s = %q, want %q (all: %v)", k, hs.Query[k], want, hs.Query)
				}
			}
			for _, want := range []string{`"message":"connected"`, `"message":"joined"`, `"namespace":"/cricket"`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("debug log lacks %s:\n%s", want, logs.String())
				}
			}
		})
	}
}

// TestPeerRoanuzFlow follows Roanuz's documented sequence: emit
// connect_to_match, get on_match_joined, then on_match_update as a gzip
// Buffer (a binary attachment).
func TestPeerRoanuzFlow(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			s := join(t, dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil), "/cricket")
			ctx := testCtx(t)
			if err := s.Emit(ctx, "connect_to_match", map[string]string{"token": "tok", "match_key": "icc_wc_2023_g26"}); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			var joined struct{ Key string }
			if err := waitEvent(t, s, "on_match_joined").Args[0].Decode(&joined); err != nil {
				t.Fatalf("on_match_joined: %v", err)
			}
			assertEqual(t, "joined key", joined.Key, "icc_wc_2023_g26")

			upd := waitEvent(t, s, "on_match_update")
			if len(upd.Args) != 1 || !upd.Args[0].IsBinary() {
				t.Fatalf("on_match_update args %v: want one binary arg", argStrings(upd.Args))
			}
			gz := upd.Args[0].Bytes()
			if len(gz) < 2 || gz[0] != 0x1f || gz[1] != 0x8b {
				t.Fatalf("on_match_update starts % x, want gzip magic 1f 8b (no 0x04 prefix left)", gz[:min(len(gz), 4)])
			}
			assertEqual(t, "gunzipped document", gunzip(t, gz), `{"key":"icc_wc_2023_g26"}`)
		})
	}
}

func gunzip(t testing.TB, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return string(out)
}

func TestPeerBinary(t *testing.T) {
	t.Parallel()
	gz := []byte{0x1f, 0x8b, 0x08, 0x00, 0x04, 0x00} // starts like gzip; 0x04 inside must survive
	cases := []struct {
		name string
		args []any
		want []string
	}{
		{name: "one attachment", args: []any{gz}, want: []string{"bin:1f8b08000400"}},
		{name: "attachments between json", args: []any{[]byte{4}, "mid", []byte{}, []byte{0xff, 0}},
			want: []string{"bin:04", `"mid"`, "bin:", "bin:ff00"}},
		{name: "json only", args: []any{1.5, true}, want: []string{"1.5", "true"}},
	}
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			s := join(t, dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil), "/cricket")
			ctx := testCtx(t)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if err := s.Emit(ctx, "echo", tc.args...); err != nil {
						t.Fatalf("Emit: %v", err)
					}
					assertEqual(t, "echoed", argStrings(waitEvent(t, s, "echo").Args), tc.want)
				})
			}
			t.Run("re-emit received args", func(t *testing.T) {
				if err := s.Emit(ctx, "echo", []byte("raw"), map[string]int{"a": 1}); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				first := waitEvent(t, s, "echo")
				anys := make([]any, len(first.Args))
				for i, a := range first.Args {
					anys[i] = a
				}
				if err := s.Emit(ctx, "echo", anys...); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				assertEqual(t, "echoed twice", argStrings(waitEvent(t, s, "echo").Args), argStrings(first.Args))
			})
			t.Run("nested attachment", func(t *testing.T) {
				if err := s.Emit(ctx, "send_nested"); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				var got struct {
					Blob []byte
					N    int
				}
				if err := waitEvent(t, s, "nested").Args[0].Decode(&got); err != nil {
					t.Fatalf("Decode: %v", err)
				}
				assertEqual(t, "blob", got.Blob, []byte{1, 2, 3})
				assertEqual(t, "n", got.N, 1)
			})
		})
	}
}

func TestPeerAcks(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			s := join(t, dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil), "/cricket")
			ctx := testCtx(t)

			t.Run("server acks", func(t *testing.T) {
				cases := []struct {
					name string
					args []any
					want []string
				}{
					{name: "json", args: []any{"a", 2}, want: []string{`"a"`, "2"}},
					{name: "binary ack", args: []any{"a", []byte{1, 2, 3}}, want: []string{`"a"`, "bin:010203"}},
					{name: "empty", args: nil, want: []string{}},
				}
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						got, err := s.EmitWithAck(ctx, "echo_ack", tc.args...)
						if err != nil {
							t.Fatalf("EmitWithAck: %v", err)
						}
						assertEqual(t, "ack args", argStrings(got), tc.want)
					})
				}
			})

			t.Run("concurrent acks", func(t *testing.T) {
				const n = 20
				errs := make(chan error, n)
				for i := range n {
					go func() {
						got, err := s.EmitWithAck(ctx, "echo_ack", i)
						if err == nil && (len(got) != 1 || string(got[0].JSON()) != strings.TrimSpace(string(mustJSON(i)))) {
							err = errors.New("ack " + string(mustJSON(i)) + " got " + strings.Join(argStrings(got), ","))
						}
						errs <- err
					}()
				}
				for range n {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
			})

			t.Run("client acks", func(t *testing.T) {
				if err := s.Emit(ctx, "ask", "q", []byte{9}); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				q := waitEvent(t, s, "question")
				if !q.AckRequested() {
					t.Fatalf("question does not ask for an ack")
				}
				assertEqual(t, "question args", argStrings(q.Args), []string{`"q"`, "bin:09"})
				if err := q.Ack(ctx, "yes", []byte{7, 7}); err != nil {
					t.Fatalf("Ack: %v", err)
				}
				assertEqual(t, "answer args", argStrings(waitEvent(t, s, "answer").Args), []string{`"yes"`, "bin:0707"})
			})

			t.Run("ack without request", func(t *testing.T) {
				if err := s.Emit(ctx, "echo", 1); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				if err := waitEvent(t, s, "echo").Ack(ctx); err == nil {
					t.Fatalf("Ack on an event without ack id: no error")
				}
			})
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestPeerHeartbeat keeps a connection through several heartbeats of a
// 300 ms pingInterval: the server would drop a client that missed one.
func TestPeerHeartbeat(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			s := join(t, c, "/cricket")
			ctx := testCtx(t)
			if err := s.Emit(ctx, "watch_heartbeat"); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			const beats = 4 // > (pingInterval+pingTimeout)/pingInterval: past any server deadline
			for {
				var n int
				if err := waitEvent(t, s, "heartbeat").Args[0].Decode(&n); err != nil {
					t.Fatalf("heartbeat: %v", err)
				}
				if n >= beats {
					break
				}
			}
			if err := c.Err(); err != nil {
				t.Fatalf("after %d heartbeats: %v", beats, err)
			}
			if got, err := s.EmitWithAck(ctx, "echo_ack", "alive"); err != nil || len(got) != 1 {
				t.Fatalf("after %d heartbeats: ack %v, %v", beats, argStrings(got), err)
			}
		})
	}
}

func TestPeerServerDisconnectsNamespace(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			s := join(t, c, "/cricket")
			if err := s.Emit(testCtx(t), "kick"); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			waitDone(t, s.Done(), 10*time.Second, "kicked socket")
			assertErrorIs(t, s.Err(), ErrNamespaceDisconnected)
			if _, ok := <-s.Events(); ok {
				t.Fatalf("events channel still open after the socket ended")
			}
			if err := s.Emit(testCtx(t), "echo"); !errors.Is(err, ErrNamespaceDisconnected) {
				t.Fatalf("Emit after kick: %v, want ErrNamespaceDisconnected", err)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("connection ended with the namespace: %v", err)
			}
			// The connection still works: join again.
			s2 := join(t, c, "/cricket")
			if _, err := s2.EmitWithAck(testCtx(t), "echo_ack", 1); err != nil {
				t.Fatalf("after rejoin: %v", err)
			}
		})
	}
}

func TestPeerLeave(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			s := join(t, c, "/cricket")
			if _, err := c.Join(testCtx(t), "/cricket", nil); err == nil {
				t.Fatalf("second Join of the same namespace: no error")
			}
			root := join(t, c, "/")
			if err := s.Leave(testCtx(t)); err != nil {
				t.Fatalf("Leave: %v", err)
			}
			assertErrorIs(t, s.Err(), ErrClosed)
			if err := s.Emit(testCtx(t), "echo"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Emit after Leave: %v, want ErrClosed", err)
			}
			// Socket.IO 4 servers handle DISCONNECT a tick late: a round
			// trip before joining again (see Leave).
			if _, err := root.EmitWithAck(testCtx(t), "echo_ack"); err != nil {
				t.Fatalf("round trip on /: %v", err)
			}
			s2 := join(t, c, "/cricket")
			if _, err := s2.EmitWithAck(testCtx(t), "echo_ack", 1); err != nil {
				t.Fatalf("after rejoin: %v", err)
			}
		})
	}
}

func TestPeerConnectError(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			var badAuth any = map[string]string{"token": "bad"}
			wantData := ""
			if pv.version == "v4" {
				badAuth = map[string]any{"token": "bad"}
				wantData = `{"code":"A-401-0"}`
			}
			cases := []struct {
				name, nsp string
				auth      any
				msg, data string
			}{
				{name: "middleware", nsp: "/cricket", auth: badAuth, msg: "not authorized", data: wantData},
				{name: "unknown namespace", nsp: "/nope", msg: "Invalid namespace"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					s, err := c.Join(testCtx(t), tc.nsp, tc.auth)
					var ce *ConnectError
					if !errors.As(err, &ce) {
						t.Fatalf("Join: socket %v, error %v: want a *ConnectError", s, err)
					}
					assertEqual(t, "namespace", ce.Namespace, tc.nsp)
					assertEqual(t, "message", ce.Message, tc.msg)
					assertEqual(t, "data", string(ce.Data), tc.data)
				})
			}
			// A refusal ends nothing else.
			if err := c.Err(); err != nil {
				t.Fatalf("connection ended after a refusal: %v", err)
			}
			if _, err := join(t, c, "/cricket").EmitWithAck(testCtx(t), "echo_ack", 1); err != nil {
				t.Fatalf("after refusal: %v", err)
			}
		})
	}
}

func TestPeerServerClosesConnection(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			p := sharedPeer(t, pv.version)
			c := dialPeer(t, p, pv.eio, nil)
			s := join(t, c, "/cricket")
			ctx := testCtx(t)
			pending := make(chan error, 1)
			go func() {
				// Never answered: must end with the connection.
				_, err := s.EmitWithAck(ctx, "unhandled")
				pending <- err
			}()
			if err := s.Emit(ctx, "close_engine"); err != nil {
				t.Fatalf("Emit: %v", err)
			}
			waitDone(t, c.Done(), 10*time.Second, "connection")
			assertErrorIs(t, c.Err(), ErrServerClosed)
			waitDone(t, s.Done(), time.Second, "socket")
			if !errors.Is(s.Err(), ErrServerClosed) {
				t.Fatalf("socket error %v, want the connection's", s.Err())
			}
			if err := <-pending; !errors.Is(err, ErrServerClosed) {
				t.Fatalf("pending EmitWithAck: %v, want ErrServerClosed", err)
			}
			// Re-dialing is all a caller needs.
			if _, err := join(t, dialPeer(t, p, pv.eio, nil), "/cricket").EmitWithAck(ctx, "echo_ack", 1); err != nil {
				t.Fatalf("after re-dial: %v", err)
			}
		})
	}
}

// TestPeerRestart kills the server process: the client sees the closure;
// a server started again on the same port takes a new Dial.
func TestPeerRestart(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, pv.version, 0)
			c := dialPeer(t, p, pv.eio, nil)
			s := join(t, c, "/cricket")

			p.kill()
			waitDone(t, c.Done(), 5*time.Second, "connection to the killed server")
			if err := c.Err(); err == nil || errors.Is(err, ErrClosed) {
				t.Fatalf("Err() = %v: want a transport error, not ErrClosed", err)
			}
			waitDone(t, s.Done(), time.Second, "socket")
			if _, err := Dial(testCtx(t), p.url(), &Options{EIO: pv.eio, Path: peerPath}); err == nil {
				t.Fatalf("Dial with the server down: no error")
			}

			p2 := startPeer(t, pv.version, p.Port)
			s2 := join(t, dialPeer(t, p2, pv.eio, nil), "/cricket")
			if _, err := s2.EmitWithAck(testCtx(t), "echo_ack", 1); err != nil {
				t.Fatalf("after restart: %v", err)
			}
		})
	}
}

// TestPeerHeartbeatTimeout freezes the server (SIGSTOP): the TCP connection
// stays up but no heartbeat comes, and the client must notice within
// pingInterval+pingTimeout.
func TestPeerHeartbeatTimeout(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			p := startPeer(t, pv.version, 0)
			c := dialPeer(t, p, pv.eio, nil)
			s := join(t, c, "/cricket")
			p.freeze(t)
			frozen := time.Now()
			waitDone(t, c.Done(), 10*time.Second, "connection to the frozen server")
			assertErrorIs(t, c.Err(), ErrHeartbeatTimeout)
			assertErrorIs(t, s.Err(), ErrHeartbeatTimeout)
			// The deadline runs from the last heartbeat, before the freeze.
			if limit := peerPingInterval + peerPingTimeout + time.Second; time.Since(frozen) > limit {
				t.Fatalf("detected after %v, want under %v", time.Since(frozen), limit)
			}
		})
	}
}

func TestPeerVersionMismatch(t *testing.T) {
	t.Parallel()
	t.Run("eio3 to a v4 server without allowEIO3", func(t *testing.T) {
		t.Parallel()
		p := sharedPeer(t, "v4")
		c, err := Dial(testCtx(t), p.url(), &Options{EIO: 3, Path: peerPath})
		if err == nil {
			c.Close()
			t.Fatalf("Dial: no error")
		}
		assertErrorIs(t, err, ErrProtocolVersion)
		if !strings.Contains(err.Error(), "allowEIO3") {
			t.Fatalf("error %q does not mention allowEIO3", err)
		}
	})
	t.Run("eio4 to a v2 server", func(t *testing.T) {
		t.Parallel()
		c := dialPeer(t, sharedPeer(t, "v2"), 4, nil)
		_, err := c.Join(testCtx(t), "/cricket", nil)
		assertErrorIs(t, err, ErrProtocolVersion)
		// The connection fails on its own goroutine; Err is set once it
		// is done.
		waitDone(t, c.Done(), 10*time.Second, "connection to the v2 server")
		assertErrorIs(t, c.Err(), ErrProtocolVersion)
	})
}

func TestPeerLimits(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			p := sharedPeer(t, pv.version)
			t.Run("slow consumer", func(t *testing.T) {
				s := join(t, dialPeer(t, p, pv.eio, &Options{EventBuffer: 2}), "/cricket")
				if err := s.Emit(testCtx(t), "spam", 10); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				waitDone(t, s.conn.Done(), 10*time.Second, "connection")
				assertErrorIs(t, s.conn.Err(), ErrSlowConsumer)
				// What was queued is still readable.
				n := 0
				for range s.Events() {
					n++
				}
				assertEqual(t, "queued events", n, 2)
			})
			t.Run("frame too large", func(t *testing.T) {
				s := join(t, dialPeer(t, p, pv.eio, &Options{MaxFrameSize: 256}), "/cricket")
				if err := s.Emit(testCtx(t), "echo", strings.Repeat("x", 1000)); err != nil {
					t.Fatalf("Emit: %v", err)
				}
				waitDone(t, s.conn.Done(), 10*time.Second, "connection")
				assertErrorIs(t, s.conn.Err(), ErrTooLarge)
			})
			if pv.eio == 4 {
				t.Run("packet over the server's maxPayload", func(t *testing.T) {
					c := dialPeer(t, p, pv.eio, nil)
					s := join(t, c, "/cricket")
					err := s.Emit(testCtx(t), "echo", make([]byte, c.Handshake().MaxPayload+1))
					assertErrorIs(t, err, ErrTooLarge)
					if c.Err() != nil {
						t.Fatalf("refused emit ended the connection: %v", c.Err())
					}
				})
			}
		})
	}
}

func TestPeerClose(t *testing.T) {
	t.Parallel()
	for _, pv := range peerVersions {
		t.Run(pv.name, func(t *testing.T) {
			t.Parallel()
			c := dialPeer(t, sharedPeer(t, pv.version), pv.eio, nil)
			s := join(t, c, "/cricket")
			ctx := testCtx(t)
			pending := make(chan error, 1)
			go func() {
				_, err := s.EmitWithAck(ctx, "unhandled") // never answered
				pending <- err
			}()
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			assertErrorIs(t, c.Err(), ErrClosed)
			assertErrorIs(t, s.Err(), ErrClosed)
			if err := <-pending; !errors.Is(err, ErrClosed) {
				t.Fatalf("pending EmitWithAck: %v, want ErrClosed", err)
			}
			if err := s.Emit(ctx, "echo"); !errors.Is(err, ErrClosed) {
				t.Fatalf("Emit after Close: %v", err)
			}
			if _, err := c.Join(ctx, "/other", nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("Join after Close: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}
