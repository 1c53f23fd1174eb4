package sportsgameodds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/pusher"
	"github.com/ballcast/ballcast/internal/retry"
)

// Stats are the source's counters since New.
type Stats struct {
	Sessions          uint64 // stream requests answered (snapshot + Pusher details)
	Connections       uint64 // Pusher connections established, over all sessions
	Subscriptions     uint64 // channel subscriptions confirmed, over all sessions
	Notifications     uint64 // "data" notifications received
	Malformed         uint64 // notifications that could not be read (each forces a resync)
	Fetches           uint64 // GET /events requests that succeeded
	FetchFailures     uint64
	Resyncs           uint64 // fetches of every tracked event: after each subscription and malformed notification
	SubscriptionError uint64 // subscriptions refused (each starts a new session)
	Events            uint64 // ballcast events delivered
}

// Source follows one SportsGameOdds feed; it implements ingest.Source.
//
// Behaviour: GET /v2/stream/events for the feed, emit what its snapshot
// implies, connect to Pusher with the returned key and options and
// subscribe to the returned channel (private channels are authorised at
// the returned endpoint with the returned headers). After every
// subscription, on the first connection and after every reconnect, fetch
// every tracked event again so nothing that changed while away is missed;
// on each "data" notification fetch the named events. Every fetched state
// is turned into events by Implied and only IDs not emitted before are
// sent. The Pusher client reconnects by the protocol's rules; when it gives
// up (a 4000–4099 refusal, or max_attempts failed connections) or the
// subscription is refused, a new session starts with a fresh stream
// request, after a jittered backoff. max_attempts sessions failing in a row,
// or HTTP 401/403 (ErrRejected), end Run.
type Source struct {
	cfg  Config
	log  zerolog.Logger
	rest *rest
	http *http.Client

	// Owned by the Run goroutine.
	emitted map[string]map[string]bool // match → IDs sent
	tracked map[string]bool            // eventIDs resynced after each subscription

	mu        sync.Mutex // guards the pending fields; no I/O under it
	pending   map[string]bool
	resyncAll bool
	subErr    error
	wake      chan struct{}

	st struct {
		sessions, connections, subscriptions, notifications, malformed, fetches,
		fetchFailures, resyncs, subErrors, events atomic.Uint64
	}
}

// New checks cfg, reads the API key, and builds the source. It starts
// nothing.
func New(cfg Config, log zerolog.Logger) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	key, err := cfg.apiKey()
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: cfg.HTTPTimeout}
	return &Source{
		cfg:     cfg,
		log:     log.With().Str("provider", "sportsgameodds").Str("feed", cfg.Feed).Logger(),
		rest:    &rest{base: cfg.APIURL, key: key, client: hc, maxBytes: cfg.MaxResponseBytes},
		http:    hc,
		emitted: map[string]map[string]bool{},
		tracked: map[string]bool{},
		pending: map[string]bool{},
		wake:    make(chan struct{}, 1),
	}, nil
}

// Name implements ingest.Source.
func (s *Source) Name() string { return "sportsgameodds" }

// Stats returns the counters so far. Safe for concurrent use.
func (s *Source) Stats() Stats {
	return Stats{
		Sessions: s.st.sessions.Load(), Connections: s.st.connections.Load(), Subscriptions: s.st.subscriptions.Load(),
		Notifications: s.st.notifications.Load(), Malformed: s.st.malformed.Load(), Fetches: s.st.fetches.Load(),
		FetchFailures: s.st.fetchFailures.Load(), Resyncs: s.st.resyncs.Load(), SubscriptionError: s.st.subErrors.Load(),
		Events: s.st.events.Load(),
	}
}

