package stats_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

// situations runs f's events through a new stage, in process, and returns
// the situation attached to each, by event ID.
func situations(t *testing.T, f *feed) map[string]*pb.Situation {
	t.Helper()
	s := stats.New()
	out := map[string]*pb.Situation{}
	for i, ev := range f.evs {
		ev.Seq = uint64(i + 1)
		got, err := s.Process(context.Background(), ev)
		if err != nil {
			t.Fatalf("event %s: %v", ev.GetId(), err)
		}
		if got[0].GetSituation() == nil {
			t.Fatalf("event %s: no situation", ev.GetId())
		}
		out[ev.GetId()] = got[0].GetSituation()
	}
	return out
}

// over bowls n balls of over o from bowler to A (B at the other end), each
// scoring runs[i % len(runs)].
func over(f *feed, o int32, bowler string, n int, runs ...int32) *pb.Event {
	var last *pb.Event
	for i := range n {
		r := int32(0)
		if len(runs) > 0 {
			r = runs[i%len(runs)]
		}
		last = f.ball(o, "A", "B", bowler, r, nil)
	}
	return last
}

func milestones(ms []*pb.Milestone) []string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s %s %d need %d new %v", m.GetKind(), m.GetPlayer(), m.GetValue(), m.GetNeed(), m.GetNew()))
	}
	return out
}

func TestPhase(t *testing.T) {
	tests := []struct {
		name    string
		overs   int32 // scheduled
		over    int32 // 1-based over of the ball
		want    string
		changed bool // the over before was another phase
	}{
		{"T20 first over", 20, 1, "powerplay", false},
		{"T20 sixth over", 20, 6, "powerplay", false},
		{"T20 seventh over", 20, 7, "middle", true},
		{"T20 fifteenth over", 20, 15, "middle", false},
		{"T20 sixteenth over", 20, 16, "death", true},
		{"T20 last over", 20, 20, "death", false},
		{"ODI tenth over", 50, 10, "powerplay", false},
		{"ODI eleventh over", 50, 11, "middle", true},
		{"ODI fortieth over", 50, 40, "middle", false},
		{"ODI forty-first over", 50, 41, "death", true},
		{"T10 third over", 10, 3, "powerplay", false},
		{"T10 fourth over", 10, 4, "middle", true},
		{"T10 eighth over", 10, 8, "death", true},
		{"40-over match ninth over", 40, 9, "middle", true},
		{"40-over match thirty-third over", 40, 33, "death", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &feed{}
			f.info(tc.overs)
			if tc.over > 1 {
				f.ball(tc.over-2, "A", "B", "X", 0, nil)
			}
			ev := f.ball(tc.over-1, "A", "B", "Y", 0, nil)
			p := situations(t, f)[ev.GetId()].GetPhase()
			eq(t, "phase", p.GetName(), tc.want)
			eq(t, "over", p.GetOver(), tc.over)
			eq(t, "changed", p.GetChanged(), tc.changed)
		})
	}
}

// A Test's day and session are estimated from the overs bowled in the
// match: 30 overs a session, 90 a day, across innings.
func TestPhaseTest(t *testing.T) {
	f := &feed{}
	f.info(0)
	for o := range int32(40) {
		over(f, o, "X", 6)
	}
	f.inn = 2
	for o := range int32(55) { // overs 41-95 of the match
		over(f, o, "Y", 6)
	}
	sits := situations(t, f)
	for _, tc := range []struct {
		id                string
		day, session      int32
		changed           bool
		name, description string
	}{
		{"m/1.0.1.0", 1, 1, false, "session", "first ball"},
		{"m/1.29.6.0", 1, 1, false, "session", "last ball of the 30th over"},
		{"m/1.30.1.0", 1, 2, true, "session", "first ball of the 31st over"},
		{"m/2.19.6.0", 1, 2, false, "session", "60th over of the match, in the second innings"},
		{"m/2.20.1.0", 1, 3, true, "session", "61st over"},
		{"m/2.50.1.0", 2, 1, true, "session", "91st over: day 2"},
	} {
		p := sits[tc.id].GetPhase()
		if p.GetName() != tc.name || p.GetDay() != tc.day || p.GetSession() != tc.session || !p.GetEstimated() || p.GetChanged() != tc.changed {
			t.Errorf("%s (%s): phase %v, want %s day %d session %d estimated, changed %v", tc.id, tc.description, p, tc.name, tc.day, tc.session, tc.changed)
		}
	}
}

