package sportrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/internal/retry"
	"github.com/ballcast/ballcast/internal/secret"
)

// Config configures a Sportrix source. It is the `config:` section of a
// `type: sportrix` source in the pipeline YAML. Zero values mean the
// defaults stated on each field.
type Config struct {
	// URL is the stream endpoint, ws:// or wss://. Default
	// "wss://scores.sportrixdata.com/v1/stream". It must not carry the key.
	URL string `yaml:"url" json:"url"`

	// APIKeyEnv names the environment variable holding the API key.
	// Default "SPORTRIX_API_KEY" unless api_key_file is set. The key never
	// appears in the YAML, in errors or in logs.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`

	// APIKeyFile is a file holding the API key (surrounding whitespace is
	// trimmed), e.g. a mounted secret. Exclusive with api_key_env.
	APIKeyFile string `yaml:"api_key_file" json:"api_key_file"`

	// Auth is how the key is presented: "query" (?key=, the documented
	// default for clients without custom headers) or "header" (X-API-Key).
	// Default "query".
	Auth string `yaml:"auth" json:"auth"`

	// Matches are the Sportrix match ids to follow (the integer ids of the
	// REST /matches endpoints). At least one. Their events carry the id as
	// the ballcast match ID; the source's `matches:` mapping renames them.
	Matches []int64 `yaml:"matches" json:"matches"`

	// PingInterval is the server's keepalive ping period. Default 30s, as
	// Sportrix documents it.
	PingInterval time.Duration `yaml:"ping_interval" json:"ping_interval"`

	// ReadTimeout is how long the connection may carry neither a frame nor
	// a ping before it is declared dead and redialled. Default 60s; it must
	// exceed ping_interval (Sportrix: never below 30 s).
	ReadTimeout time.Duration `yaml:"read_timeout" json:"read_timeout"`

	// DialTimeout bounds the WebSocket handshake. Default 15s.
	DialTimeout time.Duration `yaml:"dial_timeout" json:"dial_timeout"`

	// BackoffMin and BackoffMax bound the jittered exponential delay
	// between connection attempts and between re-subscriptions after an
	// error frame. Defaults 1s and 60s.
	BackoffMin time.Duration `yaml:"backoff_min" json:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max" json:"backoff_max"`

	// MaxAttempts is how many connection attempts in a row may fail
	// without delivering a frame before Run gives up. Default 10. An HTTP
	// 401 is never retried.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`

	// MaxFrameBytes caps one frame. Default 8 MiB; a larger frame ends the
	// connection (it is redialled).
	MaxFrameBytes int64 `yaml:"max_frame_bytes" json:"max_frame_bytes"`
}

// Defaults.
const (
	DefaultURL           = "wss://scores.sportrixdata.com/v1/stream"
	DefaultAPIKeyEnv     = "SPORTRIX_API_KEY"
	DefaultPingInterval  = 30 * time.Second
	DefaultReadTimeout   = 60 * time.Second
	DefaultDialTimeout   = 15 * time.Second
	DefaultBackoffMin    = time.Second
	DefaultBackoffMax    = 60 * time.Second
	DefaultMaxAttempts   = 10
	DefaultMaxFrameBytes = 8 << 20
)

// ErrUnauthorized is returned by Run when the server refuses the API key
// (HTTP 401 on the upgrade). It is a configuration error: never retried.
var ErrUnauthorized = errors.New("sportrix: API key refused (HTTP 401): check the key and that it has the live_scores_statistics scope")

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	if c.APIKeyEnv == "" && c.APIKeyFile == "" {
		c.APIKeyEnv = DefaultAPIKeyEnv
	}
	if c.Auth == "" {
		c.Auth = "query"
	}
	for _, d := range []struct {
		p *time.Duration
		v time.Duration
	}{{&c.PingInterval, DefaultPingInterval}, {&c.ReadTimeout, DefaultReadTimeout}, {&c.DialTimeout, DefaultDialTimeout},
		{&c.BackoffMin, DefaultBackoffMin}, {&c.BackoffMax, DefaultBackoffMax}} {
		if *d.p == 0 {
			*d.p = d.v
		}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	c.Matches = append([]int64(nil), c.Matches...)
	return c
}

