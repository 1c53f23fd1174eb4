package socketio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Arg is one argument of a received event or ack: either JSON or a binary
// attachment. The zero Arg is JSON null.
type Arg struct {
	raw    json.RawMessage
	binary []byte
}

// IsBinary reports whether the argument is a binary attachment (a Buffer
// on the Node.js side).
func (a Arg) IsBinary() bool { return a.binary != nil }

// Bytes returns the attachment bytes of a binary argument, or nil for a
// JSON argument. The slice belongs to the caller.
func (a Arg) Bytes() []byte { return a.binary }

// JSON returns the JSON text of the argument, or nil for a binary argument.
// Binary attachments nested inside the JSON appear as base64 strings, so a
// []byte field decodes them.
func (a Arg) JSON() json.RawMessage {
	if a.binary != nil {
		return nil
	}
	if a.raw == nil {
		return json.RawMessage("null")
	}
	return a.raw
}

// Decode stores the argument in v: a binary argument into a *[]byte, a
// JSON argument with json.Unmarshal.
func (a Arg) Decode(v any) error {
	if a.binary != nil {
		p, ok := v.(*[]byte)
		if !ok {
			return fmt.Errorf("socketio: decode binary arg into %T: want *[]byte", v)
		}
		*p = a.binary
		return nil
	}
	if err := json.Unmarshal(a.JSON(), v); err != nil {
		return fmt.Errorf("socketio: decode arg: %w", err)
	}
	return nil
}

// String returns the JSON text, or a short description of a binary argument.
func (a Arg) String() string {
	if a.binary != nil {
		return fmt.Sprintf("<binary %d bytes>", len(a.binary))
	}
	return string(a.JSON())
}

// Event is an event the peer emitted on a namespace: the server, on a
// client Socket; the client, on a ServerSocket.
type Event struct {
	// Name is the event name, the first element of the packet's array.
	Name string
	// Args are the remaining elements, binary attachments resolved.
	Args []Arg

	sock  acker // the Socket or ServerSocket it arrived on
	ackID int64
}

// acker is what an Event answers an ack request through: a client Socket
// or a ServerSocket.
type acker interface {
	sendAck(ctx context.Context, id int64, args []any) error
}

// AckRequested reports whether the peer asked for an acknowledgement
// (it emitted with a callback). Answer with Ack.
func (e Event) AckRequested() bool { return e.sock != nil && e.ackID != noID }

// Ack answers an event the peer emitted with a callback; args follow the
// rules of Socket.Emit. Call it at most once per event: the peer ignores
// a second answer.
func (e Event) Ack(ctx context.Context, args ...any) error {
	if !e.AckRequested() {
		return fmt.Errorf("socketio: ack %s: %w", e.Name, errNoAck)
	}
	return e.sock.sendAck(ctx, e.ackID, args)
}

var errNoAck = errors.New("the peer did not ask for an ack")
