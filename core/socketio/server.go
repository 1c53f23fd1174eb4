package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// Errors a ServerSocket ends with (see ServerSocket.Err), besides ErrClosed,
// ErrHeartbeatTimeout, ErrProtocol, ErrTooLarge and ErrSlowConsumer.
var (
	// ErrClientClosed means the client ended the connection: an Engine.IO
	// close packet, a WebSocket close frame, or a broken transport.
	ErrClientClosed = errors.New("socketio: client closed the connection")
	// ErrClientLeft means the client disconnected the namespace (a
	// DISCONNECT packet); the connection and other namespaces stay up.
	ErrClientLeft = errors.New("socketio: namespace disconnected by client")
	// ErrDropped means the connection was dropped on purpose with
	// ServerSocket.Drop.
	ErrDropped = errors.New("socketio: connection dropped")
)

// ServerOptions configures NewServer. The zero value, like a nil
// *ServerOptions, means defaults.
type ServerOptions struct {
	// Path is the Engine.IO endpoint path. Default "/socket.io/"; Roanuz
	// uses "/v5/websocket". Requests for the path with or without a
	// trailing slash are served.
	Path string

	// PingInterval is the heartbeat period. EIO4: the server pings every
	// PingInterval. EIO3: the client pings every PingInterval. Default 25 s.
	PingInterval time.Duration

	// PingTimeout is how long a heartbeat may be late: the connection ends
	// with ErrHeartbeatTimeout after PingInterval+PingTimeout without a pong
	// (EIO4) or a ping (EIO3). Default 20 s.
	PingTimeout time.Duration

	// MaxPayload is the largest WebSocket message accepted from a client,
	// in bytes (each binary attachment is one message), announced in the
	// EIO4 open packet. Default 1,000,000, as the official server.
	MaxPayload int64

	// AllowEIO3 serves Engine.IO v3 clients (Socket.IO v2 clients) too.
	// The revision is chosen per connection by the EIO query parameter.
	// Without it an EIO=3 handshake is refused with HTTP 400.
	AllowEIO3 bool

	// MaxAttachments is the most binary attachments one received packet may
	// announce. Default 16.
	MaxAttachments int

	// EventBuffer is how many received events each ServerSocket queues for
	// its Events channel. Default 256. When the queue is full the
	// connection ends with ErrSlowConsumer.
	EventBuffer int

	// OriginPatterns are the host patterns (path.Match syntax) a browser's
	// Origin header may name besides the request's own host; see
	// websocket.AcceptOptions. Clients that send no Origin header, such as
	// Node.js and Go clients, are always accepted. Default none.
	OriginPatterns []string

	// Logger receives debug logs (accept, join, heartbeat, close). The
	// zero value logs nothing.
	Logger zerolog.Logger
}

const (
	defaultServerPingInterval = 25 * time.Second
	defaultServerPingTimeout  = 20 * time.Second
	defaultServerMaxPayload   = 1_000_000
)

func (o *ServerOptions) withDefaults() ServerOptions {
	var out ServerOptions
	if o != nil {
		out = *o
	}
	if out.Path == "" {
		out.Path = defaultPath
	}
	out.Path = "/" + strings.Trim(out.Path, "/")
	if out.PingInterval <= 0 {
		out.PingInterval = defaultServerPingInterval
	}
	if out.PingTimeout <= 0 {
		out.PingTimeout = defaultServerPingTimeout
	}
	if out.MaxPayload <= 0 {
		out.MaxPayload = defaultServerMaxPayload
	}
	if out.MaxAttachments <= 0 {
		out.MaxAttachments = defaultMaxAttachments
	}
	if out.EventBuffer <= 0 {
		out.EventBuffer = defaultEventBuffer
	}
	return out
}

// Server is a Socket.IO server over WebSocket (no long-polling) speaking
// Engine.IO v4 and, with ServerOptions.AllowEIO3, v3. It is an
// http.Handler; mount it on ServerOptions.Path. Its methods are safe for
// concurrent use.
type Server struct {
	opts ServerOptions
	log  zerolog.Logger

	mu     sync.Mutex // guards the fields below; no I/O under it
	nsps   map[string]*Namespace
	conns  map[*serverConn]struct{}
	closed bool
}

