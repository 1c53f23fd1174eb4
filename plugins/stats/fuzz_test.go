package stats_test

import (
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

var (
	// An empty name is allowed only where it does not break the identities
	// checkConsistent asserts: team and non-striker.
	fuzzPlayers = []string{"A", "B", "C", "D", "E"}
	fuzzKinds   = []string{"bowled", "caught", "run out", "retired hurt", "retired not out", "retired out", "stumped", "timed out", ""}
)

// fuzzEvents decodes arbitrary bytes into a sequence of events, mostly
// balls, 8 bytes each. Positions, revisions, IDs and innings repeat often so
// that duplicates, corrections and out-of-order balls are exercised.
func fuzzEvents(data []byte) []*pb.Event {
	var evs []*pb.Event
	for ; len(data) >= 8; data = data[8:] {
		c := data[:8]
		ev := &pb.Event{Id: string(rune('a' + c[7]%16)), Match: "m"}
		inn := int32(c[1] % 4) // 0 is malformed on purpose
		switch c[0] % 16 {
		case 0:
			ev.Kind = "innings"
			ev.Innings = &pb.Innings{Number: inn, Team: []string{"", "Home", "Away"}[c[2]%3], SuperOver: c[3]%7 == 0, End: c[3]%2 == 1,
				Declared: c[4]%5 == 0, PenaltyRuns: int32(c[5] % 7), Target: &pb.Target{Runs: int32(c[6]), Overs: float64(c[2]) / 3}}
		case 1:
			ev.Kind = "over"
			ev.Over = &pb.Over{Innings: inn, Number: int32(c[2] % 8)}
		case 2:
			ev.Kind = "status"
			ev.Info = &pb.MatchInfo{Overs: int32(c[2]%60) - 5, BallsPerOver: int32(c[3]%9) - 1}
			ev.Status = &pb.Status{State: "live", Result: fuzzPlayers[c[4]%5]}
		case 3:
			ev.Kind = "ball" // without a ball: malformed
		default:
			ev.Kind = "ball"
			x := c[5]
			b := &pb.Ball{
				Innings: inn, SuperOver: c[0]%5 == 0, Over: int32(c[2]%6) - int32(c[6]%50/49),
				Ball: int32(c[2] / 6 % 8), Sub: int32(c[3] % 3), Revision: int32(c[3] / 3 % 3),
				Batter: fuzzPlayers[c[4]%5], NonStriker: []string{"A", "B", "C", "D", ""}[c[4]/5%5], Bowler: fuzzPlayers[c[4]/25%5],
				RunsBat: int32(c[6]%8) - int32(c[6]/8%40/39), NonBoundary: c[6]&0x80 != 0,
				Extras: &pb.Extras{},
			}
			switch x % 8 {
			case 1:
				b.Extras.Wides = int32(1 + x/8%5)
			case 2:
				b.Extras.Noballs = 1
				b.Extras.Byes = int32(x / 8 % 3)
			case 3:
				b.Extras.Byes = int32(x / 8 % 5)
			case 4:
				b.Extras.Legbyes = int32(x / 8 % 5)
			case 5:
				b.Extras.Penalty = 5
			}
			b.Legal = b.Extras.Wides == 0 && b.Extras.Noballs == 0
			if k := fuzzKinds[c[7]/16%9]; k != "" && c[7]%3 == 0 {
				b.Wickets = append(b.Wickets, &pb.Wicket{Kind: k, PlayerOut: fuzzPlayers[c[7]%5], Fielders: []string{"F"}})
			}
			ev.Ball = b
		}
		evs = append(evs, ev)
	}
	return evs
}

// FuzzStats feeds arbitrary event sequences to the stage: it must never
// panic, must answer every well-formed event with itself, a scorecard and a
// situation, and every innings must stay internally consistent.
func FuzzStats(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x01\x00\x00\x00\x00\x00\x00\x04\x01\x00\x00\x05\x00\x04\x00\x04\x01\x00\x00\x05\x01\x01\x03\x01\x01\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x04\x01\x06\x03\x06\x03\x02\x30\x04\x01\x06\x00\x06\x02\x06\x30\x05\x02\x00\x00\x00\x04\x00\x00\x00\x02\x01\x01\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := stats.New()
		for _, ev := range fuzzEvents(data) {
			outs, err := s.Process(t.Context(), ev)
			if err != nil {
				continue
			}
			if len(outs) != 1 || outs[0] != ev || ev.GetScorecard() == nil {
				t.Fatalf("got %d outputs, want the event with a scorecard", len(outs))
			}
			checkConsistent(t, ev.GetScorecard())
			checkSituation(t, ev.GetSituation())
		}
	})
}

