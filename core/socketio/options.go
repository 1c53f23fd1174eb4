package socketio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/zerolog"
)

// Options configures Dial. The zero value, like a nil *Options, means
// defaults: EIO 4 on path /socket.io/.
type Options struct {
	// EIO is the Engine.IO protocol revision to speak: 4 for Socket.IO v3
	// and v4 servers, 3 for Socket.IO v2 servers (or v3/v4 servers with
	// allowEIO3). Default 4. A mismatch fails with ErrProtocolVersion.
	EIO int

	// Path is the server's Engine.IO endpoint path. Default "/socket.io/";
	// Roanuz uses "/v5/websocket". A trailing slash is added when missing,
	// as the official clients do.
	Path string

	// Query holds extra handshake query parameters, sent with EIO and
	// transport (which Dial sets and which may not appear here). Parameters
	// in the dial URL are sent too. Default none.
	Query url.Values

	// Header holds extra HTTP headers for the WebSocket handshake request.
	// Default none.
	Header http.Header

	// HTTPClient performs the WebSocket handshake. Default
	// http.DefaultClient. A non-zero Timeout bounds the handshake only.
	HTTPClient *http.Client

	// MaxFrameSize is the largest WebSocket message accepted from the
	// server, in bytes; each binary attachment is one message. Default
	// 16 MiB. A larger message ends the connection with ErrTooLarge.
	MaxFrameSize int64

	// MaxAttachments is the most binary attachments one packet may announce.
	// Default 16. More ends the connection with ErrProtocol.
	MaxAttachments int

	// EventBuffer is how many received events each Socket queues for its
	// Events channel. Default 256. When the queue is full the connection
	// ends with ErrSlowConsumer: blocking the read loop instead would stall
	// the heartbeat and lose the connection anyway.
	EventBuffer int

	// Logger receives debug logs (dial, join, heartbeat, close). The zero
	// value logs nothing.
	Logger zerolog.Logger
}

const (
	defaultPath           = "/socket.io/"
	defaultMaxFrameSize   = 16 << 20
	defaultMaxAttachments = 16
	defaultEventBuffer    = 256
)

// withDefaults validates o and returns a copy with defaults filled in.
func (o *Options) withDefaults() (Options, error) {
	var out Options
	if o != nil {
		out = *o
	}
	var errs []error
	switch out.EIO {
	case 0:
		out.EIO = 4
	case 3, 4:
	default:
		errs = append(errs, fmt.Errorf("eio %d: want 3 or 4", out.EIO))
	}
	if out.Path == "" {
		out.Path = defaultPath
	}
	if !strings.HasPrefix(out.Path, "/") {
		errs = append(errs, fmt.Errorf("path %q: want a leading slash", out.Path))
	}
	if !strings.HasSuffix(out.Path, "/") {
		out.Path += "/"
	}
	for _, k := range []string{"EIO", "transport", "sid"} {
		if out.Query.Has(k) {
			errs = append(errs, fmt.Errorf("query %s: set by dial", k))
		}
	}
	switch {
	case out.MaxFrameSize < 0:
		errs = append(errs, fmt.Errorf("max frame size %d: want >= 0", out.MaxFrameSize))
	case out.MaxFrameSize == 0:
		out.MaxFrameSize = defaultMaxFrameSize
	}
	switch {
	case out.MaxAttachments < 0:
		errs = append(errs, fmt.Errorf("max attachments %d: want >= 0", out.MaxAttachments))
	case out.MaxAttachments == 0:
		out.MaxAttachments = defaultMaxAttachments
	}
	switch {
	case out.EventBuffer < 0:
		errs = append(errs, fmt.Errorf("event buffer %d: want >= 0", out.EventBuffer))
	case out.EventBuffer == 0:
		out.EventBuffer = defaultEventBuffer
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("socketio: options: %w", errors.Join(errs...))
	}
	return out, nil
}

// handshakeURL builds the WebSocket URL from the dial URL and options, and
// a form of it safe to log (no query: it may hold credentials).
func handshakeURL(raw string, o Options) (full, safe string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("socketio: dial: parse url: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "ws"
	case "wss", "https":
		u.Scheme = "wss"
	default:
		return "", "", fmt.Errorf("socketio: dial: url scheme %q: want ws, wss, http or https", u.Scheme)
	}
	if u.Host == "" {
		return "", "", errors.New("socketio: dial: url has no host")
	}
	if u.Path != "" && u.Path != "/" {
		return "", "", fmt.Errorf("socketio: dial: url path %q: the engine path goes in Options.Path and the namespace in Join", u.Path)
	}
	q := u.Query()
	for k, vs := range o.Query {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	q.Set("EIO", fmt.Sprint(o.EIO))
	q.Set("transport", "websocket")
	u.Path = o.Path
	u.RawPath = ""
	u.User = nil
	u.Fragment = ""
	u.RawQuery = q.Encode()
	safe = u.Scheme + "://" + u.Host + u.Path
	return u.String(), safe, nil
}
