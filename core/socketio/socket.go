package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Socket is one joined namespace on a Conn. Its methods are safe for
// concurrent use.
type Socket struct {
	conn  *Conn
	nsp   string
	ready chan struct{} // closed when the server accepts the CONNECT

	endpoint // events, acks and end state; its mu also guards sid
	sid      string
}

// Join connects the namespace nsp ("/cricket"; "" means "/") and waits for
// the server to accept it, until ctx ends. A refusal is returned as a
// *ConnectError carrying the server's message.
//
// auth is the CONNECT payload. With EIO 4 it is any value that marshals to
// a JSON object, or nil. Socket.IO v2 servers (EIO 3) have no CONNECT
// payload: auth must then be nil, url.Values or map[string]string, and is
// sent as the namespace's query string (socket.handshake.query on the
// server). With EIO 3 the server connects "/" by itself; Join("/") only
// waits for that.
func (c *Conn) Join(ctx context.Context, nsp string, auth any) (*Socket, error) {
	if nsp == "" {
		nsp = "/"
	}
	if !strings.HasPrefix(nsp, "/") || strings.ContainsAny(nsp, ",?#") {
		return nil, fmt.Errorf("socketio: join %q: a namespace starts with / and holds no , ? or #", nsp)
	}
	connect, err := c.connectPacket(nsp, auth)
	if err != nil {
		return nil, err
	}
	s := &Socket{
		conn:     c,
		nsp:      nsp,
		ready:    make(chan struct{}),
		endpoint: newEndpoint(c.opts.EventBuffer),
	}
	rootSeen, err := c.register(s)
	if err != nil {
		return nil, err
	}
	switch {
	case c.opts.EIO == 3 && nsp == "/":
		if rootSeen {
			s.connected("")
		}
	default:
		if err := c.writePacket(ctx, connect, nil); err != nil {
			c.unregister(s)
			s.end(err)
			return nil, fmt.Errorf("socketio: join %s: %w", nsp, err)
		}
	}
	select {
	case <-s.ready:
		c.log.Debug().Str("namespace", nsp).Str("socket_id", s.ID()).Msg("joined")
		return s, nil
	case <-s.done:
		select {
		case <-s.ready:
			return s, nil // accepted, then ended at once: s.Err says why
		default:
		}
		return nil, s.Err()
	case <-ctx.Done():
		// A late acceptance finds no Socket and is dropped.
		c.unregister(s)
		s.end(ErrClosed)
		return nil, fmt.Errorf("socketio: join %s: %w", nsp, ctx.Err())
	}
}

// connectPacket builds the CONNECT packet for nsp, with auth as the payload
// (EIO4) or the namespace query (EIO3).
func (c *Conn) connectPacket(nsp string, auth any) (packet, error) {
	p := packet{typ: packetConnect, nsp: nsp, id: noID}
	if auth == nil {
		return p, nil
	}
	if c.opts.EIO == 3 {
		var q url.Values
		switch a := auth.(type) {
		case url.Values:
			q = a
		case map[string]string:
			q = make(url.Values, len(a))
			for k, v := range a {
				q.Set(k, v)
			}
		default:
			return p, fmt.Errorf("socketio: join %s: eio 3 auth is a query: want url.Values or map[string]string, got %T", nsp, auth)
		}
		if len(q) > 0 {
			p.nsp = nsp + "?" + q.Encode()
		}
		return p, nil
	}
	b, err := json.Marshal(auth)
	if err != nil {
		return p, fmt.Errorf("socketio: join %s: auth: %w", nsp, err)
	}
	if jsonKind(b) != '{' {
		return p, fmt.Errorf("socketio: join %s: auth must marshal to a JSON object, got %T", nsp, auth)
	}
	p.data = b
	return p, nil
}

// Namespace returns the namespace name, such as "/cricket".
func (s *Socket) Namespace() string { return s.nsp }

// ID returns the socket id the server assigned to this namespace (EIO4
// servers; it differs from the Engine.IO sid), or "" (EIO3 servers).
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sid
}

