// Package sgosim is a wire-exact stand-in for the SportsGameOdds v2
// streaming API, for demos and tests: GET /v2/stream/events (snapshot and
// Pusher details), GET /v2/events, a channel auth endpoint, and a Pusher
// protocol WebSocket endpoint (/app/{key}, core/pusher.Server) on which it
// publishes "data" notifications naming changed eventIDs, while it replays
// Cricsheet matches as SportsGameOdds events, with fault injection.
//
// Concurrency: Run owns the matches' clock; HTTP handlers read the shared
// state under one mutex (no I/O under it).
package sgosim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/pusher"
	sgo "github.com/ballcast/ballcast/core/source/sportsgameodds"
)

// Config configures the simulator.
type Config struct {
	// APIKey is the x-api-key the REST endpoints accept. Required.
	APIKey string
	// League is the leagueID of every match. Default "CRICKET".
	League string
	// Interval is the time between deliveries of each match; default 1 s.
	Interval time.Duration
	// Public makes the channels public; by default they are private-
	// channels authorised at /v2/stream/auth.
	Public bool
	// Lockstep holds each match's next delivery until its current state
	// has been fetched through GET /v2/events (or LockstepMax passed). A
	// live match has tens of seconds between deliveries, far longer than a
	// fetch takes; Lockstep gives a fast replay the same property, so a
	// test can expect every state to be seen.
	Lockstep    bool
	LockstepMax time.Duration // default 10 s
	// Faults to inject.
	Faults Faults
}

// Faults are the failures the simulator injects, counted in deliveries
// (steps) of each match. Zero values inject none.
type Faults struct {
	// DropEvery drops every WebSocket connection abruptly just before the
	// notification of every Nth step, so that notification reaches nobody.
	DropEvery int
	// ErrorEvery sends pusher:error and closes every connection with the
	// next of ErrorCodes (default 4200) just before the notification of
	// every Nth step.
	ErrorEvery int
	ErrorCodes []int
	// MalformedEvery sends a frame that is not JSON and a "data"
	// notification whose payload is not a list of eventIDs before every Nth
	// notification.
	MalformedEvery int
	// DuplicateEvery sends every Nth notification twice.
	DuplicateEvery int
	// Delay holds every notification back by this long.
	Delay time.Duration
	// WrongKeyFirst answers the first N stream requests with a wrong Pusher
	// key, which the WebSocket endpoint refuses with 4001.
	WrongKeyFirst int
}

// Stats count what the simulator did.
type Stats struct {
	Streams, Fetches, Auths, AuthRejected, Unauthorized int
	Notifications                                       int // notifications delivered to at least one subscriber
	Missed                                              int // notifications that reached no subscriber
	Recovered                                           int // states whose notification was missed, served by a later fetch
	Malformed, Duplicates, Drops, Errors, WrongKeys     int
	Steps                                               int
}

// pusherKey and pusherSecret are the simulated Pusher app's credentials.
const (
	pusherKey    = "sgosim-key"
	pusherSecret = "sgosim-secret"
)

// Simulator serves the SportsGameOdds streaming API for a set of matches.
type Simulator struct {
	cfg Config
	log zerolog.Logger
	ws  *pusher.Server
	mux *http.ServeMux

	mu      sync.Mutex
	matches map[string]*match
	order   []string
	tokens  map[string]bool // stream tokens the auth endpoint accepts
	stats   Stats
}

// New builds a simulator over matches (eventID → Cricsheet events from
// replay.Parse).
func New(cfg Config, matches map[string][]event.Event, log zerolog.Logger) (*Simulator, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sgosim: api key is required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.LockstepMax <= 0 {
		cfg.LockstepMax = 10 * time.Second
	}
	if cfg.League == "" {
		cfg.League = "CRICKET"
	}
	if len(cfg.Faults.ErrorCodes) == 0 {
		cfg.Faults.ErrorCodes = []int{4200}
	}
	s := &Simulator{
		cfg: cfg, log: log,
		ws:      pusher.NewServer(pusher.ServerOptions{Key: pusherKey, Secret: pusherSecret, Logger: log}),
		matches: map[string]*match{}, tokens: map[string]bool{},
	}
	for id, evs := range matches {
		m, err := newMatch(id, cfg.League, evs)
		if err != nil {
			return nil, err
		}
		s.matches[id] = m
		s.order = append(s.order, id)
	}
	sort.Strings(s.order)
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /v2/stream/events", s.stream)
	s.mux.HandleFunc("GET /v2/events", s.events)
	s.mux.HandleFunc("GET /v2/events/", s.events)
	s.mux.HandleFunc("POST /v2/stream/auth", s.auth)
	s.mux.Handle("/app/", s.ws)
	return s, nil
}

