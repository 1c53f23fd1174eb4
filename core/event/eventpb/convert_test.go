package eventpb

import (
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/event"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

func full(s string, n int, flag bool, t int64) event.Event {
	ts := time.Unix(0, t).UTC()
	if t == 0 {
		ts = time.Time{}
	}
	return event.Event{
		ID: s + "/1.0.1.0", Match: s, Seq: uint64(n), Kind: event.KindBall, Time: ts, Received: ts, Source: "replay",
		Info: &event.MatchInfo{Title: s, Teams: []string{"A", "B"}, Format: "T20", Overs: n, BallsPerOver: 6, Venue: s,
			Start: ts, TossWinner: "A", TossDecision: "bat", Players: map[string][]string{"A": {"a1", s}, "B": {"b1"}}},
		Ball: &event.Ball{Innings: n, SuperOver: flag, BattingTeam: "A", BowlingTeam: "B", Over: n, Ball: 3, Sub: 1, Legal: flag,
			Batter: s, NonStriker: "x", Bowler: "y", RunsBat: n, Extras: event.Extras{Wides: 1, NoBalls: 2, Byes: 3, LegByes: 4, Penalty: 5},
			NonBoundary: flag, Wickets: []event.Wicket{{Kind: "caught", PlayerOut: s, Fielders: []string{"f"}}}, Revision: n},
		Over:      &event.Over{Innings: 1, Number: n, Bowler: s},
		Innings:   &event.Innings{Number: n, Team: s, SuperOver: flag, End: flag, Declared: flag, Forfeited: flag, Target: &event.Target{Runs: n, Overs: 14.3}, PenaltyRuns: 5},
		Status:    &event.Status{State: event.StateLive, Result: s, Winner: s, Note: s},
		Score:     &event.Score{Innings: 1, Team: s, Runs: n, Wickets: 2, Balls: 3},
		Milestone: &event.Milestone{Kind: "batter_50", Player: s, Value: n, Partner: "x", Runs: n, Balls: 3, Wickets: 1, Need: 2, New: flag},
		Scorecard: &event.Scorecard{State: event.StateLive, Result: s, Innings: []event.InningsCard{{
			Number: 1, Team: s, SuperOver: flag, Runs: n, Wickets: 3, LegalBalls: 40, Extras: event.Extras{Wides: n},
			Declared: flag, Closed: flag, Target: &event.Target{Runs: 100}, RunRate: 7.5, RequiredRate: 8.25, RunsNeeded: 20, BallsLeft: 12,
			Batters:       []event.BatterCard{{Name: s, Runs: n, Balls: 2, Fours: 1, Sixes: 1, StrikeRate: 150, Out: flag, HowOut: "lbw", Bowler: "y", Fielders: []string{"f"}}},
			Bowlers:       []event.BowlerCard{{Name: "y", LegalBalls: 6, Maidens: 1, Runs: 0, Wickets: 1, Wides: 1, NoBalls: 1, Economy: 0.5}},
			FallOfWickets: []event.FallOfWicket{{Runs: n, Wickets: 1, Player: s, LegalBalls: 7}},
			Partnership:   event.Partnership{Runs: 5, Balls: 6, Batters: []string{s, "x"}},
		}}},
		Situation: &event.Situation{
			Innings: n,
			Phase:   event.Phase{Name: event.PhaseSession, Over: n, Changed: flag, Day: 2, Session: 3, Estimated: flag},
			Chase: &event.Chase{Target: n, RunsNeeded: 20, BallsLeft: 12, RequiredRate: 10, CurrentRate: 7.5, WicketsLeft: 4,
				Pressure: event.PressureHigh},
			Momentum: event.Momentum{Last3: event.Spell{Overs: 3, Runs: n, Wickets: 1, Fours: 2, Sixes: 1},
				Last5: event.Spell{Overs: 5, Runs: 40, Wickets: 2, Fours: 3, Sixes: 2}, DotStreak: 4, BallsSinceBoundary: 9, Boundaries: 7},
			Partnership:  event.Partnership{Runs: 5, Balls: 6, Batters: []string{s, "x"}},
			Milestones:   []event.Milestone{{Kind: "batter_50", Player: s, Value: 50, Runs: 52, Balls: 30}, {Kind: "partnership_50", Player: s, Partner: "x", Value: 50}},
			Near:         []event.Milestone{{Kind: "bowler_3w", Player: "y", Value: 3, Wickets: 2, Runs: 20, Need: 1, New: flag}},
			HatTrickBall: flag,
			OnHatTrick:   s,
			Records:      []event.Record{{Kind: event.RecordHighestScore, Player: s, Partner: "x", Value: n, Runs: 3, Previous: "z", PreviousValue: 40}},
			Over: &event.OverSummary{Number: n, Bowler: "y", Runs: 7, Wickets: 1, Extras: 1, Boundaries: 1, Maiden: flag,
				Figures: event.BowlerFigures{Name: "y", LegalBalls: 24, Maidens: 1, Runs: 30, Wickets: 2}},
			InningsEnd: &event.InningsSummary{Number: n, Team: s, Runs: 150, Wickets: 10, LegalBalls: 118, AllOut: true, Declared: flag,
				TopBatter: &event.BatterFigures{Name: s, Runs: 60, Balls: 40}, TopBowler: &event.BowlerFigures{Name: "y", LegalBalls: 24, Runs: 20, Wickets: 4},
				Lead: -20, Target: 151},
			Result: &event.MatchResult{Winner: s, By: event.ByWickets, Margin: 4, Text: s},
		},
		Commentary: &event.Commentary{Text: s, Language: "en", Persona: "calm", Model: "m", Latency: time.Duration(n), Fallback: flag, Reason: s},
	}
}

func roundTrip(t *testing.T, ev event.Event) event.Event {
	t.Helper()
	wire, err := proto.Marshal(ToProto(&ev))
	if err != nil {
		t.Fatal(err)
	}
	var p pb.Event
	if err := proto.Unmarshal(wire, &p); err != nil {
		t.Fatal(err)
	}
	got, err := FromProto(&p)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	cases := map[string]event.Event{
		"every field":    full("m1", 42, true, 1700000000123456789),
		"zero times":     full("m2", 0, false, 0),
		"bare status":    {ID: "m/status/live", Match: "m", Kind: event.KindStatus, Status: &event.Status{State: "live"}},
		"empty payload":  {ID: "x", Kind: event.KindCommentary},
		"bare situation": {ID: "y", Kind: event.KindOver, Over: &event.Over{Innings: 1}, Situation: &event.Situation{Innings: 1}},
	}
	for name, ev := range cases {
		t.Run(name, func(t *testing.T) {
			if got := roundTrip(t, ev); !reflect.DeepEqual(got, ev) {
				t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", got, ev)
			}
		})
	}
}

func TestFromProtoRejectsUnknownKind(t *testing.T) {
	if _, err := FromProto(&pb.Event{Id: "x", Kind: "wicket?"}); err == nil {
		t.Fatal("want error for unknown kind")
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("m", 1, true, int64(1))
	f.Add("", 0, false, int64(0))
	f.Add("ünï/cødé", -7, true, int64(-5))
	f.Fuzz(func(t *testing.T, s string, n int, flag bool, ts int64) {
		if !utf8.ValidString(s) {
			// proto3 strings are UTF-8; sources decode JSON, which already
			// replaces invalid bytes with U+FFFD.
			t.Skip()
		}
		n = int(int32(n)) // the wire carries int32 counts
		ev := full(s, n, flag, ts)
		ev.Seq = uint64(uint32(n))
		got := roundTrip(t, ev)
		if !reflect.DeepEqual(got, ev) {
			t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", got, ev)
		}
	})
}