// Events returns the events the server emits on this namespace, in order.
// The read loop never blocks on it: it buffers Options.EventBuffer events
// and ends the connection with ErrSlowConsumer when that fills. The channel
// is closed when the Socket ends, after the events received before.
func (s *Socket) Events() <-chan Event { return s.events }

// Done returns a channel closed when the Socket has ended: left, refused,
// disconnected by the server, or its connection ended. Err then says why.
func (s *Socket) Done() <-chan struct{} { return s.done }

// Err returns nil while the Socket is up, then why it ended: an error
// wrapping ErrNamespaceDisconnected, ErrClosed (Leave or Conn.Close), a
// *ConnectError, or the connection's error (see Conn.Err).
func (s *Socket) Err() error { return s.endErr() }

// Emit sends an event with args. A []byte arg is sent as a binary
// attachment (a Buffer on the Node.js side), an Arg as it was received, a
// json.RawMessage verbatim, and anything else through json.Marshal ([]byte
// nested in a struct therefore goes as base64 text). Emit returns once the
// frames are written; there is no delivery guarantee without an ack. If ctx
// ends in the middle of a write the connection is closed, since a
// half-written packet cannot be taken back.
func (s *Socket) Emit(ctx context.Context, event string, args ...any) error {
	if err := s.emit(ctx, event, noID, args); err != nil {
		return fmt.Errorf("socketio: emit %s: %w", event, err)
	}
	return nil
}

// EmitWithAck sends an event like Emit and waits until the server calls its
// acknowledgement callback, returning the callback's arguments.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) ([]Arg, error) {
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

// reserved are the event names Socket.IO keeps for itself.
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

func (s *Socket) emit(ctx context.Context, event string, id int64, args []any) error {
	if event == "" || reserved[event] {
		return fmt.Errorf("event name %q is reserved", event)
	}
	data, attachments, err := encodeArgs(event, args)
	if err != nil {
		return err
	}
	if err := s.Err(); err != nil {
		return err
	}
	return s.conn.writePacket(ctx, s.packet(packetEvent, id, data, attachments), attachments)
}

func (s *Socket) sendAck(ctx context.Context, id int64, args []any) error {
	data, attachments, err := encodeArgs("", args)
	if err != nil {
		return fmt.Errorf("socketio: ack %d: %w", id, err)
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("socketio: ack %d: %w", id, err)
	}
	if err := s.conn.writePacket(ctx, s.packet(packetAck, id, data, attachments), attachments); err != nil {
		return fmt.Errorf("socketio: ack %d: %w", id, err)
	}
	return nil
}

// packet builds an EVENT or ACK packet, binary when there are attachments.
func (s *Socket) packet(typ packetType, id int64, data []byte, attachments [][]byte) packet {
	if len(attachments) > 0 {
		typ += packetBinaryEvent - packetEvent // EVENT→BINARY_EVENT, ACK→BINARY_ACK
	}
	return packet{typ: typ, attachments: len(attachments), nsp: s.nsp, id: id, data: data}
}

// Leave disconnects the namespace (a DISCONNECT packet) and ends the Socket
// with ErrClosed. The connection and other namespaces stay up.
//
// Socket.IO 4 servers act on a DISCONNECT one event-loop tick late: a
// CONNECT for the same namespace arriving in the same TCP read makes the
// server close the whole connection. Before joining the namespace again,
// make a round trip (an acked emit on another namespace) or wait.
func (s *Socket) Leave(ctx context.Context) error {
	if s.Err() != nil {
		return nil
	}
	s.conn.unregister(s)
	s.end(ErrClosed)
	p := packet{typ: packetDisconnect, nsp: s.nsp, id: noID}
	if err := s.conn.writePacket(ctx, p, nil); err != nil && !errors.Is(err, ErrClosed) {
		return fmt.Errorf("socketio: leave %s: %w", s.nsp, err)
	}
	return nil
}

func (s *Socket) connected(sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case <-s.ready:
	default:
		s.sid = sid
		close(s.ready)
	}
}

func (s *Socket) resolveAck(id int64, args []Arg) {
	if !s.endpoint.resolveAck(id, args) {
		s.conn.log.Debug().Str("namespace", s.nsp).Int64("ack_id", id).Msg("ack for no pending emit")
	}
}
