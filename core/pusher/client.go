package pusher

import (
	"context"
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

	"github.com/ballcast/ballcast/internal/retry"
)

// Protocol is the protocol revision the client speaks.
const Protocol = 7

// ClientName and Version identify the client in the connection URL.
const (
	ClientName = "ballcast-go"
	Version    = "1.0.0"
)

// Options configures a Client. Zero values mean the stated defaults; the
// field names follow pusher-js options, so a provider's pusherOptions map
// onto them one to one.
type Options struct {
	// Key is the app key. Required.
	Key string
	// Cluster picks host ws-{Cluster}.pusher.com when WSHost is empty.
	Cluster string
	// WSHost is the WebSocket host. Default ws-{Cluster}.pusher.com, or
	// ws.pusherapp.com without a cluster.
	WSHost string
	// WSPort and WSSPort are the ports for ws:// and wss://. Defaults 80
	// and 443.
	WSPort, WSSPort int
	// WSPath is a path prefix before /app/{key}. Default none.
	WSPath string
	// Insecure connects with ws:// instead of wss:// (pusher-js forceTLS:
	// false). A server answering 4000 ("use TLS") makes the client switch
	// to wss:// for the next attempt. Default false: wss://.
	Insecure bool
	// Header holds extra headers for the WebSocket handshake. Default none.
	Header http.Header

	// AuthEndpoint is where private- and presence- channels are
	// authorised (pusher-js channelAuthorization.endpoint): a form POST of
	// socket_id and channel_name that answers {"auth": "..."}. Required
	// only to subscribe to such channels.
	AuthEndpoint string
	// AuthHeaders and AuthParams are sent with every auth request
	// (channelAuthorization.headers and .params). Default none.
	AuthHeaders map[string]string
	AuthParams  map[string]string

	// HTTPClient performs the handshake and auth requests. Default a client
	// with a 15 s timeout.
	HTTPClient *http.Client

	// ActivityTimeout is the longest silence before the client pings; the
	// server's activity_timeout applies when shorter. Default 120 s.
	ActivityTimeout time.Duration
	// PongTimeout is how long to wait for any message after a ping before
	// dropping the connection and reconnecting at once. Default 30 s.
	PongTimeout time.Duration
	// HandshakeTimeout bounds dialling plus waiting for
	// pusher:connection_established. Default 15 s.
	HandshakeTimeout time.Duration
	// RetryLaterDelay is the wait before reconnecting after a 4100–4199
	// code. Default 1 s; it doubles while such attempts keep failing.
	RetryLaterDelay time.Duration
	// BackoffMin and BackoffMax bound the jittered exponential wait after
	// a transport failure. Defaults 1 s and 30 s.
	BackoffMin, BackoffMax time.Duration
	// MaxAttempts ends Run with ErrAttempts after this many connection
	// attempts in a row end before pusher:connection_established. Default
	// 0: retry until the context ends.
	MaxAttempts int
	// MaxMessageSize is the largest message accepted, in bytes. Default
	// 1 MiB; a larger one ends the connection (transport failure).
	MaxMessageSize int64

	// Logger receives debug and warning logs. The zero value logs nothing.
	Logger zerolog.Logger
}

func (o Options) withDefaults() Options {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ActivityTimeout, 120*time.Second)
	def(&o.PongTimeout, 30*time.Second)
	def(&o.HandshakeTimeout, 15*time.Second)
	def(&o.RetryLaterDelay, time.Second)
	def(&o.BackoffMin, time.Second)
	def(&o.BackoffMax, 30*time.Second)
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = o.BackoffMin
	}
	if o.WSPort == 0 {
		o.WSPort = 80
	}
	if o.WSSPort == 0 {
		o.WSSPort = 443
	}
	if o.WSHost == "" {
		o.WSHost = "ws.pusherapp.com"
		if o.Cluster != "" {
			o.WSHost = "ws-" + o.Cluster + ".pusher.com"
		}
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 1 << 20
	}
	o.WSPath = strings.TrimSuffix(o.WSPath, "/")
	return o
}

