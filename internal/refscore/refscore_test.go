package refscore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/internal/refscore"
)

// TestIdentities checks SOURCES.md's identities on every dev match: batter
// runs + extras = total = bowler runs + byes + leg-byes + penalty, and one
// fall of wicket per wicket.
func TestIdentities(t *testing.T) {
	for _, path := range cricsheettest.CricsheetFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			r, err := refscore.Score(data)
			if err != nil {
				t.Fatalf("score: %v", err)
			}
			for i, in := range r.Innings {
				x := in.Extras
				bat := x.Wides + x.NoBalls + x.Byes + x.LegByes + x.Penalty
				bowl := x.Byes + x.LegByes + x.Penalty
				for _, b := range in.Batters {
					bat += b.Runs
				}
				for _, b := range in.Bowlers {
					bowl += b.Runs
				}
				if bat != in.Runs || bowl != in.Runs {
					t.Fatalf("innings %d: batter side %d, bowler side %d, want total %d", i+1, bat, bowl, in.Runs)
				}
				if len(in.FallOfWickets) != in.Wickets {
					t.Fatalf("innings %d: got %d falls of wicket, want %d", i+1, len(in.FallOfWickets), in.Wickets)
				}
			}
		})
	}
}

// TestKnownLines checks individual lines against published scorecards.
func TestKnownLines(t *testing.T) {
	tests := []struct {
		file    string
		innings int
		batter  scorereport.Batter
	}{
		{"1243938.json", 0, scorereport.Batter{Name: "AJ Healy", Runs: 170, Balls: 138, Fours: 26, Sixes: 0, Out: "stumped"}},
		{"1243938.json", 1, scorereport.Batter{Name: "NR Sciver", Runs: 148, Balls: 121, Fours: 15, Sixes: 1, Out: "not out"}},
		{"1336043.json", 0, scorereport.Batter{Name: "JE Root", Runs: 118, Balls: 152, Fours: 7, Sixes: 4, Out: "not out"}},
		{"1336043.json", 1, scorereport.Batter{Name: "UT Khawaja", Runs: 141, Balls: 321, Fours: 14, Sixes: 3, Out: "bowled"}},
	}
	dir := cricsheettest.CricsheetDir(t)
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.batter.Name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tc.file))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			r, err := refscore.Score(data)
			if err != nil {
				t.Fatalf("score: %v", err)
			}
			for _, b := range r.Innings[tc.innings].Batters {
				if b.Name == tc.batter.Name {
					if b != tc.batter {
						t.Fatalf("got %+v, want %+v", b, tc.batter)
					}
					return
				}
			}
			t.Fatalf("batter %s: got none, want a line", tc.batter.Name)
		})
	}
}

func TestRetirements(t *testing.T) {
	const match = `{"info":{"balls_per_over":6},"innings":[{"team":"T","penalty_runs":{"pre":5},"overs":[{"over":0,"deliveries":[
		{"batter":"A","non_striker":"B","bowler":"X","runs":{"batter":1,"extras":0,"total":1},"wickets":[{"kind":"retired hurt","player_out":"A"}]},
		{"batter":"C","non_striker":"B","bowler":"X","runs":{"batter":0,"extras":0,"total":0},"wickets":[{"kind":"run out","player_out":"B"}]},
		{"batter":"C","non_striker":"D","bowler":"X","runs":{"batter":0,"extras":0,"total":0},"wickets":[{"kind":"retired not out","player_out":"D"}]},
		{"batter":"C","non_striker":"A","bowler":"X","runs":{"batter":0,"extras":0,"total":0}}]}]}]}`
	r, err := refscore.Score([]byte(match))
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	in := r.Innings[0]
	got := map[string]string{}
	for _, b := range in.Batters {
		got[b.Name] = b.Out
	}
	want := map[string]string{"A": "not out", "B": "run out", "C": "not out", "D": "retired not out"}
	for name, w := range want {
		if got[name] != w {
			t.Fatalf("%s: got %q, want %q", name, got[name], w)
		}
	}
	if in.Wickets != 1 || in.Runs != 6 || in.Extras.Penalty != 5 || in.FallOfWickets[0] != (scorereport.FallOfWicket{Runs: 6, Wickets: 1, Player: "B"}) {
		t.Fatalf("got %d/%d, penalty %d, fow %v, want 6/1, penalty 5, fow 6/1 B", in.Runs, in.Wickets, in.Extras.Penalty, in.FallOfWickets)
	}
	if in.Bowlers[0].Wickets != 0 {
		t.Fatalf("X wickets: got %d, want 0", in.Bowlers[0].Wickets)
	}
}

func TestNotAMatch(t *testing.T) {
	if _, err := refscore.Score([]byte(`{"meta":{}}`)); !errors.Is(err, refscore.ErrFormat) {
		t.Fatalf("got %v, want %v", err, refscore.ErrFormat)
	}
	if _, err := refscore.Score([]byte(`[`)); err == nil {
		t.Fatalf("got nil, want a parse error")
	}
}
