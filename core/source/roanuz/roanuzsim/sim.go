// Package roanuzsim is a wire-exact stand-in for the Roanuz Cricket API v5,
// for demos and tests: the auth, match, ball-by-ball, subscribe and
// unsubscribe REST endpoints, and a Socket.IO server (Engine.IO v3 or v4) on
// /v5/websocket, namespace /cricket, that replays Cricsheet matches as
// on_match_update pushes, with fault injection.
//
// Concurrency: Run owns the clock of every match; HTTP handlers and socket
// goroutines read the shared state under one mutex (no I/O under it).
package roanuzsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/socketio"
	"github.com/ballcast/ballcast/core/source/roanuz"
)

// Config configures the simulator.
type Config struct {
	// ProjectKey and APIKey are the credentials the auth endpoint accepts.
	ProjectKey string
	APIKey     string
	// Interval is the time between deliveries of each match; default 1 s.
	Interval time.Duration
	// Encoding of on_match_update payloads, by name (see
	// roanuz.ParseEncoding): "gzip" (binary, the default), "zlib", "json",
	// "json-string", "base64-gzip", "base64-zlib", "bare".
	Encoding string
	// TokenTTL is how long a token lives; default 1 h.
	TokenTTL time.Duration
	// PingInterval and PingTimeout of the Socket.IO server; defaults 25 s, 20 s.
	PingInterval, PingTimeout time.Duration
	// Faults to inject.
	Faults Faults
}

// Faults are the failures the simulator injects. Zero values inject none.
type Faults struct {
	// DropEvery drops every socket connection abruptly at this period.
	DropEvery time.Duration
	// ExpireTokenAt makes every token issued so far invalid after this many
	// deliveries of the first match (once); REST then answers 401 and
	// connect_to_match answers on_error until the client re-authenticates.
	ExpireTokenAt int
	// MalformedEvery sends a corrupt payload (bad gzip) before every Nth
	// update.
	MalformedEvery int
	// DuplicateEvery sends every Nth update twice.
	DuplicateEvery int
	// ErrorAt sends one on_error (not subscribed) after this many deliveries.
	ErrorAt int
	// Delay holds every push back by this long.
	Delay time.Duration
}

// Simulator serves the Roanuz API for a set of matches.
type Simulator struct {
	cfg Config
	enc roanuz.Encoding
	log zerolog.Logger
	io  *socketio.Server
	mux *http.ServeMux

	mu      sync.Mutex
	matches map[string]*match
	tokens  map[string]time.Time // token → expiry
	joined  map[*socketio.ServerSocket]*client
	stats   Stats
}

// client is one /cricket socket: the matches it joined, and a lock that
// keeps its join reply ahead of any push for that match.
type client struct {
	send    sync.Mutex // held while writing to the socket
	matches map[string]bool
}

type match struct {
	gen        *roanuz.Generator
	idx        int // document currently published
	subscribed bool
}

// Stats counts what the simulator did, for tests and demos.
type Stats struct {
	Auths, Subscribes, Unsubscribes, Joins, Pushes, Malformed, Duplicates, Drops, Errors, Unauthorized int
}

// New builds a simulator over matches (Roanuz match key → Cricsheet events
// from replay.Parse).
func New(cfg Config, matches map[string][]event.Event, log zerolog.Logger) (*Simulator, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = time.Hour
	}
	if cfg.ProjectKey == "" || cfg.APIKey == "" {
		return nil, errors.New("roanuzsim: project key and API key are required")
	}
	if cfg.Encoding == "" {
		cfg.Encoding = roanuz.EncodeGzip.String()
	}
	enc, err := roanuz.ParseEncoding(cfg.Encoding)
	if err != nil {
		return nil, fmt.Errorf("roanuzsim: %w", err)
	}
	s := &Simulator{
		cfg: cfg, enc: enc, log: log,
		matches: map[string]*match{}, tokens: map[string]time.Time{},
		joined: map[*socketio.ServerSocket]*client{},
	}
	for key, evs := range matches {
		g, err := roanuz.NewGenerator(key, evs)
		if err != nil {
			return nil, fmt.Errorf("roanuzsim: match %s: %w", key, err)
		}
		s.matches[key] = &match{gen: g}
	}
	s.io = socketio.NewServer(&socketio.ServerOptions{
		Path: "/v5/websocket", AllowEIO3: true,
		PingInterval: cfg.PingInterval, PingTimeout: cfg.PingTimeout, Logger: log,
	})
	ns := s.io.Namespace("/cricket")
	ns.OnConnect(func(sock *socketio.ServerSocket) error {
		go s.serveSocket(sock)
		return nil
	})
	s.mux = http.NewServeMux()
	s.mux.Handle("/v5/websocket", s.io)
	s.mux.Handle("/v5/websocket/", s.io)
	s.mux.HandleFunc("POST /v5/core/{project}/auth/", s.auth)
	s.mux.HandleFunc("POST /v5/cricket/{project}/match/{key}/subscribe/", s.subscribe)
	s.mux.HandleFunc("POST /v5/cricket/{project}/match/{key}/unsubscribe/", s.unsubscribe)
	s.mux.HandleFunc("GET /v5/cricket/{project}/match/{key}/", s.document)
	s.mux.HandleFunc("GET /v5/cricket/{project}/match/{key}/ball-by-ball/{over}/", s.ballByBall)
	return s, nil
}

// Handler serves the REST API and the Socket.IO endpoint.
func (s *Simulator) Handler() http.Handler { return s.mux }

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Finished reports whether every match has published its last document.
func (s *Simulator) Finished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.matches {
		if m.idx < m.gen.Len()-1 {
			return false
		}
	}
	return true
}

// Run advances every match by one delivery per Interval, pushing updates to
// joined sockets and injecting faults, until ctx is done. It keeps serving
// the final documents after the matches end.
func (s *Simulator) Run(ctx context.Context) error {
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	var drop <-chan time.Time
	if s.cfg.Faults.DropEvery > 0 {
		t := time.NewTicker(s.cfg.Faults.DropEvery)
		defer t.Stop()
		drop = t.C
	}
	defer s.io.Close() //nolint:errcheck // shutting down
	step := 0          // deliveries so far; drops do not count
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-drop:
			s.dropAll()
		case <-tick.C:
			step++
			s.advance(ctx, step)
		}
	}
}

func (s *Simulator) dropAll() {
	s.count(func(st *Stats) { st.Drops++ })
	n := s.io.ConnCount()
	s.io.DropAll()
	s.log.Info().Int("connections", n).Msg("fault: dropped connections")
}

func (s *Simulator) advance(ctx context.Context, step int) {
	f := s.cfg.Faults
	s.mu.Lock()
	if f.ExpireTokenAt > 0 && step == f.ExpireTokenAt {
		for tok := range s.tokens {
			s.tokens[tok] = time.Time{}
		}
		s.log.Info().Msg("fault: expired every token")
	}
	type push struct {
		key  string
		doc  *roanuz.Envelope
		to   []*socketio.ServerSocket
		cs   []*client
		dup  bool
		junk bool
	}
	var pushes []push
	for key, m := range s.matches {
		if m.idx >= m.gen.Len()-1 {
			continue
		}
		m.idx++
		p := push{key: key, doc: m.gen.Document(m.idx)}
		for sock, c := range s.joined {
			if c.matches[key] {
				p.to = append(p.to, sock)
				p.cs = append(p.cs, c)
			}
		}
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
		payload, err := roanuz.Encode(p.doc, s.enc)
		if err != nil {
			s.log.Error().Err(err).Str("match", p.key).Msg("encode update")
			continue
		}
		for i, sock := range p.to {
			p.cs[i].send.Lock()
			if p.junk {
				s.count(func(st *Stats) { st.Malformed++ })
				s.emit(ctx, sock, "on_match_update", []byte{0x1f, 0x8b, 0x08, 0x00, 'n', 'o', 't', ' ', 'g', 'z', 'i', 'p'})
			}
			s.emit(ctx, sock, "on_match_update", s.arg(payload))
			s.count(func(st *Stats) { st.Pushes++ })
			if p.dup {
				s.count(func(st *Stats) { st.Duplicates++ })
				s.emit(ctx, sock, "on_match_update", s.arg(payload))
			}
			if sendError {
				s.count(func(st *Stats) { st.Errors++ })
				s.emit(ctx, sock, "on_error", errorJSON(p.key, "not_subscribed", "Match is not subscribed"))
			}
			p.cs[i].send.Unlock()
		}
	}
}

// arg shapes a payload as the socket sends it: bytes for binary encodings,
// a string for text ones.
func (s *Simulator) arg(payload []byte) any {
	switch s.enc {
	case roanuz.EncodeGzip, roanuz.EncodeZlib:
		return payload
	}
	if s.enc == roanuz.EncodeJSON || s.enc == roanuz.EncodeBare {
		return json.RawMessage(payload)
	}
	return string(payload)
}

func (s *Simulator) emit(ctx context.Context, sock *socketio.ServerSocket, ev string, arg any) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sock.Emit(ctx, ev, arg); err != nil {
		s.log.Debug().Err(err).Str("event", ev).Msg("emit failed")
	}
}

func (s *Simulator) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func errorJSON(match, code, msg string) string {
	b, _ := json.Marshal(map[string]any{"match_key": match, "code": code, "message": msg})
	return string(b)
}

