package stats_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/internal/refscore"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
	"github.com/ballcast/ballcast/plugins/stats"
	"google.golang.org/protobuf/proto"
)

// knownTotals are the computed scores in SOURCES.md's table, one
// "Team runs/wickets (overs)" per innings with " SO" for super overs. They
// check the oracle itself.
var knownTotals = map[string][]string{
	"1336043": {"England 393/8 (78.0)", "Australia 386/10 (116.1)", "England 273/10 (66.2)", "Australia 282/8 (92.3)"},
	"1263472": {"Australia 164/6 (20.0)", "Sri Lanka 164/8 (20.0)", "Sri Lanka 5/1 (1.0) SO", "Australia 9/0 (0.3) SO"},
	"1384426": {"New Zealand 401/6 (50.0)", "Pakistan 200/1 (25.3)"},
	"1359542": {"Lucknow Super Giants 176/8 (20.0)", "Kolkata Knight Riders 175/7 (20.0)"},
	"1298179": {"Pakistan 137/8 (20.0)", "England 138/5 (19.0)"},
	"1243938": {"Australia 356/5 (50.0)", "England 285/10 (43.4)"},
	"1298152": {"Zimbabwe 79/5 (9.1)", "South Africa 51/0 (3.0)"},
	"1358950": {"Delhi Capitals 131/9 (20.0)", "Mumbai Indians 134/3 (19.3)"},
}

func totals(r scorereport.Report) []string {
	var s []string
	for _, in := range r.Innings {
		line := in.Team + " " + strconv.Itoa(in.Runs) + "/" + strconv.Itoa(in.Wickets) + " (" + in.Overs + ")"
		if in.SuperOver {
			line += " SO"
		}
		s = append(s, line)
	}
	return s
}

// matchEvents parses a Cricsheet file into wire events.
func matchEvents(t testing.TB, path string) (id string, data []byte, evs []*pb.Event) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	id = strings.TrimSuffix(filepath.Base(path), ".json")
	parsed, err := replay.Parse(id, data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	for i := range parsed {
		evs = append(evs, eventpb.ToProto(&parsed[i]))
	}
	return id, data, evs
}

// run sends evs through c in batches and returns the scorecard of the last
// output, checking that every input gave exactly one output with a scorecard.
func run(t testing.TB, c *sdktest.Client, evs []*pb.Event) *pb.Scorecard {
	t.Helper()
	var last *pb.Scorecard
	for start := 0; start < len(evs); start += 64 {
		batch := evs[start:min(start+64, len(evs))]
		res := c.ProcessBatch(batch)
		for i, r := range res.GetResults() {
			if r.GetError() != "" {
				t.Fatalf("event %s: got error %q, want none", batch[i].GetId(), r.GetError())
			}
			if len(r.GetEvents()) != 1 {
				t.Fatalf("event %s: got %d outputs, want 1", batch[i].GetId(), len(r.GetEvents()))
			}
			out := r.GetEvents()[0]
			if out.GetId() != batch[i].GetId() {
				t.Fatalf("output id: got %q, want %q", out.GetId(), batch[i].GetId())
			}
			if out.GetScorecard() == nil {
				t.Fatalf("event %s: got no scorecard, want one", out.GetId())
			}
			last = out.GetScorecard()
		}
	}
	return last
}

// runLocal is run without the gRPC hop, for tests that send many events.
func runLocal(t testing.TB, s *stats.Stage, evs []*pb.Event) *pb.Scorecard {
	t.Helper()
	var last *pb.Scorecard
	for _, ev := range evs {
		outs, err := s.Process(t.Context(), ev)
		if err != nil {
			t.Fatalf("event %s: got error %v, want none", ev.GetId(), err)
		}
		if len(outs) != 1 || outs[0].GetScorecard() == nil {
			t.Fatalf("event %s: got %d outputs, want 1 with a scorecard", ev.GetId(), len(outs))
		}
		last = outs[0].GetScorecard()
	}
	return last
}

func report(sc *pb.Scorecard) scorereport.Report {
	return scorereport.FromScorecard(eventpb.ScorecardFromProto(sc))
}

func assertReport(t testing.TB, got, want scorereport.Report) {
	t.Helper()
	if d := scorereport.Diff(got, want); len(d) > 0 {
		if len(d) > 12 {
			d = append(d[:12], "...")
		}
		t.Fatalf("scorecard differs from refscore (%d differences):\n%s", len(d), strings.Join(d, "\n"))
	}
}