func TestMomentum(t *testing.T) {
	f := &feed{}
	f.info(20)
	over(f, 0, "X", 6)                              // 0 runs
	over(f, 1, "Y", 6, 1)                           // 6 singles
	f.ball(2, "A", "B", "X", 4, nil)                // a four
	over(f, 2, "X", 5)                              //
	f.ball(3, "A", "B", "Y", 6, nil)                // a six
	endOf3 := over(f, 3, "Y", 5)                    //
	f.ball(4, "A", "B", "X", 0, out("bowled", "A")) // a wicket
	f.ball(4, "C", "B", "X", 0, wide(1))            // a wide: a run, not a dot
	endOf4 := over(f, 4, "X", 5)                    //
	last := f.ball(5, "C", "B", "Y", 0, nil)        // first ball of over 6
	sits := situations(t, f)

	m := sits[last.GetId()].GetMomentum()
	want := &pb.Momentum{
		Last3:              &pb.Spell{Overs: 3, Runs: 11, Wickets: 1, Fours: 1, Sixes: 1}, // overs 3-5
		Last5:              &pb.Spell{Overs: 5, Runs: 17, Wickets: 1, Fours: 1, Sixes: 1}, // overs 1-5
		DotStreak:          6,                                                             // the 5 after the wide, and this one
		BallsSinceBoundary: 12,                                                            // legal balls after the six
		Boundaries:         2,
	}
	if !proto.Equal(m, want) {
		t.Errorf("momentum after over 5 and a dot:\ngot  %v\nwant %v", m, want)
	}
	// The ball that completes an over counts it among the completed.
	if got := sits[endOf3.GetId()].GetMomentum().GetLast3(); got.GetOvers() != 3 || got.GetRuns() != 16 {
		t.Errorf("end of over 4: last 3 overs %v, want overs 2-4: 16 runs", got)
	}
	if got := sits[endOf4.GetId()].GetMomentum(); got.GetDotStreak() != 5 {
		t.Errorf("end of over 5: dot streak %d, want 5 (the wide broke it)", got.GetDotStreak())
	}
	// Early in an innings the windows hold what there is.
	first := sits["m/1.0.1.0"].GetMomentum()
	if first.GetLast3().GetOvers() != 0 || first.GetDotStreak() != 1 || first.GetBallsSinceBoundary() != 1 {
		t.Errorf("first ball: momentum %v, want no completed overs, one dot", first)
	}
}

func TestHatTrick(t *testing.T) {
	t.Run("across overs, a wide in between", func(t *testing.T) {
		f := &feed{}
		f.info(20)
		over(f, 0, "X", 4)
		f.ball(0, "A", "B", "X", 0, out("bowled", "A"))
		second := f.ball(0, "C", "B", "X", 0, out("caught", "C", "F"))
		over(f, 1, "Y", 6)
		wd := f.ball(2, "D", "B", "X", 0, wide(1))
		third := f.ball(2, "D", "B", "X", 0, out("lbw", "D"))
		sits := situations(t, f)
		eq(t, "on a hat-trick after the second wicket", sits[second.GetId()].GetOnHatTrick(), "X")
		eq(t, "hat-trick ball after the second wicket", sits[second.GetId()].GetHatTrickBall(), false)
		eq(t, "Y's over: X still on a hat-trick? (Y bowls)", sits["m/1.1.6.0"].GetOnHatTrick(), "")
		eq(t, "the wide is not the hat-trick ball", sits[wd.GetId()].GetHatTrickBall(), false)
		eq(t, "X still on a hat-trick after his wide", sits[wd.GetId()].GetOnHatTrick(), "X")
		s := sits[third.GetId()]
		eq(t, "hat-trick ball", s.GetHatTrickBall(), true)
		var kinds []string
		for _, m := range s.GetMilestones() {
			kinds = append(kinds, m.GetKind())
		}
		eq(t, "milestones", fmt.Sprint(kinds), "[bowler_3w hat_trick]")
	})
	t.Run("survived", func(t *testing.T) {
		f := &feed{}
		f.info(20)
		f.ball(0, "A", "B", "X", 0, out("bowled", "A"))
		f.ball(0, "C", "B", "X", 0, out("stumped", "C", "K"))
		ball := f.ball(0, "D", "B", "X", 1, nil)
		s := situations(t, f)[ball.GetId()]
		eq(t, "hat-trick ball", s.GetHatTrickBall(), true)
		eq(t, "on a hat-trick after it", s.GetOnHatTrick(), "")
		eq(t, "milestones", len(s.GetMilestones()), 0)
	})
	t.Run("a run out is not the bowler's", func(t *testing.T) {
		f := &feed{}
		f.info(20)
		f.ball(0, "A", "B", "X", 0, out("bowled", "A"))
		ro := f.ball(0, "C", "B", "X", 0, out("run out", "C", "F"))
		eq(t, "on a hat-trick", situations(t, f)[ro.GetId()].GetOnHatTrick(), "")
	})
}

