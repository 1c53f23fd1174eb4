package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// Conn is one Engine.IO connection over WebSocket. It carries any number of
// namespaces, each joined with Join. Its methods are safe for concurrent use.
type Conn struct {
	ws   *websocket.Conn
	opts Options
	hs   Handshake
	log  zerolog.Logger

	// writeTok is a token held while one packet's frames are written, so a
	// binary packet's attachments follow it without interleaving.
	writeTok chan struct{}
	// heard tells keepalive the server spoke: a ping (EIO4) or any
	// packet (EIO3). Capacity 1; the reader never blocks on it.
	heard chan struct{}
	// lastHeard is when, as time since born, the reader last saw what
	// heard signals: keepalive judges silence by it, not by when it got
	// round to reading heard.
	lastHeard atomic.Int64
	born      time.Time

	cancel     context.CancelFunc // ends the read loop's and keepalive's context
	done       chan struct{}      // closed once err is set
	failOnce   sync.Once
	err        error
	readerDone chan struct{}
	keeperDone chan struct{}

	mu       sync.Mutex // guards the fields below; no I/O under it
	sockets  map[string]*Socket
	rootSeen bool // EIO3: the server's unsolicited CONNECT for "/" arrived
}

// Dial opens a WebSocket to the Socket.IO server at rawURL (scheme ws, wss,
// http or https, host, optional query; the engine path goes in
// opts.Path and namespaces are joined with Conn.Join) and reads the
// Engine.IO open packet. A nil opts means defaults. ctx bounds the dial
// only; the connection lives until Close or until it fails (see Done).
func Dial(ctx context.Context, rawURL string, opts *Options) (*Conn, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	full, safe, err := handshakeURL(rawURL, o)
	if err != nil {
		return nil, err
	}
	ws, _, err := websocket.Dial(ctx, full, &websocket.DialOptions{
		HTTPClient: o.HTTPClient,
		HTTPHeader: o.Header.Clone(),
	})
	if err != nil {
		return nil, fmt.Errorf("socketio: dial %s: %w", safe, redactURL(err, safe))
	}
	ws.SetReadLimit(o.MaxFrameSize)
	hs, err := readOpen(ctx, ws, o.EIO)
	if err != nil {
		_ = ws.CloseNow()
		return nil, fmt.Errorf("socketio: dial %s: %w", safe, err)
	}

	log := o.Logger.With().Str("sid", hs.SID).Int("eio", o.EIO).Logger()
	life, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &Conn{
		ws:         ws,
		opts:       o,
		hs:         hs,
		log:        log,
		writeTok:   make(chan struct{}, 1),
		heard:      make(chan struct{}, 1),
		born:       time.Now(),
		cancel:     cancel,
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		keeperDone: make(chan struct{}),
		sockets:    make(map[string]*Socket),
	}
	log.Debug().Str("url", safe).Dur("ping_interval", hs.PingInterval).Dur("ping_timeout", hs.PingTimeout).
		Int64("max_payload", hs.MaxPayload).Msg("connected")
	go c.readLoop(life)
	go c.keepalive(life)
	return c, nil
}