// TestRealMatches replays every dev match through the stage over gRPC and
// compares the final scorecard with the reference scorer.
func TestRealMatches(t *testing.T) {
	for _, path := range cricsheettest.CricsheetFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			id, data, evs := matchEvents(t, path)
			want, err := refscore.Score(data)
			if err != nil {
				t.Fatalf("refscore: %v", err)
			}
			if kt, ok := knownTotals[id]; ok {
				if got := totals(want); strings.Join(got, "; ") != strings.Join(kt, "; ") {
					t.Fatalf("refscore totals: got %v, want %v", got, kt)
				}
			}
			sc := run(t, sdktest.Start(t, stats.New(), nil), evs)
			assertReport(t, report(sc), want)
			if sc.GetState() == "" || sc.GetResult() == "" {
				t.Fatalf("state/result: got %q/%q, want both set", sc.GetState(), sc.GetResult())
			}
			for _, in := range sc.GetInnings() {
				if !in.GetClosed() {
					t.Fatalf("innings %d: got open, want closed", in.GetNumber())
				}
			}
		})
	}
}

// TestRealMatchesRedelivered replays every dev match (in process) with each
// event sent twice and every seventh ball corrected twice (first wrongly, then back to
// the truth): the final scorecard must still match the reference.
func TestRealMatchesRedelivered(t *testing.T) {
	for _, path := range cricsheettest.CricsheetFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			_, data, evs := matchEvents(t, path)
			want, err := refscore.Score(data)
			if err != nil {
				t.Fatalf("refscore: %v", err)
			}
			var feed []*pb.Event
			for i, ev := range evs {
				feed = append(feed, ev, proto.Clone(ev).(*pb.Event))
				if ev.GetKind() != "ball" || i%7 != 0 {
					continue
				}
				wrong := proto.Clone(ev).(*pb.Event)
				wrong.Id += "/r1"
				wrong.Ball.Revision = 1
				wrong.Ball.RunsBat += 3
				wrong.Ball.Wickets = append(wrong.Ball.Wickets, &pb.Wicket{Kind: "bowled", PlayerOut: wrong.Ball.Batter})
				right := proto.Clone(ev).(*pb.Event)
				right.Id += "/r2"
				right.Ball.Revision = 2
				stale := proto.Clone(wrong).(*pb.Event) // a late copy of revision 1
				feed = append(feed, wrong, right, stale)
			}
			sc := runLocal(t, stats.New(), feed)
			assertReport(t, report(sc), want)
		})
	}
}

// The scorecard is live: at the end of every innings of a real match the
// card for that innings already holds its final figures.
func TestRealMatchLiveInnings(t *testing.T) {
	path := filepath.Join(cricsheettest.CricsheetDir(t), "1263472.json")
	_, data, evs := matchEvents(t, path)
	want, err := refscore.Score(data)
	if err != nil {
		t.Fatalf("refscore: %v", err)
	}
	c := sdktest.Start(t, stats.New(), nil)
	for _, ev := range evs {
		outs, err := c.Process(ev)
		if err != nil {
			t.Fatalf("process %s: %v", ev.GetId(), err)
		}
		in := ev.GetInnings()
		if in == nil || !in.GetEnd() {
			continue
		}
		got := report(outs[0].GetScorecard())
		n := int(in.GetNumber())
		if len(got.Innings) != n {
			t.Fatalf("innings after %s: got %d, want %d", ev.GetId(), len(got.Innings), n)
		}
		assertReport(t, scorereport.Report{Innings: got.Innings[n-1:]}, scorereport.Report{Innings: want.Innings[n-1 : n]})
	}
}

// feed builds the events of a synthetic match.
type feed struct {
	evs       []*pb.Event
	n         int
	inn       int32 // innings of the next ball; 0 means 1
	superOver bool
}

func (f *feed) add(kind string, fill func(*pb.Event)) *pb.Event {
	f.n++
	ev := &pb.Event{Id: "m/" + kind + "/" + strconv.Itoa(f.n), Match: "m", Kind: kind}
	fill(ev)
	f.evs = append(f.evs, ev)
	return ev
}

func (f *feed) info(overs int32) {
	f.add("status", func(ev *pb.Event) {
		ev.Info = &pb.MatchInfo{Teams: []string{"Home", "Away"}, Overs: overs, BallsPerOver: 6}
		ev.Status = &pb.Status{State: "live"}
	})
}

