// Package scorelyticssim is a wire-exact stand-in for the Scorelytics API,
// for demos and tests: the REST snapshot GET /v1/{sport}/matches/{id} (and
// the list GET /v1/{sport}/matches), and the WebSocket endpoints
// /v1/ws/match/{id} and /v1/ws/live, with the documented auth (X-API-Key
// header or api_key query), HTTP errors (401, 404, 426), a ping every
// PingInterval with the connection closed after two unanswered, and the
// per-key connection cap (429 beyond it, our inference). It replays
// Cricsheet matches (scorelytics.Generator) as snapshots and
// score_update/status_change deltas, with fault injection.
//
// Concurrency: Run owns the clock of every match; HTTP handlers and
// connection goroutines share state under one mutex (no I/O under it);
// writes to a connection are serialised by its own lock.
package scorelyticssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/scorelytics"
)

// Config configures the simulator.
type Config struct {
	// APIKey is the key the simulator accepts. Required.
	APIKey string
	// Interval is the time between steps (deliveries, status changes) of
	// each match; default 1s.
	Interval time.Duration
	// PingInterval is the server ping period; default 30s (documented).
	// Two unanswered pings in a row close the connection.
	PingInterval time.Duration
	// MaxConnections is the per-key cap; default 5 (documented). A
	// connection beyond it is refused with HTTP 429 [INF].
	MaxConnections int
	// TotalsOnly serves score_update without the ball field and snapshots
	// without balls: a score-only cricket feed.
	TotalsOnly bool
	// Faults to inject.
	Faults Faults
}

// Faults are the failures the simulator injects. Zero values inject none.
type Faults struct {
	// DropEvery drops every WebSocket connection abruptly at this period.
	DropEvery time.Duration
	// MalformedEvery sends a corrupt frame before every Nth delta.
	MalformedEvery int
	// DuplicateEvery sends every Nth delta twice.
	DuplicateEvery int
	// Delay holds every delta back by this long.
	Delay time.Duration
	// RejectKeyAt revokes the API key after this many steps: open
	// connections are closed and every request answers 401.
	RejectKeyAt int
}

// Stats counts what the simulator did.
type Stats struct {
	Snapshots, Connects, Refused, Unauthorized, Pushes, Malformed, Duplicates, Drops, Pings, Pongs, PingTimeouts int
}

// Simulator serves the Scorelytics API for a set of matches.
type Simulator struct {
	cfg Config
	log zerolog.Logger
	mux *http.ServeMux

	mu      sync.Mutex
	matches map[string]*match
	conns   map[*conn]bool // accepted connections
	slots   int            // connections counted against the cap, accepted or being accepted
	revoked bool
	stats   Stats
	trace   []string
}

type match struct {
	gen *scorelytics.Generator
	idx int // steps published
}

type conn struct {
	ws    *websocket.Conn
	match string // "" for /v1/ws/live
	send  sync.Mutex
}

// New builds a simulator over matches (Scorelytics match ID → Cricsheet
// events from replay.Parse).
func New(cfg Config, matches map[string][]event.Event, log zerolog.Logger) (*Simulator, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("scorelyticssim: API key is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = scorelytics.DefaultMaxConnections
	}
	s := &Simulator{cfg: cfg, log: log, matches: map[string]*match{}, conns: map[*conn]bool{}}
	for id, evs := range matches {
		g, err := scorelytics.NewGenerator(id, evs)
		if err != nil {
			return nil, fmt.Errorf("scorelyticssim: %w", err)
		}
		s.matches[id] = &match{gen: g}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /v1/{sport}/matches", s.list)
	s.mux.HandleFunc("GET /v1/{sport}/matches/{id}", s.snapshot)
	s.mux.HandleFunc("/v1/ws/match/{id}", s.websocket)
	s.mux.HandleFunc("/v1/ws/live", s.websocket)
	return s, nil
}

// Handler serves the REST API and the WebSocket endpoints.
func (s *Simulator) Handler() http.Handler { return s.mux }

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Trace returns, in order, every snapshot served ("snapshot <id>") and
// every connection accepted ("connect <path>").
func (s *Simulator) Trace() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.trace)
}

// Conns is the number of open WebSocket connections.
func (s *Simulator) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Finished reports whether every match has published its last step.
func (s *Simulator) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.matches {
		if m.idx < m.gen.Len() {
			return false
		}
	}
	return true
}

// Run advances every match by one step per Interval, pushing the deltas
// and injecting faults, until ctx is done; it then closes every
// connection. After the matches end it keeps serving the final snapshots.
func (s *Simulator) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	var drop <-chan time.Time
	if s.cfg.Faults.DropEvery > 0 {
		t := time.NewTicker(s.cfg.Faults.DropEvery)
		defer t.Stop()
		drop = t.C
	}
	defer s.closeAll(websocket.StatusGoingAway, "simulator stopping")
	step := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-drop:
			s.count(func(st *Stats) { st.Drops++ })
			n := s.closeAll(-1, "")
			s.log.Info().Int("connections", n).Msg("fault: dropped connections")
		case <-tick.C:
			step++
			s.advance(ctx, step)
		}
	}
}

// closeAll closes every connection, abruptly when code is negative.
func (s *Simulator) closeAll(code websocket.StatusCode, reason string) int {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		if code < 0 {
			c.ws.CloseNow() //nolint:errcheck // a fault
		} else {
			go c.ws.Close(code, reason) //nolint:errcheck // best effort
		}
	}
	return len(cs)
}

