package pusher

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// ServerOptions configures a Server.
type ServerOptions struct {
	// Key and Secret are the app's credentials: connections to another key
	// get 4001, private channels are checked against Secret.
	Key, Secret string
	// ActivityTimeout is announced in connection_established and is how
	// long the server waits for a client message before pinging it.
	// Default 120 s.
	ActivityTimeout time.Duration
	// PongTimeout is how long the server waits for a pong before closing
	// with 4201. Default 30 s.
	PongTimeout time.Duration
	// Logger receives debug logs. The zero value logs nothing.
	Logger zerolog.Logger
}

// ServerStats counts what a Server did.
type ServerStats struct {
	Connections, Subscriptions, AuthFailures, PingsAnswered, PingsSent, Triggers, Errors, Drops int
}

// Server is a minimal Pusher Channels protocol server: handshake with
// key and protocol check, ping/pong both ways, public and private
// channels, and events triggered by its owner. It stands in for a real
// Pusher in simulators; it does not implement presence members, client
// events or the HTTP API.
type Server struct {
	opts ServerOptions

	mu    sync.Mutex // guards conns and stats; no I/O under it
	conns map[*serverConn]bool
	stats ServerStats
}

type serverConn struct {
	id   string
	conn *websocket.Conn
	wmu  sync.Mutex // one writer at a time
	mu   sync.Mutex // guards subs
	subs map[string]bool
}

// NewServer returns a server for one app.
func NewServer(opts ServerOptions) *Server {
	if opts.ActivityTimeout <= 0 {
		opts.ActivityTimeout = 120 * time.Second
	}
	if opts.PongTimeout <= 0 {
		opts.PongTimeout = 30 * time.Second
	}
	return &Server{opts: opts, conns: map[*serverConn]bool{}}
}

// Stats returns the counters so far.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ServeHTTP accepts a WebSocket connection on .../app/{key}.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow() //nolint:errcheck // closing
	sc := &serverConn{id: socketID(), conn: c, subs: map[string]bool{}}
	ctx := r.Context()
	switch {
	case key != s.opts.Key:
		s.refuse(ctx, sc, 4001, fmt.Sprintf("App key %s does not exist", key))
		return
	case r.URL.Query().Get("protocol") == "":
		s.refuse(ctx, sc, 4008, "No protocol version supplied")
		return
	case r.URL.Query().Get("protocol") != "7":
		s.refuse(ctx, sc, 4007, "Unsupported protocol version")
		return
	}
	s.mu.Lock()
	s.conns[sc] = true
	s.stats.Connections++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, sc)
		s.mu.Unlock()
	}()
	if err := sc.send(ctx, "pusher:connection_established", "", map[string]any{
		"socket_id": sc.id, "activity_timeout": int(s.opts.ActivityTimeout / time.Second),
	}); err != nil {
		return
	}
	s.serve(ctx, sc)
}