// readOpen reads the Engine.IO open packet, the server's first frame.
func readOpen(ctx context.Context, ws *websocket.Conn, eio int) (Handshake, error) {
	typ, frame, err := ws.Read(ctx)
	if err != nil {
		if eio == 3 && ctx.Err() == nil && websocket.CloseStatus(err) == -1 {
			// A v3/v4 server without allowEIO3 completes the upgrade, then
			// writes an HTTP 400 into the stream: a framing error here.
			return Handshake{}, fmt.Errorf("%w: no open packet for EIO=3 (a Socket.IO v3/v4 server needs allowEIO3; dial it with EIO 4): %w",
				ErrProtocolVersion, err)
		}
		return Handshake{}, fmt.Errorf("read open packet: %w", err)
	}
	if typ != websocket.MessageText {
		return Handshake{}, fmt.Errorf("%w: first frame is binary, want the open packet", ErrProtocol)
	}
	p, err := decodeEnginePacket(frame)
	if err != nil {
		return Handshake{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if p.typ != engineOpen {
		return Handshake{}, fmt.Errorf("%w: first packet is type %d, want open (0)", ErrProtocol, p.typ)
	}
	hs, err := decodeOpen(p.data)
	if err != nil {
		return Handshake{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return hs, nil
}

// Handshake returns the server's Engine.IO open packet.
func (c *Conn) Handshake() Handshake { return c.hs }

// EIO returns the Engine.IO protocol revision in use, 3 or 4.
func (c *Conn) EIO() int { return c.opts.EIO }

// Done returns a channel closed when the connection has ended, by Close or
// by failure; every Socket on it has ended by then. Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, then why it ended: an error
// wrapping ErrClosed after Close, ErrServerClosed, ErrHeartbeatTimeout,
// ErrProtocol, ErrProtocolVersion, ErrTooLarge, ErrSlowConsumer, or the
// transport's read or write error.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close ends the connection and every Socket on it with ErrClosed, performs
// the WebSocket close handshake (bounded by coder/websocket's 5 s timeouts)
// when the connection was still up, and returns once the connection's
// goroutines have exited. It is safe to call more than once.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	<-c.readerDone
	<-c.keeperDone
	return nil
}

// fail ends the connection with err; the first call wins.
func (c *Conn) fail(err error) {
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

// readLoop is the one goroutine that reads the connection.
func (c *Conn) readLoop(ctx context.Context) {
	defer close(c.readerDone)
	var r reassembly
	for {
		typ, frame, err := c.ws.Read(ctx)
		if err != nil {
			c.fail(c.readError(err))
			return
		}
		if err := c.handleFrame(typ, frame, &r); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *Conn) readError(err error) error {
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		return fmt.Errorf("%w: limit %d bytes: %w", ErrTooLarge, c.opts.MaxFrameSize, err)
	case websocket.CloseStatus(err) != -1:
		return fmt.Errorf("%w: %w", ErrServerClosed, err)
	default:
		return fmt.Errorf("socketio: read: %w", err)
	}
}

// reassembly holds a binary packet while its attachments arrive.
type reassembly struct {
	pkt         *packet
	attachments [][]byte
}

func (c *Conn) handleFrame(typ websocket.MessageType, frame []byte, r *reassembly) error {
	if c.opts.EIO == 3 {
		c.hear()
	}
	if typ == websocket.MessageBinary {
		if r.pkt == nil {
			return fmt.Errorf("%w: binary frame without a binary packet", ErrProtocol)
		}
		if c.opts.EIO == 3 {
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
		return c.dispatch(p, attachments)
	}

	ep, err := decodeEnginePacket(frame)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	switch ep.typ {
	case engineClose:
		return fmt.Errorf("%w: engine.io close packet", ErrServerClosed)
	case enginePing:
		if c.opts.EIO == 4 {
			c.hear()
		} else {
			c.log.Debug().Msg("ignored ping from eio3 server")
		}
	case engineMessage:
		if r.pkt != nil {
			return fmt.Errorf("%w: text packet while %d of %d attachments are missing",
				ErrProtocol, r.pkt.attachments-len(r.attachments), r.pkt.attachments)
		}
		p, err := decodePacket(ep.data, c.opts.MaxAttachments)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		if p.attachments > 0 {
			r.pkt = &p
			return nil
		}
		return c.dispatch(p, nil)
	case engineOpen, enginePong, engineUpgrade, engineNoop:
		// A pong answers our EIO3 ping: hearing it is all that counts.
	}
	return nil
}

// hear records that the server spoke and tells keepalive, without blocking.
func (c *Conn) hear() {
	c.lastHeard.Store(int64(time.Since(c.born)))
	select {
	case c.heard <- struct{}{}:
	default:
	}
}

func (c *Conn) dispatch(p packet, attachments [][]byte) error {
	c.mu.Lock()
	s := c.sockets[p.nsp]
	if p.typ == packetConnect && p.nsp == "/" {
		c.rootSeen = true
	}
	c.mu.Unlock()

	// Arguments are checked even for a namespace not joined: garbage is
	// garbage wherever it is addressed.
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
	}

	if s == nil {
		if p.typ == packetConnect && p.nsp == "/" && c.opts.EIO == 4 {
			return fmt.Errorf("%w: unsolicited CONNECT for / (a Socket.IO v2 server speaks EIO3: dial it with EIO 3)", ErrProtocolVersion)
		}
		c.log.Debug().Str("namespace", p.nsp).Stringer("packet", p.typ).Msg("packet for a namespace not joined")
		return nil
	}

	switch p.typ {
	case packetConnect:
		var v struct {
			SID string `json:"sid"`
		}
		if p.data != nil {
			_ = json.Unmarshal(p.data, &v) // an object: checked by decodePacket
		}
		s.connected(v.SID)
	case packetConnectError:
		c.unregister(s)
		s.end(decodeConnectError(p.nsp, p.data))
	case packetDisconnect:
		c.unregister(s)
		s.end(fmt.Errorf("%w: %s", ErrNamespaceDisconnected, p.nsp))
		c.log.Debug().Str("namespace", p.nsp).Msg("namespace disconnected by server")
	case packetEvent, packetBinaryEvent:
		if !s.deliver(Event{Name: name, Args: args, sock: s, ackID: p.id}) {
			return fmt.Errorf("%w: namespace %s, %d events queued", ErrSlowConsumer, p.nsp, c.opts.EventBuffer)
		}
	case packetAck, packetBinaryAck:
		s.resolveAck(p.id, args)
	}
	return nil
}

// register adds s, or reports why it cannot be added.
func (c *Conn) register(s *Socket) (rootSeen bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sockets == nil {
		return false, c.err
	}
	if _, ok := c.sockets[s.nsp]; ok {
		return false, fmt.Errorf("socketio: join %s: already joined", s.nsp)
	}
	c.sockets[s.nsp] = s
	return c.rootSeen, nil
}

func (c *Conn) unregister(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp] == s {
		delete(c.sockets, s.nsp)
	}
	c.mu.Unlock()
}

// keepalive runs the heartbeat: it answers EIO4 pings, sends EIO3 pings, and
// fails the connection when the server goes quiet for pingInterval+pingTimeout.
func (c *Conn) keepalive(ctx context.Context) {
	defer close(c.keeperDone)
	interval, timeout := c.hs.PingInterval, c.hs.PingTimeout
	limit := interval + timeout
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var tick <-chan time.Time
	if c.opts.EIO == 3 {
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
				// Heard in time; this goroutine was just slow to see it.
				deadline.Reset(limit - silent)
				continue
			}
			what := "no ping"
			if c.opts.EIO == 3 {
				what = "no packet"
			}
			c.fail(fmt.Errorf("%w: %s from the server for %v", ErrHeartbeatTimeout, what, silent.Round(time.Millisecond)))
			return
		case <-c.heard:
			deadline.Reset(limit)
			if c.opts.EIO == 4 {
				err = c.writeHeartbeat(ctx, enginePong, timeout)
			}
		case <-tick:
			err = c.writeHeartbeat(ctx, enginePing, timeout)
		}
		if err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrHeartbeatTimeout, err))
			return
		}
	}
}

