package eventpb

import (
	"github.com/ballcast/ballcast/core/event"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// SituationToProto converts a situation.
func SituationToProto(s *event.Situation) *pb.Situation {
	if s == nil {
		return nil
	}
	p := &pb.Situation{
		Innings: int32(s.Innings),
		Phase: &pb.Phase{Name: s.Phase.Name, Over: int32(s.Phase.Over), Changed: s.Phase.Changed,
			Day: int32(s.Phase.Day), Session: int32(s.Phase.Session), Estimated: s.Phase.Estimated},
		Momentum: &pb.Momentum{Last3: spellToProto(s.Momentum.Last3), Last5: spellToProto(s.Momentum.Last5),
			DotStreak: int32(s.Momentum.DotStreak), BallsSinceBoundary: int32(s.Momentum.BallsSinceBoundary),
			Boundaries: int32(s.Momentum.Boundaries)},
		Partnership:  &pb.Partnership{Runs: int32(s.Partnership.Runs), Balls: int32(s.Partnership.Balls), Batters: s.Partnership.Batters},
		HatTrickBall: s.HatTrickBall,
		OnHatTrick:   s.OnHatTrick,
	}
	if c := s.Chase; c != nil {
		p.Chase = &pb.Chase{Target: int32(c.Target), RunsNeeded: int32(c.RunsNeeded), BallsLeft: int32(c.BallsLeft),
			RequiredRate: c.RequiredRate, CurrentRate: c.CurrentRate, WicketsLeft: int32(c.WicketsLeft), Pressure: c.Pressure}
	}
	for i := range s.Milestones {
		p.Milestones = append(p.Milestones, milestoneToProto(&s.Milestones[i]))
	}
	for i := range s.Near {
		p.Near = append(p.Near, milestoneToProto(&s.Near[i]))
	}
	for _, r := range s.Records {
		p.Records = append(p.Records, &pb.Record{Kind: r.Kind, Player: r.Player, Partner: r.Partner, Value: int32(r.Value),
			Runs: int32(r.Runs), Previous: r.Previous, PreviousValue: int32(r.PreviousValue)})
	}
	if o := s.Over; o != nil {
		p.Over = &pb.OverSummary{Number: int32(o.Number), Bowler: o.Bowler, Runs: int32(o.Runs), Wickets: int32(o.Wickets),
			Extras: int32(o.Extras), Boundaries: int32(o.Boundaries), Maiden: o.Maiden, Figures: figuresToProto(&o.Figures)}
	}
	if in := s.InningsEnd; in != nil {
		p.InningsEnd = &pb.InningsSummary{Number: int32(in.Number), Team: in.Team, Runs: int32(in.Runs), Wickets: int32(in.Wickets),
			LegalBalls: int32(in.LegalBalls), AllOut: in.AllOut, Declared: in.Declared, TopBowler: figuresToProto(in.TopBowler),
			Lead: int32(in.Lead), Target: int32(in.Target)}
		if b := in.TopBatter; b != nil {
			p.InningsEnd.TopBatter = &pb.BatterFigures{Name: b.Name, Runs: int32(b.Runs), Balls: int32(b.Balls)}
		}
	}
	if r := s.Result; r != nil {
		p.Result = &pb.MatchResult{Winner: r.Winner, By: r.By, Margin: int32(r.Margin), Text: r.Text}
	}
	return p
}

// SituationFromProto converts a wire situation back.
func SituationFromProto(p *pb.Situation) *event.Situation {
	if p == nil {
		return nil
	}
	ph, m, pt := p.GetPhase(), p.GetMomentum(), p.GetPartnership()
	s := &event.Situation{
		Innings: int(p.GetInnings()),
		Phase: event.Phase{Name: ph.GetName(), Over: int(ph.GetOver()), Changed: ph.GetChanged(),
			Day: int(ph.GetDay()), Session: int(ph.GetSession()), Estimated: ph.GetEstimated()},
		Momentum: event.Momentum{Last3: spellFromProto(m.GetLast3()), Last5: spellFromProto(m.GetLast5()),
			DotStreak: int(m.GetDotStreak()), BallsSinceBoundary: int(m.GetBallsSinceBoundary()), Boundaries: int(m.GetBoundaries())},
		Partnership:  event.Partnership{Runs: int(pt.GetRuns()), Balls: int(pt.GetBalls()), Batters: pt.GetBatters()},
		HatTrickBall: p.GetHatTrickBall(),
		OnHatTrick:   p.GetOnHatTrick(),
	}
	if c := p.GetChase(); c != nil {
		s.Chase = &event.Chase{Target: int(c.Target), RunsNeeded: int(c.RunsNeeded), BallsLeft: int(c.BallsLeft),
			RequiredRate: c.RequiredRate, CurrentRate: c.CurrentRate, WicketsLeft: int(c.WicketsLeft), Pressure: c.Pressure}
	}
	for _, ms := range p.GetMilestones() {
		s.Milestones = append(s.Milestones, *milestoneFromProto(ms))
	}
	for _, ms := range p.GetNear() {
		s.Near = append(s.Near, *milestoneFromProto(ms))
	}
	for _, r := range p.GetRecords() {
		s.Records = append(s.Records, event.Record{Kind: r.Kind, Player: r.Player, Partner: r.Partner, Value: int(r.Value),
			Runs: int(r.Runs), Previous: r.Previous, PreviousValue: int(r.PreviousValue)})
	}
	if o := p.GetOver(); o != nil {
		s.Over = &event.OverSummary{Number: int(o.Number), Bowler: o.Bowler, Runs: int(o.Runs), Wickets: int(o.Wickets),
			Extras: int(o.Extras), Boundaries: int(o.Boundaries), Maiden: o.Maiden}
		if f := figuresFromProto(o.GetFigures()); f != nil {
			s.Over.Figures = *f
		}
	}
	if in := p.GetInningsEnd(); in != nil {
		s.InningsEnd = &event.InningsSummary{Number: int(in.Number), Team: in.Team, Runs: int(in.Runs), Wickets: int(in.Wickets),
			LegalBalls: int(in.LegalBalls), AllOut: in.AllOut, Declared: in.Declared, TopBowler: figuresFromProto(in.GetTopBowler()),
			Lead: int(in.Lead), Target: int(in.Target)}
		if b := in.GetTopBatter(); b != nil {
			s.InningsEnd.TopBatter = &event.BatterFigures{Name: b.Name, Runs: int(b.Runs), Balls: int(b.Balls)}
		}
	}
	if r := p.GetResult(); r != nil {
		s.Result = &event.MatchResult{Winner: r.Winner, By: r.By, Margin: int(r.Margin), Text: r.Text}
	}
	return s
}

func spellToProto(s event.Spell) *pb.Spell {
	return &pb.Spell{Overs: int32(s.Overs), Runs: int32(s.Runs), Wickets: int32(s.Wickets), Fours: int32(s.Fours), Sixes: int32(s.Sixes)}
}

func spellFromProto(p *pb.Spell) event.Spell {
	return event.Spell{Overs: int(p.GetOvers()), Runs: int(p.GetRuns()), Wickets: int(p.GetWickets()), Fours: int(p.GetFours()), Sixes: int(p.GetSixes())}
}

func figuresToProto(f *event.BowlerFigures) *pb.BowlerFigures {
	if f == nil {
		return nil
	}
	return &pb.BowlerFigures{Name: f.Name, LegalBalls: int32(f.LegalBalls), Maidens: int32(f.Maidens), Runs: int32(f.Runs), Wickets: int32(f.Wickets)}
}

func figuresFromProto(p *pb.BowlerFigures) *event.BowlerFigures {
	if p == nil {
		return nil
	}
	return &event.BowlerFigures{Name: p.Name, LegalBalls: int(p.LegalBalls), Maidens: int(p.Maidens), Runs: int(p.Runs), Wickets: int(p.Wickets)}
}