// Validate reports every problem with the config at once, each prefixed
// with its field name. It does no I/O.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if u, err := url.Parse(c.URL); err != nil {
		bad("url", "%v", err)
	} else {
		if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" {
			bad("url", "%q: want ws(s)://host/path", c.URL)
		}
		if u.Query().Has("key") || u.User != nil {
			bad("url", "holds credentials; put the key in api_key_env or api_key_file")
		}
	}
	if c.APIKeyEnv != "" && c.APIKeyFile != "" {
		bad("api_key_file", "set either api_key_env or api_key_file, not both")
	}
	if c.Auth != "query" && c.Auth != "header" {
		bad("auth", "%q: want query or header", c.Auth)
	}
	if len(c.Matches) == 0 {
		bad("matches", "at least one match id is required")
	}
	seen := map[int64]bool{}
	for i, m := range c.Matches {
		switch {
		case m <= 0:
			bad(fmt.Sprintf("matches[%d]", i), "%d: want a positive match id", m)
		case seen[m]:
			bad(fmt.Sprintf("matches[%d]", i), "%d listed twice", m)
		}
		seen[m] = true
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"ping_interval", c.PingInterval}, {"read_timeout", c.ReadTimeout}, {"dial_timeout", c.DialTimeout},
		{"backoff_min", c.BackoffMin}, {"backoff_max", c.BackoffMax}} {
		if d.v < 0 {
			bad(d.field, "%v: want > 0", d.v)
		}
	}
	if c.ReadTimeout <= c.PingInterval {
		bad("read_timeout", "%v must exceed ping_interval %v, or the connection is dropped between pings", c.ReadTimeout, c.PingInterval)
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max", "%v below backoff_min %v", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxAttempts < 1 {
		bad("max_attempts", "%d: want >= 1", c.MaxAttempts)
	}
	if c.MaxFrameBytes < 0 {
		bad("max_frame_bytes", "%d: want > 0", c.MaxFrameBytes)
	}
	if len(errs) > 0 {
		return fmt.Errorf("sportrix: config: %w", errors.Join(errs...))
	}
	return nil
}

// Stats are the source's counters since New.
type Stats struct {
	Connects     uint64 // WebSocket connections established
	Subscribes   uint64 // subscribe messages sent
	Unsubscribes uint64 // unsubscribe messages sent
	Snapshots    uint64 // snapshot frames received
	Updates      uint64 // update frames received
	Pings        uint64 // server pings received
	ServerErrors uint64 // error frames received
	Malformed    uint64 // frames that could not be parsed or applied
	Unrouted     uint64 // frames for a match id that is not configured
	Gaps         uint64 // legal deliveries known to have happened that could not be recovered
	Events       uint64 // events delivered
	// LastServerError is the latest error frame as "match: error" (match
	// "-" when it could not be attributed), or "".
	LastServerError string
}

type counters struct {
	connects, subscribes, unsubscribes, snapshots, updates, pings, serverErrors,
	malformed, unrouted, gaps, events atomic.Uint64
	lastServerError atomic.Pointer[string]
}

