package roanuz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/socketio"
)

// ErrStale is wrapped by the error that ends a connection the heartbeat
// found silent for stale_after; the source then reconnects.
var ErrStale = errors.New("roanuz: connection stale")

// ErrJoin is wrapped by the error that ends a connection on which a match
// was not confirmed (on_match_joined) after three join timeouts in a row.
var ErrJoin = errors.New("roanuz: match not joined")

// maxJoinMisses is how many join timeouts in a row restart the connection.
const maxJoinMisses = 3

// manage runs connection sessions until ctx ends or a fatal error: it owns
// the reconnect backoff and the attempt count.
func (s *Source) manage(ctx context.Context) error {
	failures := 0
	for {
		joined, err := s.session(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrAuthRejected) {
			return err
		}
		if joined {
			failures = 0
		} else {
			failures++
		}
		if failures >= s.cfg.MaxAttempts {
			return fmt.Errorf("roanuz: gave up after %d failed connection attempts in a row: %w", failures, err)
		}
		d := s.bo.Delay(failures)
		s.log.Warn().Err(err).Int("attempt", failures).Dur("backoff", d).Msg("connection ended, reconnecting")
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// joinState is one match's membership on the current connection.
type joinState struct {
	w        *worker
	joined   bool      // on_match_joined seen since the last connect_to_match that expected one
	heard    time.Time // last joined or update for this match
	deadline time.Time // while !joined: when to try again
	misses   int
}

// conn is one Socket.IO session: owned by the manage goroutine.
type session struct {
	s       *Source
	sock    *socketio.Socket
	token   string // the token connect_to_match last carried
	joins   map[string]*joinState
	heard   time.Time
	joinedA bool // some match was joined on this connection
}

// session authenticates, subscribes every match, connects, joins every
// match and serves the connection until it fails or ctx ends. joined
// reports whether any match was confirmed, which resets the attempt count.
func (s *Source) session(ctx context.Context) (joined bool, err error) {
	tok, err := s.auth.Token(ctx)
	if err != nil {
		return false, err
	}
	for _, w := range s.order {
		if err := s.rest.subscribe(ctx, w.key); err != nil {
			return false, err
		}
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.HTTPTimeout)
	defer cancel()
	conn, err := socketio.Dial(dctx, s.cfg.SocketURL, &socketio.Options{EIO: s.eio, Path: s.cfg.SocketPath, Logger: s.log})
	if err != nil {
		s.detectEIO(err)
		return false, fmt.Errorf("roanuz: connect (engine.io v%d): %w", s.eio, err)
	}
	defer conn.Close()
	sock, err := conn.Join(dctx, s.cfg.Namespace, nil)
	if err != nil {
		s.detectEIO(err)
		return false, fmt.Errorf("roanuz: connect: %w", err)
	}
	s.st.connects.Add(1)
	ss := &session{s: s, sock: sock, token: tok, joins: map[string]*joinState{}, heard: time.Now()}
	for _, w := range s.order {
		ss.joins[w.key] = &joinState{w: w}
	}
	err = ss.serve(ctx)
	return ss.joinedA, err
}

// detectEIO switches the Engine.IO revision of the next dial when err says
// the server speaks the other one: a Socket.IO v2 server refuses EIO 4 and a
// v3/v4 server without allowEIO3 refuses EIO 3.
func (s *Source) detectEIO(err error) {
	if !errors.Is(err, socketio.ErrProtocolVersion) {
		return
	}
	next := 7 - s.eio // 3 ↔ 4
	s.log.Warn().Int("eio", s.eio).Int("next_eio", next).Msg("engine.io version mismatch: switching revision")
	s.eio = next
	s.st.eioSwitches.Add(1)
}

func (ss *session) serve(ctx context.Context) error {
	s := ss.s
	if tok := s.auth.current(); tok != "" {
		ss.token = tok // a REST 401 during subscribe may have replaced it
	}
	now := time.Now()
	for _, js := range ss.joins {
		if err := ss.connectToMatch(ctx, js, now, true); err != nil {
			return err
		}
	}
	tick := time.NewTicker(min(s.cfg.Heartbeat, s.cfg.JoinTimeout))
	defer tick.Stop()
	refresh := time.NewTimer(time.Until(s.auth.due()))
	defer refresh.Stop()
	lost := func() error {
		return fmt.Errorf("roanuz: connection lost: %w", ss.sock.Err())
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-ss.sock.Events():
			if !ok {
				return lost()
			}
			ss.heard = time.Now()
			if err := ss.handle(ctx, ev); err != nil {
				return err
			}
		case now := <-tick.C:
			if err := ss.heartbeat(ctx, now); err != nil {
				return err
			}
		case <-refresh.C:
			if _, err := s.auth.Token(ctx); err != nil {
				if errors.Is(err, ErrAuthRejected) || ctx.Err() != nil {
					return err
				}
				s.log.Warn().Err(err).Msg("token refresh failed, retrying")
				refresh.Reset(s.cfg.BackoffMin)
				continue
			}
			refresh.Reset(time.Until(s.auth.due()))
		case <-s.auth.changed:
			tok := s.auth.current()
			if tok == ss.token || tok == "" {
				continue
			}
			// The token changed (timer or a REST 401): tell the server,
			// for every match, as Hannibal's updateToken does.
			s.log.Info().Msg("token refreshed, re-sending connect_to_match")
			ss.token = tok
			now := time.Now()
			for _, js := range ss.joins {
				if err := ss.connectToMatch(ctx, js, now, false); err != nil {
					return err
				}
			}
			refresh.Reset(time.Until(s.auth.due()))
		}
	}
}

// connectToMatch emits connect_to_match for js. expectJoin marks the match
// as not joined until the server confirms, which then triggers a resync.
func (ss *session) connectToMatch(ctx context.Context, js *joinState, now time.Time, expectJoin bool) error {
	if expectJoin {
		js.joined = false
		js.deadline = now.Add(ss.s.cfg.JoinTimeout)
	}
	ectx, cancel := context.WithTimeout(ctx, ss.s.cfg.HTTPTimeout)
	defer cancel()
	err := ss.sock.Emit(ectx, "connect_to_match", map[string]string{"token": ss.token, "match_key": js.w.key})
	if err != nil {
		return fmt.Errorf("roanuz: connect_to_match %s: %w", js.w.key, err)
	}
	return nil
}

// heartbeat checks staleness, join deadlines and quiet matches.
func (ss *session) heartbeat(ctx context.Context, now time.Time) error {
	cfg := ss.s.cfg
	if silent := now.Sub(ss.heard); silent >= cfg.StaleAfter {
		return fmt.Errorf("%w: no traffic for %v", ErrStale, silent.Round(time.Millisecond))
	}
	for _, js := range ss.joins {
		switch {
		case !js.joined && !now.Before(js.deadline):
			js.misses++
			if js.misses >= maxJoinMisses {
				return fmt.Errorf("%w: %s: no on_match_joined after %d tries", ErrJoin, js.w.key, js.misses)
			}
			ss.s.log.Warn().Str("match", js.w.id).Int("tries", js.misses).Msg("no on_match_joined, subscribing again")
			if err := ss.resubscribe(ctx, js, now); err != nil {
				return err
			}
		case js.joined && now.Sub(js.heard) >= cfg.Heartbeat:
			// A quiet match: probe. The server answers on_match_joined,
			// which is traffic; silence despite probes means stale.
			js.heard = now
			if err := ss.connectToMatch(ctx, js, now, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// resubscribe repeats the REST subscribe and connect_to_match for js. A
// REST failure is logged, not fatal: the join deadline tries again.
func (ss *session) resubscribe(ctx context.Context, js *joinState, now time.Time) error {
	if err := ss.s.rest.subscribe(ctx, js.w.key); err != nil {
		if ctx.Err() != nil || errors.Is(err, ErrAuthRejected) {
			return err
		}
		ss.s.log.Warn().Err(err).Str("match", js.w.id).Msg("subscribe failed")
	}
	return ss.connectToMatch(ctx, js, now, true)
}

func (ss *session) handle(ctx context.Context, ev socketio.Event) error {
	s := ss.s
	switch ev.Name {
	case "on_match_joined":
		var j struct {
			Key string `json:"key"`
		}
		if len(ev.Args) > 0 {
			_ = ev.Args[0].Decode(&j)
		}
		js := ss.joins[j.Key]
		if js == nil && j.Key == "" && len(ss.joins) == 1 {
			for _, only := range ss.joins {
				js = only
			}
		}
		if js == nil {
			s.log.Debug().Str("match_key", j.Key).Msg("on_match_joined for an unknown match")
			return nil
		}
		js.heard = ss.heard
		if !js.joined {
			js.joined, js.misses, ss.joinedA = true, 0, true
			s.st.joins.Add(1)
			s.log.Debug().Str("match", js.w.id).Msg("match joined")
			// Whatever was pushed while we were away is in the current
			// document: fetch it once.
			js.w.requestResync()
		}
	case "on_match_update":
		s.st.updates.Add(1)
		if len(ev.Args) == 0 {
			s.st.malformed.Add(1)
			s.log.Warn().Str("match", ss.guess()).Msg("on_match_update without a payload")
			return nil
		}
		payload := argBytes(ev.Args)
		env, err := DecodeUpdate(payload, s.cfg.MaxUpdateBytes)
		if err != nil {
			s.st.malformed.Add(1)
			s.log.Warn().Err(err).Str("match", ss.guess()).Int("bytes", len(payload)).Msg("malformed update dropped")
			return nil
		}
		js := ss.joins[env.Data.Key]
		if js == nil {
			s.st.unrouted.Add(1)
			s.log.Debug().Str("match_key", env.Data.Key).Msg("update for an unknown match dropped")
			return nil
		}
		js.heard = ss.heard
		if js.w.push(env.Data) {
			s.st.coalesced.Add(1)
		}
	case "on_error":
		key, msg := serverError(argBytes(ev.Args))
		s.st.serverErrors.Add(1)
		targets := []*joinState{ss.joins[key]}
		if targets[0] == nil {
			targets = targets[:0]
			for _, w := range s.order {
				targets = append(targets, ss.joins[w.key])
			}
		}
		for _, js := range targets {
			line := js.w.id + ": " + msg
			s.st.lastServerError.Store(&line)
			s.log.Warn().Str("match", js.w.id).Str("message", msg).Msg("server error")
		}
		lower := strings.ToLower(msg)
		if strings.Contains(lower, "token") || strings.Contains(lower, "auth") {
			// The server rejected the token on the socket: replace it; the
			// change re-sends connect_to_match for every match.
			if _, err := s.auth.Refresh(ctx, ss.token); err != nil {
				if errors.Is(err, ErrAuthRejected) || ctx.Err() != nil {
					return err
				}
				s.log.Warn().Err(err).Msg("token refresh after on_error failed")
			}
		}
		if strings.Contains(lower, "subscri") {
			for _, js := range targets {
				s.st.resubscribes.Add(1)
				if err := ss.resubscribe(ctx, js, time.Now()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// argBytes is the first argument's JSON text or attachment bytes, or nil.
func argBytes(args []socketio.Arg) []byte {
	if len(args) == 0 {
		return nil
	}
	if args[0].IsBinary() {
		return args[0].Bytes()
	}
	return args[0].JSON()
}

// guess names the match a payload that could not be decoded probably
// belongs to: the only match, when there is one.
func (ss *session) guess() string {
	if len(ss.s.order) == 1 {
		return ss.s.order[0].id
	}
	return "unknown"
}

// serverError reads an on_error payload. Roanuz sends a JSON string
// (the docs JSON.parse it) whose shape is undocumented, so this looks for
// the usual fields and otherwise returns the text as it came.
func serverError(raw []byte) (matchKey, msg string) {
	if len(raw) == 0 {
		return "", "(no payload)"
	}
	text := string(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		text = s
	}
	if strings.TrimSpace(text) == "" || text == "null" {
		return "", "(no payload)"
	}
	var obj map[string]any
	if json.Unmarshal([]byte(text), &obj) != nil || obj == nil {
		return "", text
	}
	str := func(m map[string]any, keys ...string) string {
		for _, k := range keys {
			if v, ok := m[k].(string); ok && v != "" {
				return v
			}
		}
		return ""
	}
	matchKey = str(obj, "match_key", "key", "match")
	if e, ok := obj["error"].(map[string]any); ok {
		msg = strings.TrimSpace(str(e, "code") + " " + str(e, "message", "msg"))
		if matchKey == "" {
			matchKey = str(e, "match_key", "key", "match")
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(str(obj, "code", "error") + " " + str(obj, "message", "msg", "reason"))
	}
	if msg == "" {
		msg = text
	}
	return matchKey, msg
}
