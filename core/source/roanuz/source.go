package roanuz

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/internal/retry"
	"github.com/ballcast/ballcast/internal/secret"
)

// Config configures a Roanuz source. It is the `config:` section of a
// `type: roanuz` source in the pipeline YAML. Zero values mean the defaults
// stated on each field.
type Config struct {
	// ProjectKey is the Roanuz project key (console.sports.roanuz.com).
	// Required. It appears in every REST path.
	ProjectKey string `yaml:"project_key" json:"project_key"`

	// APIKeyEnv names the environment variable that holds the API key.
	// Default "ROANUZ_API_KEY". New fails when it is unset or empty. The key
	// itself never appears in the YAML, in errors or in logs.
	APIKeyEnv string `yaml:"api_key_env" json:"api_key_env"`
	// APIKeyFile, when set, names a file holding the API key instead (a
	// mounted secret); surrounding white space is ignored.
	APIKeyFile string `yaml:"api_key_file" json:"api_key_file"`

	// APIURL is the REST base URL. Default "https://api.sports.roanuz.com".
	APIURL string `yaml:"api_url" json:"api_url"`

	// SocketURL is the Socket.IO server, scheme and host only. Default
	// "http://socket.sports.roanuz.com" (Roanuz documents plain HTTP).
	SocketURL string `yaml:"socket_url" json:"socket_url"`

	// SocketPath is the Engine.IO path. Default "/v5/websocket".
	SocketPath string `yaml:"socket_path" json:"socket_path"`

	// Namespace is the Socket.IO namespace. Default "/cricket".
	Namespace string `yaml:"namespace" json:"namespace"`

	// EIO is the Engine.IO revision to try first: 4 (Socket.IO v3/v4
	// servers) or 3 (Socket.IO v2). When the server turns out to speak the
	// other revision (socketio.ErrProtocolVersion), the source logs it and
	// switches for the next attempt, so a wrong setting costs one attempt.
	// Default 4.
	EIO int `yaml:"eio" json:"eio"`

	// Matches are the matches to follow. At least one is required.
	Matches []MatchConfig `yaml:"matches" json:"matches"`

	// MaxConnections is the project's WebSocket cap (Roanuz: 20 per
	// project). Default 20. This source opens one connection and carries
	// every match on it; because Roanuz does not say whether the cap counts
	// sockets or matches, Validate also refuses more matches than this.
	MaxConnections int `yaml:"max_connections" json:"max_connections"`

	// Heartbeat is how often the connection is checked, in Go duration
	// syntax. Default 30s. Each check re-sends connect_to_match to matches
	// that were quiet for a whole period, as a probe the server answers
	// with on_match_joined.
	Heartbeat time.Duration `yaml:"heartbeat" json:"heartbeat"`

	// StaleAfter is how long the socket may stay silent (no event of any
	// kind, probes included) before it is declared stale and reconnected,
	// followed by a resynchronisation from REST. Default 2m.
	StaleAfter time.Duration `yaml:"stale_after" json:"stale_after"`

	// JoinTimeout is how long to wait for on_match_joined after
	// connect_to_match before subscribing and emitting again; after three
	// misses in a row the connection is restarted. Default 10s.
	JoinTimeout time.Duration `yaml:"join_timeout" json:"join_timeout"`

	// BackoffMin and BackoffMax bound the exponential reconnect delay,
	// which doubles per failed attempt and is jittered to between half and
	// all of the step. Defaults 1s and 60s.
	BackoffMin time.Duration `yaml:"backoff_min" json:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max" json:"backoff_max"`

	// MaxAttempts is how many connection attempts in a row may fail (auth,
	// subscribe, dial, namespace join, or a connection lost before any
	// match was joined) before Run gives up with an error naming them.
	// Default 10. The count restarts once a match is joined.
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts"`

	// MaxUpdateBytes caps an update or REST response, raw and
	// decompressed. Default 32 MiB. A larger update is dropped and counted
	// as malformed.
	MaxUpdateBytes int64 `yaml:"max_update_bytes" json:"max_update_bytes"`

	// HTTPTimeout bounds each REST call, the socket dial and namespace
	// join, and the unsubscribe calls at shutdown together. Default 15s.
	HTTPTimeout time.Duration `yaml:"http_timeout" json:"http_timeout"`
}

// MatchConfig names one match to follow.
type MatchConfig struct {
	// Key is the Roanuz match key, e.g. "a-rz--cricket--bcci--iplt20--2025-3utN". Required.
	Key string `yaml:"key" json:"key"`
	// ID is the ballcast match ID its events carry. Default: Key.
	ID string `yaml:"id" json:"id"`
}