// Source follows Sportrix matches over one WebSocket connection (one per
// API key) and delivers their normalized events; it implements
// ingest.Source.
//
// Behaviour: dial with the key (?key= or X-API-Key); an HTTP 401 ends Run
// with ErrUnauthorized at once. Subscribe every match not yet finished;
// each answers with a snapshot, then updates, routed by data.match_id to
// the match's Tracker, which emits only what changed since the last state
// it emitted — so the fresh snapshot after a reconnect fills what was
// missed and repeats nothing. An error frame is attributed to the match
// it names, else to the oldest subscription still unanswered; it is
// counted and logged, that match is re-subscribed after a backoff delay,
// and the others carry on. A malformed frame is counted and logged and
// changes nothing. A connection that carries neither a frame nor a ping
// for read_timeout is redialled, with jittered exponential backoff
// between attempts. A finished match is unsubscribed; Run returns nil
// once every match has finished.
//
// Concurrency: Run owns every goroutine it starts. One goroutine reads the
// connection, owns the Trackers and sends events to out in order, so a
// slow consumer holds the reader (frames queue in the socket; the server
// may drop the connection, and the resnapshot recovers). Re-subscription
// timers write to the connection concurrently (coder/websocket allows
// it); the pending-subscription queue they share is under a mutex.
type Source struct {
	cfg   Config
	log   zerolog.Logger
	key   string
	st    counters
	rand  func() float64
	order []*match
	byID  map[int64]*match
}

// match is one followed match, owned by the reader goroutine except for
// the atomic done flag.
type match struct {
	id       int64
	name     string
	tr       *Tracker
	gaps     int
	failures int // error frames in a row, for the resubscribe delay
	done     atomic.Bool
}

// New checks cfg, reads the API key (from the environment variable or the
// file cfg names) and builds the source. It starts nothing.
func New(cfg Config, log zerolog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key, err := secret.Read(cfg.APIKeyEnv, cfg.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("sportrix: api key: %w", err)
	}
	s := &Source{cfg: cfg, log: log.With().Str("provider", "sportrix").Logger(), key: key, rand: rand.Float64, byID: map[int64]*match{}}
	for _, id := range cfg.Matches {
		name := strconv.FormatInt(id, 10)
		m := &match{id: id, name: name, tr: NewTracker(name)}
		s.order = append(s.order, m)
		s.byID[id] = m
	}
	return s, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return "sportrix" }

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (s *Source) Stats() Stats {
	st := Stats{
		Connects: s.st.connects.Load(), Subscribes: s.st.subscribes.Load(), Unsubscribes: s.st.unsubscribes.Load(),
		Snapshots: s.st.snapshots.Load(), Updates: s.st.updates.Load(), Pings: s.st.pings.Load(),
		ServerErrors: s.st.serverErrors.Load(), Malformed: s.st.malformed.Load(), Unrouted: s.st.unrouted.Load(),
		Gaps: s.st.gaps.Load(), Events: s.st.events.Load(),
	}
	if p := s.st.lastServerError.Load(); p != nil {
		st.LastServerError = *p
	}
	return st
}

// Run follows every configured match until they have all finished (nil),
// ctx ends (ctx.Err(), after unsubscribing, best effort), the server
// refuses the key (ErrUnauthorized, never retried) or max_attempts
// connection attempts in a row fail. Run may be called once.
func (s *Source) Run(ctx context.Context, out chan<- event.Event) error {
	failures := 0
	for {
		progressed, err := s.session(ctx, out)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrUnauthorized):
			return err
		case s.finished():
			return nil
		}
		if progressed {
			failures = 0
		}
		failures++
		if failures >= s.cfg.MaxAttempts {
			return fmt.Errorf("sportrix: %d connection attempts in a row failed, the last: %w", failures, err)
		}
		d := s.delay(failures)
		s.log.Warn().Err(err).Int("attempt", failures).Dur("retry_in", d).Msg("connection lost, reconnecting")
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Source) finished() bool {
	for _, m := range s.order {
		if !m.done.Load() {
			return false
		}
	}
	return true
}

// delay is the wait before attempt n (1-based).
func (s *Source) delay(n int) time.Duration {
	return retry.Backoff{Min: s.cfg.BackoffMin, Max: s.cfg.BackoffMax, Rand: s.rand}.Delay(n)
}

// dialURL is the endpoint with the key when it goes in the query.
func (s *Source) dialURL() (string, http.Header) {
	if s.cfg.Auth == "header" {
		return s.cfg.URL, http.Header{"X-API-Key": []string{s.key}}
	}
	u, _ := url.Parse(s.cfg.URL) // Validate parsed it
	q := u.Query()
	q.Set("key", s.key)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// redact removes the key from a dial error.
func (s *Source) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = s.cfg.URL
	}
	return secret.Redact(err, s.key)
}

// conn is one connection's write side and its unanswered subscriptions.
type conn struct {
	ws *websocket.Conn

	mu      sync.Mutex
	pending []int64 // subscriptions not yet answered, oldest first
	timers  []*time.Timer
	closed  bool
}

func (c *conn) send(ctx context.Context, ctl Control) error {
	b, _ := json.Marshal(ctl)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.ws.Write(wctx, websocket.MessageText, b)
}

// resolve drops id from the pending queue (its snapshot arrived).
func (c *conn) resolve(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, p := range c.pending {
		if p == id {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return
		}
	}
}

// oldest pops the oldest unanswered subscription, 0 if none.
func (c *conn) oldest() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		return 0
	}
	id := c.pending[0]
	c.pending = c.pending[1:]
	return id
}

func (s *Source) subscribe(ctx context.Context, c *conn, m *match) error {
	c.mu.Lock()
	c.pending = append(c.pending, m.id)
	c.mu.Unlock()
	if err := c.send(ctx, Control{Action: "subscribe", MatchID: m.id}); err != nil {
		return fmt.Errorf("sportrix: subscribe %d: %w", m.id, err)
	}
	s.st.subscribes.Add(1)
	return nil
}

// resubscribeLater subscribes m again after a backoff delay, unless the
// connection has ended by then.
func (s *Source) resubscribeLater(ctx context.Context, c *conn, m *match) {
	m.failures++
	d := s.delay(m.failures)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.timers = append(c.timers, time.AfterFunc(d, func() {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed || m.done.Load() {
			return
		}
		if err := s.subscribe(ctx, c, m); err != nil {
			s.log.Warn().Err(err).Str("match", m.name).Msg("resubscribe failed")
		}
	}))
}

// session runs one connection until it fails, ctx ends or every match has
// finished. progressed reports whether any frame arrived.
func (s *Source) session(ctx context.Context, out chan<- event.Event) (progressed bool, err error) {
	u, hdr := s.dialURL()
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	// Reads are not bound to ctx: coder/websocket closes a connection whose
	// read is cancelled, and shutdown wants to unsubscribe first. The
	// watchdog or the shutdown hook below end them instead.
	sctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var stalled atomic.Bool
	watchdog := time.AfterFunc(s.cfg.DialTimeout+s.cfg.ReadTimeout, func() {
		stalled.Store(true)
		stop()
	})
	defer watchdog.Stop()
	ws, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{
		HTTPHeader: hdr,
		OnPingReceived: func(context.Context, []byte) bool {
			s.st.pings.Add(1)
			watchdog.Reset(s.cfg.ReadTimeout)
			return true
		},
	})
	cancel()
	if resp != nil && resp.StatusCode == http.StatusUnauthorized {
		return false, ErrUnauthorized
	}
	if err != nil {
		return false, fmt.Errorf("sportrix: dial %s: %w", s.cfg.URL, s.redact(err))
	}
	watchdog.Reset(s.cfg.ReadTimeout)
	ws.SetReadLimit(s.cfg.MaxFrameBytes)
	c := &conn{ws: ws}
	shutdown := make(chan struct{})
	stopHook := context.AfterFunc(ctx, func() {
		defer close(shutdown)
		s.unsubscribeAll(c)
		stop()
	})
	defer func() {
		if !stopHook() {
			<-shutdown
		}
		c.mu.Lock()
		c.closed = true
		for _, t := range c.timers {
			t.Stop()
		}
		c.mu.Unlock()
		ws.CloseNow() //nolint:errcheck // already failing or done
	}()
	s.st.connects.Add(1)
	s.log.Info().Str("url", s.cfg.URL).Msg("connected")
	for _, m := range s.order {
		if m.done.Load() {
			continue
		}
		if err := s.subscribe(sctx, c, m); err != nil {
			return false, err
		}
	}
	for {
		typ, b, err := ws.Read(sctx)
		if err != nil {
			if stalled.Load() {
				err = fmt.Errorf("no frame or ping for %v: %w", s.cfg.ReadTimeout, err)
			}
			return progressed, fmt.Errorf("sportrix: read: %w", err)
		}
		watchdog.Reset(s.cfg.ReadTimeout)
		progressed = true
		if typ != websocket.MessageText {
			s.malformed(fmt.Errorf("%w: binary frame of %d bytes", ErrFrame, len(b)), 0)
			continue
		}
		f, err := ParseFrame(b)
		if err != nil {
			s.malformed(err, 0)
			continue
		}
		if f.Op == OpError {
			s.serverError(sctx, c, f)
			continue
		}
		m := s.byID[f.MatchID]
		if m == nil {
			s.st.unrouted.Add(1)
			s.log.Debug().Int64("match_id", f.MatchID).Msg("frame for a match not followed")
			continue
		}
		if f.Op == OpSnapshot {
			s.st.snapshots.Add(1)
			c.resolve(m.id)
			m.failures = 0
		} else {
			s.st.updates.Add(1)
		}
		if err := s.apply(ctx, m, f, out); err != nil {
			return progressed, err
		}
		if m.tr.done && !m.done.Load() {
			m.done.Store(true)
			if err := c.send(sctx, Control{Action: "unsubscribe", MatchID: m.id}); err == nil {
				s.st.unsubscribes.Add(1)
			}
			s.log.Info().Str("match", m.name).Msg("match finished, unsubscribed")
			if s.finished() {
				ws.Close(websocket.StatusNormalClosure, "done") //nolint:errcheck // leaving
				return true, nil
			}
		}
	}
}

