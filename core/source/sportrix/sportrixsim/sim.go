// Package sportrixsim is a wire-exact stand-in for the Sportrix Data
// WebSocket stream, for demos and tests: it serves /v1/stream, refuses a
// wrong key with HTTP 401 before the upgrade, answers subscribe with a
// snapshot (or an error frame for an unknown match) and pushes an update
// per change of state, pings every connection every 30 s (configurable),
// and replays Cricsheet matches as Sportrix cricket snapshots, with fault
// injection.
//
// Concurrency: Run owns the clock of every match; the HTTP handler and
// per-connection goroutines read the shared state under one mutex (no I/O
// under it); each connection has a write lock that keeps its snapshot
// ahead of its updates.
package sportrixsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/sportrix"
)

// Path is where the stream is served.
const Path = "/v1/stream"

// Config configures the simulator.
type Config struct {
	// APIKey is the key the stream accepts (?key= or X-API-Key). Required.
	APIKey string
	// Interval is the time between deliveries of each match; default 1 s.
	Interval time.Duration
	// PingInterval is the keepalive ping period; default 30 s.
	PingInterval time.Duration
	// PauseUnwatched advances a match only while at least one connection
	// is subscribed to it, so a demo or test sees it from its first state
	// and the match waits out a reconnect (then only Faults.SkipOnDrop
	// states pass while clients are away). False: every match plays from
	// Run's start, watched or not, as a real one does.
	PauseUnwatched bool
	// Faults to inject.
	Faults Faults
}

// Faults are the failures the simulator injects. Zero values inject none.
type Faults struct {
	// DropEvery drops every connection abruptly at this period.
	DropEvery time.Duration
	// MalformedEvery sends a truncated frame before every Nth update.
	MalformedEvery int
	// DuplicateEvery sends every Nth update twice.
	DuplicateEvery int
	// ErrorAt sends an error frame naming each subscribed match after this
	// many deliveries (once).
	ErrorAt int
	// Delay holds every push back by this long.
	Delay time.Duration
	// RevokeKeyAt revokes the API key after this many deliveries: every
	// connection is dropped and the handshake answers 401 from then on.
	RevokeKeyAt int
	// SkipOnDrop advances every match this many states at each drop
	// (play that goes on while the clients are away), so each reconnect
	// must recover them from its snapshot.
	SkipOnDrop int
}

// Stats counts what the simulator did.
type Stats struct {
	Connections, Unauthorized, Subscribes, Unsubscribes, Snapshots, Updates,
	Malformed, Duplicates, Errors, Drops, Pings int
}

// Simulator serves the Sportrix stream for a set of matches.
type Simulator struct {
	cfg Config
	log zerolog.Logger
	mux *http.ServeMux

	mu      sync.Mutex
	matches map[int64]*match
	clients map[*client]bool
	revoked bool
	stats   Stats
}

type match struct {
	frames [][]byte // data objects, one per state
	idx    int      // frame currently published
}

// client is one connection: its subscriptions and a write lock.
type client struct {
	ws   *websocket.Conn
	send sync.Mutex
	subs map[int64]bool // under Simulator.mu
}

// FromEvents turns ground-truth events per match id (replay.Parse) into
// the snapshots New serves.
func FromEvents(matches map[int64][]event.Event) (map[int64][][]byte, error) {
	out := make(map[int64][][]byte, len(matches))
	for id, evs := range matches {
		fr, err := sportrix.Generate(id, evs)
		if err != nil {
			return nil, fmt.Errorf("sportrixsim: match %d: %w", id, err)
		}
		out[id] = fr
	}
	return out, nil
}

// New builds a simulator serving the given snapshot data objects per match
// id (FromEvents makes them from Cricsheet; any sport's snapshots work).
func New(cfg Config, frames map[int64][][]byte, log zerolog.Logger) (*Simulator, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sportrixsim: an API key is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	s := &Simulator{cfg: cfg, log: log, matches: map[int64]*match{}, clients: map[*client]bool{}}
	for id, fr := range frames {
		if len(fr) == 0 {
			return nil, fmt.Errorf("sportrixsim: match %d has no frames", id)
		}
		s.matches[id] = &match{frames: fr}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET "+Path, s.stream)
	return s, nil
}

// Handler serves the stream endpoint.
func (s *Simulator) Handler() http.Handler { return s.mux }

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Finished reports whether every match has published its last state.
func (s *Simulator) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.matches {
		if m.idx < len(m.frames)-1 {
			return false
		}
	}
	return true
}

func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// Run advances every match by one state per Interval, pushing updates to
// subscribed connections and injecting faults, until ctx is done. It keeps
// serving the final states after the matches end.
func (s *Simulator) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	var drop <-chan time.Time
	if s.cfg.Faults.DropEvery > 0 {
		t := time.NewTicker(s.cfg.Faults.DropEvery)
		defer t.Stop()
		drop = t.C
	}
	defer s.dropAll()
	step := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-drop:
			s.count(func(st *Stats) { st.Drops++ })
			s.dropAll()
			s.skip(s.cfg.Faults.SkipOnDrop)
		case <-tick.C:
			step++
			if step == s.cfg.Faults.RevokeKeyAt {
				s.mu.Lock()
				s.revoked = true
				s.mu.Unlock()
				s.log.Info().Msg("fault: API key revoked")
				s.dropAll()
			}
			s.advance(ctx, step)
		}
	}
}