func (c *Conn) writeHeartbeat(ctx context.Context, typ enginePacketType, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	frame := []byte{'0' + byte(typ)}
	return c.writeFrames(ctx, frame, nil)
}

// writePacket sends one Socket.IO packet and its attachments.
func (c *Conn) writePacket(ctx context.Context, p packet, attachments [][]byte) error {
	frame := appendPacket([]byte{'0' + byte(engineMessage)}, p)
	if limit := c.hs.MaxPayload; limit > 0 {
		if int64(len(frame)) > limit {
			return fmt.Errorf("%w: packet is %d bytes, server accepts %d", ErrTooLarge, len(frame), limit)
		}
		for i, a := range attachments {
			if int64(len(a)) > limit {
				return fmt.Errorf("%w: attachment %d is %d bytes, server accepts %d", ErrTooLarge, i, len(a), limit)
			}
		}
	}
	return c.writeFrames(ctx, frame, attachments)
}

// writeFrames writes a text frame then binary frames, holding the write
// token. A write error ends the connection: a half-written packet cannot be
// taken back, and coder/websocket closes the WebSocket when ctx ends
// mid-write.
func (c *Conn) writeFrames(ctx context.Context, text []byte, binary [][]byte) error {
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
	if err := c.Err(); err != nil {
		return err
	}
	if err := c.ws.Write(ctx, websocket.MessageText, text); err != nil {
		return c.writeFailed(ctx, err)
	}
	for _, b := range binary {
		if c.opts.EIO == 3 {
			b = append([]byte{eio3BinaryPrefix}, b...)
		}
		if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			return c.writeFailed(ctx, err)
		}
	}
	return nil
}

// writeFailed ends the connection after a failed write and returns why it
// ended.
func (c *Conn) writeFailed(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		// The connection broke under the write. The read loop usually knows
		// why (the server's close frame) and says so at once: let it.
		timer := time.NewTimer(writeFailGrace)
		select {
		case <-c.done:
		case <-timer.C:
		}
		timer.Stop()
	}
	c.fail(fmt.Errorf("socketio: write: %w", err))
	return c.Err()
}

// writeFailGrace bounds how long a failed write waits for the read loop's
// account of the failure.
const writeFailGrace = time.Second

// redactURL hides the handshake URL that net/http quotes in its errors: the
// query may hold credentials. The error chain stays intact for errors.Is.
func redactURL(err error, safe string) error {
	var ue *url.Error
	if !errors.As(err, &ue) || ue.URL == "" || !strings.Contains(err.Error(), ue.URL) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), ue.URL, safe), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