func (f *feed) start(n int32, team string, target *pb.Target) {
	f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: n, Team: team, Target: target} })
}

func (f *feed) endOver(inn, over int32) {
	f.add("over", func(ev *pb.Event) { ev.Over = &pb.Over{Innings: inn, Number: over} })
}

// ball adds a delivery at the next position of over in the feed's
// innings; mod adjusts it.
func (f *feed) ball(over int32, batter, nonStriker, bowler string, bat int32, mod func(*pb.Ball)) *pb.Event {
	inn := max(f.inn, 1)
	legal, sub := int32(0), int32(0)
	for _, ev := range f.evs {
		if b := ev.GetBall(); b != nil && b.Innings == inn && b.Over == over {
			if b.Legal {
				legal++
				sub = 0
			} else {
				sub++
			}
		}
	}
	b := &pb.Ball{Innings: inn, SuperOver: f.superOver, BattingTeam: "Home", BowlingTeam: "Away", Over: over, Ball: legal + 1, Sub: sub, Legal: true,
		Batter: batter, NonStriker: nonStriker, Bowler: bowler, RunsBat: bat, Extras: &pb.Extras{}}
	if mod != nil {
		mod(b)
	}
	b.Legal = b.Extras.Wides == 0 && b.Extras.Noballs == 0
	ev := &pb.Event{Match: "m", Kind: "ball", Ball: b}
	ev.Id = "m/" + strconv.Itoa(int(b.Innings)) + "." + strconv.Itoa(int(b.Over)) + "." + strconv.Itoa(int(b.Ball)) + "." + strconv.Itoa(int(b.Sub))
	f.evs = append(f.evs, ev)
	return ev
}

func wide(runs int32) func(*pb.Ball) { return func(b *pb.Ball) { b.Extras.Wides = runs } }

func out(kind, player string, fielders ...string) func(*pb.Ball) {
	return func(b *pb.Ball) {
		b.Wickets = append(b.Wickets, &pb.Wicket{Kind: kind, PlayerOut: player, Fielders: fielders})
	}
}

func dots(f *feed, over int32, bowler string, n int) {
	for range n {
		f.ball(over, "A", "B", bowler, 0, nil)
	}
}

func batter(t *testing.T, in *pb.InningsCard, name string) *pb.BatterCard {
	t.Helper()
	for _, b := range in.GetBatters() {
		if b.GetName() == name {
			return b
		}
	}
	t.Fatalf("batter %s: got none, want a line", name)
	return nil
}

func bowler(t *testing.T, in *pb.InningsCard, name string) *pb.BowlerCard {
	t.Helper()
	for _, b := range in.GetBowlers() {
		if b.GetName() == name {
			return b
		}
	}
	t.Fatalf("bowler %s: got none, want a line", name)
	return nil
}

func eq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func TestScoring(t *testing.T) {
	tests := []struct {
		name  string
		build func(f *feed)
		check func(t *testing.T, sc *pb.Scorecard)
	}{
		{
			name: "wide is not a ball faced, no-ball is",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 0, wide(1))
				f.ball(0, "A", "B", "X", 4, func(b *pb.Ball) { b.Extras.Noballs = 1 })
				f.ball(0, "A", "B", "X", 0, wide(5))
				f.ball(0, "A", "B", "X", 1, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				a := batter(t, in, "A")
				eq(t, "A balls", a.GetBalls(), 2)
				eq(t, "A runs", a.GetRuns(), 5)
				eq(t, "A fours", a.GetFours(), 1)
				eq(t, "A strike rate", a.GetStrikeRate(), 250.0)
				x := bowler(t, in, "X")
				eq(t, "X legal balls", x.GetLegalBalls(), 1)
				eq(t, "X wides", x.GetWides(), 2)
				eq(t, "X noballs", x.GetNoballs(), 1)
				eq(t, "X runs", x.GetRuns(), 12)
				eq(t, "innings runs", in.GetRuns(), 12)
				eq(t, "innings legal balls", in.GetLegalBalls(), 1)
				eq(t, "extras wides", in.GetExtras().GetWides(), 6)
				eq(t, "extras noballs", in.GetExtras().GetNoballs(), 1)
			},
		},
		{
			name: "byes, leg-byes and penalty are not charged to the bowler",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 0, func(b *pb.Ball) { b.Extras.Byes = 4 })
				f.ball(0, "A", "B", "X", 0, func(b *pb.Ball) { b.Extras.Legbyes = 2 })
				f.ball(0, "A", "B", "X", 1, func(b *pb.Ball) { b.Extras.Penalty = 5 })
				f.ball(0, "A", "B", "X", 0, func(b *pb.Ball) { b.Extras.Noballs = 1; b.Extras.Byes = 2 })
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "X runs", bowler(t, in, "X").GetRuns(), 2)
				eq(t, "innings runs", in.GetRuns(), 15)
				eq(t, "A runs", batter(t, in, "A").GetRuns(), 1)
				eq(t, "A balls", batter(t, in, "A").GetBalls(), 4)
				eq(t, "extras", in.GetExtras().String(), (&pb.Extras{Noballs: 1, Byes: 6, Legbyes: 2, Penalty: 5}).String())
			},
		},
		{
			name: "run out is a team wicket not credited to the bowler",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 2, nil)
				f.ball(0, "A", "B", "X", 1, out("run out", "B", "F1", "F2"))
				f.ball(0, "A", "C", "X", 0, out("caught", "A", "F3"))
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "team wickets", in.GetWickets(), 2)
				eq(t, "X wickets", bowler(t, in, "X").GetWickets(), 1)
				b := batter(t, in, "B")
				eq(t, "B out", b.GetOut(), true)
				eq(t, "B how out", b.GetHowOut(), "run out")
				eq(t, "B bowler", b.GetBowler(), "")
				eq(t, "B fielders", strings.Join(b.GetFielders(), ","), "F1,F2")
				a := batter(t, in, "A")
				eq(t, "A how out", a.GetHowOut(), "caught")
				eq(t, "A bowler", a.GetBowler(), "X")
				fow := in.GetFallOfWickets()
				eq(t, "fow count", len(fow), 2)
				eq(t, "fow 1", fow[0].String(), (&pb.FallOfWicket{Runs: 3, Wickets: 1, Player: "B", LegalBalls: 2}).String())
				eq(t, "fow 2", fow[1].String(), (&pb.FallOfWicket{Runs: 3, Wickets: 2, Player: "A", LegalBalls: 3}).String())
				eq(t, "partnership batters", strings.Join(in.GetPartnership().GetBatters(), ","), "C")
			},
		},
		{
			name: "retired hurt is not a wicket and the batter can come back",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 1, out("retired hurt", "A"))
				f.ball(0, "C", "B", "X", 0, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "team wickets", in.GetWickets(), 0)
				eq(t, "fow count", len(in.GetFallOfWickets()), 0)
				eq(t, "X wickets", bowler(t, in, "X").GetWickets(), 0)
				a := batter(t, in, "A")
				eq(t, "A out", a.GetOut(), false)
				eq(t, "A how out", a.GetHowOut(), "retired hurt")
			},
		},
		{
			name: "retired batter who comes back is not out",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 1, out("retired hurt", "A"))
				f.ball(0, "C", "B", "X", 0, out("bowled", "C"))
				f.ball(0, "A", "B", "X", 2, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				a := batter(t, in, "A")
				eq(t, "A how out", a.GetHowOut(), "")
				eq(t, "A runs", a.GetRuns(), 3)
				eq(t, "team wickets", in.GetWickets(), 1)
				eq(t, "batting order", len(in.GetBatters()), 3)
				eq(t, "partnership", in.GetPartnership().String(), (&pb.Partnership{Runs: 2, Balls: 1, Batters: []string{"A", "B"}}).String())
			},
		},
		{
			name: "batting order is first appearance, non-striker's end included",
			build: func(f *feed) {
				f.ball(0, "A", "B", "X", 1, nil)
				f.ball(0, "B", "A", "X", 0, out("caught", "B"))
				f.ball(0, "A", "C", "X", 1, nil)
				f.ball(1, "C", "A", "Y", 0, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				var names []string
				for _, b := range in.GetBatters() {
					names = append(names, b.GetName())
				}
				eq(t, "batting order", strings.Join(names, ","), "A,B,C")
				eq(t, "C balls", batter(t, in, "C").GetBalls(), 1)
				var bowlers []string
				for _, b := range in.GetBowlers() {
					bowlers = append(bowlers, b.GetName())
				}
				eq(t, "bowling order", strings.Join(bowlers, ","), "X,Y")
				eq(t, "partnership", in.GetPartnership().String(), (&pb.Partnership{Runs: 1, Balls: 2, Batters: []string{"A", "C"}}).String())
			},
		},
		{
			name: "duplicate ball is applied once",
			build: func(f *feed) {
				ev := f.ball(0, "A", "B", "X", 4, nil)
				f.evs = append(f.evs, proto.Clone(ev).(*pb.Event))
				again := proto.Clone(ev).(*pb.Event) // same ball key, another ID
				again.Id += "/via-other-provider"
				f.evs = append(f.evs, again)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "runs", in.GetRuns(), 4)
				eq(t, "legal balls", in.GetLegalBalls(), 1)
				eq(t, "A balls", batter(t, in, "A").GetBalls(), 1)
				eq(t, "A fours", batter(t, in, "A").GetFours(), 1)
			},
		},
		{
			name: "correction replaces the original",
			build: func(f *feed) {
				ev := f.ball(0, "A", "B", "X", 4, nil)
				f.ball(0, "A", "B", "X", 1, nil)
				fix := proto.Clone(ev).(*pb.Event)
				fix.Id += "/1"
				fix.Ball.Revision = 1
				fix.Ball.RunsBat = 0
				fix.Ball.Extras.Legbyes = 4
				fix.Ball.Wickets = []*pb.Wicket{{Kind: "run out", PlayerOut: "B"}}
				f.evs = append(f.evs, fix)
				stale := proto.Clone(ev).(*pb.Event)
				stale.Id += "/late-copy"
				f.evs = append(f.evs, stale)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "runs", in.GetRuns(), 5)
				eq(t, "legbyes", in.GetExtras().GetLegbyes(), 4)
				eq(t, "wickets", in.GetWickets(), 1)
				a := batter(t, in, "A")
				eq(t, "A runs", a.GetRuns(), 1)
				eq(t, "A fours", a.GetFours(), 0)
				eq(t, "A balls", a.GetBalls(), 2)
				eq(t, "X runs", bowler(t, in, "X").GetRuns(), 1)
				eq(t, "fow", in.GetFallOfWickets()[0].GetRuns(), 4)
			},
		},
		{
			name: "required rate in a chase",
			build: func(f *feed) {
				f.info(20)
				f.start(1, "Home", nil)
				f.ball(0, "A", "B", "X", 6, nil)
				f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 1, Team: "Home", End: true} })
				f.start(2, "Away", &pb.Target{Runs: 165, Overs: 20})
				f.inn = 2
				for range 6 {
					f.ball(0, "P", "Q", "Z", 2, nil)
				}
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[1]
				eq(t, "target", in.GetTarget().GetRuns(), 165)
				eq(t, "runs needed", in.GetRunsNeeded(), 153)
				eq(t, "balls left", in.GetBallsLeft(), 114)
				eq(t, "required rate", in.GetRequiredRate(), 8.05)
				eq(t, "run rate", in.GetRunRate(), 12.0)
				first := sc.GetInnings()[0]
				eq(t, "first innings closed", first.GetClosed(), true)
				eq(t, "first innings runs needed", first.GetRunsNeeded(), 0)
				eq(t, "first innings required rate", first.GetRequiredRate(), 0.0)
			},
		},
		{
			name: "D/L target overs limit the chase",
			build: func(f *feed) {
				f.info(50)
				f.start(2, "Away", &pb.Target{Runs: 180, Overs: 25.3})
				f.inn = 2
				f.ball(0, "P", "Q", "Z", 3, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "balls left", in.GetBallsLeft(), 152)
				eq(t, "runs needed", in.GetRunsNeeded(), 177)
				eq(t, "required rate", in.GetRequiredRate(), 6.99)
			},
		},
		{
			name: "target derived when the feed gives none",
			build: func(f *feed) {
				f.info(20)
				f.start(1, "Home", nil)
				f.ball(0, "A", "B", "X", 4, nil)
				f.start(2, "Away", nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[1]
				eq(t, "target", in.GetTarget().GetRuns(), 5)
				eq(t, "balls left", in.GetBallsLeft(), 120)
				eq(t, "required rate", in.GetRequiredRate(), 0.25)
				eq(t, "first innings closed", sc.GetInnings()[0].GetClosed(), true)
			},
		},
		{
			name: "maiden counted when the over ends",
			build: func(f *feed) {
				dots(f, 0, "X", 6)
				f.endOver(1, 0)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				eq(t, "X maidens", bowler(t, sc.GetInnings()[0], "X").GetMaidens(), 1)
			},
		},
		{
			name: "maiden not counted before the over ends",
			build: func(f *feed) {
				dots(f, 0, "X", 6)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				eq(t, "X maidens", bowler(t, sc.GetInnings()[0], "X").GetMaidens(), 0)
			},
		},
		{
			name: "maiden counted when the next over starts",
			build: func(f *feed) {
				dots(f, 0, "X", 6)
				f.ball(1, "B", "A", "Y", 1, nil)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "X maidens", bowler(t, in, "X").GetMaidens(), 1)
				eq(t, "Y maidens", bowler(t, in, "Y").GetMaidens(), 0)
			},
		},
		{
			name: "byes do not spoil a maiden, a wide does",
			build: func(f *feed) {
				dots(f, 0, "X", 5)
				f.ball(0, "A", "B", "X", 0, func(b *pb.Ball) { b.Extras.Byes = 4 })
				f.endOver(1, 0)
				dots(f, 1, "Y", 3)
				f.ball(1, "A", "B", "Y", 0, wide(1))
				dots(f, 1, "Y", 3)
				f.endOver(1, 1)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "X maidens", bowler(t, in, "X").GetMaidens(), 1)
				eq(t, "Y maidens", bowler(t, in, "Y").GetMaidens(), 0)
			},
		},
		{
			name: "an over shared by two bowlers is no maiden",
			build: func(f *feed) {
				dots(f, 0, "X", 2)
				dots(f, 0, "Y", 4)
				f.endOver(1, 0)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "X maidens", bowler(t, in, "X").GetMaidens(), 0)
				eq(t, "Y maidens", bowler(t, in, "Y").GetMaidens(), 0)
				eq(t, "Y legal balls", bowler(t, in, "Y").GetLegalBalls(), 4)
			},
		},
		{
			name: "an over of seven legal balls is no maiden",
			build: func(f *feed) {
				dots(f, 0, "X", 7)
				f.endOver(1, 0)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "X maidens", bowler(t, in, "X").GetMaidens(), 0)
				eq(t, "X legal balls", bowler(t, in, "X").GetLegalBalls(), 7)
				eq(t, "legal balls", in.GetLegalBalls(), 7)
			},
		},
		{
			name: "a correction after the over ended takes the maiden away",
			build: func(f *feed) {
				dots(f, 0, "X", 5)
				last := f.ball(0, "A", "B", "X", 0, nil)
				f.endOver(1, 0)
				fix := proto.Clone(last).(*pb.Event)
				fix.Ball.Revision = 1
				fix.Ball.RunsBat = 1
				f.evs = append(f.evs, fix)
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				x := bowler(t, sc.GetInnings()[0], "X")
				eq(t, "X maidens", x.GetMaidens(), 0)
				eq(t, "X runs", x.GetRuns(), 1)
			},
		},
		{
			name: "innings-level penalty runs and declaration",
			build: func(f *feed) {
				f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 1, Team: "Home", PenaltyRuns: 5} })
				f.ball(0, "A", "B", "X", 1, out("lbw", "A"))
				f.add("innings", func(ev *pb.Event) {
					ev.Innings = &pb.Innings{Number: 1, Team: "Home", End: true, Declared: true, PenaltyRuns: 5}
				})
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				in := sc.GetInnings()[0]
				eq(t, "runs", in.GetRuns(), 11)
				eq(t, "penalty", in.GetExtras().GetPenalty(), 10)
				eq(t, "fow", in.GetFallOfWickets()[0].GetRuns(), 6)
				eq(t, "declared", in.GetDeclared(), true)
				eq(t, "closed", in.GetClosed(), true)
			},
		},
		{
			name: "super over is an innings of its own",
			build: func(f *feed) {
				f.info(20)
				f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 3, Team: "Away", SuperOver: true} })
				f.inn, f.superOver = 3, true
				f.ball(0, "P", "Q", "Z", 4, nil)
				f.add("innings", func(ev *pb.Event) { ev.Innings = &pb.Innings{Number: 4, Team: "Home", SuperOver: true} })
				f.inn = 4
				f.ball(0, "A", "B", "X", 1, nil)
				f.add("status", func(ev *pb.Event) {
					ev.Status = &pb.Status{State: "completed", Result: "Match tied (Home won the super over)"}
				})
			},
			check: func(t *testing.T, sc *pb.Scorecard) {
				so := sc.GetInnings()[1]
				eq(t, "super over", so.GetSuperOver(), true)
				eq(t, "target", so.GetTarget().GetRuns(), 5)
				eq(t, "balls left", so.GetBallsLeft(), 5)
				eq(t, "runs needed", so.GetRunsNeeded(), 4)
				eq(t, "first super over target", sc.GetInnings()[0].GetTarget() == nil, true)
				eq(t, "state", sc.GetState(), "completed")
				eq(t, "result", sc.GetResult(), "Match tied (Home won the super over)")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f feed
			tc.build(&f)
			sc := run(t, sdktest.Start(t, stats.New(), nil), f.evs)
			tc.check(t, sc)
		})
	}
}

