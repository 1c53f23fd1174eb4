package broadcast

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// Errors returned by the Hub.
var (
	// ErrClosed: Run has returned; the hub accepts no more events.
	ErrClosed = errors.New("broadcast: hub closed")
	// ErrRunning: Run was called a second time.
	ErrRunning = errors.New("broadcast: hub already running")
	// ErrNoMatch: Publish was given an event without a match ID.
	ErrNoMatch = errors.New("broadcast: event has no match")
	// ErrBadEpoch: SetEpoch was given an epoch that is not 1 to MaxEpoch
	// printable ASCII characters without spaces.
	ErrBadEpoch = errors.New("broadcast: bad epoch")
)

// cmdBuffer is the depth of the hub's command channel: how far Publish may
// run ahead of the hub goroutine before it waits.
const cmdBuffer = 1024

// Hub fans a stream of events out to WebSocket clients, keeps a snapshot and
// a resume history per match, and serves the REST endpoints and the page.
// See the package documentation for the concurrency contract.
type Hub struct {
	cfg     Config
	log     zerolog.Logger
	cmds    chan command
	done    chan struct{} // closed when Run returns
	started atomic.Bool
	handler http.Handler
	guard   Guard
	stats   hubStats

	// epoch is set before Run; quotedEpoch is its JSON form.
	epoch       string
	quotedEpoch []byte

	bpoMu sync.Mutex
	bpo   map[string]int // balls per over by match, learnt from MatchInfo in Publish

	// Owned by the Run goroutine.
	matches  map[string]*match
	clients  map[*client]struct{}
	stopping bool
}

// NewHub validates cfg, applies defaults and allocates a hub. It starts no
// goroutines and opens no sockets; call Run, then serve Handler.
func NewHub(cfg Config, log zerolog.Logger) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Hub{
		cfg:     cfg.withDefaults(),
		log:     log.With().Str("component", "broadcast").Logger(),
		cmds:    make(chan command, cmdBuffer),
		done:    make(chan struct{}),
		bpo:     make(map[string]int),
		matches: make(map[string]*match),
		clients: make(map[*client]struct{}),
	}
	h.setEpoch(randomEpoch())
	h.handler = h.routes()
	return h, nil
}

// SetEpoch sets the epoch of every match stream: the name of the numbering
// that seq values belong to (docs/protocol.md). Call it before Run. Set it
// from the durable feed the hub is rebuilt from, so that it stays the same
// across restarts that replay the same feed in the same order, and changes
// when that feed is recreated and the numbering starts again (for example
// a value derived from the feed stream's creation time). Without SetEpoch
// the epoch is random per Hub (an "r" and 24 hex digits): right for a hub
// without a durable feed, whose numbering restarts with the process.
//
// The epoch must be 1 to MaxEpoch printable ASCII characters without
// spaces; otherwise SetEpoch returns ErrBadEpoch. After Run has started it
// returns ErrRunning.
func (h *Hub) SetEpoch(epoch string) error {
	if !validEpoch(epoch) {
		return fmt.Errorf("broadcast: set epoch %q: %w", epoch, ErrBadEpoch)
	}
	if h.started.Load() {
		return ErrRunning
	}
	h.setEpoch(epoch)
	return nil
}

// Epoch returns the hub's epoch.
func (h *Hub) Epoch() string { return h.epoch }

func (h *Hub) setEpoch(epoch string) {
	h.epoch = epoch
	h.quotedEpoch = appendJSONString(nil, epoch)
}

func randomEpoch() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // never fails
	return "r" + hex.EncodeToString(b[:])
}

// validEpoch reports whether e is 1 to MaxEpoch bytes of printable ASCII
// without spaces: safe in an SSE id and a URL query.
func validEpoch(e string) bool {
	if e == "" || len(e) > MaxEpoch {
		return false
	}
	for i := 0; i < len(e); i++ {
		if e[i] < 0x21 || e[i] > 0x7e {
			return false
		}
	}
	return true
}

