package broadcast

import (
	"errors"
	"net/http"
	"time"
)

// Guard admits connections (WebSocket, SSE) and REST requests, and through
// the Ticket it returns, subscriptions. A nil Guard admits everyone to
// everything. Admit is called from HTTP handler goroutines, concurrently;
// it may block briefly (it runs before the response starts) but should not
// do network I/O per request.
type Guard interface {
	// Admit checks r's credentials and limits. An error refuses the request:
	// if it implements interface{ HTTPStatus() int; Code() string } (see
	// StatusError) the response uses that status and code, otherwise 401
	// CodeUnauthorized; the body's message is err.Error(), so it must not
	// carry secrets.
	Admit(r *http.Request) (Ticket, error)
}

// Ticket is one admitted connection or request.
type Ticket interface {
	// Allowed reports whether the holder may follow or read match. It is
	// called on every subscribe (from the connection's read goroutine) and
	// on every single-match request, and must be cheap.
	Allowed(match string) bool
	// Release ends the admission: when the connection closes, or when the
	// REST response has been written. It is called exactly once.
	Release()
}

// StatusError is what an Admit error may implement to choose the HTTP
// status and error code of the refusal, e.g. 429 "too_many_connections".
type StatusError interface {
	error
	HTTPStatus() int
	Code() string
}

// SetGuard installs g. Call it before Run and before serving Handler; it is
// not safe to call concurrently with requests. A nil g admits everyone.
func (h *Hub) SetGuard(g Guard) {
	h.guard = g
}

// openTicket admits everything; it stands in when no Guard is set.
type openTicket struct{}

func (openTicket) Allowed(string) bool { return true }
func (openTicket) Release()            {}

// admit runs the Guard for r. On refusal it writes the HTTP error and
// returns false; otherwise the caller must Release the ticket.
func (h *Hub) admit(w http.ResponseWriter, r *http.Request) (Ticket, bool) {
	if h.guard == nil {
		return openTicket{}, true
	}
	t, err := h.guard.Admit(r)
	if err != nil {
		h.stats.connRefused.Add(1)
		status, code := http.StatusUnauthorized, CodeUnauthorized
		var se interface {
			HTTPStatus() int
			Code() string
		}
		if errors.As(err, &se) && se.HTTPStatus() >= 400 && se.HTTPStatus() <= 599 && se.Code() != "" {
			status, code = se.HTTPStatus(), se.Code()
		}
		h.log.Debug().Err(err).Str("remote", r.RemoteAddr).Int("status", status).Msg("request refused")
		writeError(w, status, code, err.Error())
		return nil, false
	}
	if t == nil {
		t = openTicket{}
	}
	return t, true
}

// expirer is implemented by tickets whose admission ends at a time (a
// JWT's exp): the connection is closed then.
type expirer interface{ Expires() time.Time }

// closeAtExpiry closes c when t's credentials expire (WebSocket close
// 4003, or the end of the SSE response); the returned func cancels it.
func closeAtExpiry(t Ticket, c *client) (stop func()) {
	e, ok := t.(expirer)
	if !ok || e.Expires().IsZero() {
		return func() {}
	}
	timer := time.AfterFunc(time.Until(e.Expires()), func() {
		c.log.Debug().Msg("credentials expired, closing")
		c.close(CloseTokenExpired, ReasonTokenExpired)
	})
	return func() { timer.Stop() }
}