func TestEveryEventPassesWithScorecard(t *testing.T) {
	c := sdktest.Start(t, stats.New(), nil)
	for _, kind := range []string{"status", "innings", "over", "score", "milestone", "commentary", "something-new"} {
		ev := &pb.Event{Id: "m/" + kind, Match: "m", Kind: kind, Innings: &pb.Innings{Number: 1}, Over: &pb.Over{Innings: 1}}
		outs, err := c.Process(ev)
		if err != nil {
			t.Fatalf("%s: got error %v, want none", kind, err)
		}
		if len(outs) != 1 || outs[0].GetScorecard() == nil || outs[0].GetId() != ev.GetId() {
			t.Fatalf("%s: got %v, want the event with a scorecard", kind, outs)
		}
	}
}

func TestMalformedBall(t *testing.T) {
	tests := []struct {
		name string
		ev   *pb.Event
	}{
		{"no ball payload", &pb.Event{Id: "x", Match: "m", Kind: "ball"}},
		{"innings 0", &pb.Event{Id: "x", Match: "m", Kind: "ball", Ball: &pb.Ball{Batter: "A"}}},
		{"negative runs", &pb.Event{Id: "x", Match: "m", Kind: "ball", Ball: &pb.Ball{Innings: 1, RunsBat: -1}}},
		{"negative extras", &pb.Event{Id: "x", Match: "m", Kind: "ball", Ball: &pb.Ball{Innings: 1, Extras: &pb.Extras{Byes: -4}}}},
		{"innings event without number", &pb.Event{Id: "x", Match: "m", Kind: "innings", Innings: &pb.Innings{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := stats.New()
			outs, err := s.Process(t.Context(), tc.ev)
			if !errors.Is(err, stats.ErrMalformed) {
				t.Fatalf("got %v, want %v", err, stats.ErrMalformed)
			}
			if !strings.HasPrefix(err.Error(), "stats: ") {
				t.Fatalf("error text: got %q, want a stats: prefix", err)
			}
			if outs != nil {
				t.Fatalf("got %v, want no outputs", outs)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		wantErr bool
	}{
		{"empty", "", false},
		{"null", "null", false},
		{"empty object", "{}", false},
		{"unknown key", `{"precision": 2}`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := stats.New().Configure(context.Background(), sdk.NewConfig("stats", []byte(tc.raw)))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "stats: ") {
				t.Fatalf("error text: got %q, want a stats: prefix", err)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	c := sdktest.Start(t, stats.New(), nil)
	d, err := c.Describe(t.Context(), &pb.DescribeRequest{})
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	if d.GetName() != "stats" || d.GetVersion() != "0.1.0" {
		t.Fatalf("got %s %s, want stats 0.1.0", d.GetName(), d.GetVersion())
	}
}

// Matches are scored apart.
func TestMatchesAreIndependent(t *testing.T) {
	s := stats.New()
	for _, m := range []string{"a", "b", "a"} {
		ev := &pb.Event{Id: m + "/" + strconv.Itoa(len(m)), Match: m, Kind: "ball", Ball: &pb.Ball{Innings: 1, Ball: 1, Legal: true, Batter: "A", NonStriker: "B", Bowler: "X", RunsBat: 1}}
		if _, err := s.Process(t.Context(), ev); err != nil {
			t.Fatalf("process: %v", err)
		}
	}
	outs, err := s.Process(t.Context(), &pb.Event{Id: "b/s", Match: "b", Kind: "status"})
	if err != nil {
		t.Fatalf("process: %v", err)
	}
	eq(t, "match b runs", outs[0].GetScorecard().GetInnings()[0].GetRuns(), 1)
}