// Run owns every match's state and every subscription. It blocks until ctx
// is done, then closes every client connection with 1001 "server shutting
// down", waits for their goroutines to finish (bounded by the WebSocket
// close handshake timeouts, at most about 10 s for a peer that does not
// answer) and returns nil. A Hub runs once: a second call returns
// ErrRunning, and after Run returns Publish returns ErrClosed.
func (h *Hub) Run(ctx context.Context) error {
	if !h.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer close(h.done)
	h.log.Debug().Msg("hub started")
	for {
		select {
		case cmd := <-h.cmds:
			h.handle(cmd)
		case <-ctx.Done():
			h.shutdown()
			return nil
		}
	}
}

// shutdown closes every client and keeps serving commands until all of them
// have unregistered.
func (h *Hub) shutdown() {
	h.stopping = true
	h.log.Debug().Int("clients", len(h.clients)).Msg("hub stopping")
	for c := range h.clients {
		c.close(CloseGoingAway, ReasonShutdown)
	}
	for len(h.clients) > 0 {
		h.handle(<-h.cmds)
	}
	h.log.Debug().Msg("hub stopped")
}

// Publish hands ev to the hub, which numbers it in the match's stream and
// sends it to that match's subscribers. It satisfies pipeline.Sink.
//
// Publish encodes the event in the caller's goroutine and never waits for a
// client: it waits only for room in the hub's command queue, so it blocks
// when the hub goroutine is behind (or not yet running) until ctx is done.
// A nil error means the hub accepted the event; an event whose ID was
// already published for its match is accepted and dropped (an event with
// an empty ID is never taken for a duplicate). Events of one
// match must be published in order, from one goroutine at a time. Publish
// copies what it needs from ev; the caller may reuse it afterwards.
func (h *Hub) Publish(ctx context.Context, ev event.Event) error {
	if ev.Match == "" {
		return fmt.Errorf("broadcast: publish %q: %w", ev.ID, ErrNoMatch)
	}
	select {
	case <-h.done:
		return ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("broadcast: publish %q: %w", ev.ID, err)
	}
	data := newEventData(&ev, h.ballsPerOver(&ev))
	tail, err := appendEventTail(nil, &ev, data)
	if err != nil {
		return fmt.Errorf("broadcast: publish %q: %w", ev.ID, err)
	}
	cmd := command{op: cmdPublish, match: ev.Match, pub: &published{id: ev.ID, kind: ev.Kind, data: data, tail: tail}}
	select {
	case h.cmds <- cmd:
		return nil
	case <-h.done:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("broadcast: publish %q: %w", ev.ID, ctx.Err())
	}
}

// ballsPerOver remembers the match's balls per over from its MatchInfo and
// returns it (6 until known).
func (h *Hub) ballsPerOver(ev *event.Event) int {
	h.bpoMu.Lock()
	defer h.bpoMu.Unlock()
	if ev.Info != nil && ev.Info.BallsPerOver > 0 {
		h.bpo[ev.Match] = ev.Info.BallsPerOver
	}
	if n, ok := h.bpo[ev.Match]; ok {
		return n
	}
	return 6
}