// Stats are a client's counters since New.
type Stats struct {
	Connections        uint64 // pusher:connection_established received
	PingsSent          uint64 // pings after activity_timeout of silence
	PongsReceived      uint64
	PingsAnswered      uint64 // server pings answered with pusher:pong
	PongTimeouts       uint64 // connections dropped for a missing pong
	ServerErrors       uint64 // pusher:error frames received
	Subscriptions      uint64 // subscriptions confirmed (every connection counts)
	SubscriptionErrors uint64 // subscription errors, auth failures included
	// LastCode is the last pusher:error or 4000–4999 close code, 0 if none.
	LastCode int
}

// Client is a Pusher Channels client. Create it with New, name channels
// with Subscribe, and call Run.
type Client struct {
	opts Options
	log  zerolog.Logger

	mu      sync.Mutex // guards subs and socketID; no I/O under it
	subs    map[string]bool
	order   []string // subscription order, for deterministic resubscription
	socket  string
	changed chan struct{} // capacity 1: subs changed

	tls atomic.Bool // switched to wss:// after 4000
	st  struct {
		connections, pingsSent, pongs, pingsAnswered, pongTimeouts, serverErrors, subs, subErrors atomic.Uint64
		lastCode                                                                                  atomic.Int64
	}
}

// New checks opts and returns a client; it connects only in Run.
func New(opts Options) (*Client, error) {
	if opts.Key == "" {
		return nil, errors.New("pusher: options: key is required")
	}
	if strings.ContainsAny(opts.Key, "/?#") {
		return nil, fmt.Errorf("pusher: options: key %q holds / ? or #", opts.Key)
	}
	o := opts.withDefaults()
	return &Client{opts: o, log: o.Logger, subs: map[string]bool{}, changed: make(chan struct{}, 1)}, nil
}

// URL is the WebSocket URL the next connection dials.
func (c *Client) URL() string {
	scheme, port := "wss", c.opts.WSSPort
	if c.opts.Insecure && !c.tls.Load() {
		scheme, port = "ws", c.opts.WSPort
	}
	q := url.Values{}
	q.Set("protocol", strconv.Itoa(Protocol))
	q.Set("client", ClientName)
	q.Set("version", Version)
	q.Set("flash", "false")
	host := c.opts.WSHost
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s://%s:%d%s/app/%s?%s", scheme, host, port, c.opts.WSPath, url.PathEscape(c.opts.Key), q.Encode())
}

// Subscribe adds channel to the set the client keeps subscribed on every
// connection. It returns at once; the handler sees
// pusher:subscription_succeeded or pusher:subscription_error.
func (c *Client) Subscribe(channel string) {
	c.mu.Lock()
	if !c.subs[channel] {
		c.subs[channel] = true
		c.order = append(c.order, channel)
	}
	c.mu.Unlock()
	c.signal()
}

// Unsubscribe removes channel from the set.
func (c *Client) Unsubscribe(channel string) {
	c.mu.Lock()
	if c.subs[channel] {
		delete(c.subs, channel)
		for i, ch := range c.order {
			if ch == channel {
				c.order = append(c.order[:i], c.order[i+1:]...)
				break
			}
		}
	}
	c.mu.Unlock()
	c.signal()
}

func (c *Client) signal() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// SocketID is the current connection's socket ID, "" while disconnected.
func (c *Client) SocketID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socket
}

func (c *Client) setSocketID(id string) {
	c.mu.Lock()
	c.socket = id
	c.mu.Unlock()
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	return Stats{
		Connections: c.st.connections.Load(), PingsSent: c.st.pingsSent.Load(), PongsReceived: c.st.pongs.Load(),
		PingsAnswered: c.st.pingsAnswered.Load(), PongTimeouts: c.st.pongTimeouts.Load(), ServerErrors: c.st.serverErrors.Load(),
		Subscriptions: c.st.subs.Load(), SubscriptionErrors: c.st.subErrors.Load(), LastCode: int(c.st.lastCode.Load()),
	}
}

