package stats

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

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
	matches map[string]*match
}

// New returns a stage with no matches.
func New() *Stage { return &Stage{matches: make(map[string]*match)} }

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name:         "stats",
		Version:      Version,
		Description:  "keeps a live scorecard per match and attaches it to every event",
		ConfigSchema: `{"type":"object","additionalProperties":false}`,
	}
}

// config is the stage's YAML config. It has no fields yet: any key is
// reported as unknown.
type config struct{}

// Configure implements sdk.Stage. The stage takes no configuration; an
// unknown key is an error.
func (s *Stage) Configure(_ context.Context, cfg sdk.Config) error {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return fmt.Errorf("stats: configure: %w", err)
	}
	return nil
}

// Process implements sdk.Stage. It updates the scorecard of ev's match and
// returns ev with that scorecard attached. A malformed event is an error
// wrapping ErrMalformed and leaves the scorecard unchanged.
func (s *Stage) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	if ev == nil {
		return nil, fmt.Errorf("%w: nil event", ErrMalformed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.matches[ev.GetMatch()]
	if m == nil {
		m = newMatch()
		s.matches[ev.GetMatch()] = m
	}
	if err := m.apply(ev); err != nil {
		return nil, fmt.Errorf("%w: event %q: %w", ErrMalformed, ev.GetId(), err)
	}
	ev.Scorecard = m.scorecard()
	return []*sdk.Event{ev}, nil
}

// match is the scoring state of one match.
type match struct {
	bpo       int  // balls per over
	overs     int  // scheduled overs per innings; 0 unlimited or unknown
	infoKnown bool // a MatchInfo has been seen
	state     string
	result    string
	innings   []*innings          // by number
	ids       map[string]struct{} // IDs of applied ball events
}

func newMatch() *match { return &match{bpo: 6, ids: make(map[string]struct{})} }

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
		return m.ball(ev.GetId(), ev.GetBall())
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

func (m *match) ball(id string, b *pb.Ball) error {
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
			return nil // already applied, or older than what was applied
		}
		in.balls[i] = d
		in.rebuild(m.bpo)
		m.remember(id)
		return nil
	}
	if _, seen := m.ids[id]; seen {
		return nil
	}
	m.remember(id)
	in.byKey[k] = len(in.balls)
	in.balls = append(in.balls, d)
	in.apply(&in.balls[len(in.balls)-1], m.bpo)
	return nil
}

func (m *match) remember(id string) {
	if id != "" {
		m.ids[id] = struct{}{}
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
	_ sdk.Stage     = (*Stage)(nil)
	_ sdk.Describer = (*Stage)(nil)
)