// Handler serves the REST API, the auth endpoint and the WebSocket.
func (s *Simulator) Handler() http.Handler { return s.mux }

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Drops, st.Errors = s.ws.Stats().Drops, s.ws.Stats().Errors
	return st
}

// Finished reports whether every match has published its last state.
func (s *Simulator) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.matches {
		if !m.finished() {
			return false
		}
	}
	return true
}

// Run advances every match by one delivery per Interval and notifies the
// channels, injecting faults, until ctx is done. It keeps serving the
// final states after the matches end.
func (s *Simulator) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	waiting := map[string]time.Time{} // lockstep: since when a match waits for a fetch
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for _, id := range s.order {
			s.step(ctx, id, waiting)
		}
	}
}

// channels a match's notifications go to.
func (s *Simulator) channels(m *match, wasStarted bool) []string {
	p := "private-"
	if s.cfg.Public {
		p = ""
	}
	chs := []string{p + "sgo-event-" + m.id}
	if m.started() {
		chs = append(chs, p+"sgo-live")
	}
	if !wasStarted {
		chs = append(chs, p+"sgo-upcoming-"+m.league)
	}
	return chs
}

func (s *Simulator) step(ctx context.Context, id string, waiting map[string]time.Time) {
	f := s.cfg.Faults
	s.mu.Lock()
	m := s.matches[id]
	if m.finished() {
		s.mu.Unlock()
		return
	}
	if s.cfg.Lockstep && m.idx > 0 && m.fetchedIdx < m.idx {
		since, ok := waiting[id]
		if !ok {
			waiting[id] = time.Now()
			s.mu.Unlock()
			return
		}
		if time.Since(since) < s.cfg.LockstepMax {
			s.mu.Unlock()
			return
		}
	}
	delete(waiting, id)
	wasStarted := m.started()
	m.advance()
	n := m.idx
	s.stats.Steps++
	chs := s.channels(m, wasStarted)
	s.mu.Unlock()

	if f.Delay > 0 && !sleep(ctx, f.Delay) {
		return
	}
	if f.DropEvery > 0 && n%f.DropEvery == 0 {
		c := s.ws.DropAll()
		s.log.Info().Int("connections", c).Int("step", n).Msg("fault: dropped connections")
	}
	if f.ErrorEvery > 0 && n%f.ErrorEvery == 0 {
		code := f.ErrorCodes[(n/f.ErrorEvery-1)%len(f.ErrorCodes)]
		c := s.ws.ErrorAll(ctx, code, "simulated error")
		s.log.Info().Int("connections", c).Int("code", code).Int("step", n).Msg("fault: pusher:error")
	}
	note := []sgo.Notification{{EventID: id}}
	reached := 0
	malformed := f.MalformedEvery > 0 && n%f.MalformedEvery == 0
	dup := f.DuplicateEvery > 0 && n%f.DuplicateEvery == 0
	for _, ch := range chs {
		if malformed {
			s.ws.TriggerRaw(ctx, ch, []byte(`{"event":"data","channel":`))
			s.ws.Trigger(ctx, ch, "data", map[string]string{"eventID": id}) // an object, not a list
		}
		reached += s.ws.Trigger(ctx, ch, "data", note)
		if dup {
			s.ws.Trigger(ctx, ch, "data", note)
		}
	}
	s.mu.Lock()
	if malformed {
		s.stats.Malformed++
	}
	if dup {
		s.stats.Duplicates++
	}
	if reached > 0 {
		s.stats.Notifications++
		m.missed = false
	} else {
		s.stats.Missed++
		if m.fetchedIdx >= n {
			s.stats.Recovered++ // a resync fetched this state before the notification went out
		} else {
			m.missed = true
		}
	}
	s.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"success": false, "error": msg})
}

// keyOK checks x-api-key (or the apiKey query parameter), answering 401
// itself when it fails.
func (s *Simulator) keyOK(w http.ResponseWriter, r *http.Request) bool {
	k := r.Header.Get("x-api-key")
	if k == "" {
		k = r.URL.Query().Get("apiKey")
	}
	if k != s.cfg.APIKey {
		s.count(func(st *Stats) { st.Unauthorized++ })
		apiError(w, http.StatusUnauthorized, "Invalid or missing API key")
		return false
	}
	return true
}

func (s *Simulator) stream(w http.ResponseWriter, r *http.Request) {
	if !s.keyOK(w, r) {
		return
	}
	q := r.URL.Query()
	p := "private-"
	if s.cfg.Public {
		p = ""
	}
	var (
		channel string
		pick    func(*match) bool
	)
	switch q.Get("feed") {
	case sgo.FeedLive:
		channel, pick = p+"sgo-live", func(m *match) bool { return m.started() && !m.finished() }
	case sgo.FeedUpcoming:
		league := q.Get("leagueID")
		if league == "" {
			apiError(w, http.StatusBadRequest, "leagueID is required for feed events:upcoming")
			return
		}
		channel, pick = p+"sgo-upcoming-"+league, func(m *match) bool { return m.league == league && !m.started() }
	case sgo.FeedByID:
		id := q.Get("eventID")
		s.mu.Lock()
		_, ok := s.matches[id]
		s.mu.Unlock()
		if !ok {
			apiError(w, http.StatusNotFound, "Event not found")
			return
		}
		channel, pick = p+"sgo-event-"+id, func(m *match) bool { return m.id == id }
	default:
		apiError(w, http.StatusBadRequest, "Invalid feed")
		return
	}
	tok := make([]byte, 16)
	rand.Read(tok) //nolint:errcheck // crypto/rand does not fail
	token := hex.EncodeToString(tok)
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		host, port = r.Host, "80"
	}
	portN, _ := strconv.Atoi(port)
	key := pusherKey
	s.mu.Lock()
	s.tokens[token] = true
	s.stats.Streams++
	if s.stats.Streams <= s.cfg.Faults.WrongKeyFirst {
		key = "wrong-" + pusherKey
		s.stats.WrongKeys++
	}
	data := []sgo.Event{}
	for _, id := range s.order {
		if m := s.matches[id]; pick(m) {
			data = append(data, m.snapshot())
			s.served(m)
		}
	}
	s.mu.Unlock()
	off := false
	writeJSON(w, http.StatusOK, sgo.StreamInfo{
		Success: true, Data: data, PusherKey: key, Channel: channel,
		PusherOptions: sgo.PusherOptions{
			WSHost: host, WSPort: portN, WSSPort: portN, ForceTLS: &off,
			ChannelAuthorization: &sgo.Authorization{
				Endpoint: "http://" + r.Host + "/v2/stream/auth",
				Headers:  map[string]string{"x-stream-token": token},
			},
		},
		User: json.RawMessage(`"sgosim"`),
	})
}

// served records that m's current state went out over REST; s.mu is held.
func (s *Simulator) served(m *match) {
	if m.fetchedIdx < m.idx && m.missed {
		s.stats.Recovered++
		m.missed = false
	}
	m.fetchedIdx = m.idx
}

func (s *Simulator) events(w http.ResponseWriter, r *http.Request) {
	if !s.keyOK(w, r) {
		return
	}
	q := r.URL.Query()
	ids := q.Get("eventIDs")
	if ids == "" {
		ids = q.Get("eventID")
	}
	data := []sgo.Event{}
	s.mu.Lock()
	for id := range strings.SplitSeq(ids, ",") {
		if m := s.matches[strings.TrimSpace(id)]; m != nil {
			data = append(data, m.snapshot())
			s.served(m)
		}
	}
	s.stats.Fetches++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, sgo.EventsPage{Success: true, Data: data})
}

// auth signs private-channel subscriptions for holders of a stream token,
// accepting the form post pusher-js sends or a JSON body.
func (s *Simulator) auth(w http.ResponseWriter, r *http.Request) {
	var socketID, channel string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var b struct {
			SocketID    string `json:"socket_id"`
			ChannelName string `json:"channel_name"`
		}
		json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&b) //nolint:errcheck // empty fields are refused below
		socketID, channel = b.SocketID, b.ChannelName
	} else if r.ParseForm() == nil {
		socketID, channel = r.PostForm.Get("socket_id"), r.PostForm.Get("channel_name")
	}
	s.mu.Lock()
	ok := s.tokens[r.Header.Get("x-stream-token")]
	if ok {
		s.stats.Auths++
	} else {
		s.stats.AuthRejected++
	}
	s.mu.Unlock()
	switch {
	case !ok:
		apiError(w, http.StatusForbidden, "Invalid stream token")
	case socketID == "" || channel == "":
		apiError(w, http.StatusBadRequest, "socket_id and channel_name are required")
	default:
		writeJSON(w, http.StatusOK, pusher.Authorization{Auth: pusher.Sign(pusherKey, pusherSecret, socketID, channel, "")})
	}
}

// String describes the simulator's matches, for logs.
func (s *Simulator) String() string {
	return fmt.Sprintf("sgosim: %d matches", len(s.order))
}

// Subscribers is how many connections are subscribed to channel.
func (s *Simulator) Subscribers(channel string) int { return s.ws.Subscribers(channel) }
