package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors a Conn or Socket ends with (see Conn.Err and Socket.Err) or that
// Dial returns. Test with errors.Is: the returned errors wrap these with
// details.
var (
	// ErrClosed means the caller closed the Conn, or left the namespace.
	ErrClosed = errors.New("socketio: closed")
	// ErrServerClosed means the server ended the connection cleanly: an
	// Engine.IO close packet or a WebSocket close frame.
	ErrServerClosed = errors.New("socketio: server closed the connection")
	// ErrHeartbeatTimeout means the peer went silent: no ping from an EIO4
	// server, or no packet from an EIO3 server, within pingInterval+pingTimeout.
	ErrHeartbeatTimeout = errors.New("socketio: heartbeat timeout")
	// ErrProtocol means the server sent something this client cannot parse.
	ErrProtocol = errors.New("socketio: protocol error")
	// ErrProtocolVersion means client and server speak different Engine.IO
	// revisions: a Socket.IO v3/v4 server without allowEIO3 asked for EIO=3,
	// or a Socket.IO v2 server (EIO3) dialed with EIO 4.
	ErrProtocolVersion = errors.New("socketio: engine.io protocol version mismatch")
	// ErrTooLarge means a message exceeded Options.MaxFrameSize (received)
	// or the server's maxPayload (sent).
	ErrTooLarge = errors.New("socketio: message too large")
	// ErrSlowConsumer means a Socket's event buffer was full: its Events
	// channel was not drained fast enough.
	ErrSlowConsumer = errors.New("socketio: event buffer full")
	// ErrNamespaceDisconnected means the server disconnected the namespace
	// (a DISCONNECT packet); the connection and other namespaces stay up.
	ErrNamespaceDisconnected = errors.New("socketio: namespace disconnected by server")
)

// ConnectError is the server's refusal of a namespace connect (a
// CONNECT_ERROR packet), returned by Conn.Join.
type ConnectError struct {
	// Namespace is the namespace that was refused.
	Namespace string
	// Message is the server's message: err.message of the middleware's
	// Error on Socket.IO v3/v4 servers, the string payload on v2 servers.
	Message string
	// Data is err.data of the middleware's Error (v3/v4 servers), or nil.
	Data json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string {
	if len(e.Data) > 0 {
		return fmt.Sprintf("socketio: join %s: refused by server: %s (data %s)", e.Namespace, e.Message, e.Data)
	}
	return fmt.Sprintf("socketio: join %s: refused by server: %s", e.Namespace, e.Message)
}

// decodeConnectError reads a CONNECT_ERROR payload: an object
// {"message":…,"data":…} (protocol v5) or a string (protocol v4).
func decodeConnectError(nsp string, data json.RawMessage) *ConnectError {
	e := &ConnectError{Namespace: nsp}
	switch jsonKind(data) {
	case '"':
		_ = json.Unmarshal(data, &e.Message) // validated by decodePacket
	case '{':
		var obj struct {
			Message *string         `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(data, &obj); err == nil && obj.Message != nil {
			e.Message = *obj.Message
			e.Data = obj.Data
		} else {
			e.Data = data
		}
	}
	if e.Message == "" {
		e.Message = "no message"
	}
	return e
}
