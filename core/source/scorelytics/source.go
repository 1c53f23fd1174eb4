package scorelytics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/internal/retry"
	"github.com/ballcast/ballcast/internal/secret"
)

// Config configures a Scorelytics source: the `config:` section of a
// `type: scorelytics` source in the pipeline YAML. Zero values mean the
// defaults stated on each field.
type Config struct {
	// Matches are the Scorelytics match IDs to follow (strings, from
	// listMatches). Required. Each is also the ballcast match ID; map it to
	// another with the source's `matches:` (provider ID → ballcast ID).
	Matches []string `yaml:"matches" json:"matches"`

	// Endpoint chooses the WebSocket: "match" (default) opens
	// /v1/ws/match/{id}, one connection per match, so at most
	// max_connections matches; "live" opens one /v1/ws/live connection for
	// every match and drops the frames of matches not listed.
	Endpoint string `yaml:"endpoint" json:"endpoint"`

	// APIKeyEnv names the environment variable holding the API key;
	// default "SCORELYTICS_API_KEY". APIKeyFile instead names a file
	// holding it (surrounding whitespace trimmed); set at most one. The key
	// never appears in the YAML, in errors or in logs.
	APIKeyEnv  string `yaml:"api_key_env" json:"api_key_env"`
	APIKeyFile string `yaml:"api_key_file" json:"api_key_file"`

	// Auth is how the WebSocket handshake carries the key: "header"
	// (X-API-Key, the default, as the docs advise server-side clients) or
	// "query" (?api_key=, the browser form). REST always uses the header.
	Auth string `yaml:"auth" json:"auth"`

	// APIURL is the REST base URL; default "https://api.scorelytics.pro".
	APIURL string `yaml:"api_url" json:"api_url"`
	// WSURL is the WebSocket base URL; default APIURL with https→wss
	// (http→ws).
	WSURL string `yaml:"ws_url" json:"ws_url"`
	// Sport is the REST path segment of the snapshot,
	// GET /v1/{sport}/matches/{id}; default "cricket".
	Sport string `yaml:"sport" json:"sport"`

	// MaxConnections is the provider's cap on concurrent WebSocket
	// connections per API key; default 5 (the default plan). In match mode
	// Validate refuses more matches than this; at run time every source of
	// this process using the key shares the cap, and a connection beyond it
	// waits for a slot (logged).
	MaxConnections int `yaml:"max_connections" json:"max_connections"`

	// BackoffMin and BackoffMax bound the reconnect delay, which doubles per
	// failed attempt (jittered to between half and all of the step).
	// Defaults 1s and 30s; the provider asks for a cap of 30s, so a larger
	// BackoffMax is refused.
	BackoffMin time.Duration `yaml:"backoff_min" json:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max" json:"backoff_max"`

	// ReadTimeout is how long a connection may stay silent (no message and
	// no ping) before it is declared dead and reconnected. Default 75s: the
	// server pings every 30s.
	ReadTimeout time.Duration `yaml:"read_timeout" json:"read_timeout"`

	// HTTPTimeout bounds each snapshot fetch and each WebSocket handshake.
	// Default 10s.
	HTTPTimeout time.Duration `yaml:"http_timeout" json:"http_timeout"`

	// MaxAttempts is how many connection attempts in a row (snapshot, dial,
	// or a connection lost before its first frame) may fail before Run
	// gives up; default 0, never give up. 401 and 404 are never retried.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`
}

// Defaults.
const (
	DefaultAPIKeyEnv      = "SCORELYTICS_API_KEY"
	DefaultAPIURL         = "https://api.scorelytics.pro"
	DefaultSport          = "cricket"
	DefaultMaxConnections = 5
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = 30 * time.Second
	DefaultReadTimeout    = 75 * time.Second
	DefaultHTTPTimeout    = 10 * time.Second
)

// Errors Run returns without retrying.
var (
	// ErrUnauthorized: the API key is missing or invalid (HTTP 401).
	ErrUnauthorized = errors.New("scorelytics: API key rejected (401)")
	// ErrNotFound: the match does not exist (HTTP 404).
	ErrNotFound = errors.New("scorelytics: match not found (404)")
)