// Run follows the feed until ctx ends (returning ctx.Err()) or it fails
// fatally (ErrRejected, or max_attempts sessions in a row failed). Run may
// be called once.
func (s *Source) Run(ctx context.Context, out chan<- event.Event) error {
	failures := 0
	for {
		subscribed, err := s.session(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrRejected) {
			return err
		}
		if subscribed {
			failures = 0
		}
		failures++
		if failures >= s.cfg.MaxAttempts {
			return fmt.Errorf("sportsgameodds: %d stream sessions failed in a row, last: %w", failures, err)
		}
		d := s.backoff(failures)
		s.log.Warn().Err(err).Dur("retry_in", d).Msg("stream session ended")
		if !sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

// backoff is the wait after failures failures in a row.
func (s *Source) backoff(failures int) time.Duration {
	return retry.Backoff{Min: s.cfg.BackoffMin, Max: s.cfg.BackoffMax}.Delay(failures)
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

// session runs one stream request and its Pusher connection; subscribed
// reports whether the channel was ever subscribed.
func (s *Source) session(ctx context.Context, out chan<- event.Event) (subscribed bool, err error) {
	si, err := s.rest.stream(ctx, s.cfg)
	if err != nil {
		return false, err
	}
	s.st.sessions.Add(1)
	s.mu.Lock()
	s.pending, s.resyncAll, s.subErr = map[string]bool{}, false, nil
	s.mu.Unlock()
	for i := range si.Data {
		if !s.apply(ctx, &si.Data[i], out) {
			return false, ctx.Err()
		}
	}
	client, err := pusher.New(s.pusherOptions(si))
	if err != nil {
		return false, fmt.Errorf("sportsgameodds: stream %s: %w", s.cfg.Feed, err)
	}
	client.Subscribe(si.Channel)
	var subs atomic.Bool
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- client.Run(sctx, func(ev pusher.Event) { s.handle(si.Channel, ev, &subs) })
	}()
	defer func() { cancel(); <-finished }()
	s.log.Info().Str("channel", si.Channel).Int("events", len(si.Data)).Msg("stream session started")

	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	fetchFailures := 0
	for {
		select {
		case <-ctx.Done():
			return subs.Load(), ctx.Err()
		case err := <-done:
			return subs.Load(), fmt.Errorf("sportsgameodds: pusher: %w", err)
		case <-retry.C:
		case <-s.wake:
		}
		ids, all, subErr := s.take()
		if subErr != nil {
			return subs.Load(), subErr
		}
		if all {
			s.st.resyncs.Add(1)
			for id := range s.tracked {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		sort.Strings(ids)
		ids = dedupe(ids)
		evs, err := s.rest.events(ctx, ids)
		if err != nil {
			if ctx.Err() != nil {
				return subs.Load(), ctx.Err()
			}
			if errors.Is(err, ErrRejected) {
				return subs.Load(), err
			}
			s.st.fetchFailures.Add(1)
			fetchFailures++
			d := s.backoff(fetchFailures)
			s.log.Warn().Err(err).Int("events", len(ids)).Dur("retry_in", d).Msg("fetch failed")
			s.requeue(ids)
			retry.Reset(d)
			continue
		}
		fetchFailures = 0
		s.st.fetches.Add(1)
		for i := range evs {
			if !s.apply(ctx, &evs[i], out) {
				return subs.Load(), ctx.Err()
			}
		}
	}
}

// handle runs on the Pusher client's goroutine: it only records what to
// fetch and wakes the session loop.
func (s *Source) handle(channel string, ev pusher.Event, subs *atomic.Bool) {
	switch {
	case ev.Event == "pusher:connection_established":
		s.st.connections.Add(1)
	case ev.Channel != channel:
	case ev.Event == "pusher:subscription_succeeded":
		s.st.subscriptions.Add(1)
		subs.Store(true)
		s.mu.Lock()
		s.resyncAll = true
		s.mu.Unlock()
		s.signal()
	case ev.Event == "pusher:subscription_error":
		s.st.subErrors.Add(1)
		s.mu.Lock()
		s.subErr = fmt.Errorf("sportsgameodds: subscribe %s: %s", channel, truncate(string(ev.Data), 300))
		s.mu.Unlock()
		s.signal()
	case ev.Event == "data":
		s.st.notifications.Add(1)
		var ns []Notification
		err := json.Unmarshal(ev.Data, &ns)
		s.mu.Lock()
		ok := err == nil && len(ns) > 0
		for _, n := range ns {
			if n.EventID == "" {
				ok = false
				continue
			}
			s.pending[n.EventID] = true
		}
		if !ok {
			// Which events changed is unknown: fetch them all.
			s.resyncAll = true
		}
		s.mu.Unlock()
		if !ok {
			s.st.malformed.Add(1)
			s.log.Warn().Str("data", truncate(string(ev.Data), 200)).Msg("malformed notification; resyncing every event")
		}
		s.signal()
	}
}

func (s *Source) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Source) take() (ids []string, all bool, subErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.pending {
		ids = append(ids, id)
	}
	all, subErr = s.resyncAll, s.subErr
	s.pending, s.resyncAll = map[string]bool{}, false
	return ids, all, subErr
}

func (s *Source) requeue(ids []string) {
	s.mu.Lock()
	for _, id := range ids {
		s.pending[id] = true
	}
	s.mu.Unlock()
}

// apply sends the events ev's state implies that were not sent before;
// false means ctx ended.
func (s *Source) apply(ctx context.Context, ev *Event, out chan<- event.Event) bool {
	if ev.EventID == "" {
		return true
	}
	match := ev.EventID
	sent := s.emitted[match]
	if sent == nil {
		sent = map[string]bool{}
		s.emitted[match] = sent
	}
	now := time.Now()
	for _, e := range Implied(match, ev) {
		if sent[e.ID] {
			continue
		}
		e.Source, e.Received = "sportsgameodds", now
		select {
		case out <- e:
		case <-ctx.Done():
			return false
		}
		sent[e.ID] = true
		s.st.events.Add(1)
	}
	switch State(ev.Status) {
	case event.StateCompleted, event.StateAbandoned:
		delete(s.tracked, match) // nothing more will change
	default:
		s.tracked[match] = true
	}
	return true
}

// pusherOptions maps the stream answer onto the client's options.
func (s *Source) pusherOptions(si *StreamInfo) pusher.Options {
	po := si.PusherOptions
	o := pusher.Options{
		Key: si.PusherKey, Cluster: po.Cluster, WSHost: po.WSHost, WSPort: po.WSPort, WSSPort: po.WSSPort, WSPath: po.WSPath,
		Insecure:        po.ForceTLS != nil && !*po.ForceTLS,
		HTTPClient:      s.http,
		ActivityTimeout: s.cfg.ActivityTimeout, PongTimeout: s.cfg.PongTimeout,
		BackoffMin: s.cfg.BackoffMin, BackoffMax: s.cfg.BackoffMax, MaxAttempts: s.cfg.MaxAttempts,
		HandshakeTimeout: s.cfg.HTTPTimeout,
		Logger:           s.log,
	}
	if o.ActivityTimeout == 0 && po.ActivityTimeout > 0 {
		o.ActivityTimeout = time.Duration(po.ActivityTimeout) * time.Millisecond
	}
	if o.PongTimeout == 0 && po.PongTimeout > 0 {
		o.PongTimeout = time.Duration(po.PongTimeout) * time.Millisecond
	}
	auth := po.ChannelAuthorization
	if auth == nil && (po.AuthEndpoint != "" || po.Auth != nil) {
		auth = &Authorization{Endpoint: po.AuthEndpoint}
		if po.Auth != nil {
			auth.Headers, auth.Params = po.Auth.Headers, po.Auth.Params
		}
	}
	if auth != nil {
		o.AuthEndpoint, o.AuthHeaders, o.AuthParams = auth.Endpoint, auth.Headers, auth.Params
	}
	return o
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, id := range sorted {
		if i == 0 || id != sorted[i-1] {
			out = append(out, id)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