func (s *Simulator) advance(ctx context.Context, step int) {
	f := s.cfg.Faults
	type push struct {
		frame     []byte
		to        []*conn
		dup, junk bool
	}
	var pushes []push
	s.mu.Lock()
	revoke := f.RejectKeyAt > 0 && step == f.RejectKeyAt
	if revoke {
		s.revoked = true
	}
	for id, m := range s.matches {
		if m.idx >= m.gen.Len() {
			continue
		}
		p := push{frame: m.gen.Frame(m.idx, !s.cfg.TotalsOnly)}
		m.idx++
		for c := range s.conns {
			if c.match == "" || c.match == id {
				p.to = append(p.to, c)
			}
		}
		p.dup = f.DuplicateEvery > 0 && m.idx%f.DuplicateEvery == 0
		p.junk = f.MalformedEvery > 0 && m.idx%f.MalformedEvery == 0
		pushes = append(pushes, p)
	}
	s.mu.Unlock()
	if revoke {
		s.log.Info().Msg("fault: API key revoked")
		s.closeAll(websocket.StatusPolicyViolation, "api key revoked")
		return
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	for _, p := range pushes {
		for _, c := range p.to {
			c.send.Lock()
			if p.junk {
				s.count(func(st *Stats) { st.Malformed++ })
				s.write(ctx, c, p.frame[:len(p.frame)/2])
			}
			s.write(ctx, c, p.frame)
			s.count(func(st *Stats) { st.Pushes++ })
			if p.dup {
				s.count(func(st *Stats) { st.Duplicates++ })
				s.write(ctx, c, p.frame)
			}
			c.send.Unlock()
		}
	}
}

func (s *Simulator) write(ctx context.Context, c *conn, b []byte) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.log.Debug().Err(err).Msg("write failed")
	}
}

func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// authorised checks the key of a request (X-API-Key header or api_key
// query) and writes the 401 itself when it fails; s.mu is not held.
func (s *Simulator) authorised(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	s.mu.Lock()
	ok := key == s.cfg.APIKey && !s.revoked
	if !ok {
		s.stats.Unauthorized++
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusUnauthorized, "invalid or missing API key")
	}
	return ok
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"status": status, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func (s *Simulator) list(w http.ResponseWriter, r *http.Request) {
	if !s.authorised(w, r) {
		return
	}
	s.mu.Lock()
	var out []*scorelytics.Snapshot
	for _, m := range s.matches {
		out = append(out, m.gen.Snapshot(m.idx, false))
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *scorelytics.Snapshot) int { return strings.Compare(a.ID, b.ID) })
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
}

func (s *Simulator) snapshot(w http.ResponseWriter, r *http.Request) {
	if !s.authorised(w, r) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	m := s.matches[id]
	var snap *scorelytics.Snapshot
	if m != nil && r.PathValue("sport") == "cricket" {
		snap = m.gen.Snapshot(m.idx, !s.cfg.TotalsOnly)
		s.stats.Snapshots++
		s.trace = append(s.trace, "snapshot "+id)
	}
	s.mu.Unlock()
	if snap == nil {
		apiError(w, http.StatusNotFound, "match not found")
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *Simulator) websocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		apiError(w, http.StatusUpgradeRequired, "WebSocket upgrade required")
		return
	}
	if !s.authorised(w, r) {
		return
	}
	id := r.PathValue("id")
	c := &conn{match: id}
	s.mu.Lock()
	switch {
	case id != "" && s.matches[id] == nil:
		s.mu.Unlock()
		apiError(w, http.StatusNotFound, "match not found")
		return
	case s.slots >= s.cfg.MaxConnections:
		s.stats.Refused++
		s.mu.Unlock()
		apiError(w, http.StatusTooManyRequests, fmt.Sprintf("at most %d concurrent WebSocket connections per API key", s.cfg.MaxConnections))
		return
	}
	s.slots++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.slots--
		s.mu.Unlock()
	}()
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OnPongReceived: func(context.Context, []byte) { s.count(func(st *Stats) { st.Pongs++ }) },
	})
	if err != nil {
		return
	}
	c.ws = ws
	s.mu.Lock()
	s.conns[c] = true
	s.stats.Connects++
	s.trace = append(s.trace, "connect "+r.URL.Path)
	s.mu.Unlock()
	// The client sends nothing; reading in the background processes its
	// pongs and close frames.
	ctx := ws.CloseRead(context.Background())
	s.ping(ctx, c)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	ws.CloseNow() //nolint:errcheck // done
}

// ping pings c every PingInterval until it closes, closing it after two
// pings in a row go unanswered within the interval.
func (s *Simulator) ping(ctx context.Context, c *conn) {
	t := time.NewTicker(s.cfg.PingInterval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.count(func(st *Stats) { st.Pings++ })
		pctx, cancel := context.WithTimeout(ctx, s.cfg.PingInterval)
		err := c.ws.Ping(pctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			missed = 0
		default:
			if missed++; missed >= 2 {
				s.count(func(st *Stats) { st.PingTimeouts++ })
				c.ws.Close(websocket.StatusPolicyViolation, "ping timeout") //nolint:errcheck // closing
				return
			}
		}
	}
}
