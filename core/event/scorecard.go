package event

import "fmt"

// Scorecard is the live state of a match as the stats stage computes it.
type Scorecard struct {
	Innings []InningsCard
	State   string // one of the State constants
	Result  string
}

// Current returns the innings in progress (the last one), or nil.
func (s *Scorecard) Current() *InningsCard {
	if s == nil || len(s.Innings) == 0 {
		return nil
	}
	return &s.Innings[len(s.Innings)-1]
}

// InningsCard is one innings of a scorecard.
type InningsCard struct {
	Number     int
	Team       string
	SuperOver  bool
	Runs       int
	Wickets    int
	LegalBalls int
	Extras     Extras
	Declared   bool
	Closed     bool

	Target        *Target
	RunRate       float64 // runs per over
	RequiredRate  float64 // runs per over still needed; 0 when not chasing
	RunsNeeded    int
	BallsLeft     int // 0 when unlimited
	Batters       []BatterCard
	Bowlers       []BowlerCard
	FallOfWickets []FallOfWicket
	Partnership   Partnership
}

// BatterCard is one batter's line, in batting order.
type BatterCard struct {
	Name       string
	Runs       int
	Balls      int
	Fours      int
	Sixes      int
	StrikeRate float64
	Out        bool
	HowOut     string // dismissal kind, "" while not out
	Bowler     string
	Fielders   []string
}

// BowlerCard is one bowler's line, in bowling order.
type BowlerCard struct {
	Name       string
	LegalBalls int
	Maidens    int
	Runs       int
	Wickets    int
	Wides      int
	NoBalls    int
	Economy    float64
}

// FallOfWicket records the score when a wicket fell.
type FallOfWicket struct {
	Runs       int
	Wickets    int
	Player     string
	LegalBalls int
}

// Partnership is the current stand.
type Partnership struct {
	Runs    int
	Balls   int
	Batters []string
}

// Overs formats legal balls as "O.B", e.g. 116.1.
func Overs(legalBalls, ballsPerOver int) string {
	if ballsPerOver <= 0 {
		ballsPerOver = 6
	}
	return fmt.Sprintf("%d.%d", legalBalls/ballsPerOver, legalBalls%ballsPerOver)
}