// NewServer returns a Server with the namespace "/" registered (accepting
// every client). A nil opts means defaults; out-of-range values are
// replaced by defaults.
func NewServer(opts *ServerOptions) *Server {
	o := opts.withDefaults()
	s := &Server{
		opts:  o,
		log:   o.Logger,
		nsps:  make(map[string]*Namespace),
		conns: make(map[*serverConn]struct{}),
	}
	s.Namespace("/")
	return s
}

// Namespace is a namespace clients may join, created by Server.Namespace.
type Namespace struct {
	name string

	mu        sync.Mutex
	onConnect func(s *ServerSocket) error
}

// Namespace returns the namespace name ("" means "/"), registering it on
// first use. A CONNECT for a namespace never registered is refused with
// "Invalid namespace", as the official server does.
func (srv *Server) Namespace(name string) *Namespace {
	if name == "" {
		name = "/"
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := srv.nsps[name]
	if n == nil {
		n = &Namespace{name: name}
		srv.nsps[name] = n
	}
	return n
}

// Name returns the namespace name, such as "/cricket".
func (n *Namespace) Name() string { return n.name }

// OnConnect sets the function that decides on each client joining the
// namespace, replacing any previous one. Returning an error refuses the
// client with a CONNECT_ERROR carrying the error's text; returning nil
// accepts it, and the namespace's CONNECT reply is sent after fn returns.
//
// fn runs on the connection's read goroutine, so it must return promptly
// and must not wait on the socket or its connection: Emit, EmitWithAck and
// Disconnect wait for the CONNECT reply, which is sent after fn returns, and
// CloseConn, Drop, Server.CloseAll and Server.Close wait for the read
// goroutine to exit. Start a goroutine that serves s, reading s.Events and
// emitting, and return. Without OnConnect every client is
// accepted, and its events must still be drained from s.Events by someone
// (see ServerOptions.EventBuffer): a namespace that expects no events from
// its clients needs no reader in practice.
func (n *Namespace) OnConnect(fn func(s *ServerSocket) error) {
	n.mu.Lock()
	n.onConnect = fn
	n.mu.Unlock()
}

func (n *Namespace) handler() func(s *ServerSocket) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.onConnect
}

// ServeHTTP implements http.Handler: it accepts a WebSocket handshake
// ({Path}/?EIO=4&transport=websocket, or EIO=3 with AllowEIO3) and serves
// the connection until it ends, on the calling goroutine. Long-polling,
// unknown Engine.IO revisions and requests for another path are refused
// with HTTP 400 (404 for the path) and a plain-text reason.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if "/"+strings.Trim(r.URL.Path, "/") != srv.opts.Path {
		http.Error(w, "socketio: not found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	eio, _ := strconv.Atoi(q.Get("EIO"))
	switch {
	case eio != 4 && !(eio == 3 && srv.opts.AllowEIO3):
		http.Error(w, fmt.Sprintf("socketio: unsupported engine.io protocol version %q", q.Get("EIO")), http.StatusBadRequest)
		return
	case q.Get("transport") != "websocket":
		http.Error(w, fmt.Sprintf("socketio: transport %q not supported: websocket only", q.Get("transport")), http.StatusBadRequest)
		return
	case q.Has("sid"):
		http.Error(w, "socketio: transport upgrade not supported: connect with websocket directly", http.StatusBadRequest)
		return
	}
	srv.mu.Lock()
	closed := srv.closed
	srv.mu.Unlock()
	if closed {
		http.Error(w, "socketio: server closed", http.StatusServiceUnavailable)
		return
	}

	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: srv.opts.OriginPatterns})
	if err != nil {
		srv.log.Debug().Err(err).Msg("websocket accept failed")
		return // Accept has written the response
	}
	ws.SetReadLimit(srv.opts.MaxPayload)
	c := srv.newConn(ws, eio, r)
	if !srv.track(c) {
		c.cancel()
		_ = ws.Close(websocket.StatusGoingAway, "server closed")
		return
	}
	defer srv.untrack(c)
	c.serve()
}

func (srv *Server) track(c *serverConn) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.closed {
		return false
	}
	srv.conns[c] = struct{}{}
	return true
}

func (srv *Server) untrack(c *serverConn) {
	srv.mu.Lock()
	delete(srv.conns, c)
	srv.mu.Unlock()
}

// CloseAll ends every open connection with a WebSocket close frame (the
// clients see the server close, as on a server restart) and returns once
// their goroutines have exited; each close handshake waits at most about
// 10 s (coder/websocket's timeouts) for an unresponsive client. The Server keeps accepting new
// connections.
func (srv *Server) CloseAll() {
	srv.closeConns(ErrClosed)
}

// DropAll ends every open connection abruptly, like ServerSocket.Drop
// (no close frame: the clients see the transport break), and returns once
// their goroutines have exited. For fault injection; the Server keeps
// accepting new connections.
func (srv *Server) DropAll() {
	srv.closeConns(ErrDropped)
}

// Close refuses new connections (HTTP 503), then ends the open ones like
// CloseAll. It is safe to call more than once.
func (srv *Server) Close() error {
	srv.mu.Lock()
	srv.closed = true
	srv.mu.Unlock()
	srv.closeConns(ErrClosed)
	return nil
}

func (srv *Server) closeConns(why error) {
	srv.mu.Lock()
	conns := make([]*serverConn, 0, len(srv.conns))
	for c := range srv.conns {
		conns = append(conns, c)
	}
	srv.mu.Unlock()
	// In parallel: each close handshake may wait seconds for a dead client.
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close(why)
		}()
	}
	wg.Wait()
}

// ConnCount returns the number of open Engine.IO connections.
func (srv *Server) ConnCount() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.conns)
}

// serverConn is one accepted Engine.IO connection.
type serverConn struct {
	srv    *Server
	ws     *websocket.Conn
	eio    int
	sid    string
	header http.Header
	query  url.Values
	log    zerolog.Logger

	// writeTok is held while one packet's frames are written.
	writeTok chan struct{}
	// heard tells keepalive the client spoke its heartbeat: a pong (EIO4)
	// or a ping (EIO3, which keepalive answers). Capacity 1.
	heard     chan struct{}
	lastHeard atomic.Int64 // time since born of the last heartbeat
	born      time.Time

	life       context.Context // ends when the connection ends
	cancel     context.CancelFunc
	done       chan struct{} // closed once err is set
	failOnce   sync.Once
	err        error
	readerDone chan struct{}
	keeperDone chan struct{}

	mu      sync.Mutex // guards sockets; no I/O under it
	sockets map[string]*ServerSocket
}

func (srv *Server) newConn(ws *websocket.Conn, eio int, r *http.Request) *serverConn {
	sid := newID()
	life, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	return &serverConn{
		life:       life,
		cancel:     cancel,
		srv:        srv,
		ws:         ws,
		eio:        eio,
		sid:        sid,
		header:     r.Header.Clone(),
		query:      r.URL.Query(),
		log:        srv.log.With().Str("sid", sid).Int("eio", eio).Logger(),
		writeTok:   make(chan struct{}, 1),
		heard:      make(chan struct{}, 1),
		born:       time.Now(),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		keeperDone: make(chan struct{}),
		sockets:    make(map[string]*ServerSocket),
	}
}

// newID returns a random 20-character URL-safe id, like the official
// server's base64id.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// serve sends the open packet and runs the connection: the read loop on
// the calling goroutine, keepalive on another. It returns once both ended.
var errPanicked = errors.New("socketio: connection handler panicked")

func (c *serverConn) serve() {
	life := c.life
	defer c.cancel()
	// Normally a no-op (the connection has ended by then); after a panic,
	// say in an OnConnect, it ends the sockets and the WebSocket.
	defer c.fail(errPanicked)

	open := map[string]any{
		"sid":          c.sid,
		"upgrades":     []string{},
		"pingInterval": c.srv.opts.PingInterval.Milliseconds(),
		"pingTimeout":  c.srv.opts.PingTimeout.Milliseconds(),
	}
	if c.eio == 4 {
		open["maxPayload"] = c.srv.opts.MaxPayload
	}
	b, _ := json.Marshal(open) // plain values: cannot fail
	err := c.writeFrames(life, c.srv.opts.PingTimeout, append([]byte{'0'}, b...), nil)
	if err == nil && c.eio == 3 {
		// A Socket.IO v2 server connects "/" unsolicited.
		err = c.connect(life, packet{typ: packetConnect, nsp: "/", id: noID})
	}
	if err != nil {
		close(c.keeperDone)
		close(c.readerDone)
		c.fail(err)
		return
	}
	c.log.Debug().Msg("accepted")
	go c.keepalive(life)
	c.readLoop(life)
	<-c.keeperDone
}