// ErrTooManyConnections is wrapped when the server refuses a connection
// for the per-key cap (HTTP 429); it is retried with backoff.
var ErrTooManyConnections = errors.New("scorelytics: too many connections for this API key (429)")

func (c Config) withDefaults() Config {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.Endpoint, "match")
	if c.APIKeyFile == "" {
		def(&c.APIKeyEnv, DefaultAPIKeyEnv)
	}
	def(&c.Auth, "header")
	def(&c.APIURL, DefaultAPIURL)
	c.APIURL = strings.TrimSuffix(c.APIURL, "/")
	if c.WSURL == "" {
		c.WSURL = c.APIURL
		if rest, ok := strings.CutPrefix(c.WSURL, "https://"); ok {
			c.WSURL = "wss://" + rest
		} else if rest, ok := strings.CutPrefix(c.WSURL, "http://"); ok {
			c.WSURL = "ws://" + rest
		}
	}
	c.WSURL = strings.TrimSuffix(c.WSURL, "/")
	def(&c.Sport, DefaultSport)
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	defDur(&c.BackoffMin, DefaultBackoffMin)
	defDur(&c.BackoffMax, DefaultBackoffMax)
	defDur(&c.ReadTimeout, DefaultReadTimeout)
	defDur(&c.HTTPTimeout, DefaultHTTPTimeout)
	return c
}

// Validate reports every problem with the config at once, each prefixed
// with its field name. It does no I/O (New reads the key).
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.APIKeyEnv != "" && c.APIKeyFile != "" {
		bad("api_key_file", "set api_key_env or api_key_file, not both")
	}
	c = c.withDefaults()
	if c.Endpoint != "match" && c.Endpoint != "live" {
		bad("endpoint", "%q: want match or live", c.Endpoint)
	}
	if c.Auth != "header" && c.Auth != "query" {
		bad("auth", "%q: want header or query", c.Auth)
	}
	for _, u := range []struct{ field, v, a, b string }{{"api_url", c.APIURL, "http", "https"}, {"ws_url", c.WSURL, "ws", "wss"}} {
		p, err := url.Parse(u.v)
		switch {
		case err != nil:
			bad(u.field, "%v", err)
		case p.Scheme != u.a && p.Scheme != u.b || p.Host == "":
			bad(u.field, "%q: want %s(s)://host", u.v, u.a)
		}
	}
	if c.Sport == "" || strings.ContainsAny(c.Sport, "/?#") {
		bad("sport", "%q: want a path segment such as cricket", c.Sport)
	}
	if len(c.Matches) == 0 {
		bad("matches", "at least one match ID is required")
	}
	seen := map[string]bool{}
	for i, m := range c.Matches {
		switch {
		case m == "" || strings.ContainsAny(m, "/?# "):
			bad(fmt.Sprintf("matches[%d]", i), "%q: want a Scorelytics match ID (no / ? # or spaces)", m)
		case seen[m]:
			bad(fmt.Sprintf("matches[%d]", i), "%q listed twice", m)
		}
		seen[m] = true
	}
	if c.MaxConnections < 1 {
		bad("max_connections", "%d: want >= 1", c.MaxConnections)
	} else if c.Endpoint == "match" && len(c.Matches) > c.MaxConnections {
		bad("matches", "%d matches need %d connections in endpoint: match mode, over the limit of %d per API key (max_connections); use endpoint: live, which serves every match on one connection",
			len(c.Matches), len(c.Matches), c.MaxConnections)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"backoff_min", c.BackoffMin}, {"backoff_max", c.BackoffMax}, {"read_timeout", c.ReadTimeout}, {"http_timeout", c.HTTPTimeout}} {
		if d.v < 0 {
			bad(d.field, "%v: want > 0", d.v)
		}
	}
	if c.BackoffMax > DefaultBackoffMax {
		bad("backoff_max", "%v: Scorelytics asks clients to cap reconnect backoff at 30s", c.BackoffMax)
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max", "%v below backoff_min %v", c.BackoffMax, c.BackoffMin)
	}
	if c.MaxAttempts < 0 {
		bad("max_attempts", "%d: want >= 0", c.MaxAttempts)
	}
	if len(errs) > 0 {
		return fmt.Errorf("scorelytics: config: %w", errors.Join(errs...))
	}
	return nil
}