// serve reads one connection's messages until it ends.
func (s *Server) serve(ctx context.Context, sc *serverConn) {
	reads := make(chan readResult)
	go func() {
		for {
			_, b, err := sc.conn.Read(ctx)
			select {
			case reads <- readResult{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	idle := time.NewTimer(s.opts.ActivityTimeout)
	defer idle.Stop()
	var pong <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-idle.C:
			if err := sc.send(ctx, "pusher:ping", "", struct{}{}); err != nil {
				return
			}
			s.count(func(st *ServerStats) { st.PingsSent++ })
			pong = time.After(s.opts.PongTimeout)
		case <-pong:
			sc.conn.Close(4201, "Pong reply not received") //nolint:errcheck // closing
			return
		case r := <-reads:
			if r.err != nil {
				return
			}
			pong = nil
			idle.Reset(s.opts.ActivityTimeout)
			f, err := ParseFrame(r.data)
			if err != nil {
				continue
			}
			s.handle(ctx, sc, f)
		}
	}
}

func (s *Server) handle(ctx context.Context, sc *serverConn, f Frame) {
	var d struct {
		Channel     string `json:"channel"`
		Auth        string `json:"auth"`
		ChannelData string `json:"channel_data"`
	}
	switch f.Event {
	case "pusher:ping":
		sc.send(ctx, "pusher:pong", "", struct{}{}) //nolint:errcheck // the read loop sees a dead connection
		s.count(func(st *ServerStats) { st.PingsAnswered++ })
	case "pusher:subscribe":
		if json.Unmarshal(f.Decoded(), &d) != nil || d.Channel == "" {
			sc.send(ctx, "pusher:error", "", ErrorData{Message: "subscribe needs a channel", Code: 4200}) //nolint:errcheck // as above
			return
		}
		if needsAuth(d.Channel) {
			want := Sign(s.opts.Key, s.opts.Secret, sc.id, d.Channel, d.ChannelData)
			if !hmac.Equal([]byte(want), []byte(d.Auth)) {
				s.count(func(st *ServerStats) { st.AuthFailures++ })
				sc.send(ctx, "pusher:subscription_error", d.Channel, map[string]any{ //nolint:errcheck // as above
					"type": "AuthError", "error": "Invalid signature: expected HMAC SHA256 hex digest of " + sc.id + ":" + d.Channel, "status": 401,
				})
				return
			}
		}
		sc.mu.Lock()
		sc.subs[d.Channel] = true
		sc.mu.Unlock()
		s.count(func(st *ServerStats) { st.Subscriptions++ })
		sc.send(ctx, "pusher_internal:subscription_succeeded", d.Channel, struct{}{}) //nolint:errcheck // as above
	case "pusher:unsubscribe":
		if json.Unmarshal(f.Decoded(), &d) == nil {
			sc.mu.Lock()
			delete(sc.subs, d.Channel)
			sc.mu.Unlock()
		}
	}
}

func (s *Server) refuse(ctx context.Context, sc *serverConn, code int, msg string) {
	sc.send(ctx, "pusher:error", "", ErrorData{Message: msg, Code: code}) //nolint:errcheck // refusing anyway
	sc.conn.Close(websocket.StatusCode(code), msg)                        //nolint:errcheck // as above
}

func (s *Server) count(f func(*ServerStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// send writes a server frame: data JSON-encoded inside a string.
func (sc *serverConn) send(ctx context.Context, event, channel string, data any) error {
	b, err := encodeServerFrame(event, channel, data)
	if err != nil {
		return err
	}
	return sc.write(ctx, b)
}

func (sc *serverConn) write(ctx context.Context, b []byte) error {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return sc.conn.Write(wctx, websocket.MessageText, b)
}

func (s *Server) subscribers(channel string) []*serverConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*serverConn
	for sc := range s.conns {
		sc.mu.Lock()
		if sc.subs[channel] {
			out = append(out, sc)
		}
		sc.mu.Unlock()
	}
	return out
}

func (s *Server) all() []*serverConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		out = append(out, sc)
	}
	return out
}

// Subscribers is how many connections are subscribed to channel.
func (s *Server) Subscribers(channel string) int { return len(s.subscribers(channel)) }

// Trigger sends event with data (marshalled to JSON, then sent as a JSON
// string, as Pusher does) to every connection subscribed to channel, and
// returns how many it reached.
func (s *Server) Trigger(ctx context.Context, channel, event string, data any) int {
	b, err := encodeServerFrame(event, channel, data)
	if err != nil {
		return 0
	}
	return s.TriggerRaw(ctx, channel, b)
}

// TriggerRaw sends msg, a whole frame as is, to channel's subscribers
// (fault injection: malformed frames).
func (s *Server) TriggerRaw(ctx context.Context, channel string, msg []byte) int {
	n := 0
	for _, sc := range s.subscribers(channel) {
		if sc.write(ctx, msg) == nil {
			n++
		}
	}
	s.count(func(st *ServerStats) { st.Triggers++ })
	return n
}

// ErrorAll sends pusher:error with code to every connection and closes it
// with the same code, as a server does before refusing or shedding
// clients. It returns how many connections it closed.
func (s *Server) ErrorAll(ctx context.Context, code int, msg string) int {
	conns := s.all()
	for _, sc := range conns {
		sc.send(ctx, "pusher:error", "", ErrorData{Message: msg, Code: code}) //nolint:errcheck // closing anyway
		sc.conn.Close(websocket.StatusCode(code), msg)                        //nolint:errcheck // as above
	}
	s.count(func(st *ServerStats) { st.Errors++ })
	return len(conns)
}

// DropAll ends every connection abruptly, without a close frame.
func (s *Server) DropAll() int {
	conns := s.all()
	for _, sc := range conns {
		sc.conn.CloseNow() //nolint:errcheck // dropping
	}
	s.count(func(st *ServerStats) { st.Drops++ })
	return len(conns)
}

// socketID returns an ID shaped like Pusher's: "<digits>.<digits>".
func socketID() string {
	n := func() string {
		v, _ := rand.Int(rand.Reader, big.NewInt(1e10))
		return v.String()
	}
	return n() + "." + n()
}