// outcome is how one connection ended.
type outcome struct {
	established bool
	action      Action
	code        int // protocol code that decided action, 0 if none
	err         error
}

// Run connects and keeps the client connected until ctx ends (it then
// closes the connection and returns ctx.Err()) or the server refuses it
// (ErrRefused wrapping *Error) or MaxAttempts attempts fail in a row
// (ErrAttempts). handle receives every channel event, and these protocol
// events, named as pusher-js names them: pusher:connection_established
// (once per connection; Data holds socket_id and activity_timeout),
// pusher:subscription_succeeded, pusher:subscription_error (also for a
// failed authorisation, with Data {"type":"AuthError","error":...,
// "status":...}), pusher:error (Data {"message":...,"code":...}), and
// pusher:member_added / pusher:member_removed. Run may be called once.
func (c *Client) Run(ctx context.Context, handle func(Event)) error {
	failures := 0
	for {
		out := c.session(ctx, handle)
		c.setSocketID("")
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if out.established {
			failures = 0
		}
		if out.code != 0 {
			c.st.lastCode.Store(int64(out.code))
		}
		var delay time.Duration
		switch out.action {
		case Refuse:
			if out.code == 4000 && c.opts.Insecure && !c.tls.Load() {
				c.tls.Store(true)
				c.log.Warn().Msg("pusher: server wants TLS (4000); reconnecting with wss")
				continue
			}
			return fmt.Errorf("%w: %w", ErrRefused, out.err)
		case RetryNow:
			if !out.established && failures > 0 {
				delay = c.backoff(c.opts.BackoffMin, failures)
			}
		case RetryLater:
			delay = c.backoff(c.opts.RetryLaterDelay, failures)
		default:
			delay = c.backoff(c.opts.BackoffMin, failures)
		}
		if !out.established {
			failures++
			if c.opts.MaxAttempts > 0 && failures >= c.opts.MaxAttempts {
				return fmt.Errorf("%w (%d): %w", ErrAttempts, failures, out.err)
			}
		}
		c.log.Debug().Err(out.err).Int("code", out.code).Str("action", out.action.String()).Dur("retry_in", delay).Msg("pusher: connection ended")
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// backoff is base doubled per earlier failure, capped at BackoffMax (or
// base, if larger), then jittered to between half and all of it.
func (c *Client) backoff(base time.Duration, failures int) time.Duration {
	return retry.Backoff{Min: base, Max: max(c.opts.BackoffMax, base)}.Delay(failures + 1)
}

type readResult struct {
	data []byte
	err  error
}

type authResult struct {
	channel string
	auth    Authorization
	err     error
}

// session runs one connection to its end.
func (c *Client) session(ctx context.Context, handle func(Event)) outcome {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hctx, hcancel := context.WithTimeout(sctx, c.opts.HandshakeTimeout)
	defer hcancel()
	u := c.URL()
	conn, _, err := websocket.Dial(hctx, u, &websocket.DialOptions{HTTPClient: c.opts.HTTPClient, HTTPHeader: c.opts.Header})
	if err != nil {
		return outcome{action: Backoff, err: fmt.Errorf("pusher: dial %s: %w", u, err)}
	}
	defer conn.CloseNow() //nolint:errcheck // already closing
	conn.SetReadLimit(c.opts.MaxMessageSize)

	// Handshake: the first message is connection_established or an error.
	_, b, err := conn.Read(hctx)
	if err != nil {
		return c.closed(err, 0, false)
	}
	f, err := ParseFrame(b)
	if err != nil {
		return outcome{action: Backoff, err: fmt.Errorf("%w: %w", ErrHandshake, err)}
	}
	switch f.Event {
	case "pusher:connection_established":
	case "pusher:error":
		e := parseErrorData(f.Data)
		c.st.serverErrors.Add(1)
		handle(Event{Event: f.Event, Data: f.Decoded()})
		return outcome{action: ActionFor(e.Code), code: e.Code, err: &Error{Code: e.Code, Message: e.Message}}
	default:
		return outcome{action: Backoff, err: fmt.Errorf("%w: first message is %q, want pusher:connection_established", ErrHandshake, f.Event)}
	}
	var est struct {
		SocketID        string `json:"socket_id"`
		ActivityTimeout int    `json:"activity_timeout"`
	}
	if err := json.Unmarshal(f.Decoded(), &est); err != nil || est.SocketID == "" {
		return outcome{action: Backoff, err: fmt.Errorf("%w: connection_established without socket_id: %s", ErrHandshake, truncate(string(f.Data), 200))}
	}
	activity := c.opts.ActivityTimeout
	if est.ActivityTimeout > 0 {
		activity = min(activity, time.Duration(est.ActivityTimeout)*time.Second)
	}
	c.setSocketID(est.SocketID)
	c.st.connections.Add(1)
	c.log.Debug().Str("socket_id", est.SocketID).Dur("activity_timeout", activity).Msg("pusher: connected")
	handle(Event{Event: f.Event, Data: f.Decoded()})

	reads := make(chan readResult)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			_, b, err := conn.Read(sctx)
			select {
			case reads <- readResult{b, err}:
			case <-sctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); <-readerDone }()

	s := &session{c: c, conn: conn, ctx: sctx, socketID: est.SocketID, sent: map[string]bool{}, auths: make(chan authResult), handle: handle}
	if err := s.sync(); err != nil {
		return outcome{established: true, action: Backoff, err: err}
	}
	idle := time.NewTimer(activity)
	defer idle.Stop()
	var pong <-chan time.Time
	var pongTimer *time.Timer
	lastCode := 0
	for {
		select {
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "") //nolint:errcheck // leaving
			return outcome{established: true, err: ctx.Err()}
		case <-c.changed:
			if err := s.sync(); err != nil {
				return outcome{established: true, action: Backoff, err: err}
			}
		case a := <-s.auths:
			if err := s.authorised(a); err != nil {
				return outcome{established: true, action: Backoff, err: err}
			}
		case <-idle.C:
			if err := s.write("pusher:ping", "", struct{}{}); err != nil {
				return outcome{established: true, action: Backoff, err: err}
			}
			c.st.pingsSent.Add(1)
			pongTimer = time.NewTimer(c.opts.PongTimeout)
			pong = pongTimer.C
		case <-pong:
			c.st.pongTimeouts.Add(1)
			c.log.Warn().Dur("pong_timeout", c.opts.PongTimeout).Msg("pusher: no pong; reconnecting")
			return outcome{established: true, action: RetryNow, err: ErrPongTimeout}
		case r := <-reads:
			if r.err != nil {
				return c.closed(r.err, lastCode, true)
			}
			if pongTimer != nil {
				pongTimer.Stop()
				pongTimer, pong = nil, nil
			}
			idle.Reset(activity)
			f, err := ParseFrame(r.data)
			if err != nil {
				c.log.Warn().Err(err).Msg("pusher: frame ignored")
				continue
			}
			// A pusher:error's code decides only if the close follows it
			// directly, as servers do when they refuse or shed a client.
			code, err := s.frame(f)
			if err != nil {
				return outcome{established: true, action: Backoff, err: err}
			}
			lastCode = code
		}
	}
}