// Defaults.
const (
	DefaultAPIKeyEnv      = "ROANUZ_API_KEY"
	DefaultAPIURL         = "https://api.sports.roanuz.com"
	DefaultSocketURL      = "http://socket.sports.roanuz.com"
	DefaultSocketPath     = "/v5/websocket"
	DefaultNamespace      = "/cricket"
	DefaultMaxConnections = 20
	DefaultHeartbeat      = 30 * time.Second
	DefaultStaleAfter     = 2 * time.Minute
	DefaultJoinTimeout    = 10 * time.Second
	DefaultBackoffMin     = time.Second
	DefaultBackoffMax     = 60 * time.Second
	DefaultMaxAttempts    = 10
	DefaultHTTPTimeout    = 15 * time.Second
)

// withDefaults returns c with zero fields set to their defaults.
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
	def(&c.APIKeyEnv, DefaultAPIKeyEnv)
	def(&c.APIURL, DefaultAPIURL)
	def(&c.SocketURL, DefaultSocketURL)
	def(&c.SocketPath, DefaultSocketPath)
	def(&c.Namespace, DefaultNamespace)
	if c.EIO == 0 {
		c.EIO = 4
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	defDur(&c.Heartbeat, DefaultHeartbeat)
	defDur(&c.StaleAfter, DefaultStaleAfter)
	defDur(&c.JoinTimeout, DefaultJoinTimeout)
	defDur(&c.BackoffMin, DefaultBackoffMin)
	defDur(&c.BackoffMax, DefaultBackoffMax)
	defDur(&c.HTTPTimeout, DefaultHTTPTimeout)
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxUpdateBytes == 0 {
		c.MaxUpdateBytes = DefaultMaxSize
	}
	c.APIURL = strings.TrimSuffix(c.APIURL, "/")
	c.Matches = append([]MatchConfig(nil), c.Matches...)
	for i := range c.Matches {
		def(&c.Matches[i].ID, c.Matches[i].Key)
	}
	return c
}

// Validate reports every problem with the config at once, each prefixed
// with its field name. It does no I/O (the API key variable is read by New).
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{field}, args...)...))
	}
	if c.ProjectKey == "" {
		bad("project_key", "required")
	} else if strings.ContainsAny(c.ProjectKey, "/?#") {
		bad("project_key", "%q holds / ? or #", c.ProjectKey)
	}
	for _, u := range []struct{ field, v string }{{"api_url", c.APIURL}, {"socket_url", c.SocketURL}} {
		p, err := url.Parse(u.v)
		switch {
		case err != nil:
			bad(u.field, "%v", err)
		case p.Scheme != "http" && p.Scheme != "https" || p.Host == "":
			bad(u.field, "%q: want http(s)://host", u.v)
		}
	}
	if !strings.HasPrefix(c.SocketPath, "/") {
		bad("socket_path", "%q: want a leading /", c.SocketPath)
	}
	if !strings.HasPrefix(c.Namespace, "/") || strings.ContainsAny(c.Namespace, ",?#") {
		bad("namespace", "%q: want a leading / and no , ? or #", c.Namespace)
	}
	if c.EIO != 3 && c.EIO != 4 {
		bad("eio", "%d: want 3 or 4", c.EIO)
	}
	if len(c.Matches) == 0 {
		bad("matches", "at least one match is required")
	}
	keys, ids := map[string]bool{}, map[string]bool{}
	for i, m := range c.Matches {
		f := fmt.Sprintf("matches[%d]", i)
		switch {
		case m.Key == "":
			bad(f+".key", "required")
		case strings.ContainsAny(m.Key, "/?#"):
			bad(f+".key", "%q holds / ? or #", m.Key)
		case keys[m.Key]:
			bad(f+".key", "%q listed twice", m.Key)
		}
		if ids[m.ID] && m.ID != "" {
			bad(f+".id", "%q used twice", m.ID)
		}
		keys[m.Key], ids[m.ID] = true, true
	}
	if c.MaxConnections < 1 {
		bad("max_connections", "%d: want >= 1", c.MaxConnections)
	} else if len(c.Matches) > c.MaxConnections {
		bad("matches", "%d matches over the max_connections cap of %d", len(c.Matches), c.MaxConnections)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"heartbeat", c.Heartbeat}, {"stale_after", c.StaleAfter}, {"join_timeout", c.JoinTimeout},
		{"backoff_min", c.BackoffMin}, {"backoff_max", c.BackoffMax}, {"http_timeout", c.HTTPTimeout}} {
		if d.v < 0 {
			bad(d.field, "%v: want > 0", d.v)
		}
	}
	if c.BackoffMax < c.BackoffMin {
		bad("backoff_max", "%v below backoff_min %v", c.BackoffMax, c.BackoffMin)
	}
	if c.StaleAfter < c.Heartbeat {
		bad("stale_after", "%v below heartbeat %v: staleness is checked on heartbeats", c.StaleAfter, c.Heartbeat)
	}
	if c.MaxAttempts < 1 {
		bad("max_attempts", "%d: want >= 1", c.MaxAttempts)
	}
	if c.MaxUpdateBytes < 0 {
		bad("max_update_bytes", "%d: want > 0", c.MaxUpdateBytes)
	}
	if len(errs) > 0 {
		return fmt.Errorf("roanuz: config: %w", errors.Join(errs...))
	}
	return nil
}

