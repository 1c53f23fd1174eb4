package stats

import (
	"math"

	"google.golang.org/protobuf/proto"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Situation thresholds. They are the commentary's, not the Laws'.
const (
	// A batter or stand is near 50 within nearFifty runs, near a hundred
	// (or 150, ...) within nearHundred.
	nearFifty   = 5
	nearHundred = 10
	// A team is near its next hundred within nearTeam runs.
	nearTeam = 10
	// Records within the match start at these values: a batter's 30 is
	// worth mentioning as the match's highest score, a 10 is not.
	recordScore   = 30
	recordWickets = 3
	recordStand   = 30
	recordSixes   = 3
	// Test sessions are estimated at this many overs; three make a day.
	sessionOvers = 30
	// situations kept for redeliveries (see match.sits)
	keptSituations = 256
)

// keep stores the situation computed for event id, for a redelivery of it.
func (m *match) keep(id string, s *pb.Situation) {
	if id == "" {
		return
	}
	if _, ok := m.sits[id]; !ok {
		m.sitOrder = append(m.sitOrder, id)
		if len(m.sitOrder) > keptSituations {
			delete(m.sits, m.sitOrder[0])
			m.sitOrder = m.sitOrder[1:]
		}
	}
	m.sits[id] = proto.Clone(s).(*pb.Situation)
}

// situationFor returns a copy of the situation event id got when it was
// applied, or else the standing situation at ev, without what happened.
func (m *match) situationFor(ev *pb.Event) *pb.Situation {
	if s, ok := m.sits[ev.GetId()]; ok {
		return proto.Clone(s).(*pb.Situation)
	}
	return m.situation(ev, false)
}

// situation computes what a commentator knows at ev, which has just been
// applied. happened says ev changed the match: only then does the
// situation carry what ev brought (milestones reached, records, summaries,
// a phase change).
func (m *match) situation(ev *pb.Event, happened bool) *pb.Situation {
	s := &pb.Situation{Phase: &pb.Phase{}, Momentum: &pb.Momentum{Last3: &pb.Spell{}, Last5: &pb.Spell{}}, Partnership: &pb.Partnership{}}
	var in *innings
	end := -1 // deliveries of in up to and including ev's ball
	var b *pb.Ball
	switch ev.GetKind() {
	case "ball":
		b = ev.GetBall()
		in = m.inningsNo(int(b.GetInnings()))
		if in != nil {
			if i, ok := in.byKey[ballKey{over: b.GetOver(), ball: b.GetBall(), sub: b.GetSub()}]; ok {
				end = i + 1
			}
		}
	case "over":
		in = m.inningsNo(int(ev.GetOver().GetInnings()))
	case "innings":
		in = m.inningsNo(int(ev.GetInnings().GetNumber()))
	default:
		if len(m.innings) > 0 {
			in = m.innings[len(m.innings)-1]
		}
	}
	if happened && ev.GetKind() == "status" {
		s.Result = m.matchResult(ev.GetStatus())
	}
	if in == nil {
		return s
	}
	if end < 0 {
		end = len(in.balls)
	}
	s.Innings = int32(in.number)
	s.Phase = m.phase(in, end, happened && b != nil)
	s.Chase = m.chase(in)
	s.Momentum = m.momentum(in, end)
	s.Partnership = &pb.Partnership{Runs: int32(in.t.part.runs), Balls: int32(in.t.part.balls)}
	for _, n := range []string{in.t.part.a, in.t.part.b} {
		if n != "" {
			s.Partnership.Batters = append(s.Partnership.Batters, n)
		}
	}
	switch ev.GetKind() {
	case "ball":
		if end > 0 {
			d := &in.balls[end-1]
			s.Near = m.near(in, d, happened)
			s.HatTrickBall, s.OnHatTrick = in.hatTrick(end)
			if happened {
				s.Milestones = m.milestones(in, d, s.HatTrickBall)
				s.Records = m.records(in, d)
				if o := in.t.overs[d.over]; o != nil && d.legal() && o.legal == m.bpo {
					s.Over = m.overSummary(in, d.over)
				}
			}
		}
	case "over":
		if happened {
			s.Over = m.overSummary(in, int(ev.GetOver().GetNumber()))
		}
	case "innings":
		if happened && ev.GetInnings().GetEnd() {
			s.InningsEnd = m.inningsSummary(in)
		}
	}
	return s
}

// inningsNo returns innings n, or nil.
func (m *match) inningsNo(n int) *innings {
	for _, in := range m.innings {
		if in.number == n {
			return in
		}
	}
	return nil
}

// limitOvers is the innings' overs limit, 0 when unlimited or unknown.
func (m *match) limitOvers(in *innings) int {
	if in.superOver {
		return 1
	}
	if tg := m.target(in); tg != nil {
		if b := oversToBalls(tg.GetOvers(), m.bpo); b > 0 {
			return (b + m.bpo - 1) / m.bpo
		}
	}
	return m.overs
}

// phaseName is the phase of over over0 (0-based) of an innings limited to
// limit overs: a T20's powerplay is overs 1-6 and its death overs 16-20,
// an ODI's 1-10 and 41-50; other limits scale those of the nearer format.
func phaseName(limit, over0 int) string {
	pp, death := float64(limit)*0.3, float64(limit)*0.25
	if limit > 20 {
		pp, death = float64(limit)*0.2, float64(limit)*0.2
	}
	over := over0 + 1
	switch {
	case over <= max(int(math.Round(pp)), 1):
		return phasePowerplay
	case over > limit-max(int(math.Round(death)), 1):
		return phaseDeath
	}
	return phaseMiddle
}

// Names of phases and pressure levels, as core/event has them.
const (
	phasePowerplay = "powerplay"
	phaseMiddle    = "middle"
	phaseDeath     = "death"
	phaseSession   = "session"
	phaseSuperOver = "super over"

	pressureLow      = "low"
	pressureModerate = "moderate"
	pressureHigh     = "high"
	pressureExtreme  = "extreme"
)

// phase is the phase at delivery end-1 of in (the over in progress when
// the event is not a ball). Changed marks the first delivery of a new
// phase or (estimated) session.
func (m *match) phase(in *innings, end int, isBall bool) *pb.Phase {
	over0 := in.t.legal / m.bpo
	if isBall && end > 0 {
		over0 = in.balls[end-1].over
	}
	p := &pb.Phase{Over: int32(over0 + 1)}
	switch limit := m.limitOvers(in); {
	case in.superOver:
		p.Name = phaseSuperOver
	case limit > 0:
		over0 = min(over0, limit-1) // an innings-end event after the last over
		p.Over = int32(over0 + 1)
		p.Name = phaseName(limit, over0)
		if isBall && end > 1 {
			p.Changed = phaseName(limit, in.balls[end-2].over) != p.Name
		}
	case m.infoKnown && m.overs == 0:
		// Legal balls bowled in the match before this delivery.
		before := 0
		for _, o := range m.innings {
			if o.number < in.number && !o.superOver {
				before += o.t.legal
			}
		}
		n := end
		if isBall && end > 0 {
			n = end - 1
		}
		before += in.legalBefore(n)
		k := before / m.bpo / sessionOvers
		p.Name, p.Day, p.Session, p.Estimated = phaseSession, int32(k/3+1), int32(k%3+1), true
		if isBall && n > 0 && in.balls[n-1].legal() {
			p.Changed = (before-1)/m.bpo/sessionOvers != k
		}
	}
	return p
}

// chase is the chasing side's position in in, or nil when in is no chase
// or the chase is over.
func (m *match) chase(in *innings) *pb.Chase {
	tg := m.target(in)
	runs := in.runs()
	if tg == nil || tg.GetRuns() <= 0 || runs >= int(tg.GetRuns()) || in.closed {
		return nil
	}
	c := &pb.Chase{
		Target:      tg.GetRuns(),
		RunsNeeded:  tg.GetRuns() - int32(runs),
		CurrentRate: perOver(runs, in.t.legal, m.bpo),
		WicketsLeft: int32(max(10-in.t.wickets, 0)),
	}
	limit := m.ballLimit(in, tg)
	if limit > 0 {
		left := max(limit-in.t.legal, 0)
		c.BallsLeft = int32(left)
		if left > 0 {
			c.RequiredRate = perOver(int(c.RunsNeeded), left, m.bpo)
		}
	}
	c.Pressure = pressure(c, limit, m.bpo)
	return c
}

// pressure grades a chase. With an overs limit (limit balls): the required
// rate against the current rate or a par rate, whichever is higher, raised
// when the required rate is steep in itself; without one:
// runs needed per wicket left. Few wickets left raise it further.
func pressure(c *pb.Chase, limit, bpo int) string {
	levels := [...]string{pressureLow, pressureModerate, pressureHigh, pressureExtreme}
	level := 0
	wl := int(c.GetWicketsLeft())
	if limit > 0 {
		par, high, extreme := 5.5, 8.0, 10.0 // ODI and longer
		if limit <= 20*bpo {
			par, high, extreme = 8, 12, 15
		}
		// A chase starts slowly: below par, the current rate is not the
		// measure.
		rrr, crr := c.GetRequiredRate(), max(c.GetCurrentRate(), par)
		switch d := rrr - crr; {
		case d <= 0.5:
			level = 0
		case d <= 2:
			level = 1
		case d <= 4:
			level = 2
		default:
			level = 3
		}
		if rrr >= high {
			level = max(level, 2)
		}
		if rrr >= extreme || c.GetBallsLeft() == 0 || c.GetRunsNeeded() > 6*c.GetBallsLeft() {
			level = 3
		}
	} else {
		switch per := float64(c.GetRunsNeeded()) / float64(max(wl, 1)); {
		case per <= 15:
			level = 0
		case per <= 30:
			level = 1
		case per <= 50:
			level = 2
		default:
			level = 3
		}
	}
	switch {
	case wl <= 2:
		level++
	case wl <= 4 && level >= 1:
		level++
	}
	return levels[min(level, 3)]
}

// momentum sums the last 3 and 5 completed overs among in's first end
// deliveries, and counts the dot balls in a row and the legal balls since
// the last boundary. It reads back from end only as far as it needs.
func (m *match) momentum(in *innings, end int) *pb.Momentum {
	done := in.legalBefore(end) / m.bpo // completed overs: 0 .. done-1
	mo := &pb.Momentum{Last3: &pb.Spell{Overs: int32(min(done, 3))}, Last5: &pb.Spell{Overs: int32(min(done, 5))}}
	windows := []struct {
		sp *pb.Spell
		n  int
	}{{mo.Last3, 3}, {mo.Last5, 5}}
	for i := end - 1; i >= 0 && in.balls[i].over >= done-5; i-- {
		d := &in.balls[i]
		for _, w := range windows {
			if d.over < done-w.n || d.over >= done {
				continue
			}
			w.sp.Runs += int32(d.total())
			w.sp.Wickets += int32(d.teamWickets())
			if d.boundary() && d.runsBat == 4 {
				w.sp.Fours++
			}
			if d.boundary() && d.runsBat == 6 {
				w.sp.Sixes++
			}
		}
	}
	if end == len(in.balls) {
		for _, b := range in.t.batters {
			mo.Boundaries += int32(b.fours + b.sixes)
		}
	} else {
		for i := range end {
			if in.balls[i].boundary() {
				mo.Boundaries++
			}
		}
	}
	dots := true
	for i := end - 1; i >= 0; i-- {
		d := &in.balls[i]
		if d.boundary() {
			break
		}
		if d.legal() {
			mo.BallsSinceBoundary++
		}
		if dots = dots && d.legal() && d.total() == 0; dots {
			mo.DotStreak++
		}
	}
	return mo
}

// legalBefore counts the legal balls among in's first n deliveries.
func (in *innings) legalBefore(n int) int {
	if n == len(in.balls) {
		return in.t.legal
	}
	legal := 0
	for i := range n {
		if in.balls[i].legal() {
			legal++
		}
	}
	return legal
}

// boundary reports a four or six off the bat.
func (d *delivery) boundary() bool { return !d.nonBoundary && (d.runsBat == 4 || d.runsBat == 6) }

// credited counts the dismissals on d credited to its bowler.
func (d *delivery) credited() int {
	n := 0
	for _, w := range d.wickets {
		if w.creditsBowler() {
			n++
		}
	}
	return n
}

// teamWickets counts the dismissals on d that cost the side a wicket.
func (d *delivery) teamWickets() int {
	n := 0
	for _, w := range d.wickets {
		if w.teamWicket() {
			n++
		}
	}
	return n
}