func (s *Simulator) dropAll() {
	s.mu.Lock()
	cs := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		cs = append(cs, c)
		delete(s.clients, c) // no push goes to a dropped connection
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.ws.CloseNow() //nolint:errcheck // dropping on purpose
	}
	if len(cs) > 0 {
		s.log.Info().Int("connections", len(cs)).Msg("fault: dropped connections")
	}
}

// skip advances every unfinished match n states without pushing them.
func (s *Simulator) skip(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.matches {
		m.idx = min(m.idx+n, len(m.frames)-1)
	}
}

func frame(op string, data []byte) []byte {
	b := make([]byte, 0, len(data)+32)
	b = append(b, `{"op":"`...)
	b = append(b, op...)
	b = append(b, `","data":`...)
	b = append(b, data...)
	return append(b, '}')
}

func errorFrame(matchID int64, msg string) []byte {
	v := map[string]any{"op": sportrix.OpError, "error": msg}
	if matchID != 0 {
		v["match_id"] = matchID
	}
	b, _ := json.Marshal(v)
	return b
}

func (s *Simulator) advance(ctx context.Context, step int) {
	f := s.cfg.Faults
	type push struct {
		id        int64
		data      []byte
		to        []*client
		dup, junk bool
	}
	var pushes []push
	s.mu.Lock()
	for id, m := range s.matches {
		var to []*client
		for c := range s.clients {
			if c.subs[id] {
				to = append(to, c)
			}
		}
		if m.idx >= len(m.frames)-1 || s.cfg.PauseUnwatched && len(to) == 0 {
			continue
		}
		m.idx++
		p := push{id: id, data: m.frames[m.idx], to: to}
		p.dup = f.DuplicateEvery > 0 && m.idx%f.DuplicateEvery == 0
		p.junk = f.MalformedEvery > 0 && m.idx%f.MalformedEvery == 0
		pushes = append(pushes, p)
	}
	sendError := f.ErrorAt > 0 && step == f.ErrorAt
	s.mu.Unlock()
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
		upd := frame(sportrix.OpUpdate, p.data)
		for _, c := range p.to {
			c.send.Lock()
			if p.junk {
				s.count(func(st *Stats) { st.Malformed++ })
				s.write(ctx, c, upd[:len(upd)/2])
			}
			s.write(ctx, c, upd)
			s.count(func(st *Stats) { st.Updates++ })
			if p.dup {
				s.count(func(st *Stats) { st.Duplicates++ })
				s.write(ctx, c, upd)
			}
			if sendError {
				s.count(func(st *Stats) { st.Errors++ })
				s.write(ctx, c, errorFrame(p.id, "live data temporarily unavailable"))
			}
			c.send.Unlock()
		}
	}
}

func (s *Simulator) write(ctx context.Context, c *client, b []byte) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.log.Debug().Err(err).Msg("write failed")
	}
}

// stream serves one connection.
func (s *Simulator) stream(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if key == "" {
		key = r.Header.Get("X-API-Key")
	}
	s.mu.Lock()
	revoked := s.revoked
	s.mu.Unlock()
	if key != s.cfg.APIKey || revoked {
		s.count(func(st *Stats) { st.Unauthorized++ })
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid or missing API key"}`)) //nolint:errcheck // the client went away
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c := &client{ws: ws, subs: map[int64]bool{}}
	s.mu.Lock()
	s.clients[c] = true
	s.stats.Connections++
	s.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer func() {
		cancel()
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		ws.CloseNow() //nolint:errcheck // gone
	}()
	go s.ping(ctx, c)
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			return
		}
		var ctl sportrix.Control
		if err := json.Unmarshal(b, &ctl); err != nil {
			s.count(func(st *Stats) { st.Errors++ })
			s.locked(ctx, c, errorFrame(0, "invalid message: want JSON"))
			continue
		}
		switch ctl.Action {
		case "subscribe":
			s.subscribe(ctx, c, ctl.MatchID)
		case "unsubscribe":
			s.mu.Lock()
			delete(c.subs, ctl.MatchID)
			s.stats.Unsubscribes++
			s.mu.Unlock()
		default:
			s.count(func(st *Stats) { st.Errors++ })
			s.locked(ctx, c, errorFrame(0, fmt.Sprintf("unknown action %q", ctl.Action)))
		}
	}
}

func (s *Simulator) locked(ctx context.Context, c *client, b []byte) {
	c.send.Lock()
	s.write(ctx, c, b)
	c.send.Unlock()
}

// subscribe answers with the match's current state, or an error frame
// (which, as documented, names no match).
func (s *Simulator) subscribe(ctx context.Context, c *client, id int64) {
	c.send.Lock()
	defer c.send.Unlock()
	s.mu.Lock()
	s.stats.Subscribes++
	m := s.matches[id]
	var data []byte
	if m != nil {
		c.subs[id] = true
		data = m.frames[m.idx]
		s.stats.Snapshots++
	} else {
		s.stats.Errors++
	}
	s.mu.Unlock()
	if m == nil {
		s.write(ctx, c, errorFrame(0, "match not live or not found"))
		return
	}
	s.write(ctx, c, frame(sportrix.OpSnapshot, data))
}

// ping sends a protocol ping every PingInterval; a ping that gets no pong
// within the interval (at least 5 s) drops the connection.
func (s *Simulator) ping(ctx context.Context, c *client) {
	t := time.NewTicker(s.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, max(s.cfg.PingInterval, 5*time.Second))
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.ws.CloseNow() //nolint:errcheck // unresponsive
			}
			return
		}
		s.count(func(st *Stats) { st.Pings++ })
	}
}
