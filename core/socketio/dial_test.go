package socketio

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestHandshakeURL(t *testing.T) {
	cases := []struct {
		name     string
		url      string
		opts     Options
		wantFull string
		wantSafe string
		wantErr  string
	}{
		{name: "roanuz", url: "http://socket.sports.roanuz.com", opts: Options{EIO: 4, Path: "/v5/websocket/"},
			wantFull: "ws://socket.sports.roanuz.com/v5/websocket/?EIO=4&transport=websocket", wantSafe: "ws://socket.sports.roanuz.com/v5/websocket/"},
		{name: "https and query", url: "https://h:8443/?a=1", opts: Options{EIO: 3, Path: "/socket.io/", Query: url.Values{"b": {"2"}}},
			wantFull: "wss://h:8443/socket.io/?EIO=3&a=1&b=2&transport=websocket", wantSafe: "wss://h:8443/socket.io/"},
		{name: "ws scheme, root path", url: "ws://h/", opts: Options{EIO: 4, Path: "/p/"},
			wantFull: "ws://h/p/?EIO=4&transport=websocket", wantSafe: "ws://h/p/"},
		{name: "user info dropped", url: "wss://u:pw@h", opts: Options{EIO: 4, Path: "/p/"},
			wantFull: "wss://h/p/?EIO=4&transport=websocket", wantSafe: "wss://h/p/"},
		{name: "namespace in url", url: "http://h/cricket", opts: Options{EIO: 4, Path: "/p/"}, wantErr: "Options.Path"},
		{name: "bad scheme", url: "ftp://h", opts: Options{EIO: 4, Path: "/p/"}, wantErr: "scheme"},
		{name: "no host", url: "http:///x", opts: Options{EIO: 4, Path: "/p/"}, wantErr: "no host"},
		{name: "unparsable", url: "http://h/%zz", opts: Options{EIO: 4, Path: "/p/"}, wantErr: "parse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			full, safe, err := handshakeURL(tc.url, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "socketio: ") {
					t.Fatalf("handshakeURL = %q, %v: want an error containing %q", full, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("handshakeURL: %v", err)
			}
			assertEqual(t, "full", full, tc.wantFull)
			assertEqual(t, "safe", safe, tc.wantSafe)
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	got, err := (*Options)(nil).withDefaults()
	if err != nil {
		t.Fatalf("nil options: %v", err)
	}
	assertEqual(t, "defaults", got, Options{EIO: 4, Path: "/socket.io/", MaxFrameSize: defaultMaxFrameSize,
		MaxAttachments: defaultMaxAttachments, EventBuffer: defaultEventBuffer})

	got, err = (&Options{Path: "/v5/websocket"}).withDefaults()
	if err != nil || got.Path != "/v5/websocket/" {
		t.Fatalf("path: %q, %v: want a trailing slash added", got.Path, err)
	}

	_, err = (&Options{EIO: 5, Path: "x", Query: url.Values{"EIO": {"3"}, "transport": {"polling"}}, MaxFrameSize: -1, MaxAttachments: -1, EventBuffer: -1}).withDefaults()
	if err == nil {
		t.Fatalf("bad options: no error")
	}
	for _, want := range []string{"socketio: options: ", "eio 5", "path", "query EIO", "query transport", "max frame size", "max attachments", "event buffer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %q", err, want)
		}
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	cases := []struct {
		name string
		url  func(t testing.TB) string
		opts *Options
	}{
		{name: "refused", url: func(testing.TB) string { return closed + "/?token=secret" }},
		{name: "bad options", url: func(testing.TB) string { return closed }, opts: &Options{EIO: 2}},
		{name: "wrong engine path", url: func(t testing.TB) string { return sharedPeer(t, "v4").url() }, opts: &Options{Path: "/socket.io/"}},
		{name: "http not websocket", url: func(t testing.TB) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			return srv.URL
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			c, err := Dial(ctx, tc.url(t), tc.opts)
			if err == nil {
				c.Close()
				t.Fatalf("Dial: no error")
			}
			if !strings.HasPrefix(err.Error(), "socketio: ") || strings.Contains(err.Error(), "secret") {
				t.Fatalf("error %q: want a socketio: prefix and no query", err)
			}
			if ctx.Err() != nil {
				t.Fatalf("Dial ran into the deadline: %v", err)
			}
		})
	}
}

// fakeServer is a scripted Engine.IO server speaking the real wire, for
// the misbehaviour the official servers never show. It sends the open
// packet, then plays frames (writing, or waiting for a client frame), then
// reads until the client goes.
func fakeServer(t testing.TB, frames ...fakeFrame) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		open := `0{"sid":"fake","upgrades":[],"pingInterval":60000,"pingTimeout":60000}`
		if err := ws.Write(ctx, websocket.MessageText, []byte(open)); err != nil {
			return
		}
		for _, f := range frames {
			if f.typ == 0 { // expect
				for {
					_, b, err := ws.Read(ctx)
					if err != nil {
						return
					}
					if strings.HasPrefix(string(b), f.data) {
						break
					}
				}
				continue
			}
			if err := ws.Write(ctx, f.typ, []byte(f.data)); err != nil {
				return
			}
		}
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type fakeFrame struct {
	typ  websocket.MessageType
	data string
}