func TestNearMilestones(t *testing.T) {
	f := &feed{}
	f.info(20)
	for range 11 {
		f.ball(0, "A", "B", "X", 4, nil) // A 44, team 44, stand 44
	}
	to48 := f.ball(1, "A", "B", "Y", 4, nil)
	dot := f.ball(1, "A", "B", "Y", 0, nil)
	var runOut *pb.Event
	for _, who := range []string{"B", "C"} {
		runOut = f.ball(1, "A", who, "Y", 0, out("run out", who))
	}
	sits := situations(t, f)
	eq(t, "after 44: near", fmt.Sprint(milestones(sits["m/1.0.11.0"].GetNear())), "[]")
	eq(t, "A to 48", fmt.Sprint(milestones(sits[to48.GetId()].GetNear())),
		"[batter_50 A 50 need 2 new true partnership_50 A 50 need 2 new true]")
	eq(t, "a dot after", fmt.Sprint(milestones(sits[dot.GetId()].GetNear())),
		"[batter_50 A 50 need 2 new false partnership_50 A 50 need 2 new false]")
	// Run outs are not the bowler's, and end the stand.
	eq(t, "after two run outs", fmt.Sprint(milestones(sits[runOut.GetId()].GetNear())), "[batter_50 A 50 need 2 new false]")

	f = &feed{}
	f.info(20)
	f.ball(0, "A", "B", "X", 0, out("bowled", "A"))
	two := f.ball(0, "C", "B", "X", 0, out("lbw", "C"))
	for range 15 {
		f.ball(1, "D", "B", "Y", 6, nil) // D 90, team 90
	}
	ninety := f.ball(2, "D", "B", "X", 2, nil) // D 92, team 92
	sits = situations(t, f)
	eq(t, "bowler on 2 wickets", fmt.Sprint(milestones(sits[two.GetId()].GetNear())), "[bowler_3w X 3 need 1 new true]")
	eq(t, "batter in the nineties, team near 100", fmt.Sprint(milestones(sits[ninety.GetId()].GetNear())),
		"[batter_100 D 100 need 8 new false bowler_3w X 3 need 1 new false team_100 Home 100 need 8 new false partnership_100 D 100 need 8 new false]")
	eq(t, "the six to 90", fmt.Sprint(milestones(sits["m/1.1.15.0"].GetNear())),
		"[batter_100 D 100 need 10 new true team_100 Home 100 need 10 new true partnership_100 D 100 need 10 new true]")
}

func TestMilestonesReached(t *testing.T) {
	f := &feed{}
	f.info(20)
	for range 12 {
		f.ball(0, "A", "B", "X", 4, nil) // 48
	}
	fifty := f.ball(1, "A", "B", "Y", 6, nil) // 54: batter, team, stand
	sits := situations(t, f)
	eq(t, "reached", fmt.Sprint(milestones(sits[fifty.GetId()].GetMilestones())),
		"[batter_50 A 50 need 0 new false team_50 Home 50 need 0 new false partnership_50 A 50 need 0 new false]")
	m := sits[fifty.GetId()].GetMilestones()[0]
	eq(t, "batter runs", m.GetRuns(), 54)
	eq(t, "batter balls", m.GetBalls(), 13)
}

func TestRecords(t *testing.T) {
	f := &feed{}
	f.info(20)
	for range 8 {
		f.ball(0, "A", "B", "X", 4, nil) // A 32: no one before him, no record
	}
	f.ball(1, "A", "B", "Y", 0, out("bowled", "A"))
	f.ball(1, "C", "B", "Y", 6, nil)
	f.ball(1, "C", "B", "Y", 6, nil)
	f.ball(1, "C", "B", "Y", 0, out("caught", "C", "F"))
	f.ball(1, "D", "B", "Y", 0, out("lbw", "D")) // Y 3/12
	f.inn = 2
	f.ball(0, "P", "Q", "Z", 6, nil)
	f.ball(0, "P", "Q", "Z", 6, nil)
	third := f.ball(0, "P", "Q", "Z", 6, nil) // P 3 sixes: passes C's 2
	for range 3 {
		f.ball(0, "P", "Q", "Z", 4, nil)
	}
	f.ball(1, "P", "Q", "W", 0, nil)         // 30, not past A's 32
	past := f.ball(1, "P", "Q", "W", 4, nil) // P 34 passes A's 32; the stand's 34 passes A and B's 32
	sits := situations(t, f)
	recs := func(id string) string {
		var out []string
		for _, r := range sits[id].GetRecords() {
			out = append(out, fmt.Sprintf("%s %s %d prev %s %d", r.GetKind(), r.GetPlayer(), r.GetValue(), r.GetPrevious(), r.GetPreviousValue()))
		}
		return fmt.Sprint(out)
	}
	eq(t, "A's 32, the first score of the match", recs("m/1.0.8.0"), "[]")
	eq(t, "Y's third wicket, no one else has one", recs("m/1.1.5.0"), "[]")
	eq(t, "P's third six", recs(third.GetId()), "[most_sixes P 3 prev C 2]")
	eq(t, "P passes A", recs(past.GetId()), "[highest_score P 34 prev A 32 biggest_partnership P 34 prev  32]")
}

func TestOverSummary(t *testing.T) {
	f := &feed{}
	f.info(20)
	f.ball(0, "A", "B", "X", 1, nil)
	f.ball(0, "B", "A", "X", 4, nil)
	f.ball(0, "B", "A", "X", 0, out("caught", "B", "F"))
	f.ball(0, "C", "A", "X", 0, wide(1))
	f.ball(0, "C", "A", "X", 0, nil)
	f.ball(0, "C", "A", "X", 0, nil)
	end := f.ball(0, "C", "A", "X", 6, nil)
	maiden := over(f, 1, "Y", 6)
	f.endOver(1, 1)
	sits := situations(t, f)
	want := &pb.OverSummary{Number: 0, Bowler: "X", Runs: 12, Wickets: 1, Extras: 1, Boundaries: 2,
		Figures: &pb.BowlerFigures{Name: "X", LegalBalls: 6, Runs: 12, Wickets: 1}}
	if got := sits[end.GetId()].GetOver(); !proto.Equal(got, want) {
		t.Errorf("over 1:\ngot  %v\nwant %v", got, want)
	}
	if sits["m/1.0.5.0"].GetOver() != nil {
		t.Error("a summary before the over ended")
	}
	want = &pb.OverSummary{Number: 1, Bowler: "Y", Maiden: true, Figures: &pb.BowlerFigures{Name: "Y", LegalBalls: 6, Maidens: 1}}
	if got := sits[maiden.GetId()].GetOver(); !proto.Equal(got, want) {
		t.Errorf("maiden over, last ball:\ngot  %v\nwant %v", got, want)
	}
	if got := sits[f.evs[len(f.evs)-1].GetId()].GetOver(); !proto.Equal(got, want) {
		t.Errorf("maiden over, over event:\ngot  %v\nwant %v", got, want)
	}
}

