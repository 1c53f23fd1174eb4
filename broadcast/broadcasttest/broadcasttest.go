// Package broadcasttest is a client for tests of the broadcast protocol:
// Dial a WebSocket (or DialSSE an event stream), Subscribe, and read
// decoded frames with Next, always under a deadline.
package broadcasttest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ballcast/ballcast/broadcast"
)

// DefaultTimeout bounds Next and Read when the context has no deadline.
const DefaultTimeout = 10 * time.Second

// Fresh is the since value for Subscribe that asks for a snapshot rather than a
// resume.
const Fresh int64 = -1

// Frame is any server frame, decoded. Op says which fields are set.
type Frame struct {
	Op    string `json:"op"`
	Match string `json:"match"`
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`

	// op "event"
	IngestSeq uint64              `json:"ingest_seq"`
	ID        string              `json:"id"`
	Kind      string              `json:"kind"`
	Time      time.Time           `json:"time"`
	Source    string              `json:"source"`
	Data      broadcast.EventData `json:"data"`

	// op "snapshot"
	State      string                     `json:"state"`
	Result     string                     `json:"result"`
	Info       *broadcast.Info            `json:"info"`
	Scorecard  *broadcast.Scorecard       `json:"scorecard"`
	Commentary []broadcast.CommentaryLine `json:"commentary"`

	// op "resumed" and "reset"
	Since uint64 `json:"since"`
	// op "reset"
	Reason string `json:"reason"`

	// op "error"
	Code    string `json:"code"`
	Message string `json:"message"`

	// op "delta" (with ID and Match)
	Text string `json:"text"`

	// Raw is the frame as received.
	Raw []byte `json:"-"`
}

// DialOptions tunes Dial. The zero value (or nil) is fine.
type DialOptions struct {
	// HTTPClient dials the connection; default http.DefaultClient.
	HTTPClient *http.Client
	// ReadBuffer, when positive, sets the socket's kernel receive buffer in
	// bytes, so that a client that stops reading backs up the server
	// quickly (slow-consumer tests).
	ReadBuffer int
	// Origin, when set, is sent as the Origin header.
	Origin string
	// Header holds more request headers (e.g. Authorization).
	Header http.Header
}

// Client is one test connection. Its methods must be called from the test
// goroutine, except Read, which may be called from any one goroutine.
type Client struct {
	t    testing.TB
	conn *websocket.Conn
}

// Dial connects to url (ws://, wss://, http:// or https://, including the
// path, e.g. srv.URL+"/v1/ws") and closes the connection at cleanup. It
// fails the test if the connection cannot be made.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	return DialWith(t, url, nil)
}

// DialWith is Dial with options; opts may be nil.
func DialWith(t testing.TB, url string, opts *DialOptions) *Client {
	t.Helper()
	if opts == nil {
		opts = &DialOptions{}
	}
	hc := opts.HTTPClient
	if opts.ReadBuffer > 0 {
		hc = SmallBufferClient(t, hc, opts.ReadBuffer)
	}
	dopts := &websocket.DialOptions{HTTPClient: hc, CompressionMode: websocket.CompressionDisabled, HTTPHeader: opts.Header.Clone()}
	if opts.Origin != "" {
		if dopts.HTTPHeader == nil {
			dopts.HTTPHeader = http.Header{}
		}
		dopts.HTTPHeader.Set("Origin", opts.Origin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), DefaultTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, url, dopts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("broadcasttest: dial %s: %v", url, err)
	}
	conn.SetReadLimit(64 << 20) // snapshots and replays can be large
	c := &Client{t: t, conn: conn}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return c
}

// SmallBufferClient returns a copy of hc (nil: http.DefaultClient) whose
// connections have a kernel receive buffer of size bytes, so that a client
// that stops reading backs up the server quickly (slow-consumer tests).
func SmallBufferClient(t testing.TB, hc *http.Client, size int) *http.Client {
	t.Helper()
	var base http.RoundTripper = http.DefaultTransport
	if hc != nil && hc.Transport != nil {
		base = hc.Transport
	}
	tr, ok := base.(*http.Transport)
	if !ok {
		t.Fatalf("broadcasttest: a small read buffer needs an *http.Transport, got %T", base)
	}
	tr = tr.Clone()
	d := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = setRcvBuf(fd, size) })
		return errors.Join(err, serr)
	}}
	tr.DialContext = d.DialContext
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// Conn is the underlying connection.
func (c *Client) Conn() *websocket.Conn { return c.conn }

// Subscribe asks for a match: a snapshot when since is Fresh (negative),
// otherwise a resume after since.
func (c *Client) Subscribe(match string, since int64) {
	c.t.Helper()
	req := broadcast.Request{Action: broadcast.ActionSubscribe, Match: match}
	if since >= 0 {
		s := uint64(since)
		req.Since = &s
	}
	c.Send(req)
}

// Resume asks for the events of match after since in epoch (which may be
// empty, to resume on since alone).
func (c *Client) Resume(match string, since uint64, epoch string) {
	c.t.Helper()
	c.Send(broadcast.Request{Action: broadcast.ActionSubscribe, Match: match, Since: &since, Epoch: epoch})
}

// Unsubscribe stops following a match.
func (c *Client) Unsubscribe(match string) {
	c.t.Helper()
	c.Send(broadcast.Request{Action: broadcast.ActionUnsubscribe, Match: match})
}

// Send writes v as a JSON text frame.
func (c *Client) Send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatalf("broadcasttest: encode %T: %v", v, err)
	}
	c.SendRaw(websocket.MessageText, b)
}

// SendRaw writes one frame as is.
func (c *Client) SendRaw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), DefaultTimeout)
	defer cancel()
	if err := c.conn.Write(ctx, typ, b); err != nil {
		c.t.Fatalf("broadcasttest: send: %v", err)
	}
}

// Next returns the next frame, failing the test on error or when ctx (or,
// without a deadline, DefaultTimeout) expires. On expiry the connection is
// closed, as coder/websocket does for any cancelled read.
func (c *Client) Next(ctx context.Context) Frame {
	c.t.Helper()
	f, err := c.Read(ctx)
	if err != nil {
		c.t.Fatalf("broadcasttest: next frame: %v", err)
	}
	return f
}

// NextOp returns the next frame and fails the test unless its op is op.
func (c *Client) NextOp(ctx context.Context, op string) Frame {
	c.t.Helper()
	f := c.Next(ctx)
	if f.Op != op {
		c.t.Fatalf("broadcasttest: got op %q (%s), want %q", f.Op, truncate(f.Raw), op)
	}
	return f
}

// NextEvents reads the events of match with seq from..to (inclusive) and
// fails the test unless they are exactly those, in order, with nothing in
// between. It shares one deadline: ctx's, or DefaultTimeout if it has none.
func (c *Client) NextEvents(ctx context.Context, match string, from, to uint64) []Frame {
	c.t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	out := make([]Frame, 0, to-from+1)
	for want := from; want <= to; want++ {
		f, err := c.Read(ctx)
		if err != nil {
			c.t.Fatalf("broadcasttest: reading %s seq %d: %v", match, want, err)
		}
		if f.Op != broadcast.OpEvent || f.Match != match || f.Seq != want {
			c.t.Fatalf("broadcasttest: got op=%s match=%s seq=%d, want op=event match=%s seq=%d (%s)", f.Op, f.Match, f.Seq, match, want, truncate(f.Raw))
		}
		out = append(out, f)
	}
	return out
}

// Read is Next returning the error instead of failing the test. A close
// frame from the server comes back as an error; see websocket.CloseStatus.
func (c *Client) Read(ctx context.Context) (Frame, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	typ, b, err := c.conn.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	if typ != websocket.MessageText {
		return Frame{Raw: b}, errors.New("broadcasttest: binary frame")
	}
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{Raw: b}, err
	}
	f.Raw = b
	return f, nil
}

// CloseStatus reads and discards frames until the server closes the
// connection, and returns the close code (-1 for a close without one, or
// on any other error). It fails the test if ctx (or DefaultTimeout) expires
// first.
func (c *Client) CloseStatus(ctx context.Context) websocket.StatusCode {
	c.t.Helper()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	for {
		_, _, err := c.conn.Read(ctx)
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			c.t.Fatalf("broadcasttest: waiting for close: %v", err)
		}
		return websocket.CloseStatus(err)
	}
}

// Close closes the connection normally and waits for the server's answer.
func (c *Client) Close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
}

// NextReset reads a reset frame and the snapshot that must follow it, and
// fails the test unless the reset is about match, for reason, and the
// snapshot matches it. It returns the snapshot.
func (c *Client) NextReset(ctx context.Context, match, reason string) Frame {
	c.t.Helper()
	r := c.NextOp(ctx, broadcast.OpReset)
	s := c.NextOp(ctx, broadcast.OpSnapshot)
	checkReset(c.t, r, s, match, reason)
	return s
}

func checkReset(t testing.TB, r, s Frame, match, reason string) {
	t.Helper()
	if r.Match != match || r.Reason != reason || r.Epoch == "" {
		t.Fatalf("broadcasttest: got reset match=%q reason=%q epoch=%q, want %q %q and an epoch", r.Match, r.Reason, r.Epoch, match, reason)
	}
	if s.Match != match || s.Seq != r.Seq || s.Epoch != r.Epoch {
		t.Fatalf("broadcasttest: got snapshot match=%q seq=%d epoch=%q after reset seq=%d epoch=%q, want the same match, seq and epoch", s.Match, s.Seq, s.Epoch, r.Seq, r.Epoch)
	}
}

// URL turns an httptest server URL into the WebSocket endpoint URL.
func URL(serverURL string) string {
	return strings.TrimSuffix(serverURL, "/") + "/v1/ws"
}

func truncate(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}