func text(s string) fakeFrame   { return fakeFrame{websocket.MessageText, s} }
func binary(s string) fakeFrame { return fakeFrame{websocket.MessageBinary, s} }

// expect waits for a client text frame starting with prefix.
func expect(prefix string) fakeFrame { return fakeFrame{0, prefix} }

func TestFakeServerMisbehaviour(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		eio    int
		frames []fakeFrame
		want   error
	}{
		{name: "engine close packet", eio: 4, frames: []fakeFrame{text("1")}, want: ErrServerClosed},
		{name: "garbage engine packet", eio: 4, frames: []fakeFrame{text("x")}, want: ErrProtocol},
		{name: "garbage socket.io packet", eio: 4, frames: []fakeFrame{text("4zz")}, want: ErrProtocol},
		{name: "binary frame without header", eio: 4, frames: []fakeFrame{binary("\x1f\x8b")}, want: ErrProtocol},
		{name: "text while attachments missing", eio: 4, frames: []fakeFrame{text(`452-/c,["e",{"_placeholder":true,"num":0}]`), binary("a"), text(`42/c,["e"]`)}, want: ErrProtocol},
		{name: "placeholder out of range", eio: 4, frames: []fakeFrame{text(`40/c,{"sid":"s"}`), text(`451-/c,["e",{"_placeholder":true,"num":4}]`), binary("a")}, want: ErrProtocol},
		{name: "eio3 binary without 0x04", eio: 3, frames: []fakeFrame{text(`451-/c,["e",{"_placeholder":true,"num":0}]`), binary("\x1f\x8b")}, want: ErrProtocol},
		{name: "too many attachments", eio: 4, frames: []fakeFrame{text(`4599-/c,["e"]`)}, want: ErrProtocol},
		{name: "unsolicited root connect on eio4", eio: 4, frames: []fakeFrame{text("40")}, want: ErrProtocolVersion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Dial(testCtx(t), fakeServer(t, tc.frames...), &Options{EIO: tc.eio})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer closeAndCheck(t, c)
			waitDone(t, c.Done(), 5*time.Second, "connection")
			assertErrorIs(t, c.Err(), tc.want)
		})
	}

	t.Run("events for unknown namespaces are dropped", func(t *testing.T) {
		t.Parallel()
		c, err := Dial(testCtx(t), fakeServer(t,
			text(`42/other,["x"]`), text(`40`), text(`451-/other,["x",{"_placeholder":true,"num":0}]`), binary("\x04b"),
			text(`43/other,1[]`), text(`41/other,`), text(`44/other,"no"`), expect("40/c"), text(`40/c,`), text(`42/c,["hello"]`),
		), &Options{EIO: 3})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer closeAndCheck(t, c)
		s, err := c.Join(testCtx(t), "/c", nil)
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		assertEqual(t, "first event", waitEvent(t, s, "hello").Name, "hello")
		if c.Err() != nil {
			t.Fatalf("connection ended: %v", c.Err())
		}
		// EIO3: the root namespace was connected by the server already.
		if _, err := c.Join(testCtx(t), "/", nil); err != nil {
			t.Fatalf("Join /: %v", err)
		}
	})

	t.Run("join cancelled", func(t *testing.T) {
		t.Parallel()
		c, err := Dial(testCtx(t), fakeServer(t), nil)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		defer closeAndCheck(t, c)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		_, err = c.Join(ctx, "/never", nil)
		assertErrorIs(t, err, context.DeadlineExceeded)
		if c.Err() != nil {
			t.Fatalf("connection ended: %v", c.Err())
		}
	})

	t.Run("bad join arguments", func(t *testing.T) {
		t.Parallel()
		for _, eio := range []int{3, 4} {
			c, err := Dial(testCtx(t), fakeServer(t), &Options{EIO: eio})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			for _, nsp := range []string{"cricket", "/a,b", "/a?b"} {
				if _, err := c.Join(testCtx(t), nsp, nil); err == nil {
					t.Errorf("EIO %d Join(%q): no error", eio, nsp)
				}
			}
			badAuth := []any{"string", 1, []int{1}}
			if eio == 3 {
				badAuth = []any{map[string]any{"a": 1}, struct{}{}}
			}
			for _, auth := range badAuth {
				if _, err := c.Join(testCtx(t), "/c", auth); err == nil {
					t.Errorf("EIO %d Join with auth %#v: no error", eio, auth)
				}
			}
			closeAndCheck(t, c)
		}
	})
}

func TestReservedEvents(t *testing.T) {
	t.Parallel()
	c, err := Dial(testCtx(t), fakeServer(t, expect("40/c"), text(`40/c,{"sid":"s"}`)), nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer closeAndCheck(t, c)
	s, err := c.Join(testCtx(t), "/c", nil)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	assertEqual(t, "socket id", s.ID(), "s")
	for _, name := range []string{"", "connect", "disconnect", "connect_error"} {
		if err := s.Emit(testCtx(t), name); err == nil {
			t.Errorf("Emit(%q): no error", name)
		}
	}
	if err := s.Emit(testCtx(t), "ok", make(chan int)); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("Emit with an unmarshalable arg: %v", err)
	}
	if c.Err() != nil {
		t.Fatalf("refused emits ended the connection: %v", c.Err())
	}
}