// apply feeds f to m's tracker and delivers the events.
func (s *Source) apply(ctx context.Context, m *match, f Frame, out chan<- event.Event) error {
	evs, err := m.tr.Apply(f)
	if err != nil {
		s.malformed(err, m.id)
		return nil
	}
	if g := m.tr.Gaps(); g > m.gaps {
		s.st.gaps.Add(uint64(g - m.gaps))
		s.log.Warn().Str("match", m.name).Int("deliveries", g-m.gaps).Msg("deliveries missed that no snapshot recovers")
		m.gaps = g
	}
	now := time.Now()
	for _, ev := range evs {
		ev.Received = now
		select {
		case out <- ev:
			s.st.events.Add(1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (s *Source) malformed(err error, id int64) {
	s.st.malformed.Add(1)
	l := s.log.Warn().Err(err)
	if id != 0 {
		l = l.Int64("match_id", id)
	}
	l.Msg("frame dropped")
}

// serverError attributes an error frame to a match, counts and logs it,
// and re-subscribes that match later.
func (s *Source) serverError(ctx context.Context, c *conn, f Frame) {
	s.st.serverErrors.Add(1)
	id := f.MatchID
	if id == 0 {
		id = c.oldest()
	} else {
		c.resolve(id)
	}
	m := s.byID[id]
	name := "-"
	if m != nil {
		name = m.name
	}
	msg := name + ": " + f.Error
	s.st.lastServerError.Store(&msg)
	s.log.Warn().Str("match", name).Str("error", f.Error).Msg("server error frame")
	if m != nil && !m.done.Load() {
		s.resubscribeLater(ctx, c, m)
	}
}

// unsubscribeAll tells the server, best effort, that no match is wanted
// any longer, and closes the connection normally.
func (s *Source) unsubscribeAll(c *conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, m := range s.order {
		if m.done.Load() {
			continue
		}
		if err := c.send(ctx, Control{Action: "unsubscribe", MatchID: m.id}); err != nil {
			return
		}
		s.st.unsubscribes.Add(1)
	}
	c.ws.Close(websocket.StatusNormalClosure, "shutting down") //nolint:errcheck // leaving
}
