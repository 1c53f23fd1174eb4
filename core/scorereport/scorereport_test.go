package scorereport_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/scorereport"
)

func TestFromScorecardJSON(t *testing.T) {
	tests := []struct {
		name string
		sc   *event.Scorecard
		want string
	}{
		{"nil", nil, `{"innings":[]}`},
		{"empty innings", &event.Scorecard{Innings: []event.InningsCard{{Team: "England"}}},
			`{"innings":[{"team":"England","runs":0,"wickets":0,"overs":"0.0","extras":{"wides":0,"noballs":0,"byes":0,"legbyes":0,"penalty":0},"batters":[],"bowlers":[],"fall_of_wickets":[]}]}`},
		{
			"super over",
			&event.Scorecard{Innings: []event.InningsCard{{
				Team: "Sri Lanka", SuperOver: true, Runs: 5, Wickets: 1, LegalBalls: 6,
				Extras:        event.Extras{Wides: 1, NoBalls: 2, Byes: 3, LegByes: 4, Penalty: 5},
				Batters:       []event.BatterCard{{Name: "A", Runs: 4, Balls: 3, Fours: 1, Out: true, HowOut: "caught"}, {Name: "B", Runs: 1, Balls: 3}, {Name: "C", HowOut: "retired hurt"}},
				Bowlers:       []event.BowlerCard{{Name: "X", LegalBalls: 7, Maidens: 1, Runs: 5, Wickets: 1}},
				FallOfWickets: []event.FallOfWicket{{Runs: 4, Wickets: 1, Player: "A", LegalBalls: 3}},
			}}},
			`{"innings":[{"team":"Sri Lanka","super_over":true,"runs":5,"wickets":1,"overs":"1.0",` +
				`"extras":{"wides":1,"noballs":2,"byes":3,"legbyes":4,"penalty":5},` +
				`"batters":[{"name":"A","runs":4,"balls":3,"fours":1,"sixes":0,"out":"caught"},{"name":"B","runs":1,"balls":3,"fours":0,"sixes":0,"out":"not out"},{"name":"C","runs":0,"balls":0,"fours":0,"sixes":0,"out":"retired hurt"}],` +
				`"bowlers":[{"name":"X","overs":"1.1","maidens":1,"runs":5,"wickets":1}],` +
				`"fall_of_wickets":[{"runs":4,"wickets":1,"player":"A"}]}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(scorereport.FromScorecard(tc.sc))
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if got := string(b); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	a := scorereport.Report{Innings: []scorereport.Innings{{Team: "T", Runs: 10, Batters: []scorereport.Batter{{Name: "A", Runs: 10, Out: "not out"}}}}}
	b := scorereport.Report{Innings: []scorereport.Innings{{Team: "T", Runs: 11, Batters: []scorereport.Batter{{Name: "A", Runs: 11, Out: "not out"}}}}}
	if d := scorereport.Diff(a, a); d != nil {
		t.Fatalf("got %v, want no differences", d)
	}
	d := scorereport.Diff(a, b)
	if len(d) != 2 || !strings.Contains(d[0], "runs: got 10, want 11") || !strings.Contains(d[1], "batters[0] (A)") {
		t.Fatalf("got %q, want runs and batters[0] differences", d)
	}
}
