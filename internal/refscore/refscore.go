package refscore

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ballcast/ballcast/core/scorereport"
)

// ErrFormat is returned for JSON that is not a Cricsheet match.
var ErrFormat = errors.New("refscore: not a cricsheet match")

type match struct {
	Info struct {
		BallsPerOver int `json:"balls_per_over"`
	} `json:"info"`
	Innings []innings `json:"innings"`
}

type innings struct {
	Team        string `json:"team"`
	SuperOver   bool   `json:"super_over"`
	PenaltyRuns struct {
		Pre  int `json:"pre"`
		Post int `json:"post"`
	} `json:"penalty_runs"`
	Overs []struct {
		Over       int        `json:"over"`
		Deliveries []delivery `json:"deliveries"`
	} `json:"overs"`
}

type delivery struct {
	Batter     string `json:"batter"`
	NonStriker string `json:"non_striker"`
	Bowler     string `json:"bowler"`
	Runs       struct {
		Batter      int  `json:"batter"`
		Total       int  `json:"total"`
		NonBoundary bool `json:"non_boundary"`
	} `json:"runs"`
	Extras  map[string]int `json:"extras"`
	Wickets []struct {
		Kind      string `json:"kind"`
		PlayerOut string `json:"player_out"`
	} `json:"wickets"`
}

// Score derives the final scorecard of the Cricsheet match in data.
func Score(data []byte) (scorereport.Report, error) {
	var m match
	if err := json.Unmarshal(data, &m); err != nil {
		return scorereport.Report{}, fmt.Errorf("refscore: parse: %w", err)
	}
	if m.Innings == nil {
		return scorereport.Report{}, fmt.Errorf("%w: no innings", ErrFormat)
	}
	bpo := m.Info.BallsPerOver
	if bpo <= 0 {
		bpo = 6
	}
	r := scorereport.Report{Innings: []scorereport.Innings{}}
	for _, in := range m.Innings {
		r.Innings = append(r.Innings, scoreInnings(in, bpo))
	}
	return r, nil
}

// creditsBowler lists the dismissals counted among the bowler's wickets.
var creditsBowler = map[string]bool{
	"bowled": true, "caught": true, "caught and bowled": true,
	"lbw": true, "stumped": true, "hit wicket": true,
}

// notAWicket lists the dismissals that do not cost the side a wicket.
var notAWicket = map[string]bool{"retired hurt": true, "retired not out": true}

func overs(legal, bpo int) string { return fmt.Sprintf("%d.%d", legal/bpo, legal%bpo) }

func scoreInnings(in innings, bpo int) scorereport.Innings {
	out := scorereport.Innings{
		Team:          in.Team,
		SuperOver:     in.SuperOver,
		Batters:       []scorereport.Batter{},
		Bowlers:       []scorereport.Bowler{},
		FallOfWickets: []scorereport.FallOfWicket{},
	}
	batter := map[string]int{} // name -> index in out.Batters
	bowler := map[string]int{} // name -> index in out.Bowlers
	bowlerBalls := map[string]int{}
	// appear adds a batter on first appearance and returns their index
	// (an index, not a pointer: appending may move the slice).
	appear := func(name string) int {
		i, ok := batter[name]
		if !ok {
			i = len(out.Batters)
			batter[name] = i
			out.Batters = append(out.Batters, scorereport.Batter{Name: name, Out: scorereport.NotOut})
		}
		if notAWicket[out.Batters[i].Out] { // a retired batter who comes back is not out again
			out.Batters[i].Out = scorereport.NotOut
		}
		return i
	}

	total := in.PenaltyRuns.Pre
	legal := 0
	for _, ov := range in.Overs {
		overBowlers := map[string]bool{}
		overLegal, overCharged := 0, 0
		for _, d := range ov.Deliveries {
			wide, noball := d.Extras["wides"] > 0, d.Extras["noballs"] > 0
			isLegal := !wide && !noball
			charged := d.Runs.Total - d.Extras["byes"] - d.Extras["legbyes"] - d.Extras["penalty"]

			total += d.Runs.Total
			out.Extras.Wides += d.Extras["wides"]
			out.Extras.NoBalls += d.Extras["noballs"]
			out.Extras.Byes += d.Extras["byes"]
			out.Extras.LegByes += d.Extras["legbyes"]
			out.Extras.Penalty += d.Extras["penalty"]
			if isLegal {
				legal++
				overLegal++
			}

			si := appear(d.Batter)
			appear(d.NonStriker)
			striker := &out.Batters[si]
			striker.Runs += d.Runs.Batter
			if !wide {
				striker.Balls++
			}
			if !d.Runs.NonBoundary && d.Runs.Batter == 4 {
				striker.Fours++
			}
			if !d.Runs.NonBoundary && d.Runs.Batter == 6 {
				striker.Sixes++
			}

			bi, ok := bowler[d.Bowler]
			if !ok {
				bi = len(out.Bowlers)
				bowler[d.Bowler] = bi
				out.Bowlers = append(out.Bowlers, scorereport.Bowler{Name: d.Bowler})
			}
			bw := &out.Bowlers[bi]
			bw.Runs += charged
			if isLegal {
				bowlerBalls[d.Bowler]++
			}
			overBowlers[d.Bowler] = true
			overCharged += charged

			for _, w := range d.Wickets {
				out.Batters[appear(w.PlayerOut)].Out = w.Kind
				if creditsBowler[w.Kind] {
					bw.Wickets++
				}
				if !notAWicket[w.Kind] {
					out.Wickets++
					out.FallOfWickets = append(out.FallOfWickets, scorereport.FallOfWicket{Runs: total, Wickets: out.Wickets, Player: w.PlayerOut})
				}
			}
		}
		if len(overBowlers) == 1 && overLegal == bpo && overCharged == 0 {
			for name := range overBowlers {
				out.Bowlers[bowler[name]].Maidens++
			}
		}
	}
	total += in.PenaltyRuns.Post
	out.Extras.Penalty += in.PenaltyRuns.Pre + in.PenaltyRuns.Post
	out.Runs = total
	out.Overs = overs(legal, bpo)
	for i := range out.Bowlers {
		out.Bowlers[i].Overs = overs(bowlerBalls[out.Bowlers[i].Name], bpo)
	}
	return out
}
