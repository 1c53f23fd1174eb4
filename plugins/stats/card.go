package stats

import (
	"math"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// scorecard builds a fresh wire scorecard of the match; nothing in it is
// shared with the stage's state or with earlier scorecards.
func (m *match) scorecard() *pb.Scorecard {
	sc := &pb.Scorecard{State: m.state, Result: m.result, Innings: make([]*pb.InningsCard, 0, len(m.innings))}
	for _, in := range m.innings {
		sc.Innings = append(sc.Innings, m.card(in))
	}
	return sc
}

func (m *match) card(in *innings) *pb.InningsCard {
	t := &in.t
	runs := in.runs()
	ex := t.extras
	ex.penalty += in.penaltyPost
	c := &pb.InningsCard{
		Number:     int32(in.number),
		Team:       in.team,
		SuperOver:  in.superOver,
		Runs:       int32(runs),
		Wickets:    int32(t.wickets),
		LegalBalls: int32(t.legal),
		Extras: &pb.Extras{
			Wides: int32(ex.wides), Noballs: int32(ex.noballs), Byes: int32(ex.byes),
			Legbyes: int32(ex.legbyes), Penalty: int32(ex.penalty),
		},
		Declared: in.declared,
		Closed:   in.closed,
		RunRate:  perOver(runs, t.legal, m.bpo),
	}
	if tg := m.target(in); tg != nil {
		c.Target = tg
		c.RunsNeeded = int32(max(int(tg.GetRuns())-runs, 0))
		if limit := m.ballLimit(in, tg); limit > 0 {
			left := max(limit-t.legal, 0)
			c.BallsLeft = int32(left)
			if left > 0 {
				c.RequiredRate = perOver(int(c.RunsNeeded), left, m.bpo)
			}
		}
	}
	c.Batters = make([]*pb.BatterCard, 0, len(t.batters))
	for _, b := range t.batters {
		c.Batters = append(c.Batters, &pb.BatterCard{
			Name: b.name, Runs: int32(b.runs), Balls: int32(b.balls), Fours: int32(b.fours), Sixes: int32(b.sixes),
			StrikeRate: round2(ratio(b.runs*100, b.balls)), Out: b.out, HowOut: b.howOut, Bowler: b.bowler,
			Fielders: append([]string(nil), b.fielders...),
		})
	}
	c.Bowlers = make([]*pb.BowlerCard, 0, len(t.bowlers))
	for _, b := range t.bowlers {
		c.Bowlers = append(c.Bowlers, &pb.BowlerCard{
			Name: b.name, LegalBalls: int32(b.legal), Maidens: int32(b.maidens), Runs: int32(b.runs),
			Wickets: int32(b.wickets), Wides: int32(b.wides), Noballs: int32(b.noballs),
			Economy: perOver(b.runs, b.legal, m.bpo),
		})
	}
	c.FallOfWickets = make([]*pb.FallOfWicket, 0, len(t.fow))
	for _, f := range t.fow {
		c.FallOfWickets = append(c.FallOfWickets, &pb.FallOfWicket{Runs: int32(f.runs), Wickets: int32(f.wickets), Player: f.player, LegalBalls: int32(f.legal)})
	}
	p := &pb.Partnership{Runs: int32(t.part.runs), Balls: int32(t.part.balls)}
	for _, name := range []string{t.part.a, t.part.b} {
		if name != "" {
			p.Batters = append(p.Batters, name)
		}
	}
	c.Partnership = p
	return c
}

// runs is the innings total, innings-level penalty runs included.
func (in *innings) runs() int { return in.t.runs + in.penaltyPost }

// target is the chasing side's target: the one the feed stated, or else
// one derived from earlier innings: the second innings of a limited-overs
// match, the second super over of a pair, or the fourth innings of a match
// without an overs limit. It returns nil when in is not a chase.
func (m *match) target(in *innings) *pb.Target {
	if in.target != nil {
		return &pb.Target{Runs: in.target.GetRuns(), Overs: in.target.GetOvers()}
	}
	var before []*innings // earlier innings of the same kind
	for _, o := range m.innings {
		if o.number < in.number && o.superOver == in.superOver {
			before = append(before, o)
		}
	}
	switch {
	case in.superOver && len(before)%2 == 1:
		return &pb.Target{Runs: int32(before[len(before)-1].runs() + 1), Overs: 1}
	case !in.superOver && m.overs > 0 && len(before) == 1:
		return &pb.Target{Runs: int32(before[0].runs() + 1), Overs: float64(m.overs)}
	case !in.superOver && m.infoKnown && m.overs == 0 && len(before) == 3 && in.team != "":
		lead := 0
		for _, o := range before {
			if o.team == in.team {
				lead -= o.runs()
			} else {
				lead += o.runs()
			}
		}
		if lead >= 0 {
			return &pb.Target{Runs: int32(lead + 1)}
		}
	}
	return nil
}

// ballLimit is the number of legal balls the innings may last, 0 when
// unlimited: one over for a super over, else the target's overs, else the
// scheduled overs.
func (m *match) ballLimit(in *innings, tg *pb.Target) int {
	if in.superOver {
		return m.bpo
	}
	if b := oversToBalls(tg.GetOvers(), m.bpo); b > 0 {
		return b
	}
	return m.overs * m.bpo
}

// oversToBalls converts overs as feeds state them, "O.B" read as a number
// (14.3 is 14 overs and 3 balls), to balls.
func oversToBalls(overs float64, bpo int) int {
	if !(overs > 0) || overs > 1e6 {
		return 0
	}
	whole := math.Floor(overs)
	part := int(math.Round((overs - whole) * 10))
	return int(whole)*bpo + min(part, bpo)
}

// perOver is runs per over of bpo balls, to two decimals; 0 before a ball.
func perOver(runs, balls, bpo int) float64 { return round2(ratio(runs*bpo, balls)) }

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }
