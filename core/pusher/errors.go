package pusher

import (
	"errors"
	"fmt"
)

// Error is a pusher:error from the server, or a close code in the
// protocol's 4000–4999 range.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("pusher: error %d", e.Code)
	}
	return fmt.Sprintf("pusher: error %d: %s", e.Code, e.Message)
}

// Action is what a client does after a connection ends.
type Action int

const (
	// Backoff reconnects after the exponential transport backoff (a
	// dropped connection, a failed dial, a code outside 4000–4999).
	Backoff Action = iota
	// Refuse ends Run: 4000–4099 and 4300–4999, which the protocol says
	// not to retry (4000 is first retried over TLS).
	Refuse
	// RetryLater reconnects after the fixed 4100–4199 delay (default 1 s).
	RetryLater
	// RetryNow reconnects at once: 4200–4299.
	RetryNow
)

func (a Action) String() string {
	return [...]string{"backoff", "refuse", "retry-later", "retry-now"}[a]
}

// ActionFor maps a pusher:error or close code to what the client does.
func ActionFor(code int) Action {
	switch {
	case code >= 4000 && code < 4100:
		return Refuse
	case code >= 4100 && code < 4200:
		return RetryLater
	case code >= 4200 && code < 4300:
		return RetryNow
	case code >= 4300 && code < 5000:
		return Refuse
	}
	return Backoff
}

// Sentinel errors.
var (
	// ErrRefused wraps the *Error that ended Run: the server said not to
	// reconnect.
	ErrRefused = errors.New("pusher: connection refused by server")
	// ErrPongTimeout: no pong (or any other message) arrived within
	// PongTimeout of a ping.
	ErrPongTimeout = errors.New("pusher: no pong within timeout")
	// ErrHandshake: the server's first message was not
	// pusher:connection_established.
	ErrHandshake = errors.New("pusher: handshake")
	// ErrAttempts: MaxAttempts connection attempts in a row failed.
	ErrAttempts = errors.New("pusher: too many failed connection attempts")
)