// serveSocket handles one /cricket socket's requests until it ends.
func (s *Simulator) serveSocket(sock *socketio.ServerSocket) {
	c := &client{matches: map[string]bool{}}
	s.mu.Lock()
	s.joined[sock] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.joined, sock)
		s.mu.Unlock()
	}()
	ctx := context.Background()
	for ev := range sock.Events() {
		if ev.Name != "connect_to_match" || len(ev.Args) == 0 {
			continue
		}
		var req struct {
			Token    string `json:"token"`
			MatchKey string `json:"match_key"`
		}
		if err := ev.Args[0].Decode(&req); err != nil {
			s.emit(ctx, sock, "on_error", errorJSON("", "bad_request", err.Error()))
			continue
		}
		// Pushes for this socket wait until the join reply and the current
		// document are out, so on_match_joined always comes first.
		c.send.Lock()
		s.mu.Lock()
		m := s.matches[req.MatchKey]
		valid := s.validToken(req.Token)
		var doc *roanuz.Envelope
		switch {
		case m == nil || !valid || !m.subscribed:
		default:
			c.matches[req.MatchKey] = true
			s.stats.Joins++
			doc = m.gen.Document(m.idx)
		}
		subscribed := m != nil && m.subscribed
		s.mu.Unlock()
		switch {
		case m == nil:
			s.emit(ctx, sock, "on_error", errorJSON(req.MatchKey, "invalid_match", "Invalid match key"))
		case !valid:
			s.count(func(st *Stats) { st.Unauthorized++ })
			s.emit(ctx, sock, "on_error", errorJSON(req.MatchKey, "A-401-0", "Invalid or expired token"))
		case !subscribed:
			s.emit(ctx, sock, "on_error", errorJSON(req.MatchKey, "not_subscribed", "Match is not subscribed"))
		default:
			s.emit(ctx, sock, "on_match_joined", map[string]string{"key": req.MatchKey})
			if payload, err := roanuz.Encode(doc, s.enc); err == nil {
				s.emit(ctx, sock, "on_match_update", s.arg(payload))
			}
		}
		c.send.Unlock()
	}
}

// validToken reports whether tok is live; s.mu is held.
func (s *Simulator) validToken(tok string) bool {
	exp, ok := s.tokens[tok]
	return ok && time.Now().Before(exp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}

func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{
		"data": nil, "http_status_code": status,
		"error": map[string]any{"code": code, "msg": msg, "http_status_code": status},
	})
}

func (s *Simulator) auth(w http.ResponseWriter, r *http.Request) {
	var req struct {
		APIKey string `json:"api_key"`
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err := json.Unmarshal(body, &req); err != nil || r.PathValue("project") != s.cfg.ProjectKey || req.APIKey != s.cfg.APIKey {
		apiError(w, http.StatusBadRequest, "A-400-1", "Invalid project key or API key")
		return
	}
	tok := make([]byte, 16)
	rand.Read(tok) //nolint:errcheck // crypto/rand does not fail
	token := hex.EncodeToString(tok)
	exp := time.Now().Add(s.cfg.TokenTTL)
	s.mu.Lock()
	s.tokens[token] = exp
	s.stats.Auths++
	s.mu.Unlock()
	// expires as a numeric string, as HAN-AUTH shows it.
	writeJSON(w, http.StatusOK, map[string]any{"status_code": 200, "data": map[string]any{
		"token": token, "expires": fmt.Sprintf("%.2f", float64(exp.UnixNano())/1e9),
	}})
}

// authorised checks the project and rs-token of a REST request and returns
// the match, writing the error response itself when it fails.
func (s *Simulator) authorised(w http.ResponseWriter, r *http.Request) *match {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.PathValue("project") != s.cfg.ProjectKey {
		apiError(w, http.StatusBadRequest, "A-400-1", "Invalid project key")
		return nil
	}
	if !s.validToken(r.Header.Get("rs-token")) {
		s.stats.Unauthorized++
		apiError(w, http.StatusUnauthorized, "A-401-0", "Invalid or expired token")
		return nil
	}
	m := s.matches[r.PathValue("key")]
	if m == nil {
		apiError(w, http.StatusBadRequest, "A-400-2", "Invalid match key")
		return nil
	}
	return m
}

func (s *Simulator) subscribe(w http.ResponseWriter, r *http.Request) {
	m := s.authorised(w, r)
	if m == nil {
		return
	}
	s.mu.Lock()
	m.subscribed = true
	s.stats.Subscribes++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"status": true, "message": "subscribed"}, "error": nil})
}

func (s *Simulator) unsubscribe(w http.ResponseWriter, r *http.Request) {
	m := s.authorised(w, r)
	if m == nil {
		return
	}
	s.mu.Lock()
	m.subscribed = false
	s.stats.Unsubscribes++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"status": true, "message": "unsubscribed"}, "error": nil})
}

func (s *Simulator) document(w http.ResponseWriter, r *http.Request) {
	m := s.authorised(w, r)
	if m == nil {
		return
	}
	s.mu.Lock()
	doc := m.gen.Document(m.idx)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, doc)
}

func (s *Simulator) ballByBall(w http.ResponseWriter, r *http.Request) {
	m := s.authorised(w, r)
	if m == nil {
		return
	}
	over := strings.TrimSuffix(r.PathValue("over"), "/")
	s.mu.Lock()
	bb, err := m.gen.FetchOver(r.Context(), r.PathValue("key"), over)
	s.mu.Unlock()
	if err != nil {
		apiError(w, http.StatusNotFound, "A-404-1", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, roanuz.BallByBallResponse{Data: bb, Sport: "cricket", DataKind: "match_ball_by_ball"})
}
