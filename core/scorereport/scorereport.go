package scorereport

import "github.com/ballcast/ballcast/core/event"

// NotOut is the "out" value of a batter who was not dismissed.
const NotOut = "not out"

// Report is a match's scorecard, innings in the order played.
type Report struct {
	Innings []Innings `json:"innings"`
}

// Innings is one innings of a Report. Super-over innings are innings of
// their own, marked SuperOver.
type Innings struct {
	Team          string         `json:"team"`
	SuperOver     bool           `json:"super_over,omitempty"`
	Runs          int            `json:"runs"`
	Wickets       int            `json:"wickets"`
	Overs         string         `json:"overs"` // legal balls as "O.B"
	Extras        Extras         `json:"extras"`
	Batters       []Batter       `json:"batters"`         // in batting order
	Bowlers       []Bowler       `json:"bowlers"`         // in bowling order
	FallOfWickets []FallOfWicket `json:"fall_of_wickets"` // in the order they fell
}

// Extras are an innings' extras by type, in runs. Penalty includes
// innings-level penalty runs.
type Extras struct {
	Wides   int `json:"wides"`
	NoBalls int `json:"noballs"`
	Byes    int `json:"byes"`
	LegByes int `json:"legbyes"`
	Penalty int `json:"penalty"`
}

// Batter is one batter's line.
type Batter struct {
	Name  string `json:"name"`
	Runs  int    `json:"runs"`
	Balls int    `json:"balls"` // balls faced: wides excluded, no-balls included
	Fours int    `json:"fours"`
	Sixes int    `json:"sixes"`
	Out   string `json:"out"` // dismissal kind, e.g. "caught", or NotOut
}

// Bowler is one bowler's line.
type Bowler struct {
	Name    string `json:"name"`
	Overs   string `json:"overs"` // legal balls bowled as "O.B"
	Maidens int    `json:"maidens"`
	Runs    int    `json:"runs"` // byes, leg-byes and penalty runs excluded
	Wickets int    `json:"wickets"`
}

// FallOfWicket is the innings score when a wicket fell.
type FallOfWicket struct {
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Player  string `json:"player"`
}

// BallsPerOver is the over length a Report assumes when formatting overs;
// a Scorecard does not carry one.
const BallsPerOver = 6

// FromScorecard builds the report of sc. A nil scorecard gives an empty
// report. Slices are never nil, so they encode as [] rather than null.
func FromScorecard(sc *event.Scorecard) Report {
	r := Report{Innings: []Innings{}}
	if sc == nil {
		return r
	}
	for _, in := range sc.Innings {
		ri := Innings{
			Team:      in.Team,
			SuperOver: in.SuperOver,
			Runs:      in.Runs,
			Wickets:   in.Wickets,
			Overs:     event.Overs(in.LegalBalls, BallsPerOver),
			Extras: Extras{
				Wides: in.Extras.Wides, NoBalls: in.Extras.NoBalls, Byes: in.Extras.Byes,
				LegByes: in.Extras.LegByes, Penalty: in.Extras.Penalty,
			},
			Batters:       make([]Batter, 0, len(in.Batters)),
			Bowlers:       make([]Bowler, 0, len(in.Bowlers)),
			FallOfWickets: make([]FallOfWicket, 0, len(in.FallOfWickets)),
		}
		for _, b := range in.Batters {
			out := b.HowOut
			if out == "" {
				out = NotOut
			}
			ri.Batters = append(ri.Batters, Batter{Name: b.Name, Runs: b.Runs, Balls: b.Balls, Fours: b.Fours, Sixes: b.Sixes, Out: out})
		}
		for _, b := range in.Bowlers {
			ri.Bowlers = append(ri.Bowlers, Bowler{Name: b.Name, Overs: event.Overs(b.LegalBalls, BallsPerOver), Maidens: b.Maidens, Runs: b.Runs, Wickets: b.Wickets})
		}
		for _, f := range in.FallOfWickets {
			ri.FallOfWickets = append(ri.FallOfWickets, FallOfWicket{Runs: f.Runs, Wickets: f.Wickets, Player: f.Player})
		}
		r.Innings = append(r.Innings, ri)
	}
	return r
}