// checkSituation asserts what holds of any situation: it is there, a
// chase still needs runs and has a known pressure, windows nest, near
// milestones are not reached yet.
func checkSituation(t *testing.T, s *pb.Situation) {
	t.Helper()
	if s == nil {
		t.Fatal("no situation")
	}
	if c := s.GetChase(); c != nil {
		switch c.GetPressure() {
		case "low", "moderate", "high", "extreme":
		default:
			t.Fatalf("chase pressure %q", c.GetPressure())
		}
		if c.GetRunsNeeded() <= 0 || c.GetWicketsLeft() < 0 || c.GetWicketsLeft() > 10 {
			t.Fatalf("chase %v", c)
		}
	}
	m := s.GetMomentum()
	if m.GetLast3().GetOvers() > 3 || m.GetLast5().GetOvers() > 5 || m.GetLast3().GetRuns() > m.GetLast5().GetRuns() ||
		m.GetLast3().GetWickets() > m.GetLast5().GetWickets() || m.GetDotStreak() > m.GetBallsSinceBoundary() {
		t.Fatalf("momentum %v", m)
	}
	for _, n := range s.GetNear() {
		if n.GetNeed() <= 0 || n.GetKind() == "" {
			t.Fatalf("near milestone %v", n)
		}
	}
	for _, r := range s.GetMilestones() {
		if r.GetKind() == "" || r.GetNeed() != 0 {
			t.Fatalf("milestone %v", r)
		}
	}
}

// checkConsistent asserts SOURCES.md's identities on every innings: batter
// runs + extras = total = bowler runs + byes + leg-byes + penalty, and one
// fall of wicket per team wicket.
func checkConsistent(t *testing.T, sc *pb.Scorecard) {
	t.Helper()
	for _, in := range sc.GetInnings() {
		x := in.GetExtras()
		bat, bowl, legal := x.GetWides()+x.GetNoballs()+x.GetByes()+x.GetLegbyes()+x.GetPenalty(), x.GetByes()+x.GetLegbyes()+x.GetPenalty(), int32(0)
		for _, b := range in.GetBatters() {
			bat += b.GetRuns()
		}
		for _, b := range in.GetBowlers() {
			bowl += b.GetRuns()
			legal += b.GetLegalBalls()
			if b.GetMaidens() < 0 || b.GetWickets() > in.GetWickets() {
				t.Fatalf("innings %d bowler %s: maidens %d, wickets %d of %d", in.GetNumber(), b.GetName(), b.GetMaidens(), b.GetWickets(), in.GetWickets())
			}
		}
		if bat != in.GetRuns() {
			t.Fatalf("innings %d: batter runs + extras = %d, want total %d", in.GetNumber(), bat, in.GetRuns())
		}
		if int(in.GetWickets()) != len(in.GetFallOfWickets()) {
			t.Fatalf("innings %d: got %d wickets and %d falls of wicket", in.GetNumber(), in.GetWickets(), len(in.GetFallOfWickets()))
		}
		if bowl != in.GetRuns() {
			t.Fatalf("innings %d: bowler runs + byes + leg-byes + penalty = %d, want total %d", in.GetNumber(), bowl, in.GetRuns())
		}
		if legal != in.GetLegalBalls() {
			t.Fatalf("innings %d: bowlers' legal balls %d, want %d", in.GetNumber(), legal, in.GetLegalBalls())
		}
	}
}
