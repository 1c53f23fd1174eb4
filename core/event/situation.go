package event

// Situation is what a commentator knows at an event beyond the scorecard:
// the phase of play, the state of a chase, momentum, the stand, milestones
// reached on this event or close, records within the match, and the
// summaries of an over, an innings or the match. The stats stage attaches
// one to every event it handles; the commentary stage writes from it.
//
// Fields that describe what happened on this event (Milestones, Records,
// Over, InningsEnd, Result, HatTrickBall, Phase.Changed) are empty when the
// event is a redelivery the stage had already answered and no longer holds.
type Situation struct {
	Innings     int // the innings the situation is about; 0 before the first
	Phase       Phase
	Chase       *Chase // nil unless the batting side is chasing a target
	Momentum    Momentum
	Partnership Partnership // the current stand, as on the scorecard

	Milestones []Milestone // reached on this event
	Near       []Milestone // close: Need says how far away

	HatTrickBall bool   // this delivery followed wickets on the bowler's previous two
	OnHatTrick   string // the bowler whose next delivery is a hat-trick ball

	Records []Record // match records this event set

	Over       *OverSummary    // on the ball that completes an over, and on over events
	InningsEnd *InningsSummary // on an innings-end event
	Result     *MatchResult    // on the event that completes the match
}

// Phases of play.
const (
	PhasePowerplay = "powerplay"
	PhaseMiddle    = "middle"
	PhaseDeath     = "death"
	PhaseSession   = "session" // a match without an overs limit: see Day and Session
	PhaseSuperOver = "super over"
)

// Phase is the stage of the innings (limited overs) or of the match
// (no overs limit).
type Phase struct {
	Name    string // one of the Phase constants; "" when unknown
	Over    int    // the current over, 1-based
	Changed bool   // this ball is the first of a new phase or session

	// Without an overs limit: the day and session, 1-based, estimated from
	// the overs bowled in the match at 90 overs a day and 30 a session.
	// Breaks, weather and changes of innings make the real ones differ.
	Day       int
	Session   int
	Estimated bool
}

// Pressure levels of a chase, lowest first.
const (
	PressureLow      = "low"      // ahead of the rate, wickets in hand
	PressureModerate = "moderate" // the rate is within reach
	PressureHigh     = "high"     // behind the rate or short of wickets
	PressureExtreme  = "extreme"  // well behind, or few wickets left
)

// Chase is the chasing side's position.
type Chase struct {
	Target       int
	RunsNeeded   int
	BallsLeft    int     // 0 when unlimited
	RequiredRate float64 // runs an over still needed; 0 when unlimited
	CurrentRate  float64 // runs an over so far in the innings
	WicketsLeft  int
	Pressure     string // one of the Pressure constants
}

// Momentum is the recent run of play in the innings.
type Momentum struct {
	Last3, Last5       Spell // the last 3 and 5 completed overs
	DotStreak          int   // consecutive legal balls without a run, up to this one
	BallsSinceBoundary int   // legal balls since the last four or six (or since the innings began)
	Boundaries         int   // fours and sixes in the innings
}

// Spell sums a run of completed overs.
type Spell struct {
	Overs   int // completed overs summed: fewer than asked early in an innings
	Runs    int
	Wickets int
	Fours   int
	Sixes   int
}

// Record kinds: a record within the match.
const (
	RecordHighestScore       = "highest_score"       // highest individual score
	RecordBestBowling        = "best_bowling"        // most wickets, fewest runs
	RecordBiggestPartnership = "biggest_partnership" // highest stand
	RecordMostSixes          = "most_sixes"          // most sixes in an innings
)

// Record is a match record set on this event: Player (and Partner, for a
// stand) now holds it with Value, passing Previous's PreviousValue.
type Record struct {
	Kind          string
	Player        string
	Partner       string
	Value         int // runs, wickets or sixes
	Runs          int // best bowling: runs conceded
	Previous      string
	PreviousValue int
}

// OverSummary sums one completed over.
type OverSummary struct {
	Number     int // 0-based, as Ball.Over
	Bowler     string
	Runs       int
	Wickets    int
	Extras     int
	Boundaries int
	Maiden     bool
	Figures    BowlerFigures // the bowler's figures after the over
}

// BowlerFigures are a bowler's figures in the innings.
type BowlerFigures struct {
	Name       string
	LegalBalls int
	Maidens    int
	Runs       int
	Wickets    int
}

// InningsSummary sums a finished innings.
type InningsSummary struct {
	Number     int
	Team       string
	Runs       int
	Wickets    int
	LegalBalls int
	AllOut     bool
	Declared   bool
	TopBatter  *BatterFigures
	TopBowler  *BowlerFigures
	// Lead is the batting side's lead over the other side across the match
	// after this innings (negative: behind). Target is what the next
	// innings needs when this innings sets a limited-overs target.
	Lead   int
	Target int
}

// BatterFigures are a batter's runs and balls.
type BatterFigures struct {
	Name  string
	Runs  int
	Balls int
}

// Ways a match is decided, for MatchResult.By.
const (
	ByRuns      = "runs"
	ByWickets   = "wickets"
	ByInnings   = "innings" // an innings and Margin runs
	BySuperOver = "super over"
	ByTie       = "tie"
	ByDraw      = "draw"
	ByNoResult  = "no result"
)

// MatchResult is how the match ended.
type MatchResult struct {
	Winner string
	By     string // one of the By constants; "" for a win whose margin is unknown
	Margin int    // runs or wickets; 0 when By has none
	Text   string // as the provider states it, e.g. "Australia won by 2 wickets"
}