// appendEventTail encodes everything of an event frame that follows the
// stream seq, which only the hub goroutine knows.
func appendEventTail(b []byte, ev *event.Event, data *EventData) ([]byte, error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode data: %w", err)
	}
	b = append(b, `,"ingest_seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, ev.ID)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, ev.Kind.String())
	if !ev.Time.IsZero() {
		t, err := ev.Time.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("encode time: %w", err)
		}
		b = append(b, `,"time":`...)
		b = append(b, t...)
	}
	if ev.Source != "" {
		b = append(b, `,"source":`...)
		b = appendJSONString(b, ev.Source)
	}
	b = append(b, `,"data":`...)
	b = append(b, payload...)
	return append(b, '}'), nil
}

// appendEventFrame completes an event frame: the head with the match, the
// epoch and the stream seq, then the tail encoded by Publish.
func appendEventFrame(b, quotedMatch, quotedEpoch []byte, seq uint64, tail []byte) []byte {
	b = append(b, `{"op":"event","match":`...)
	b = append(b, quotedMatch...)
	b = append(b, `,"epoch":`...)
	b = append(b, quotedEpoch...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	return append(b, tail...)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// command is a request to the hub goroutine. One channel carries every kind
// so that requests from one goroutine are handled in the order sent.
type command struct {
	op    cmdOp
	match string
	pub   *published
	delta *delta
	c     *client
	since uint64
	// hasSince marks a resume request (subscribe with since).
	hasSince bool
	// epoch, when not empty, is the epoch since belongs to.
	epoch string
	// latest asks for a latest-value subscription (ModeLatest).
	latest bool
	limit  int
	reply  chan reply
}

type cmdOp uint8

const (
	cmdPublish cmdOp = iota + 1
	cmdRegister
	cmdUnregister
	cmdSubscribe
	cmdUnsubscribe
	cmdList
	cmdSnapshot
	cmdEvents
	cmdDelta
)

// published is an event as Publish prepared it for the hub goroutine.
type published struct {
	id   string
	kind event.Kind
	data *EventData
	tail []byte
}

// reply answers a query command. Its slices are immutable once sent.
type reply struct {
	ok       bool // register accepted; match found
	gone     bool // events: since is older than the history held
	epochOff bool // events: the epoch asked for is not the stream's
	body     []byte
	frames   [][]byte
	matches  []MatchSummary
	seq      uint64
	firstSeq uint64
}

// query sends a command that expects a reply and waits for it.
func (h *Hub) query(ctx context.Context, cmd command) (reply, error) {
	cmd.reply = make(chan reply, 1)
	select {
	case h.cmds <- cmd:
	case <-h.done:
		return reply{}, ErrClosed
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
	select {
	case r := <-cmd.reply:
		return r, nil
	case <-h.done:
		return reply{}, ErrClosed
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// tell sends a command without a reply. It gives up when the hub has
// stopped or ctx is done.
func (h *Hub) tell(ctx context.Context, cmd command) bool {
	select {
	case h.cmds <- cmd:
		return true
	case <-h.done:
		return false
	case <-ctx.Done():
		return false
	}
}

func (h *Hub) handle(cmd command) {
	switch cmd.op {
	case cmdPublish:
		if !h.stopping {
			h.publish(cmd.match, cmd.pub)
		}
	case cmdRegister:
		if !h.stopping {
			h.clients[cmd.c] = struct{}{}
			h.stats.clients(cmd.c.transport).Add(1)
		}
		cmd.reply <- reply{ok: !h.stopping}
	case cmdUnregister:
		h.unregister(cmd.c)
	case cmdSubscribe:
		if !h.stopping {
			h.subscribe(cmd)
		}
	case cmdUnsubscribe:
		if !h.stopping {
			h.unsubscribe(cmd.c, cmd.match)
		}
	case cmdList:
		cmd.reply <- reply{matches: h.list()}
	case cmdSnapshot:
		m := h.matches[cmd.match]
		if m == nil || !m.live {
			cmd.reply <- reply{}
			return
		}
		cmd.reply <- reply{ok: true, body: h.snapshot(m)}
	case cmdEvents:
		cmd.reply <- h.events(cmd)
	case cmdDelta:
		if !h.stopping {
			h.publishDelta(cmd.match, cmd.delta)
		}
	}
}

// match is the hub's state for one match. Only the hub goroutine touches it.
type match struct {
	id     string
	quoted []byte // id as a JSON string
	// live is true once the match has had an event; until then it exists
	// only because clients subscribed to it, and is not listed.
	live bool
	seq  uint64
	seen map[string]struct{} // event IDs published, for de-duplication

	hist   ring[[]byte] // encoded event frames; the newest has seq == seq
	lines  ring[CommentaryLine]
	info   *Info
	card   *Scorecard
	scores map[int]Score // score-only updates by innings, for feeds without a scorecard
	state  string
	result string
	snap   []byte // the encoded snapshot at seq; nil when stale

	subs map[*client]bool // subscribers; true for ModeLatest
}

func newMatch(id string) *match {
	return &match{
		id:     id,
		quoted: appendJSONString(nil, id),
		seen:   make(map[string]struct{}),
		subs:   make(map[*client]bool),
	}
}

// firstSeq is the seq of the oldest event held; seq+1 when none is held.
func (m *match) firstSeq() uint64 { return m.seq - uint64(m.hist.len()) + 1 }

func (h *Hub) publish(id string, p *published) {
	m := h.matches[id]
	if m == nil {
		m = newMatch(id)
		h.matches[id] = m
	}
	if p.id != "" {
		if _, dup := m.seen[p.id]; dup {
			h.log.Debug().Str("match", id).Str("id", p.id).Msg("duplicate event dropped")
			return
		}
		m.seen[p.id] = struct{}{}
	}
	if !m.live {
		m.live = true
		h.log.Info().Str("match", id).Msg("match started")
	}
	m.seq++
	frame := appendEventFrame(make([]byte, 0, 48+len(m.quoted)+len(h.quotedEpoch)+len(p.tail)), m.quoted, h.quotedEpoch, m.seq, p.tail)
	m.hist.push(frame, h.cfg.History)
	h.apply(m, p)
	m.snap = nil
	it := item{frame: frame, op: OpEvent, seq: m.seq, match: id}
	for c, latest := range m.subs {
		h.send(c, it, latest)
	}
}

// apply folds an event into the match's snapshot state.
func (h *Hub) apply(m *match, p *published) {
	d := p.data
	if d.Info != nil {
		m.info = d.Info
	}
	if d.Scorecard != nil {
		m.card = d.Scorecard
		if d.Scorecard.State != "" {
			m.state = d.Scorecard.State
		}
		if d.Scorecard.Result != "" {
			m.result = d.Scorecard.Result
		}
	}
	if d.Status != nil {
		if d.Status.State != "" {
			m.state = d.Status.State
		}
		if d.Status.Result != "" {
			m.result = d.Status.Result
		}
	}
	if d.Score != nil {
		if m.scores == nil {
			m.scores = make(map[int]Score)
		}
		m.scores[d.Score.Innings] = *d.Score
	}
	if (d.Ball != nil || d.Score != nil) && (m.state == "" || m.state == event.StateScheduled) {
		m.state = event.StateLive
	}
	if d.Commentary != nil && h.cfg.RecentCommentary > 0 {
		line := CommentaryLine{Seq: m.seq, ID: p.id, Kind: p.kind.String(), Commentary: *d.Commentary}
		switch {
		case d.Ball != nil:
			line.Ball, line.Innings, line.Badge = BallLabel(d.Ball.Over, d.Ball.Ball), d.Ball.Innings, badge(d.Ball)
		case d.Over != nil:
			line.Innings = d.Over.Innings
		case d.Innings != nil:
			line.Innings = d.Innings.Number
		}
		m.lines.push(line, h.cfg.RecentCommentary)
	}
}

// send queues it for c without blocking; a full queue disconnects c.
// latest lets an unsent event frame of the same match be replaced.
func (h *Hub) send(c *client, it item, latest bool) bool {
	if c.push(it, latest) {
		return true
	}
	h.kick(c)
	return false
}

// kick drops every subscription of a client whose queue is full and closes
// it with CloseSlowConsumer.
func (h *Hub) kick(c *client) {
	if c.kicked {
		return
	}
	c.kicked = true
	h.dropSubs(c)
	select {
	case <-c.closing: // already going; the full queue is not its fault
		return
	default:
	}
	c.log.Warn().Int("queue_size", c.max).Str("transport", c.transport).Msg("slow consumer disconnected")
	h.stats.slowDropped.Add(1)
	c.close(CloseSlowConsumer, ReasonSlowConsumer)
}

func (h *Hub) dropSubs(c *client) {
	for id, m := range c.subs {
		delete(m.subs, c)
		delete(c.subs, id)
		h.forget(m)
	}
}

// forget deletes a match that never had an event once nobody follows it.
func (h *Hub) forget(m *match) {
	if !m.live && len(m.subs) == 0 {
		delete(h.matches, m.id)
	}
}

func (h *Hub) unregister(c *client) {
	h.dropSubs(c)
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		h.stats.clients(c.transport).Add(-1)
	}
}

// subscribe queues a snapshot, or for a resume the missed events or a
// reset and a snapshot, and adds c to the match's subscribers, all in one
// step of the hub goroutine: no event can fall between the two.
func (h *Hub) subscribe(cmd command) {
	c, id, since := cmd.c, cmd.match, cmd.since
	if c.kicked {
		return
	}
	m := h.matches[id]
	if _, ok := c.subs[id]; !ok && len(c.subs) >= MaxSubscriptions {
		h.send(c, item{frame: errorFrame(CodeTooManySubscriptions, fmt.Sprintf("a connection may follow at most %d matches", MaxSubscriptions), id), op: OpError, match: id}, false)
		return
	}
	if m == nil {
		m = newMatch(id)
		h.matches[id] = m
	}
	it := item{match: id}
	reason := ""
	switch {
	case !cmd.hasSince:
		it.frame, it.op, it.seq = h.snapshot(m), OpSnapshot, m.seq
	case cmd.epoch != "" && cmd.epoch != h.epoch:
		reason = ReasonEpochChanged
		h.stats.resetEpoch.Add(1)
	case since > m.seq:
		reason = ReasonAhead
		h.stats.resetAhead.Add(1)
	case since+1 < m.firstSeq():
		reason = ReasonHistoryGone
		h.stats.resetGone.Add(1)
	default:
		first := m.firstSeq()
		it.frame = mustMarshal(Resumed{Op: OpResumed, Match: id, Epoch: h.epoch, Since: since, Seq: m.seq})
		it.op, it.seq = OpResumed, since
		i := int(since + 1 - first)
		if cmd.latest && i < m.hist.len() {
			i = m.hist.len() - 1 // latest mode: only the newest event
		}
		it.batch, it.batchOp, it.batchSeq = m.hist.slice(i, m.hist.len()), OpEvent, first+uint64(i)
	}
	if reason != "" {
		c.log.Debug().Str("match", id).Uint64("since", since).Uint64("seq", m.seq).Str("reason", reason).Msg("resume not possible, sending reset and snapshot")
		it.frame = mustMarshal(Reset{Op: OpReset, Match: id, Epoch: h.epoch, Reason: reason, Since: since, Seq: m.seq})
		it.op, it.seq = OpReset, m.seq
		it.batch, it.batchOp, it.batchSeq = [][]byte{h.snapshot(m)}, OpSnapshot, m.seq
	}
	if !h.send(c, it, false) {
		h.forget(m)
		return
	}
	c.subs[id] = m
	m.subs[c] = cmd.latest
}

func (h *Hub) unsubscribe(c *client, id string) {
	if c.kicked {
		return
	}
	if m, ok := c.subs[id]; ok {
		delete(c.subs, id)
		delete(m.subs, c)
		h.forget(m)
	}
	h.send(c, item{frame: mustMarshal(Unsubscribed{Op: OpUnsubscribed, Match: id}), op: OpUnsubscribed, match: id}, false)
}

// snapshot returns the match's encoded snapshot, cached until the next event.
func (h *Hub) snapshot(m *match) []byte {
	if m.snap == nil {
		m.snap = h.encodeSnapshot(m)
	}
	return m.snap
}

func (h *Hub) encodeSnapshot(m *match) []byte {
	s := Snapshot{
		Op: OpSnapshot, Match: m.id, Epoch: h.epoch, Seq: m.seq, State: m.state, Result: m.result,
		Info: m.info, Scorecard: m.card, Commentary: m.lines.slice(0, m.lines.len()),
	}
	if s.State == "" {
		s.State = StateUnknown
	}
	return mustMarshal(s)
}

// events answers GET /v1/matches/{id}/events.
func (h *Hub) events(cmd command) reply {
	since, limit := cmd.since, cmd.limit
	m := h.matches[cmd.match]
	if m == nil || !m.live {
		return reply{}
	}
	r := reply{ok: true, seq: m.seq}
	if m.hist.len() > 0 {
		r.firstSeq = m.firstSeq()
	}
	first := m.firstSeq()
	switch {
	case cmd.epoch != "" && cmd.epoch != h.epoch:
		r.epochOff = true
		return r
	case since >= m.seq:
		return r
	case since+1 < first:
		r.gone = true
		return r
	}
	i := int(since + 1 - first)
	j := min(m.hist.len(), i+limit)
	r.frames = m.hist.slice(i, j)
	return r
}

// list answers GET /v1/matches: live matches first, then by ID.
func (h *Hub) list() []MatchSummary {
	out := make([]MatchSummary, 0, len(h.matches))
	for _, m := range h.matches {
		if m.live {
			out = append(out, m.summary())
		}
	}
	slices.SortFunc(out, func(a, b MatchSummary) int {
		return cmp.Or(cmp.Compare(stateRank(a.State), stateRank(b.State)), cmp.Compare(a.ID, b.ID))
	})
	return out
}

func stateRank(s string) int {
	switch s {
	case event.StateLive:
		return 0
	case event.StateBreak:
		return 1
	case event.StateScheduled:
		return 2
	case event.StateCompleted:
		return 4
	case event.StateAbandoned:
		return 5
	}
	return 3
}

func (m *match) summary() MatchSummary {
	s := MatchSummary{ID: m.id, State: m.state, Result: m.result, Seq: m.seq, Score: []InningsScore{}, Teams: []string{}}
	if s.State == "" {
		s.State = StateUnknown
	}
	if i := m.info; i != nil {
		s.Title, s.Format, s.Venue, s.Start = i.Title, i.Format, i.Venue, i.Start
		if i.Teams != nil {
			s.Teams = i.Teams
		}
	}
	if s.Title == "" {
		s.Title = m.id
	}
	switch {
	case m.card != nil:
		for _, in := range m.card.Innings {
			s.Score = append(s.Score, InningsScore{Innings: in.Number, Team: in.Team, Runs: in.Runs, Wickets: in.Wickets, Overs: in.Overs})
		}
	case len(m.scores) > 0:
		for _, sc := range m.scores {
			s.Score = append(s.Score, InningsScore(sc))
		}
		slices.SortFunc(s.Score, func(a, b InningsScore) int { return cmp.Compare(a.Innings, b.Innings) })
	}
	parts := make([]string, 0, len(s.Score))
	for _, sc := range s.Score {
		parts = append(parts, fmt.Sprintf("%s %d/%d (%s)", sc.Team, sc.Runs, sc.Wickets, sc.Overs))
	}
	s.Summary = strings.Join(parts, ", ")
	return s
}

func errorFrame(code, msg, match string) []byte {
	return mustMarshal(ErrorFrame{Op: OpError, Code: code, Message: msg, Match: match})
}

// mustMarshal encodes the package's own wire types, which always encode:
// they hold no channels, funcs or non-finite floats.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("broadcast: encode %T: %v", v, err))
	}
	return b
}
