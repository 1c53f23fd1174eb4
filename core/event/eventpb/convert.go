// Package eventpb converts between the normalized event model (core/event)
// and its protobuf mirror in plugins/sdk/proto. It is the only place the two
// meet: the host converts on the way to a plugin and back.
package eventpb

import (
	"fmt"
	"time"

	"github.com/ballcast/ballcast/core/event"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// ToProto converts ev to its wire form.
func ToProto(ev *event.Event) *pb.Event {
	return &pb.Event{
		Id:               ev.ID,
		Match:            ev.Match,
		Seq:              ev.Seq,
		Kind:             ev.Kind.String(),
		TimeUnixNano:     unixNano(ev.Time),
		ReceivedUnixNano: unixNano(ev.Received),
		Source:           ev.Source,
		Info:             infoToProto(ev.Info),
		Ball:             ballToProto(ev.Ball),
		Over:             overToProto(ev.Over),
		Innings:          inningsToProto(ev.Innings),
		Status:           statusToProto(ev.Status),
		Score:            scoreToProto(ev.Score),
		Milestone:        milestoneToProto(ev.Milestone),
		Scorecard:        ScorecardToProto(ev.Scorecard),
		Situation:        SituationToProto(ev.Situation),
		Commentary:       commentaryToProto(ev.Commentary),
	}
}

// FromProto converts a wire event back. It fails only on an unknown kind.
func FromProto(p *pb.Event) (event.Event, error) {
	kind, ok := event.ParseKind(p.GetKind())
	if !ok {
		return event.Event{}, fmt.Errorf("eventpb: event %q: unknown kind %q", p.GetId(), p.GetKind())
	}
	return event.Event{
		ID:         p.GetId(),
		Match:      p.GetMatch(),
		Seq:        p.GetSeq(),
		Kind:       kind,
		Time:       fromUnixNano(p.GetTimeUnixNano()),
		Received:   fromUnixNano(p.GetReceivedUnixNano()),
		Source:     p.GetSource(),
		Info:       infoFromProto(p.GetInfo()),
		Ball:       ballFromProto(p.GetBall()),
		Over:       overFromProto(p.GetOver()),
		Innings:    inningsFromProto(p.GetInnings()),
		Status:     statusFromProto(p.GetStatus()),
		Score:      scoreFromProto(p.GetScore()),
		Milestone:  milestoneFromProto(p.GetMilestone()),
		Scorecard:  ScorecardFromProto(p.GetScorecard()),
		Situation:  SituationFromProto(p.GetSituation()),
		Commentary: commentaryFromProto(p.GetCommentary()),
	}, nil
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func infoToProto(i *event.MatchInfo) *pb.MatchInfo {
	if i == nil {
		return nil
	}
	p := &pb.MatchInfo{
		Title: i.Title, Teams: i.Teams, Format: i.Format, Overs: int32(i.Overs),
		BallsPerOver: int32(i.BallsPerOver), Venue: i.Venue, StartUnixNano: unixNano(i.Start),
		TossWinner: i.TossWinner, TossDecision: i.TossDecision,
	}
	if len(i.Players) > 0 {
		p.Players = make(map[string]*pb.TeamPlayers, len(i.Players))
		for team, players := range i.Players {
			p.Players[team] = &pb.TeamPlayers{Players: players}
		}
	}
	return p
}

func infoFromProto(p *pb.MatchInfo) *event.MatchInfo {
	if p == nil {
		return nil
	}
	i := &event.MatchInfo{
		Title: p.Title, Teams: p.Teams, Format: p.Format, Overs: int(p.Overs),
		BallsPerOver: int(p.BallsPerOver), Venue: p.Venue, Start: fromUnixNano(p.StartUnixNano),
		TossWinner: p.TossWinner, TossDecision: p.TossDecision,
	}
	if len(p.Players) > 0 {
		i.Players = make(map[string][]string, len(p.Players))
		for team, tp := range p.Players {
			i.Players[team] = tp.GetPlayers()
		}
	}
	return i
}

// ExtrasToProto converts extras.
func ExtrasToProto(e event.Extras) *pb.Extras {
	return &pb.Extras{Wides: int32(e.Wides), Noballs: int32(e.NoBalls), Byes: int32(e.Byes), Legbyes: int32(e.LegByes), Penalty: int32(e.Penalty)}
}

// ExtrasFromProto converts extras; nil is zero.
func ExtrasFromProto(p *pb.Extras) event.Extras {
	return event.Extras{Wides: int(p.GetWides()), NoBalls: int(p.GetNoballs()), Byes: int(p.GetByes()), LegByes: int(p.GetLegbyes()), Penalty: int(p.GetPenalty())}
}

func ballToProto(b *event.Ball) *pb.Ball {
	if b == nil {
		return nil
	}
	p := &pb.Ball{
		Innings: int32(b.Innings), SuperOver: b.SuperOver, BattingTeam: b.BattingTeam, BowlingTeam: b.BowlingTeam,
		Over: int32(b.Over), Ball: int32(b.Ball), Sub: int32(b.Sub), Legal: b.Legal,
		Batter: b.Batter, NonStriker: b.NonStriker, Bowler: b.Bowler,
		RunsBat: int32(b.RunsBat), Extras: ExtrasToProto(b.Extras), NonBoundary: b.NonBoundary,
		Revision: int32(b.Revision),
	}
	for _, w := range b.Wickets {
		p.Wickets = append(p.Wickets, &pb.Wicket{Kind: w.Kind, PlayerOut: w.PlayerOut, Fielders: w.Fielders})
	}
	return p
}

func ballFromProto(p *pb.Ball) *event.Ball {
	if p == nil {
		return nil
	}
	b := &event.Ball{
		Innings: int(p.Innings), SuperOver: p.SuperOver, BattingTeam: p.BattingTeam, BowlingTeam: p.BowlingTeam,
		Over: int(p.Over), Ball: int(p.Ball), Sub: int(p.Sub), Legal: p.Legal,
		Batter: p.Batter, NonStriker: p.NonStriker, Bowler: p.Bowler,
		RunsBat: int(p.RunsBat), Extras: ExtrasFromProto(p.Extras), NonBoundary: p.NonBoundary,
		Revision: int(p.Revision),
	}
	for _, w := range p.Wickets {
		b.Wickets = append(b.Wickets, event.Wicket{Kind: w.GetKind(), PlayerOut: w.GetPlayerOut(), Fielders: w.GetFielders()})
	}
	return b
}

func overToProto(o *event.Over) *pb.Over {
	if o == nil {
		return nil
	}
	return &pb.Over{Innings: int32(o.Innings), Number: int32(o.Number), Bowler: o.Bowler}
}

func overFromProto(p *pb.Over) *event.Over {
	if p == nil {
		return nil
	}
	return &event.Over{Innings: int(p.Innings), Number: int(p.Number), Bowler: p.Bowler}
}

func targetToProto(t *event.Target) *pb.Target {
	if t == nil {
		return nil
	}
	return &pb.Target{Runs: int32(t.Runs), Overs: t.Overs}
}

func targetFromProto(p *pb.Target) *event.Target {
	if p == nil {
		return nil
	}
	return &event.Target{Runs: int(p.Runs), Overs: p.Overs}
}

func inningsToProto(i *event.Innings) *pb.Innings {
	if i == nil {
		return nil
	}
	return &pb.Innings{
		Number: int32(i.Number), Team: i.Team, SuperOver: i.SuperOver, End: i.End, Declared: i.Declared,
		Forfeited: i.Forfeited, Target: targetToProto(i.Target), PenaltyRuns: int32(i.PenaltyRuns),
	}
}

func inningsFromProto(p *pb.Innings) *event.Innings {
	if p == nil {
		return nil
	}
	return &event.Innings{
		Number: int(p.Number), Team: p.Team, SuperOver: p.SuperOver, End: p.End, Declared: p.Declared,
		Forfeited: p.Forfeited, Target: targetFromProto(p.Target), PenaltyRuns: int(p.PenaltyRuns),
	}
}

func statusToProto(s *event.Status) *pb.Status {
	if s == nil {
		return nil
	}
	return &pb.Status{State: s.State, Result: s.Result, Winner: s.Winner, Note: s.Note}
}

func statusFromProto(p *pb.Status) *event.Status {
	if p == nil {
		return nil
	}
	return &event.Status{State: p.State, Result: p.Result, Winner: p.Winner, Note: p.Note}
}

func scoreToProto(s *event.Score) *pb.Score {
	if s == nil {
		return nil
	}
	return &pb.Score{Innings: int32(s.Innings), Team: s.Team, Runs: int32(s.Runs), Wickets: int32(s.Wickets), Balls: int32(s.Balls)}
}

func scoreFromProto(p *pb.Score) *event.Score {
	if p == nil {
		return nil
	}
	return &event.Score{Innings: int(p.Innings), Team: p.Team, Runs: int(p.Runs), Wickets: int(p.Wickets), Balls: int(p.Balls)}
}

func milestoneToProto(m *event.Milestone) *pb.Milestone {
	if m == nil {
		return nil
	}
	return &pb.Milestone{Kind: m.Kind, Player: m.Player, Value: int32(m.Value), Partner: m.Partner, Runs: int32(m.Runs),
		Balls: int32(m.Balls), Wickets: int32(m.Wickets), Need: int32(m.Need), New: m.New}
}

func milestoneFromProto(p *pb.Milestone) *event.Milestone {
	if p == nil {
		return nil
	}
	return &event.Milestone{Kind: p.Kind, Player: p.Player, Value: int(p.Value), Partner: p.Partner, Runs: int(p.Runs),
		Balls: int(p.Balls), Wickets: int(p.Wickets), Need: int(p.Need), New: p.New}
}

func commentaryToProto(c *event.Commentary) *pb.Commentary {
	if c == nil {
		return nil
	}
	return &pb.Commentary{
		Text: c.Text, Language: c.Language, Persona: c.Persona, Model: c.Model,
		LatencyNanos: int64(c.Latency), Fallback: c.Fallback, Reason: c.Reason,
	}
}

func commentaryFromProto(p *pb.Commentary) *event.Commentary {
	if p == nil {
		return nil
	}
	return &event.Commentary{
		Text: p.Text, Language: p.Language, Persona: p.Persona, Model: p.Model,
		Latency: time.Duration(p.LatencyNanos), Fallback: p.Fallback, Reason: p.Reason,
	}
}

// ScorecardToProto converts a scorecard.
func ScorecardToProto(s *event.Scorecard) *pb.Scorecard {
	if s == nil {
		return nil
	}
	p := &pb.Scorecard{State: s.State, Result: s.Result}
	for _, in := range s.Innings {
		pi := &pb.InningsCard{
			Number: int32(in.Number), Team: in.Team, SuperOver: in.SuperOver, Runs: int32(in.Runs),
			Wickets: int32(in.Wickets), LegalBalls: int32(in.LegalBalls), Extras: ExtrasToProto(in.Extras),
			Declared: in.Declared, Closed: in.Closed, Target: targetToProto(in.Target), RunRate: in.RunRate,
			RequiredRate: in.RequiredRate, RunsNeeded: int32(in.RunsNeeded), BallsLeft: int32(in.BallsLeft),
			Partnership: &pb.Partnership{Runs: int32(in.Partnership.Runs), Balls: int32(in.Partnership.Balls), Batters: in.Partnership.Batters},
		}
		for _, b := range in.Batters {
			pi.Batters = append(pi.Batters, &pb.BatterCard{
				Name: b.Name, Runs: int32(b.Runs), Balls: int32(b.Balls), Fours: int32(b.Fours), Sixes: int32(b.Sixes),
				StrikeRate: b.StrikeRate, Out: b.Out, HowOut: b.HowOut, Bowler: b.Bowler, Fielders: b.Fielders,
			})
		}
		for _, b := range in.Bowlers {
			pi.Bowlers = append(pi.Bowlers, &pb.BowlerCard{
				Name: b.Name, LegalBalls: int32(b.LegalBalls), Maidens: int32(b.Maidens), Runs: int32(b.Runs),
				Wickets: int32(b.Wickets), Wides: int32(b.Wides), Noballs: int32(b.NoBalls), Economy: b.Economy,
			})
		}
		for _, f := range in.FallOfWickets {
			pi.FallOfWickets = append(pi.FallOfWickets, &pb.FallOfWicket{Runs: int32(f.Runs), Wickets: int32(f.Wickets), Player: f.Player, LegalBalls: int32(f.LegalBalls)})
		}
		p.Innings = append(p.Innings, pi)
	}
	return p
}

// ScorecardFromProto converts a wire scorecard back.
func ScorecardFromProto(p *pb.Scorecard) *event.Scorecard {
	if p == nil {
		return nil
	}
	s := &event.Scorecard{State: p.State, Result: p.Result}
	for _, pi := range p.Innings {
		in := event.InningsCard{
			Number: int(pi.Number), Team: pi.Team, SuperOver: pi.SuperOver, Runs: int(pi.Runs),
			Wickets: int(pi.Wickets), LegalBalls: int(pi.LegalBalls), Extras: ExtrasFromProto(pi.Extras),
			Declared: pi.Declared, Closed: pi.Closed, Target: targetFromProto(pi.Target), RunRate: pi.RunRate,
			RequiredRate: pi.RequiredRate, RunsNeeded: int(pi.RunsNeeded), BallsLeft: int(pi.BallsLeft),
			Partnership: event.Partnership{Runs: int(pi.GetPartnership().GetRuns()), Balls: int(pi.GetPartnership().GetBalls()), Batters: pi.GetPartnership().GetBatters()},
		}
		for _, b := range pi.Batters {
			in.Batters = append(in.Batters, event.BatterCard{
				Name: b.Name, Runs: int(b.Runs), Balls: int(b.Balls), Fours: int(b.Fours), Sixes: int(b.Sixes),
				StrikeRate: b.StrikeRate, Out: b.Out, HowOut: b.HowOut, Bowler: b.Bowler, Fielders: b.Fielders,
			})
		}
		for _, b := range pi.Bowlers {
			in.Bowlers = append(in.Bowlers, event.BowlerCard{
				Name: b.Name, LegalBalls: int(b.LegalBalls), Maidens: int(b.Maidens), Runs: int(b.Runs),
				Wickets: int(b.Wickets), Wides: int(b.Wides), NoBalls: int(b.Noballs), Economy: b.Economy,
			})
		}
		for _, f := range pi.FallOfWickets {
			in.FallOfWickets = append(in.FallOfWickets, event.FallOfWicket{Runs: int(f.Runs), Wickets: int(f.Wickets), Player: f.Player, LegalBalls: int(f.LegalBalls)})
		}
		s.Innings = append(s.Innings, in)
	}
	return s
}
