// Package event is ballcast's normalized event model: one Event per thing that
// happened in a match, whatever provider it came from. Every other package
// depends on it; it depends only on the standard library.
package event

import (
	"fmt"
	"time"
)

// Kind says what an Event describes and which payload field is set.
type Kind uint8

// Event kinds. The zero Kind is invalid.
const (
	KindUnknown    Kind = iota
	KindBall            // Ball is set: one delivery
	KindOver            // Over is set: an over was completed
	KindInnings         // Innings is set: an innings started or ended
	KindStatus          // Status is set: match state (toss, start, result)
	KindScore           // Score is set: a score-only update from a feed without balls
	KindMilestone       // Milestone is set
	KindCommentary      // Commentary is set: free-standing commentary
)

var kindNames = [...]string{"unknown", "ball", "over", "innings", "status", "score", "milestone", "commentary"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for i, n := range kindNames {
		if n == s {
			return Kind(i), true
		}
	}
	return KindUnknown, false
}

// Event is one normalized occurrence in a match.
//
// ID is the idempotency key every stage relies on: the same real-world
// occurrence always has the same ID, whichever provider or reconnect delivered
// it, so a stage that has seen an ID may drop the event. Seq is assigned by
// ingest, per match, gap-free, in arrival order.
type Event struct {
	ID       string
	Match    string
	Seq      uint64
	Kind     Kind
	Time     time.Time // provider time; zero when the provider gives none
	Received time.Time // when ballcast ingested it
	Source   string    // provider name, e.g. "replay", "roanuz"

	Info       *MatchInfo // on the first status event of a match, and whenever it changes
	Ball       *Ball
	Over       *Over
	Innings    *Innings
	Status     *Status
	Score      *Score
	Milestone  *Milestone
	Scorecard  *Scorecard  // added by the stats stage
	Situation  *Situation  // added by the stats stage
	Commentary *Commentary // added by the commentary stage
}

// MatchInfo is what is known about a match before a ball is bowled.
type MatchInfo struct {
	Title        string   // e.g. "England v Australia, The Ashes (match 1)"
	Teams        []string // in the order the provider lists them
	Format       string   // "T20", "ODI", "Test", ...
	Overs        int      // scheduled overs per innings; 0 for unlimited (Tests)
	BallsPerOver int      // 6 unless stated
	Venue        string
	Start        time.Time
	TossWinner   string
	TossDecision string // "bat" or "field"
	Players      map[string][]string
}

// Extras are runs not credited to the batter, by type.
type Extras struct {
	Wides   int
	NoBalls int
	Byes    int
	LegByes int
	Penalty int
}

// Total is the sum of all extras.
func (e Extras) Total() int { return e.Wides + e.NoBalls + e.Byes + e.LegByes + e.Penalty }

// Add returns e + o.
func (e Extras) Add(o Extras) Extras {
	return Extras{e.Wides + o.Wides, e.NoBalls + o.NoBalls, e.Byes + o.Byes, e.LegByes + o.LegByes, e.Penalty + o.Penalty}
}

// Wicket is one dismissal; a ball can carry more than one.
type Wicket struct {
	Kind      string // Cricsheet vocabulary: "bowled", "caught", "run out", "retired hurt", ...
	PlayerOut string
	Fielders  []string
}

// CreditsBowler reports whether the dismissal counts among the bowler's wickets.
func (w Wicket) CreditsBowler() bool {
	switch w.Kind {
	case "bowled", "caught", "caught and bowled", "lbw", "stumped", "hit wicket":
		return true
	}
	return false
}

// IsTeamWicket reports whether the dismissal costs the batting side a wicket.
// Retired hurt and retired not out are not wickets.
func (w Wicket) IsTeamWicket() bool {
	return w.Kind != "retired hurt" && w.Kind != "retired not out"
}

// Ball is one delivery.
//
// Position: Over is 0-based; Ball is the 1-based legal-ball position in the
// over the delivery counts toward (a wide before the third legal ball is at
// Ball 3); Sub numbers deliveries that share a position (0 for the first).
// Together with Innings they make the ball's identity across providers.
type Ball struct {
	Innings     int // 1-based in the order played, super overs included
	SuperOver   bool
	BattingTeam string
	BowlingTeam string
	Over        int
	Ball        int
	Sub         int
	Legal       bool // false for wides and no-balls

	Batter     string
	NonStriker string
	Bowler     string

	RunsBat     int // runs off the bat, credited to the batter
	Extras      Extras
	NonBoundary bool // a 4 or 6 that was run or overthrown
	Wickets     []Wicket

	// Revision is 0 for the first report of a delivery and counts corrections.
	Revision int
}

// Runs is the total the delivery added to the innings.
func (b *Ball) Runs() int { return b.RunsBat + b.Extras.Total() }

// Four reports a boundary four off the bat.
func (b *Ball) Four() bool { return b.RunsBat == 4 && !b.NonBoundary }

// Six reports a six off the bat.
func (b *Ball) Six() bool { return b.RunsBat == 6 && !b.NonBoundary }

// Key is the ball's provider-neutral identity, e.g. "1.0.3.0".
func (b *Ball) Key() string { return fmt.Sprintf("%d.%d.%d.%d", b.Innings, b.Over, b.Ball, b.Sub) }

// Over marks the end of an over.
type Over struct {
	Innings int
	Number  int // 0-based
	Bowler  string
}

// Innings marks an innings starting or ending.
type Innings struct {
	Number      int
	Team        string
	SuperOver   bool
	End         bool // false: started; true: ended
	Declared    bool
	Forfeited   bool
	Target      *Target // the chasing side's target, possibly revised
	PenaltyRuns int     // innings-level penalty runs awarded at this point
}

// Target is the runs a chasing side needs, within Overs (0: no limit).
type Target struct {
	Runs  int
	Overs float64 // overs as the provider states them, e.g. 14.3
}

// Match states used by Status.State.
const (
	StateScheduled = "scheduled"
	StateLive      = "live"
	StateBreak     = "break"
	StateCompleted = "completed"
	StateAbandoned = "abandoned"
)

// Status is a change of match state.
type Status struct {
	State  string // one of the State constants
	Result string // human-readable outcome once completed, e.g. "Australia won by 2 wickets"
	Winner string
	Note   string // e.g. "rain delay"
}

// Score is a score-only update from a feed that does not describe balls.
type Score struct {
	Innings int
	Team    string
	Runs    int
	Wickets int
	Balls   int // legal balls bowled in the innings
}

// Milestone is a notable achievement, e.g. a batter's fifty. In a
// Situation it is also one close at hand, with Need set.
type Milestone struct {
	Kind   string // "batter_50", "batter_100", "bowler_3w", "bowler_5w", "team_100", "partnership_50", "hat_trick", "target", ...
	Player string // the batter, bowler, first partner, or the team
	Value  int    // the threshold: 50 runs, 3 wickets, ...

	Partner string // a stand's other batter
	Runs    int    // the batter's, team's or stand's runs; a bowler's runs conceded
	Balls   int    // balls faced (batter, stand) or bowled (bowler)
	Wickets int    // a bowler's wickets
	Need    int    // runs or wickets still needed; 0 once reached
	New     bool   // Need: this event brought the milestone close
}

// Commentary is a line of commentary on an event.
type Commentary struct {
	Text     string
	Language string // BCP 47, e.g. "en"
	Persona  string
	Model    string        // LLM model, empty for the template engine
	Latency  time.Duration // time taken to produce the line
	Fallback bool          // the template engine stood in for the LLM
	Reason   string        // why the fallback was used
}
