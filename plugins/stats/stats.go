package stats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/ballcast/ballcast/plugins/internal/eventlog"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Version is the stage's version, reported by Describe.
const Version = "0.1.0"

// ErrMalformed is wrapped by Process when an event's payload cannot be
// scored, for example a ball event without a ball or with negative runs:
// "stats: malformed event: event \"m/1.0.1.0\": negative runs".
var ErrMalformed = errors.New("stats: malformed event")

// Stage is the stats stage. Create it with New.
type Stage struct {
	mu      sync.Mutex
	store   sdk.Store
	matches map[string]*match // loaded from the store on first use
}

// New returns a stage with no matches and an in-memory store; Configure
// replaces the store with the one the host offers.
func New() *Stage { return &Stage{store: sdk.NewMemStore(), matches: make(map[string]*match)} }

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name:         "stats",
		Version:      Version,
		Description:  "keeps a live scorecard per match and attaches it, with the situation a commentator knows, to every event",
		ConfigSchema: `{"type":"object","additionalProperties":false}`,
	}
}

// config is the stage's YAML config. It has no fields yet: any key is
// reported as unknown.
type config struct{}

// Configure implements sdk.Stage. The stage takes no configuration; an
// unknown key is an error. It keeps its state in cfg.Store() and forgets
// what it held in memory, which is reloaded from the store on demand.
func (s *Stage) Configure(_ context.Context, cfg sdk.Config) error {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return fmt.Errorf("stats: configure: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store = cfg.Store()
	s.matches = make(map[string]*match)
	return nil
}

// Process implements sdk.Stage. It updates the scorecard of ev's match and
// returns ev with that scorecard attached. A malformed event is an error
// wrapping ErrMalformed and leaves the scorecard unchanged. A redelivery
// (an event with the ID and non-zero Seq of one already applied) is not
// applied again but returned with the current scorecard. The match's state
// is stored before Process returns; if that fails, so does the event.
func (s *Stage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	outs, errs := s.ProcessBatch(ctx, []*sdk.Event{ev})
	return outs[0], errs[0]
}

// ProcessBatch implements sdk.BatchStage: Process for each event, with the
// state of each match the batch changed stored once, at the end. When it
// cannot be stored, every event of that match in the batch fails, and the
// host's retry is recognised as a redelivery.
func (s *Stage) ProcessBatch(ctx context.Context, batch []*sdk.Event) ([][]*sdk.Event, []error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	outs := make([][]*sdk.Event, len(batch))
	errs := make([]error, len(batch))
	var touched []*match
	for i, ev := range batch {
		applied := false
		if ev == nil {
			errs[i] = fmt.Errorf("%w: nil event", ErrMalformed)
			continue
		}
		m, err := s.match(ctx, ev.GetMatch())
		if err != nil {
			errs[i] = err
			continue
		}
		if !m.redelivered(ev) {
			// Even a malformed event may have changed the match (its
			// MatchInfo is taken first), so it is logged either way.
			m.log.Append(stored(ev))
			if !slices.Contains(touched, m) {
				touched = append(touched, m)
			}
			if err := m.process(ev); err != nil {
				errs[i] = fmt.Errorf("%w: event %q: %w", ErrMalformed, ev.GetId(), err)
				continue
			}
			applied = true
		}
		ev.Scorecard = m.scorecard()
		if applied {
			ev.Situation = m.last
		} else {
			ev.Situation = m.situationFor(ev)
		}
		outs[i] = []*sdk.Event{ev}
	}
	for _, m := range touched {
		err := s.save(ctx, m)
		if err == nil {
			continue
		}
		for i, ev := range batch {
			if ev != nil && ev.GetMatch() == m.id && errs[i] == nil {
				outs[i], errs[i] = nil, err
			}
		}
	}
	return outs, errs
}

// match returns the state of match id, loading it from the store the first
// time the match is seen since the stage was configured; s.mu is held. The
// stored log of applied events is applied again, through the same code as
// when they first came, so the state is exactly what it was.
func (s *Stage) match(ctx context.Context, id string) (*match, error) {
	if m := s.matches[id]; m != nil {
		return m, nil
	}
	m := newMatch(id)
	if err := m.log.Load(ctx, s.store, func(ev *pb.Event) { _ = m.process(ev) }); err != nil {
		return nil, fmt.Errorf("stats: load match %s: %w", id, err)
	}
	s.matches[id] = m
	return m, nil
}

// save stores what m applied since it was last stored; s.mu is held.
func (s *Stage) save(ctx context.Context, m *match) error {
	if err := m.log.Flush(ctx, s.store); err != nil {
		return fmt.Errorf("stats: store match %s: %w", m.id, err)
	}
	return nil
}

// match is the scoring state of one match.
type match struct {
	id        string
	bpo       int  // balls per over
	overs     int  // scheduled overs per innings; 0 unlimited or unknown
	infoKnown bool // a MatchInfo has been seen
	state     string
	result    string
	innings   []*innings        // by number
	ids       map[string]uint64 // IDs of applied events, with the Seq each was first applied with
	log       eventlog.Log      // the applied events, in the store

	// The situations of the last keptSituations applied events, by ID, for
	// their redeliveries. They are rebuilt with the state after a restart.
	sits     map[string]*pb.Situation
	sitOrder []string
	changed  bool          // the event being applied changed the match
	last     *pb.Situation // the situation after the event last applied
}

func newMatch(id string) *match {
	return &match{id: id, bpo: 6, ids: make(map[string]uint64), log: eventlog.New("match/"+id, chunkSize), sits: make(map[string]*pb.Situation)}
}

// process applies ev and, if it was well formed, remembers its ID and
// keeps the situation after it. Events loaded from the store take the same
// path as live ones, so a restarted stage has the same situations.
func (m *match) process(ev *pb.Event) error {
	m.changed = true
	if err := m.apply(ev); err != nil {
		return err
	}
	m.remember(ev.GetId(), ev.GetSeq())
	m.last = m.situation(ev, m.changed)
	m.keep(ev.GetId(), m.last)
	return nil
}

// stored is ev stripped to what apply reads, for the log.
func stored(ev *pb.Event) *pb.Event {
	out := &pb.Event{
		Id: ev.GetId(), Seq: ev.GetSeq(), Kind: ev.GetKind(),
		Status: ev.GetStatus(), Innings: ev.GetInnings(), Over: ev.GetOver(), Ball: ev.GetBall(),
	}
	if info := ev.GetInfo(); info != nil {
		out.Info = &pb.MatchInfo{Overs: info.GetOvers(), BallsPerOver: info.GetBallsPerOver()}
	}
	return out
}

// redelivered reports whether ev is an ingest log entry already applied:
// same ID, same non-zero Seq.
func (m *match) redelivered(ev *pb.Event) bool {
	seq, ok := m.ids[ev.GetId()]
	return ok && seq != 0 && seq == ev.GetSeq()
}

func (m *match) apply(ev *pb.Event) error {
	if info := ev.GetInfo(); info != nil {
		m.info(info)
	}
	switch ev.GetKind() {
	case "status":
		m.status(ev.GetStatus())
	case "innings":
		return m.inningsEvent(ev.GetInnings())
	case "over":
		return m.over(ev.GetOver())
	case "ball":
		return m.ball(ev.GetId(), ev.GetSeq(), ev.GetBall())
	}
	return nil
}

// info takes the overs limit and over length from a MatchInfo, which may
// come with any event and whenever it changes.
func (m *match) info(info *pb.MatchInfo) {
	m.infoKnown = true
	m.overs = max(int(info.GetOvers()), 0)
	if bpo := int(info.GetBallsPerOver()); bpo > 0 && bpo != m.bpo {
		m.bpo = bpo
		for _, in := range m.innings {
			in.rebuild(m.bpo)
		}
	}
}

func (m *match) status(st *pb.Status) {
	switch {
	case st.GetState() != "": // a new state replaces the result too
		m.state, m.result = st.GetState(), st.GetResult()
	case st.GetResult() != "":
		m.result = st.GetResult()
	}
}

// find returns innings n, creating it if needed, and fills in its team and
// super-over mark if they were not known.
func (m *match) find(n int, team string, superOver bool) *innings {
	i := sort.Search(len(m.innings), func(i int) bool { return m.innings[i].number >= n })
	if i < len(m.innings) && m.innings[i].number == n {
		in := m.innings[i]
		if in.team == "" {
			in.team = team
		}
		in.superOver = in.superOver || superOver
		return in
	}
	in := newInnings(n, team, superOver)
	m.innings = append(m.innings, nil)
	copy(m.innings[i+1:], m.innings[i:])
	m.innings[i] = in
	return in
}

// closeBefore closes every innings numbered below n: a later innings has begun.
func (m *match) closeBefore(n int) {
	for _, in := range m.innings {
		if in.number < n && !in.closed {
			in.close(m.bpo)
		}
	}
}

func (m *match) inningsEvent(e *pb.Innings) error {
	if e == nil {
		return errors.New("innings event without innings")
	}
	n := int(e.GetNumber())
	if n < 1 {
		return fmt.Errorf("innings number %d", n)
	}
	in := m.find(n, e.GetTeam(), e.GetSuperOver())
	m.closeBefore(n)
	if e.GetForfeited() {
		in.forfeited = true
	}
	if !e.GetEnd() {
		if t := e.GetTarget(); t != nil {
			in.target = &pb.Target{Runs: t.GetRuns(), Overs: t.GetOvers()}
		}
		if pre := int(e.GetPenaltyRuns()); pre != in.penaltyPre {
			in.penaltyPre = pre
			in.rebuild(m.bpo)
		}
		return nil
	}
	in.declared = e.GetDeclared()
	in.penaltyPost = int(e.GetPenaltyRuns())
	in.close(m.bpo)
	return nil
}

func (m *match) over(o *pb.Over) error {
	if o == nil {
		return errors.New("over event without over")
	}
	n := int(o.GetInnings())
	i := sort.Search(len(m.innings), func(i int) bool { return m.innings[i].number >= n })
	if i == len(m.innings) || m.innings[i].number != n {
		return nil // an over of an innings never seen: nothing to close
	}
	m.innings[i].endOver(int(o.GetNumber()), m.bpo)
	return nil
}

func (m *match) ball(id string, seq uint64, b *pb.Ball) error {
	if b == nil {
		return errors.New("ball event without ball")
	}
	if err := validBall(b); err != nil {
		return err
	}
	in := m.find(int(b.GetInnings()), b.GetBattingTeam(), b.GetSuperOver())
	m.closeBefore(in.number)
	if m.state == "" {
		m.state = "live"
	}
	d := newDelivery(b)
	k := ballKey{over: b.GetOver(), ball: b.GetBall(), sub: b.GetSub()}
	if i, ok := in.byKey[k]; ok {
		if d.rev <= in.balls[i].rev {
			m.changed = false
			return nil // already applied, or older than what was applied
		}
		in.balls[i] = d
		in.rebuild(m.bpo)
		m.remember(id, seq)
		return nil
	}
	if _, seen := m.ids[id]; seen {
		m.changed = false
		return nil
	}
	m.remember(id, seq)
	in.byKey[k] = len(in.balls)
	in.balls = append(in.balls, d)
	in.apply(&in.balls[len(in.balls)-1], m.bpo)
	return nil
}

// remember records an applied event ID with the Seq it first came with.
func (m *match) remember(id string, seq uint64) {
	if _, ok := m.ids[id]; id != "" && !ok {
		m.ids[id] = seq
	}
}

func validBall(b *pb.Ball) error {
	switch {
	case b.GetInnings() < 1:
		return fmt.Errorf("ball innings %d", b.GetInnings())
	case b.GetOver() < 0 || b.GetBall() < 0 || b.GetSub() < 0:
		return fmt.Errorf("ball position %d.%d.%d", b.GetOver(), b.GetBall(), b.GetSub())
	case b.GetRunsBat() < 0:
		return errors.New("negative runs")
	}
	x := b.GetExtras()
	if x.GetWides() < 0 || x.GetNoballs() < 0 || x.GetByes() < 0 || x.GetLegbyes() < 0 || x.GetPenalty() < 0 {
		return errors.New("negative extras")
	}
	return nil
}

var (
	_ sdk.Stage      = (*Stage)(nil)
	_ sdk.BatchStage = (*Stage)(nil)
	_ sdk.Describer  = (*Stage)(nil)
)
