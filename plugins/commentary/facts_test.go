package commentary

import (
	"strings"
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// The LLM's fact list carries the stats stage's situation, in words and
// with the numbers the template lines use.
func TestFactListCarriesSituation(t *testing.T) {
	ms := newMatchState("m")
	ms.info = &pb.MatchInfo{Overs: 20, BallsPerOver: 6}
	ev := &pb.Event{Id: "m/2.15.6.0", Match: "m", Kind: "ball",
		Ball: &pb.Ball{Innings: 2, Over: 15, Ball: 6, Legal: true, BattingTeam: "England", BowlingTeam: "Pakistan",
			Batter: "BA Stokes", NonStriker: "MM Ali", Bowler: "Haris Rauf", RunsBat: 4},
		Scorecard: &pb.Scorecard{Innings: []*pb.InningsCard{{Number: 2, Team: "England", Runs: 110, Wickets: 4, LegalBalls: 96}}},
		Situation: &pb.Situation{
			Innings:     2,
			Phase:       &pb.Phase{Name: "death", Over: 16, Changed: false},
			Chase:       &pb.Chase{Target: 138, RunsNeeded: 28, BallsLeft: 24, RequiredRate: 7, CurrentRate: 6.88, WicketsLeft: 6, Pressure: "moderate"},
			Momentum:    &pb.Momentum{Last3: &pb.Spell{Overs: 3, Runs: 23, Fours: 2, Sixes: 1}, Last5: &pb.Spell{Overs: 5, Runs: 31, Wickets: 1, Fours: 2, Sixes: 1}, DotStreak: 3, BallsSinceBoundary: 0},
			Partnership: &pb.Partnership{Runs: 39, Balls: 25, Batters: []string{"BA Stokes", "MM Ali"}},
			Milestones:  []*pb.Milestone{{Kind: "team_100", Player: "England", Value: 100, Runs: 110}},
			Near:        []*pb.Milestone{{Kind: "batter_50", Player: "BA Stokes", Value: 50, Runs: 47, Need: 3, New: true}},
			OnHatTrick:  "Haris Rauf",
			Records:     []*pb.Record{{Kind: "highest_score", Player: "BA Stokes", Value: 47, Previous: "Shan Masood", PreviousValue: 38}},
			Over: &pb.OverSummary{Number: 15, Bowler: "Haris Rauf", Runs: 13, Boundaries: 2,
				Figures: &pb.BowlerFigures{Name: "Haris Rauf", LegalBalls: 24, Runs: 23, Wickets: 2}},
		}}
	f, ok := ms.facts(ev)
	if !ok {
		t.Fatal("no facts for a ball")
	}
	list := strings.Join(f.factList(ms.names), "\n")
	for _, want := range []string{
		"phase: death overs, over 16",
		"partnership: Stokes and Ali, 39 runs off 25 balls",
		"milestone: England have passed 100",
		"close to a milestone: Stokes is on 47, 3 runs short of 50",
		"Haris Rauf is on a hat-trick",
		"match record: Stokes's 47 is now the highest individual score of the match, passing Shan Masood's 38",
		"over 16 summary: 13 runs, 0 wickets; Haris Rauf's figures 4-0-23-2",
		"last 3 overs: 23 runs, 0 wickets, 2 fours, 1 six",
		"last 5 overs: 31 runs, 1 wicket, 2 fours, 1 six",
		"dot balls in a row: 3",
		"chase: target 138, England need 28 runs from 24 balls, required rate 7.00 an over",
		"chase: current rate 6.88, 6 wickets in hand, pressure moderate",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("fact list lacks %q:\n%s", want, list)
		}
	}
	// Without a situation (no stats stage before this one) nothing is
	// derived here: no chase, no milestone.
	ev.Situation = nil
	f, _ = ms.facts(ev)
	if f.chase != nil || len(f.milestones) > 0 || len(f.near) > 0 {
		t.Errorf("facts without a situation: chase %v, milestones %v, near %v", f.chase, f.milestones, f.near)
	}
}