// close ends the connection with err and waits for its goroutines.
func (c *serverConn) close(err error) {
	c.fail(err)
	<-c.readerDone
	<-c.keeperDone
}

// fail ends the connection with err; the first call wins. ErrClosed
// closes the WebSocket with a close frame, anything else abruptly.
func (c *serverConn) fail(err error) {
	c.failOnce.Do(func() {
		c.mu.Lock()
		c.err = err
		sockets := c.sockets
		c.sockets = nil
		c.mu.Unlock()
		for _, s := range sockets {
			s.end(err)
		}
		close(c.done)
		if errors.Is(err, ErrClosed) {
			_ = c.ws.Close(websocket.StatusNormalClosure, "")
		} else {
			_ = c.ws.CloseNow()
		}
		c.cancel()
		c.log.Debug().Err(err).Msg("connection ended")
	})
}

func (c *serverConn) errNow() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// readLoop is the one goroutine that reads the connection.
func (c *serverConn) readLoop(ctx context.Context) {
	defer close(c.readerDone)
	var r reassembly
	for {
		typ, frame, err := c.ws.Read(ctx)
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				c.fail(fmt.Errorf("%w: limit %d bytes: %w", ErrTooLarge, c.srv.opts.MaxPayload, err))
			default:
				c.fail(fmt.Errorf("%w: %w", ErrClientClosed, err))
			}
			return
		}
		if err := c.handleFrame(ctx, typ, frame, &r); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *serverConn) handleFrame(ctx context.Context, typ websocket.MessageType, frame []byte, r *reassembly) error {
	if typ == websocket.MessageBinary {
		if r.pkt == nil {
			return fmt.Errorf("%w: binary frame without a binary packet", ErrProtocol)
		}
		if c.eio == 3 {
			if len(frame) == 0 || frame[0] != eio3BinaryPrefix {
				return fmt.Errorf("%w: eio3 binary frame without the 0x04 type byte", ErrProtocol)
			}
			frame = frame[1:]
		}
		r.attachments = append(r.attachments, frame)
		if len(r.attachments) < r.pkt.attachments {
			return nil
		}
		p, attachments := *r.pkt, r.attachments
		*r = reassembly{}
		return c.dispatch(ctx, p, attachments)
	}
	ep, err := decodeEnginePacket(frame)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	switch ep.typ {
	case engineClose:
		return fmt.Errorf("%w: engine.io close packet", ErrClientClosed)
	case enginePing:
		if c.eio == 3 {
			c.hear()
		}
	case enginePong:
		if c.eio == 4 {
			c.hear()
		}
	case engineMessage:
		if r.pkt != nil {
			return fmt.Errorf("%w: text packet while %d of %d attachments are missing",
				ErrProtocol, r.pkt.attachments-len(r.attachments), r.pkt.attachments)
		}
		p, err := decodePacket(ep.data, c.srv.opts.MaxAttachments)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		if p.attachments > 0 {
			r.pkt = &p
			return nil
		}
		return c.dispatch(ctx, p, nil)
	case engineOpen, engineUpgrade, engineNoop:
	}
	return nil
}

func (c *serverConn) hear() {
	c.lastHeard.Store(int64(time.Since(c.born)))
	select {
	case c.heard <- struct{}{}:
	default:
	}
}

func (c *serverConn) dispatch(ctx context.Context, p packet, attachments [][]byte) error {
	if p.typ == packetConnect {
		return c.connect(ctx, p)
	}
	c.mu.Lock()
	s := c.sockets[p.nsp]
	c.mu.Unlock()

	var name string
	var args []Arg
	var err error
	switch p.typ {
	case packetEvent, packetBinaryEvent:
		if err := json.Unmarshal(p.args[0], &name); err != nil {
			return fmt.Errorf("%w: event name: %w", ErrProtocol, err)
		}
		if args, err = decodeArgs(p.args[1:], attachments); err != nil {
			return fmt.Errorf("%w: event %s on %s: %w", ErrProtocol, name, p.nsp, err)
		}
	case packetAck, packetBinaryAck:
		if args, err = decodeArgs(p.args, attachments); err != nil {
			return fmt.Errorf("%w: ack %d on %s: %w", ErrProtocol, p.id, p.nsp, err)
		}
	case packetConnectError:
		return fmt.Errorf("%w: CONNECT_ERROR from a client", ErrProtocol)
	}
	if s == nil {
		c.log.Debug().Str("namespace", p.nsp).Stringer("packet", p.typ).Msg("packet for a namespace not joined")
		return nil
	}
	switch p.typ {
	case packetDisconnect:
		c.unregister(s)
		s.end(fmt.Errorf("%w: %s", ErrClientLeft, p.nsp))
	case packetEvent, packetBinaryEvent:
		if !s.deliver(Event{Name: name, Args: args, sock: s, ackID: p.id}) {
			return fmt.Errorf("%w: namespace %s, %d events queued", ErrSlowConsumer, p.nsp, c.srv.opts.EventBuffer)
		}
	case packetAck, packetBinaryAck:
		s.resolveAck(p.id, args)
	}
	return nil
}

// connect answers a CONNECT: it asks the namespace's OnConnect and replies
// with CONNECT or CONNECT_ERROR.
func (c *serverConn) connect(ctx context.Context, p packet) error {
	nsp, rawQuery, _ := strings.Cut(p.nsp, "?") // EIO3 clients put the auth query here
	c.srv.mu.Lock()
	n := c.srv.nsps[nsp]
	c.srv.mu.Unlock()
	refuse := func(msg string) error {
		var data []byte
		if c.eio == 3 {
			data, _ = json.Marshal(msg)
		} else {
			data, _ = json.Marshal(map[string]string{"message": msg})
		}
		c.log.Debug().Str("namespace", nsp).Str("reason", msg).Msg("connect refused")
		return c.writePacketTimeout(ctx, packet{typ: packetConnectError, nsp: nsp, id: noID, data: data}, nil)
	}
	if n == nil {
		return refuse("Invalid namespace")
	}
	c.mu.Lock()
	_, dup := c.sockets[nsp]
	c.mu.Unlock()
	if dup {
		c.log.Debug().Str("namespace", nsp).Msg("connect for a namespace already joined")
		return nil
	}
	query := make(url.Values, len(c.query))
	for k, v := range c.query {
		query[k] = v
	}
	if rawQuery != "" {
		extra, err := url.ParseQuery(rawQuery)
		if err != nil {
			return fmt.Errorf("%w: connect %s: query: %w", ErrProtocol, nsp, err)
		}
		for k, v := range extra {
			query[k] = v
		}
	}
	s := &ServerSocket{
		conn:     c,
		nsp:      nsp,
		id:       newID(),
		auth:     append(json.RawMessage(nil), p.data...),
		query:    query,
		ready:    make(chan struct{}),
		endpoint: newEndpoint(c.srv.opts.EventBuffer),
	}
	if fn := n.handler(); fn != nil {
		if err := fn(s); err != nil {
			s.end(err)
			return refuse(err.Error())
		}
	}
	c.mu.Lock()
	if c.sockets == nil {
		c.mu.Unlock()
		s.end(c.err)
		return nil
	}
	c.sockets[nsp] = s
	c.mu.Unlock()
	reply := packet{typ: packetConnect, nsp: nsp, id: noID}
	if c.eio == 4 {
		reply.data, _ = json.Marshal(map[string]string{"sid": s.id})
	}
	if err := c.writePacketTimeout(ctx, reply, nil); err != nil {
		return err
	}
	close(s.ready)
	c.log.Debug().Str("namespace", nsp).Str("socket_id", s.id).Msg("joined")
	return nil
}

func (c *serverConn) unregister(s *ServerSocket) {
	c.mu.Lock()
	if c.sockets[s.nsp] == s {
		delete(c.sockets, s.nsp)
	}
	c.mu.Unlock()
}

// keepalive runs the heartbeat: EIO4 pings every PingInterval, EIO3
// answers the client's pings; silence for PingInterval+PingTimeout ends
// the connection.
func (c *serverConn) keepalive(ctx context.Context) {
	defer close(c.keeperDone)
	interval, timeout := c.srv.opts.PingInterval, c.srv.opts.PingTimeout
	limit := interval + timeout
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var tick <-chan time.Time
	if c.eio == 4 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			silent := time.Since(c.born) - time.Duration(c.lastHeard.Load())
			if silent < limit {
				deadline.Reset(limit - silent)
				continue
			}
			what := "no pong"
			if c.eio == 3 {
				what = "no ping"
			}
			c.fail(fmt.Errorf("%w: %s from the client for %v", ErrHeartbeatTimeout, what, silent.Round(time.Millisecond)))
			return
		case <-c.heard:
			deadline.Reset(limit)
			if c.eio == 3 {
				err = c.writeFrames(ctx, timeout, []byte{'0' + byte(enginePong)}, nil)
			}
		case <-tick:
			err = c.writeFrames(ctx, timeout, []byte{'0' + byte(enginePing)}, nil)
		}
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrHeartbeatTimeout, err))
			return
		}
	}
}