// Stats are the source's counters since New.
type Stats struct {
	Connects       uint64 // Socket.IO connections established (namespace joined)
	Joins          uint64 // on_match_joined confirmations that (re)joined a match
	Updates        uint64 // on_match_update payloads received
	Malformed      uint64 // updates or documents that could not be decoded or normalized
	Unrouted       uint64 // updates for a match key that is not configured
	Coalesced      uint64 // updates superseded by a newer one before their match's worker took them
	Resyncs        uint64 // REST match fetches after a (re)join
	ResyncFailures uint64 // of those, the ones that failed
	Gaps           uint64 // documents after which balls were still missing
	Events         uint64 // events delivered
	TokenRefreshes uint64 // tokens obtained after the first
	ServerErrors   uint64 // on_error events
	Resubscribes   uint64 // re-subscriptions prompted by on_error
	EIOSwitches    uint64 // Engine.IO revision changes after a version mismatch
	// LastServerError is the latest on_error as "match: message", or "".
	LastServerError string
}

type counters struct {
	connects, joins, updates, malformed, unrouted, coalesced, resyncs, resyncFailures,
	gaps, events, serverErrors, resubscribes, eioSwitches atomic.Uint64
	lastServerError atomic.Pointer[string]
}

// Source follows Roanuz matches over one Socket.IO connection and delivers
// their normalized events; it implements ingest.Source.
//
// Behaviour (the RoanuzWebSocketManager's, corrected by PROVIDERS.md §1):
// authenticate (rs-token, refreshed before it expires); per match, REST
// subscribe, then connect_to_match {token, match_key} on the one shared
// connection and wait for on_match_joined; after every (re)join fetch the
// match document once over REST so nothing pushed while away is lost; feed
// every document, pushed or fetched, to the match's Normalizer, which
// backfills gaps from the ball-by-ball endpoint and drops what it already
// emitted. On every token change connect_to_match is sent again for every
// match. A lost, stale or unjoinable connection is redialled with jittered
// exponential backoff; max_attempts failures in a row end Run. At shutdown
// every match is unsubscribed, best effort, within http_timeout.
//
// Concurrency: Run owns every goroutine it starts and waits for them. One
// goroutine (the manager) owns the connection and all per-connection
// state: it reads socket events, decodes and routes updates, and runs the
// heartbeat, join deadlines and token timer; its REST calls (subscribe)
// block it for at most http_timeout while the socket buffers events. Each
// match has a worker goroutine owning its Normalizer; it receives
// documents through a one-slot mailbox (a newer document replaces an
// unread one, since documents are full state) and performs the REST resync
// and backfill, so a slow backfill delays that match only. Events of a
// match are sent to out in order by its worker. Stats is safe to call
// from any goroutine.
type Source struct {
	cfg  Config
	log  zerolog.Logger
	auth *auth
	rest *rest
	bo   retry.Backoff
	st   counters
	// eio is the Engine.IO revision of the next dial; owned by the manage
	// goroutine, it starts at cfg.EIO and flips on a version mismatch.
	eio int
	// workers by Roanuz match key; the map is fixed after New.
	workers map[string]*worker
	order   []*worker
}

// New checks cfg, reads the API key from the file or the environment
// variable it names, and builds the source. It starts nothing.
func New(cfg Config, log zerolog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key, err := secret.Read(cfg.APIKeyEnv, cfg.APIKeyFile)
	if err != nil {
		return nil, fmt.Errorf("roanuz: api key: %w", err)
	}
	client := &http.Client{Timeout: cfg.HTTPTimeout}
	s := &Source{
		cfg:     cfg,
		log:     log.With().Str("provider", "roanuz").Logger(),
		auth:    newAuth(cfg.APIURL, cfg.ProjectKey, key, client),
		bo:      retry.Backoff{Min: cfg.BackoffMin, Max: cfg.BackoffMax},
		workers: map[string]*worker{},
		eio:     cfg.EIO,
	}
	s.rest = &rest{base: cfg.APIURL + "/v5/cricket/" + cfg.ProjectKey + "/", client: client, auth: s.auth, maxBytes: cfg.MaxUpdateBytes}
	for _, m := range cfg.Matches {
		w := &worker{key: m.Key, id: m.ID, wake: make(chan struct{}, 1)}
		w.norm = NewNormalizer(m.ID, s.rest)
		s.workers[m.Key] = w
		s.order = append(s.order, w)
	}
	return s, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return "roanuz" }

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (s *Source) Stats() Stats {
	st := Stats{
		Connects: s.st.connects.Load(), Joins: s.st.joins.Load(), Updates: s.st.updates.Load(),
		Malformed: s.st.malformed.Load(), Unrouted: s.st.unrouted.Load(), Coalesced: s.st.coalesced.Load(),
		Resyncs: s.st.resyncs.Load(), ResyncFailures: s.st.resyncFailures.Load(), Gaps: s.st.gaps.Load(),
		Events: s.st.events.Load(), TokenRefreshes: s.auth.refreshes.Load(), ServerErrors: s.st.serverErrors.Load(),
		Resubscribes: s.st.resubscribes.Load(), EIOSwitches: s.st.eioSwitches.Load(),
	}
	if p := s.st.lastServerError.Load(); p != nil {
		st.LastServerError = *p
	}
	return st
}