func TestChaseAndResult(t *testing.T) {
	f := &feed{}
	f.info(2) // a two-over match
	f.start(1, "Home", nil)
	over(f, 0, "X", 6, 2)                           // 12
	f.ball(1, "A", "B", "X", 0, out("bowled", "A")) // 12/1
	over(f, 1, "X", 5, 1)                           // 17/1
	f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 1, Team: "Home", End: true} })
	f.start(2, "Away", nil)
	f.inn = 2
	early := f.ball(0, "P", "Q", "Z", 1, nil)
	f.ball(0, "P", "Q", "Z", 0, out("bowled", "P"))
	f.ball(0, "R", "Q", "Z", 0, out("bowled", "R"))
	win := over(f, 0, "Z", 3, 6) // 19/2 after 5 balls... the third six wins
	f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 2, Team: "Away", End: true} })
	f.add("status", func(ev *pb.Event) {
		ev.Status = &pb.Status{State: "completed", Result: "Away won by 8 wickets", Winner: "Away"}
	})
	sits := situations(t, f)

	end1 := sits["m/innings/3"].GetInningsEnd()
	want := &pb.InningsSummary{Number: 1, Team: "Home", Runs: 17, Wickets: 1, LegalBalls: 12,
		TopBatter: &pb.BatterFigures{Name: "A", Runs: 17, Balls: 12}, TopBowler: &pb.BowlerFigures{Name: "X", LegalBalls: 12, Runs: 17, Wickets: 1},
		Target: 18}
	if !proto.Equal(end1, want) {
		t.Errorf("innings 1 summary:\ngot  %v\nwant %v", end1, want)
	}
	c := sits[early.GetId()].GetChase()
	eq(t, "target", c.GetTarget(), 18)
	eq(t, "needed", c.GetRunsNeeded(), 17)
	eq(t, "balls left", c.GetBallsLeft(), 11)
	eq(t, "wickets left", c.GetWicketsLeft(), 10)
	if sits[win.GetId()].GetChase() != nil {
		t.Error("a chase after the target was reached")
	}
	var target bool
	for _, m := range sits[win.GetId()].GetMilestones() {
		target = target || m.GetKind() == "target"
	}
	eq(t, "target milestone on the winning ball", target, true)
	r := sits[f.evs[len(f.evs)-1].GetId()].GetResult()
	want2 := &pb.MatchResult{Winner: "Away", By: "wickets", Margin: 8, Text: "Away won by 8 wickets"}
	if !proto.Equal(r, want2) {
		t.Errorf("result:\ngot  %v\nwant %v", r, want2)
	}
}

// Without a margin in the provider's text, the result's comes from the
// scorecard: the side batting last won by its wickets in hand, the other
// by runs, or by an innings.
func TestResultMarginFromScorecard(t *testing.T) {
	for _, tc := range []struct {
		name, winner, by string
		margin           int32
		innings          []string // batting sides, 1 run each per ball
		balls            []int
	}{
		{"runs", "Home", "runs", 2, []string{"Home", "Away"}, []int{5, 3}},
		{"wickets", "Away", "wickets", 10, []string{"Home", "Away"}, []int{3, 4}},
		{"innings", "Home", "innings", 4, []string{"Home", "Away", "Away"}, []int{10, 3, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &feed{}
			f.info(0)
			for i, team := range tc.innings {
				f.inn = int32(i + 1)
				f.start(f.inn, team, nil)
				for range tc.balls[i] {
					b := f.ball(0, "A", "B", "X", 1, nil)
					b.Ball.BattingTeam = team
				}
				f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: f.inn, Team: team, End: true} })
			}
			f.add("status", func(ev *pb.Event) { ev.Status = &pb.Status{State: "completed", Winner: tc.winner} })
			r := situations(t, f)[f.evs[len(f.evs)-1].GetId()].GetResult()
			if r.GetBy() != tc.by || r.GetMargin() != tc.margin || r.GetWinner() != tc.winner {
				t.Errorf("result %v, want %s by %d %s", r, tc.winner, tc.margin, tc.by)
			}
		})
	}
}

// A redelivered event gets the situation it got the first time, with what
// happened on it; a different event for a ball already applied does not
// bring its milestones again.
func TestSituationRedelivery(t *testing.T) {
	f := &feed{}
	f.info(20)
	for range 13 {
		f.ball(0, "A", "B", "X", 4, nil)
	}
	s := stats.New()
	var fifty *pb.Situation
	for i, ev := range f.evs {
		ev.Seq = uint64(i + 1)
		out, err := s.Process(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if ev.GetId() == "m/1.0.13.0" {
			fifty = proto.Clone(out[0].GetSituation()).(*pb.Situation)
		}
	}
	again := proto.Clone(f.evs[len(f.evs)-1]).(*pb.Event)
	out, err := s.Process(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(out[0].GetSituation(), fifty) || len(fifty.GetMilestones()) == 0 {
		t.Errorf("redelivery: situation %v, want the first one %v", out[0].GetSituation(), fifty)
	}
	dup := proto.Clone(f.evs[len(f.evs)-1]).(*pb.Event)
	dup.Id, dup.Seq = "m/other-feed/13", 99
	out, err = s.Process(context.Background(), dup)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out[0].GetSituation().GetMilestones()); n != 0 {
		t.Errorf("the same ball under another ID: %d milestones, want none", n)
	}
}