// writePacketTimeout writes a packet from the connection's own goroutines,
// bounded by PingTimeout.
func (c *serverConn) writePacketTimeout(ctx context.Context, p packet, attachments [][]byte) error {
	return c.writeFrames(ctx, c.srv.opts.PingTimeout, appendPacket([]byte{'0' + byte(engineMessage)}, p), attachments)
}

// writeFrames writes a text frame then binary frames, holding the write
// token, bounded by timeout when positive. A write error ends the
// connection.
func (c *serverConn) writeFrames(ctx context.Context, timeout time.Duration, text []byte, binary [][]byte) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case c.writeTok <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.done:
		return c.err
	}
	defer func() { <-c.writeTok }()
	if err := c.errNow(); err != nil {
		return err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, text); err != nil {
		c.fail(fmt.Errorf("socketio: write: %w", err))
		return c.errNow()
	}
	for _, b := range binary {
		if c.eio == 3 {
			b = append([]byte{eio3BinaryPrefix}, b...)
		}
		if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			c.fail(fmt.Errorf("socketio: write: %w", err))
			return c.errNow()
		}
	}
	return nil
}

// ServerSocket is one client's membership of a namespace on the Server.
// Its methods are safe for concurrent use.
type ServerSocket struct {
	conn  *serverConn
	nsp   string
	id    string
	auth  json.RawMessage
	query url.Values
	ready chan struct{} // closed once the CONNECT reply is written

	endpoint // events, acks and end state
}

// ID returns the socket id: the namespace sid sent in the EIO4 CONNECT
// reply (it differs from the Engine.IO sid). EIO3 clients are not told it.
func (s *ServerSocket) ID() string { return s.id }

// SID returns the Engine.IO session id of the connection.
func (s *ServerSocket) SID() string { return s.conn.sid }

// Namespace returns the namespace name, such as "/cricket".
func (s *ServerSocket) Namespace() string { return s.nsp }

// EIO returns the Engine.IO revision of the connection, 3 or 4.
func (s *ServerSocket) EIO() int { return s.conn.eio }

// Auth returns the CONNECT payload of an EIO4 client (its auth object), or
// nil.
func (s *ServerSocket) Auth() json.RawMessage { return s.auth }

// Query returns the handshake query, with the namespace query of an EIO3
// client's CONNECT added. The caller must not modify it.
func (s *ServerSocket) Query() url.Values { return s.query }

// Header returns the handshake request headers. The caller must not modify
// them.
func (s *ServerSocket) Header() http.Header { return s.conn.header }

// Events returns the events the client emits on this namespace, in order.
// The read loop never blocks on it: it buffers ServerOptions.EventBuffer
// events and ends the connection with ErrSlowConsumer when that fills. The
// channel is closed when the socket ends.
func (s *ServerSocket) Events() <-chan Event { return s.events }

// Done returns a channel closed when the socket has ended: disconnected by
// either side, or its connection ended. Err then says why.
func (s *ServerSocket) Done() <-chan struct{} { return s.done }

// Err returns nil while the socket is up, then why it ended: ErrClientLeft,
// ErrClientClosed, ErrClosed (Disconnect, Server.CloseAll), ErrDropped,
// ErrHeartbeatTimeout, ErrProtocol, ErrTooLarge or ErrSlowConsumer,
// wrapped with details.
func (s *ServerSocket) Err() error { return s.endErr() }

// Emit sends an event with args, following the argument rules of
// Socket.Emit ([]byte becomes a binary attachment). It first waits for the
// namespace's CONNECT reply to be written, so it must not be called from
// OnConnect itself. It returns once the frames are written; if ctx ends in
// the middle of a write the connection is closed.
func (s *ServerSocket) Emit(ctx context.Context, event string, args ...any) error {
	if err := s.emit(ctx, event, noID, args); err != nil {
		return fmt.Errorf("socketio: emit %s: %w", event, err)
	}
	return nil
}

// EmitWithAck sends an event like Emit and waits until the client calls
// its acknowledgement callback, returning the callback's arguments.
func (s *ServerSocket) EmitWithAck(ctx context.Context, event string, args ...any) ([]Arg, error) {
	id, ch, err := s.addAck()
	if err != nil {
		return nil, fmt.Errorf("socketio: emit %s: %w", event, err)
	}
	defer s.dropAck(id)
	if err := s.emit(ctx, event, id, args); err != nil {
		return nil, fmt.Errorf("socketio: emit %s: %w", event, err)
	}
	select {
	case res := <-ch:
		return res, nil
	case <-s.done:
		return nil, fmt.Errorf("socketio: emit %s: wait for ack: %w", event, s.Err())
	case <-ctx.Done():
		return nil, fmt.Errorf("socketio: emit %s: wait for ack: %w", event, ctx.Err())
	}
}

func (s *ServerSocket) emit(ctx context.Context, event string, id int64, args []any) error {
	if event == "" || reserved[event] {
		return fmt.Errorf("event name %q is reserved", event)
	}
	data, attachments, err := encodeArgs(event, args)
	if err != nil {
		return err
	}
	return s.write(ctx, packetEvent, id, data, attachments)
}

func (s *ServerSocket) sendAck(ctx context.Context, id int64, args []any) error {
	data, attachments, err := encodeArgs("", args)
	if err != nil {
		return fmt.Errorf("socketio: ack %d: %w", id, err)
	}
	if err := s.write(ctx, packetAck, id, data, attachments); err != nil {
		return fmt.Errorf("socketio: ack %d: %w", id, err)
	}
	return nil
}

// write waits for the socket to be connected and writes an EVENT or ACK
// packet, binary when there are attachments.
func (s *ServerSocket) write(ctx context.Context, typ packetType, id int64, data []byte, attachments [][]byte) error {
	select {
	case <-s.ready:
	case <-s.done:
		return s.Err()
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := s.Err(); err != nil {
		return err
	}
	if len(attachments) > 0 {
		typ += packetBinaryEvent - packetEvent
	}
	p := packet{typ: typ, attachments: len(attachments), nsp: s.nsp, id: id, data: data}
	return s.conn.writeFrames(ctx, 0, appendPacket([]byte{'0' + byte(engineMessage)}, p), attachments)
}

// Disconnect disconnects the client from the namespace (a DISCONNECT
// packet, 41/nsp,) and ends the socket with ErrClosed. The connection and
// its other namespaces stay up. Like Emit, it first waits for the
// namespace's CONNECT reply to be written.
func (s *ServerSocket) Disconnect(ctx context.Context) error {
	select {
	case <-s.ready:
	case <-s.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("socketio: disconnect %s: %w", s.nsp, ctx.Err())
	}
	if s.Err() != nil {
		return nil
	}
	s.conn.unregister(s)
	s.end(fmt.Errorf("%w: disconnected by server", ErrClosed))
	p := packet{typ: packetDisconnect, nsp: s.nsp, id: noID}
	err := s.conn.writeFrames(ctx, 0, appendPacket([]byte{'0' + byte(engineMessage)}, p), nil)
	if err != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("socketio: disconnect %s: %w", s.nsp, err)
	}
	return nil
}

// CloseConn ends the socket's whole Engine.IO connection with a WebSocket
// close frame, as a server restart would, and returns once the
// connection's goroutines have exited. Every namespace on it ends with
// ErrClosed.
func (s *ServerSocket) CloseConn() {
	s.conn.close(fmt.Errorf("%w: connection closed by server", ErrClosed))
}

// Drop ends the socket's whole Engine.IO connection abruptly: the TCP
// connection is closed without a close frame, as when a network path
// dies. For fault injection. Every namespace on it ends with ErrDropped.
// It returns once the connection's goroutines have exited.
func (s *ServerSocket) Drop() {
	s.conn.close(ErrDropped)
}

func (s *ServerSocket) resolveAck(id int64, args []Arg) {
	if !s.endpoint.resolveAck(id, args) {
		s.conn.log.Debug().Str("namespace", s.nsp).Int64("ack_id", id).Msg("ack for no pending emit")
	}
}