// Run follows every configured match until ctx ends (it then unsubscribes,
// best effort within http_timeout, and returns ctx.Err()) or the feed fails
// fatally: the auth endpoint rejects the keys (ErrAuthRejected, never
// retried) or max_attempts connection attempts in a row fail. Run may be
// called once.
func (s *Source) Run(ctx context.Context, out chan<- event.Event) error {
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, w := range s.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(wctx, w, out)
		}()
	}
	err := s.manage(ctx)
	stopWorkers()
	wg.Wait()
	s.unsubscribeAll(ctx)
	return err
}

// unsubscribeAll ends push for every match, best effort, bounded by http_timeout.
func (s *Source) unsubscribeAll(ctx context.Context) {
	if s.auth.current() == "" {
		return // never authenticated, so never subscribed
	}
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.HTTPTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range s.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.rest.unsubscribe(uctx, w.key); err != nil {
				s.log.Warn().Err(err).Str("match", w.id).Msg("unsubscribe failed")
			}
		}()
	}
	wg.Wait()
}

// worker owns one match's Normalizer. The manager hands it documents
// through a one-slot mailbox (a newer document replaces an unread one:
// documents are full state, and the Normalizer backfills what a skipped
// document would have shown), so the socket reader never waits on it.
type worker struct {
	key, id string
	norm    *Normalizer
	wake    chan struct{} // capacity 1

	mu     sync.Mutex // guards the mailbox; no I/O under it
	latest *Match
	resync bool
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// push leaves m in the mailbox and reports whether it replaced an unread one.
func (w *worker) push(m *Match) (replaced bool) {
	w.mu.Lock()
	replaced = w.latest != nil
	w.latest = m
	w.mu.Unlock()
	w.signal()
	return replaced
}

// requestResync asks the worker to fetch the match document from REST.
func (w *worker) requestResync() {
	w.mu.Lock()
	w.resync = true
	w.mu.Unlock()
	w.signal()
}

func (w *worker) take() (*Match, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m, r := w.latest, w.resync
	w.latest, w.resync = nil, false
	return m, r
}

// work is a match's goroutine: it normalizes pushed documents and REST
// resyncs and delivers the events in order.
func (s *Source) work(ctx context.Context, w *worker, out chan<- event.Event) {
	log := s.log.With().Str("match", w.id).Str("match_key", w.key).Logger()
	failures := 0 // resyncs failed in a row
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		}
		m, resync := w.take()
		if m != nil && !s.normalize(ctx, log, w, m, out) {
			return
		}
		if resync {
			s.st.resyncs.Add(1)
			env, err := s.rest.match(ctx, w.key)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				// Try again later: until it succeeds, what was pushed while
				// the match was not joined is only recovered if another
				// update arrives.
				failures++
				d := s.bo.Delay(failures)
				s.st.resyncFailures.Add(1)
				log.Warn().Err(err).Dur("retry_in", d).Msg("resync failed")
				time.AfterFunc(d, w.requestResync)
				continue
			}
			failures = 0
			if !s.normalize(ctx, log, w, env.Data, out) {
				return
			}
		}
	}
}

// normalize feeds m to w's Normalizer and delivers the events; false means
// ctx ended.
func (s *Source) normalize(ctx context.Context, log zerolog.Logger, w *worker, m *Match, out chan<- event.Event) bool {
	evs, err := w.norm.Normalize(ctx, m)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return false
	case errors.Is(err, ErrGap):
		s.st.gaps.Add(1)
		log.Warn().Err(err).Msg("balls missing after backfill")
	default:
		s.st.malformed.Add(1)
		log.Warn().Err(err).Msg("document not normalized")
	}
	now := time.Now()
	for _, ev := range evs {
		ev.Source = "roanuz"
		ev.Match = w.id
		ev.Received = now
		select {
		case out <- ev:
			s.st.events.Add(1)
		case <-ctx.Done():
			return false
		}
	}
	return true
}