// closed turns a read error into an outcome: a 4000–4999 close code
// decides, else the last pusher:error code, else a transport backoff.
func (c *Client) closed(err error, lastCode int, established bool) outcome {
	code := int(websocket.CloseStatus(err))
	if code < 4000 || code > 4999 {
		code = lastCode
	}
	if code >= 4000 && code <= 4999 {
		return outcome{established: established, action: ActionFor(code), code: code, err: &Error{Code: code, Message: closeReason(err)}}
	}
	return outcome{established: established, action: Backoff, err: fmt.Errorf("pusher: connection lost: %w", err)}
}

func closeReason(err error) string {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return ""
}

// session is the state of one live connection, owned by its goroutine.
type session struct {
	c        *Client
	conn     *websocket.Conn
	ctx      context.Context
	socketID string
	sent     map[string]bool // channels subscribed (or being authorised) on this connection
	auths    chan authResult
	handle   func(Event)
}

func (s *session) write(event, channel string, data any) error {
	b, err := encodeFrame(event, channel, data)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(s.ctx, s.c.opts.HandshakeTimeout)
	defer cancel()
	if err := s.conn.Write(wctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("pusher: write %s: %w", event, err)
	}
	return nil
}

// sync brings the connection's subscriptions in line with the client's set.
func (s *session) sync() error {
	s.c.mu.Lock()
	want := append([]string(nil), s.c.order...)
	s.c.mu.Unlock()
	wanted := make(map[string]bool, len(want))
	for _, ch := range want {
		wanted[ch] = true
		if s.sent[ch] {
			continue
		}
		s.sent[ch] = true
		if !needsAuth(ch) {
			if err := s.write("pusher:subscribe", "", map[string]string{"channel": ch}); err != nil {
				return err
			}
			continue
		}
		go func() {
			a, err := s.c.authorize(s.ctx, s.socketID, ch)
			select {
			case s.auths <- authResult{channel: ch, auth: a, err: err}:
			case <-s.ctx.Done():
			}
		}()
	}
	for ch := range s.sent {
		if !wanted[ch] {
			delete(s.sent, ch)
			if err := s.write("pusher:unsubscribe", "", map[string]string{"channel": ch}); err != nil {
				return err
			}
		}
	}
	return nil
}

