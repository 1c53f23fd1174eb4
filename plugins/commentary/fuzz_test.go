package commentary

import (
	"context"
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

var fuzzWicketKinds = []string{"", "bowled", "caught", "caught and bowled", "lbw", "stumped", "run out", "hit wicket",
	"retired hurt", "retired out", "retired not out", "obstructing the field", "handled the ball", "timed out", "made up"}

// FuzzTemplate feeds the stage random ball facts, with and without a
// scorecard (consistent or not): it must never panic and must always write
// a non-empty line.
func FuzzTemplate(f *testing.F) {
	f.Add("JC Buttler", "Haris Rauf", "Mohammad Rizwan", int8(4), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), uint8(0), false, uint8(3), uint8(4), true, int16(50), int16(2), int16(12))
	f.Add("", "", "", int8(-1), uint8(5), uint8(1), uint8(2), uint8(3), uint8(5), uint8(6), true, uint8(0), uint8(7), true, int16(-5), int16(11), int16(-1))
	f.Add("A", "B", "C", int8(6), uint8(0), uint8(1), uint8(0), uint8(0), uint8(0), uint8(2), true, uint8(19), uint8(6), false, int16(0), int16(0), int16(0))
	f.Add(" ", "\xff", "{batter}", int8(127), uint8(255), uint8(255), uint8(255), uint8(255), uint8(255), uint8(14), false, uint8(255), uint8(255), true, int16(32767), int16(-32768), int16(100))
	f.Fuzz(func(t *testing.T, batter, bowler, fielder string, runsBat int8, wides, noballs, byes, legbyes, penalty, wicket uint8,
		nonBoundary bool, over, ball uint8, card bool, cardRuns, cardWickets, batterRuns int16) {
		st := New()
		b := &pb.Ball{Innings: 1, Over: int32(over), Ball: int32(ball), Batter: batter, NonStriker: fielder, Bowler: bowler,
			BattingTeam: "A", BowlingTeam: "B", RunsBat: int32(runsBat), NonBoundary: nonBoundary,
			Legal:  wides == 0 && noballs == 0,
			Extras: &pb.Extras{Wides: int32(wides), Noballs: int32(noballs), Byes: int32(byes), Legbyes: int32(legbyes), Penalty: int32(penalty)}}
		if k := fuzzWicketKinds[int(wicket)%len(fuzzWicketKinds)]; k != "" {
			b.Wickets = []*pb.Wicket{{Kind: k, PlayerOut: batter, Fielders: []string{fielder}}}
		}
		ev := &pb.Event{Id: "f/1", Match: "f", Kind: "ball", Ball: b}
		if card {
			ev.Scorecard = &pb.Scorecard{Innings: []*pb.InningsCard{{Number: 1, Team: "A", Runs: int32(cardRuns), Wickets: int32(cardWickets),
				LegalBalls: int32(over) * 6, Target: &pb.Target{Runs: int32(cardRuns) + int32(batterRuns), Overs: 20},
				RunsNeeded: int32(batterRuns), BallsLeft: int32(ball), RequiredRate: float64(batterRuns) / 3,
				Batters:     []*pb.BatterCard{{Name: batter, Runs: int32(batterRuns), Balls: int32(ball)}},
				Bowlers:     []*pb.BowlerCard{{Name: bowler, Wickets: int32(cardWickets), Runs: int32(cardRuns)}},
				Partnership: &pb.Partnership{Runs: int32(batterRuns), Batters: []string{batter, fielder}}}}}
		}
		for i := range 3 { // the same ball again, then as new balls: exercises repeats
			if i > 0 {
				ev.Id = "f/" + string(rune('1'+i))
			}
			out, err := st.Process(context.Background(), ev)
			if err != nil || len(out) != 1 {
				t.Fatalf("Process = %d events, %v", len(out), err)
			}
			if out[0].GetCommentary().GetText() == "" {
				t.Fatalf("empty line for %v", b)
			}
		}
	})
}