// Stats are the source's counters since New.
type Stats struct {
	Snapshots  uint64 // REST snapshots fetched (initial, resync and reconnect)
	Connects   uint64 // WebSocket connections opened
	Frames     uint64 // messages received
	Malformed  uint64 // messages skipped as not parseable
	Unknown    uint64 // messages of a type this client does not know
	Unrouted   uint64 // messages of a match not followed (live mode)
	Resyncs    uint64 // snapshots fetched on a connection because a delta did not follow
	Pings      uint64 // server pings answered
	Timeouts   uint64 // connections closed for silence (read_timeout)
	Events     uint64 // events delivered
	LimitWaits uint64 // connections that waited for a slot under max_connections
}

type counters struct {
	snapshots, connects, frames, malformed, unknown, unrouted, resyncs, pings, timeouts, events, limitWaits atomic.Uint64
}

// Source follows Scorelytics matches: for each connection it fetches the
// REST snapshot of every match it serves, then opens the WebSocket and
// applies each message as a delta on top (Tracker), re-fetching a
// match's snapshot when a delta does not follow from what was applied. On
// close it reconnects with jittered exponential backoff capped at 30s and
// fetches the snapshots again before applying deltas, emitting only what
// had not been emitted. Pings are answered by the WebSocket library while
// the connection is read. It implements ingest.Source.
//
// Concurrency: Run owns its goroutines: in match mode one per match, each
// owning its connection and Tracker; in live mode one in all. Each match's
// events reach out in order. Stats is safe from any goroutine.
type Source struct {
	cfg    Config
	key    string
	log    zerolog.Logger
	client *http.Client
	bo     retry.Backoff
	limit  *limiter
	st     counters
	// last reports the ID of the last event the ingest log holds for a
	// match (ingest.Resumer); nil when not resuming.
	last func(ctx context.Context, match string) (id string, ok bool, err error)
}

// Resume implements ingest.Resumer: after a restart, the events a match's
// first snapshot yields up to and including the last one the ingest log
// holds are not sent again. When the log's last event is not among them
// (another provider's, in a merge), everything is sent and the log and
// the dedup stage drop what they already have.
func (s *Source) Resume(last func(ctx context.Context, match string) (id string, ok bool, err error)) {
	s.last = last
}

// New checks cfg, reads the API key and builds the source. It starts
// nothing.
func New(cfg Config, log zerolog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key, err := secret.Read(cfg.APIKeyEnv, cfg.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("scorelytics: api key: %w", err)
	}
	return &Source{
		cfg: cfg, key: key,
		log:    log.With().Str("provider", "scorelytics").Logger(),
		client: &http.Client{Timeout: cfg.HTTPTimeout},
		bo:     retry.Backoff{Min: cfg.BackoffMin, Max: cfg.BackoffMax},
		limit:  limiterFor(key, cfg.MaxConnections),
	}, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return "scorelytics" }

// Stats returns a snapshot of the counters.
func (s *Source) Stats() Stats {
	return Stats{
		Snapshots: s.st.snapshots.Load(), Connects: s.st.connects.Load(), Frames: s.st.frames.Load(),
		Malformed: s.st.malformed.Load(), Unknown: s.st.unknown.Load(), Unrouted: s.st.unrouted.Load(),
		Resyncs: s.st.resyncs.Load(), Pings: s.st.pings.Load(), Timeouts: s.st.timeouts.Load(),
		Events: s.st.events.Load(), LimitWaits: s.st.limitWaits.Load(),
	}
}

// Run follows every configured match until all have finished (nil), ctx
// ends (ctx.Err()) or the feed fails fatally: the key is rejected
// (ErrUnauthorized), a match does not exist (ErrNotFound), or
// max_attempts attempts in a row failed.
func (s *Source) Run(ctx context.Context, out chan<- event.Event) error {
	if s.cfg.Endpoint == "live" {
		return s.follow(ctx, "/v1/ws/live", s.cfg.Matches, out)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range s.cfg.Matches {
		g.Go(func() error { return s.follow(gctx, "/v1/ws/match/"+url.PathEscape(id), []string{id}, out) })
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// follow serves one connection's matches until they finish.
func (s *Source) follow(ctx context.Context, path string, ids []string, out chan<- event.Event) error {
	trackers := make(map[string]*Tracker, len(ids))
	for _, id := range ids {
		trackers[id] = NewTracker(id)
	}
	log := s.log.With().Str("endpoint", path).Logger()
	failures := 0
	for {
		frames, err := s.session(ctx, path, trackers, out)
		if done(trackers) {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) {
			return err
		}
		if frames > 0 {
			failures = 0
		}
		failures++
		if s.cfg.MaxAttempts > 0 && failures >= s.cfg.MaxAttempts {
			return fmt.Errorf("scorelytics: %s: %d attempts in a row failed, last: %w", path, failures, err)
		}
		d := s.bo.Delay(failures)
		log.Warn().Err(err).Int("attempt", failures).Dur("retry_in", d).Msg("connection lost; reconnecting after a fresh snapshot")
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func done(trackers map[string]*Tracker) bool {
	for _, tr := range trackers {
		if !tr.Finished() {
			return false
		}
	}
	return true
}

// session is one connection: a slot under the per-key cap, the snapshots,
// then the WebSocket, read until it closes. It returns how many messages
// arrived.
func (s *Source) session(ctx context.Context, path string, trackers map[string]*Tracker, out chan<- event.Event) (int, error) {
	if !s.limit.tryAcquire() {
		s.st.limitWaits.Add(1)
		s.log.Warn().Int("max_connections", s.cfg.MaxConnections).Str("endpoint", path).
			Msg("connection limit per API key reached; waiting for a connection of this process to close")
		if err := s.limit.acquire(ctx); err != nil {
			return 0, err
		}
	}
	defer s.limit.release()
	// The snapshot comes after the slot: one taken before a wait would be stale.
	for id, tr := range trackers {
		if tr.Finished() {
			continue
		}
		first := !tr.started
		snap, err := s.snapshot(ctx, id)
		if err != nil {
			return 0, err
		}
		evs := tr.ApplySnapshot(snap)
		if first && s.last != nil {
			evs = s.resume(ctx, id, evs)
		}
		if err := s.send(ctx, out, evs); err != nil {
			return 0, err
		}
	}
	if done(trackers) {
		return 0, nil
	}
	var lastSeen atomic.Int64
	alive := func() { lastSeen.Store(time.Now().UnixNano()) }
	alive()
	conn, err := s.dial(ctx, path, func(context.Context, []byte) bool {
		s.st.pings.Add(1)
		alive()
		return true // the library answers with a pong
	})
	if err != nil {
		return 0, err
	}
	defer conn.CloseNow() //nolint:errcheck // closing
	s.st.connects.Add(1)
	// The watchdog closes a connection silent for read_timeout.
	var timedOut atomic.Bool
	wctx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	defer func() { stopWatch(); <-watchDone }()
	go func() {
		defer close(watchDone)
		t := time.NewTicker(max(s.cfg.ReadTimeout/4, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
				if time.Since(time.Unix(0, lastSeen.Load())) > s.cfg.ReadTimeout {
					timedOut.Store(true)
					s.st.timeouts.Add(1)
					conn.CloseNow() //nolint:errcheck // unblocks Read
					return
				}
			}
		}
	}()
	frames := 0
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			if timedOut.Load() {
				return frames, fmt.Errorf("scorelytics: %s: no message or ping for %v", path, s.cfg.ReadTimeout)
			}
			return frames, fmt.Errorf("scorelytics: read %s: %w", path, s.redact(err))
		}
		alive()
		frames++
		s.st.frames.Add(1)
		f, err := ParseFrame(data)
		if typ != websocket.MessageText {
			err = fmt.Errorf("%w: binary message", ErrMalformed)
		}
		switch {
		case errors.Is(err, ErrUnknownType):
			s.st.unknown.Add(1)
			s.log.Debug().Str("type", f.Type).Str("match", f.MatchID).Msg("message of unknown type skipped")
			continue
		case err != nil:
			s.st.malformed.Add(1)
			s.log.Warn().Err(err).Int("bytes", len(data)).Str("endpoint", path).Msg("malformed message skipped")
			continue
		}
		tr := trackers[f.MatchID]
		if tr == nil {
			s.st.unrouted.Add(1)
			continue
		}
		evs, resync := tr.ApplyFrame(f)
		if err := s.send(ctx, out, evs); err != nil {
			return frames, err
		}
		if resync {
			s.st.resyncs.Add(1)
			snap, err := s.snapshot(ctx, f.MatchID)
			if err != nil {
				return frames, fmt.Errorf("scorelytics: resync: %w", err)
			}
			if err := s.send(ctx, out, tr.ApplySnapshot(snap)); err != nil {
				return frames, err
			}
		}
		if done(trackers) {
			conn.Close(websocket.StatusNormalClosure, "match finished") //nolint:errcheck // finished either way
			return frames, nil
		}
	}
}

// resume drops the events of match up to the last one the log holds.
func (s *Source) resume(ctx context.Context, match string, evs []event.Event) []event.Event {
	id, ok, err := s.last(ctx, match)
	if err != nil {
		s.log.Warn().Err(err).Str("match", match).Msg("resume: last logged event unknown; sending everything")
		return evs
	}
	for i, ev := range evs {
		if ok && ev.ID == id {
			s.log.Info().Str("match", match).Str("after", id).Int("skipped", i+1).Msg("resumed after the last logged event")
			return evs[i+1:]
		}
	}
	return evs
}

func (s *Source) send(ctx context.Context, out chan<- event.Event, evs []event.Event) error {
	for _, ev := range evs {
		select {
		case out <- ev:
			s.st.events.Add(1)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// dial opens the WebSocket at path.
func (s *Source) dial(ctx context.Context, path string, onPing func(context.Context, []byte) bool) (*websocket.Conn, error) {
	u := s.cfg.WSURL + path
	h := http.Header{}
	if s.cfg.Auth == "query" {
		u += "?api_key=" + url.QueryEscape(s.key)
	} else {
		h.Set("X-API-Key", s.key)
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPHeader: h, OnPingReceived: onPing})
	if err != nil {
		if resp != nil {
			if e := statusError(resp.StatusCode); e != nil {
				return nil, fmt.Errorf("scorelytics: connect %s: %w", path, e)
			}
		}
		return nil, fmt.Errorf("scorelytics: connect %s: %w", path, s.redact(err))
	}
	conn.SetReadLimit(MaxFrameBytes)
	return conn, nil
}

// statusError maps the HTTP statuses Scorelytics documents; nil for others.
func statusError(code int) error {
	switch code {
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusTooManyRequests:
		return ErrTooManyConnections
	}
	return nil
}

// snapshot fetches the REST document of match id.
func (s *Source) snapshot(ctx context.Context, id string) (*Snapshot, error) {
	s.st.snapshots.Add(1)
	u := s.cfg.APIURL + "/v1/" + s.cfg.Sport + "/matches/" + url.PathEscape(id)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("scorelytics: snapshot %s: %w", id, err)
	}
	req.Header.Set("X-API-Key", s.key)
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scorelytics: snapshot %s: %w", id, s.redact(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("scorelytics: snapshot %s: %w", id, err)
	}
	if resp.StatusCode != http.StatusOK {
		if e := statusError(resp.StatusCode); e != nil {
			return nil, fmt.Errorf("scorelytics: snapshot %s: %w", id, e)
		}
		return nil, fmt.Errorf("scorelytics: snapshot %s: HTTP %d", id, resp.StatusCode)
	}
	snap, err := ParseSnapshot(body)
	if err != nil {
		return nil, fmt.Errorf("scorelytics: snapshot %s: %w", id, err)
	}
	return snap, nil
}

// redact removes the API key from an error that may quote a URL.
func (s *Source) redact(err error) error { return secret.Redact(err, s.key) }

var (
	_ ingest.Source  = (*Source)(nil)
	_ ingest.Resumer = (*Source)(nil)
)