// authorised sends the subscription an auth answer allows, or reports the
// failure to the handler as pusher:subscription_error.
func (s *session) authorised(a authResult) error {
	if !s.sent[a.channel] {
		return nil // unsubscribed meanwhile
	}
	if a.err != nil {
		s.c.st.subErrors.Add(1)
		status := 0
		var ae *AuthError
		if errors.As(a.err, &ae) {
			status = ae.Status
		}
		data, _ := json.Marshal(map[string]any{"type": "AuthError", "error": a.err.Error(), "status": status})
		s.c.log.Warn().Err(a.err).Str("channel", a.channel).Msg("pusher: authorisation failed")
		s.handle(Event{Event: "pusher:subscription_error", Channel: a.channel, Data: data})
		return nil
	}
	msg := map[string]string{"channel": a.channel, "auth": a.auth.Auth}
	if a.auth.ChannelData != "" {
		msg["channel_data"] = a.auth.ChannelData
	}
	return s.write("pusher:subscribe", "", msg)
}

// frame handles one message after the handshake; it returns the code of a
// pusher:error.
func (s *session) frame(f Frame) (int, error) {
	switch f.Event {
	case "pusher:ping":
		if err := s.write("pusher:pong", "", struct{}{}); err != nil {
			return 0, err
		}
		s.c.st.pingsAnswered.Add(1)
	case "pusher:pong":
		s.c.st.pongs.Add(1)
	case "pusher:error":
		e := parseErrorData(f.Data)
		s.c.st.serverErrors.Add(1)
		s.c.log.Warn().Int("code", e.Code).Str("error_message", e.Message).Msg("pusher: server error")
		s.handle(Event{Event: f.Event, Data: f.Decoded()})
		return e.Code, nil
	case "pusher_internal:subscription_succeeded":
		s.c.st.subs.Add(1)
		s.handle(Event{Event: "pusher:subscription_succeeded", Channel: f.Channel, Data: f.Decoded()})
	case "pusher:subscription_error":
		s.c.st.subErrors.Add(1)
		s.handle(Event{Event: f.Event, Channel: f.Channel, Data: f.Decoded()})
	case "pusher_internal:member_added", "pusher_internal:member_removed":
		s.handle(Event{Event: "pusher:" + strings.TrimPrefix(f.Event, "pusher_internal:"), Channel: f.Channel, Data: f.Decoded()})
	default:
		s.handle(Event{Event: f.Event, Channel: f.Channel, Data: f.Decoded(), UserID: f.UserID})
	}
	return 0, nil
}
