package scorelytics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Message types (PROVIDERS.md §4, SCL-OV). Others may appear later and are
// ignored.
const (
	TypeScoreUpdate  = "score_update"
	TypeStatusChange = "status_change"
)

// Status codes. Only 3 (finished) is documented, and 2 → 3 is the doc's
// "final whistle", so 2 is in play; 1, 4 and 5 are ballcast's inference.
const (
	StatusScheduled   = 1
	StatusLive        = 2
	StatusFinished    = 3
	StatusInterrupted = 4 // [INF] play suspended (rain, innings break)
	StatusAbandoned   = 5 // [INF] no result
)

// Errors the frame parser wraps.
var (
	// ErrMalformed: the frame is not a Scorelytics message.
	ErrMalformed = errors.New("scorelytics: malformed frame")
	// ErrUnknownType: a well-formed message of a type this client does not
	// know (the docs promise new types, so it is skipped, not fatal).
	ErrUnknownType = errors.New("scorelytics: unknown message type")
)

// Message is one WebSocket frame: {type, match_id, data}.
type Message struct {
	Type    string          `json:"type"`
	MatchID string          `json:"match_id"`
	Data    json.RawMessage `json:"data"`
}

// ScoreUpdate is the data of a score_update. Home, Away and Minute are
// documented (football); Period is documented for basketball. The cricket
// fields are ballcast's inference [INF]: Home and Away are the runs of each
// side's innings in progress (or last completed), Period the innings number
// (super overs continue the count), Batting which side bats in it, and
// Wickets and LegalBalls that innings' totals. Ball, when present, is the
// delivery that produced this state (the ball-by-ball field).
type ScoreUpdate struct {
	Home       int     `json:"home"`
	Away       int     `json:"away"`
	Minute     *int    `json:"minute,omitempty"`
	Period     int     `json:"period,omitempty"`
	Batting    string  `json:"batting,omitempty"`
	Wickets    int     `json:"wickets,omitempty"`
	LegalBalls int     `json:"legal_balls,omitempty"`
	SuperOver  bool    `json:"super_over,omitempty"`
	Target     *Target `json:"target,omitempty"`
	Ball       *Ball   `json:"ball,omitempty"`
}

// Runs is the batting side's runs in the innings in progress.
func (u *ScoreUpdate) Runs() int {
	if u.Batting == "away" {
		return u.Away
	}
	return u.Home
}

// StatusChange is the data of a status_change: status codes.
type StatusChange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// Target is a chasing side's target.
type Target struct {
	Runs  int     `json:"runs"`
	Overs float64 `json:"overs,omitempty"`
}

// Ball is one delivery [INF]. Over is 0-based; Ball is the 1-based
// position of the legal ball the delivery counts toward, as scoreboards
// show it ("6.4"), so a wide repeats the number of the ball that follows.
type Ball struct {
	Innings     int      `json:"innings"`
	Over        int      `json:"over"`
	Ball        int      `json:"ball"`
	Batter      string   `json:"batter"`
	NonStriker  string   `json:"non_striker"`
	Bowler      string   `json:"bowler"`
	RunsBatter  int      `json:"runs_batter"`
	NonBoundary bool     `json:"non_boundary,omitempty"`
	Extras      Extras   `json:"extras"`
	Wickets     []Wicket `json:"wickets,omitempty"`
}

// Extras by type.
type Extras struct {
	Wides   int `json:"wides,omitempty"`
	NoBalls int `json:"noballs,omitempty"`
	Byes    int `json:"byes,omitempty"`
	LegByes int `json:"legbyes,omitempty"`
	Penalty int `json:"penalty,omitempty"`
}

// Wicket is one dismissal, in Cricsheet's vocabulary.
type Wicket struct {
	Kind      string   `json:"kind"`
	PlayerOut string   `json:"player_out"`
	Fielders  []string `json:"fielders,omitempty"`
}

func (b *Ball) legal() bool { return b.Extras.Wides == 0 && b.Extras.NoBalls == 0 }

func (b *Ball) runs() int {
	x := b.Extras
	return b.RunsBatter + x.Wides + x.NoBalls + x.Byes + x.LegByes + x.Penalty
}

func (b *Ball) teamWickets() int {
	n := 0
	for _, w := range b.Wickets {
		if w.Kind != "retired hurt" && w.Kind != "retired not out" {
			n++
		}
	}
	return n
}

func (b *Ball) validate() error {
	x := b.Extras
	switch {
	case b.Innings < 1:
		return fmt.Errorf("ball innings %d", b.Innings)
	case b.Over < 0 || b.Ball < 1:
		return fmt.Errorf("ball position %d.%d", b.Over, b.Ball)
	case b.RunsBatter < 0 || x.Wides < 0 || x.NoBalls < 0 || x.Byes < 0 || x.LegByes < 0 || x.Penalty < 0:
		return errors.New("negative runs")
	}
	return nil
}

// Snapshot is the REST match document, GET /v1/{sport}/matches/{id}. The
// top-level score fields are what the docs merge deltas into (SCL-ONE);
// Cricket is ballcast's inference [INF] of what a cricket match carries,
// including Balls, the deliveries so far, which lets a client that missed
// deltas fill the gap.
type Snapshot struct {
	ID         string   `json:"id"`
	Sport      string   `json:"sport,omitempty"`
	League     string   `json:"league,omitempty"`
	HomeTeam   string   `json:"home_team"`
	AwayTeam   string   `json:"away_team"`
	StartTime  string   `json:"start_time,omitempty"`
	StatusCode int      `json:"status_code"`
	HomeScore  int      `json:"home_score"`
	AwayScore  int      `json:"away_score"`
	Minute     *int     `json:"minute"`
	Period     int      `json:"period,omitempty"`
	Result     string   `json:"result,omitempty"`
	Winner     string   `json:"winner,omitempty"`
	Cricket    *Cricket `json:"cricket,omitempty"`
}

// Cricket is the cricket part of a snapshot [INF].
type Cricket struct {
	Format       string    `json:"format,omitempty"`
	OversLimit   int       `json:"overs_limit,omitempty"`
	BallsPerOver int       `json:"balls_per_over,omitempty"`
	Venue        string    `json:"venue,omitempty"`
	TossWinner   string    `json:"toss_winner,omitempty"`
	TossDecision string    `json:"toss_decision,omitempty"`
	Batting      string    `json:"batting,omitempty"`
	Wickets      int       `json:"wickets"`
	LegalBalls   int       `json:"legal_balls"`
	Innings      []Innings `json:"innings"`
	Balls        []Ball    `json:"balls,omitempty"`
}

// Innings describes one innings of a snapshot.
type Innings struct {
	Number    int     `json:"number"`
	Team      string  `json:"team"`
	SuperOver bool    `json:"super_over,omitempty"`
	Target    *Target `json:"target,omitempty"`
	Closed    bool    `json:"closed,omitempty"`
	Declared  bool    `json:"declared,omitempty"`
}

// Frame is a parsed WebSocket message: Score or Status is set by Type.
type Frame struct {
	Type    string
	MatchID string
	Score   *ScoreUpdate
	Status  *StatusChange
}

// MaxFrameBytes bounds a WebSocket message.
const MaxFrameBytes = 1 << 20

// ParseFrame decodes one WebSocket message. A frame that is not a message
// wraps ErrMalformed; a message of another type wraps ErrUnknownType and
// still reports Type and MatchID.
func ParseFrame(b []byte) (Frame, error) {
	var m Message
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&m); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return Frame{}, fmt.Errorf("%w: data after the message", ErrMalformed)
	}
	if m.Type == "" || m.MatchID == "" {
		return Frame{}, fmt.Errorf("%w: want type and match_id", ErrMalformed)
	}
	f := Frame{Type: m.Type, MatchID: m.MatchID}
	switch m.Type {
	case TypeScoreUpdate:
		var u ScoreUpdate
		if err := strictData(m.Data, &u); err != nil {
			return Frame{}, fmt.Errorf("%w: %s %s: %v", ErrMalformed, m.Type, m.MatchID, err)
		}
		if err := u.validate(); err != nil {
			return Frame{}, fmt.Errorf("%w: %s %s: %v", ErrMalformed, m.Type, m.MatchID, err)
		}
		f.Score = &u
	case TypeStatusChange:
		var c StatusChange
		if err := strictData(m.Data, &c); err != nil {
			return Frame{}, fmt.Errorf("%w: %s %s: %v", ErrMalformed, m.Type, m.MatchID, err)
		}
		f.Status = &c
	default:
		return f, fmt.Errorf("%w: %q", ErrUnknownType, m.Type)
	}
	return f, nil
}

// strictData decodes a message's data object, which must be present.
func strictData(raw json.RawMessage, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("data: want an object")
	}
	return json.Unmarshal(raw, v)
}

func (u *ScoreUpdate) validate() error {
	switch {
	case u.Home < 0 || u.Away < 0 || u.Wickets < 0 || u.LegalBalls < 0 || u.Period < 0:
		return errors.New("negative score")
	case u.Batting != "" && u.Batting != "home" && u.Batting != "away":
		return fmt.Errorf("batting %q: want home or away", u.Batting)
	case u.Ball != nil && u.Batting == "":
		return errors.New("ball without batting side")
	case u.Ball != nil && u.Ball.Innings != u.Period:
		return fmt.Errorf("ball of innings %d in period %d", u.Ball.Innings, u.Period)
	}
	if u.Ball != nil {
		return u.Ball.validate()
	}
	return nil
}

// ParseSnapshot decodes a REST match document; a {"data": {...}} envelope
// is accepted too.
func ParseSnapshot(b []byte) (*Snapshot, error) {
	var env struct {
		Data *Snapshot `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err == nil && env.Data != nil && env.Data.ID != "" {
		return env.Data, env.Data.validate()
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: snapshot: %v", ErrMalformed, err)
	}
	return &s, s.validate()
}

func (s *Snapshot) validate() error {
	if s.ID == "" {
		return fmt.Errorf("%w: snapshot: want id", ErrMalformed)
	}
	if c := s.Cricket; c != nil {
		for i := range c.Balls {
			if err := c.Balls[i].validate(); err != nil {
				return fmt.Errorf("%w: snapshot %s: balls[%d]: %v", ErrMalformed, s.ID, i, err)
			}
		}
	}
	return nil
}
