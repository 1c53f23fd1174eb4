package broadcast

import (
	"math"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/ballcast/ballcast/core/event"
)

// This file defines the frontend wire protocol: JSON text frames over the
// WebSockets at /v1/ws and /v1/ws/match/{id}, the same JSON as SSE message
// data at /v1/sse/matches/{id}, and the JSON bodies of the REST endpoints. Keys are
// snake_case. docs/protocol.md is the prose version; keep the
// two in step.

// Frame ops: the "op" field of every server frame.
const (
	OpSnapshot     = "snapshot"     // state of one match at seq; sent on subscribe and after reset
	OpEvent        = "event"        // one event of a match, in seq order
	OpResumed      = "resumed"      // a resume was accepted; replayed events follow
	OpReset        = "reset"        // a resume was refused; a snapshot follows at once
	OpUnsubscribed = "unsubscribed" // no more events of that match will follow
	OpError        = "error"        // a request was refused; the connection stays open
	// OpDelta is the next piece of a line still being written (streaming
	// commentary) for the event with that id; not numbered, not stored,
	// replaced by the event when it arrives.
	OpDelta = "delta"
)

// Client actions: the "action" field of every client frame.
const (
	ActionSubscribe   = "subscribe"
	ActionUnsubscribe = "unsubscribe"
)

// Subscription modes: the "mode" field of a subscribe request, and the
// mode query parameter of the single-match endpoints.
const (
	// ModeAll delivers every event of the match, in seq order (the default).
	ModeAll = "all"
	// ModeLatest delivers the newest event of the match: an event frame
	// queued for a lagging client and not yet written is replaced by the
	// next event frame of the same match, so seq skips. Other frames are
	// never replaced or dropped.
	ModeLatest = "latest"
)

// Reset reasons: the "reason" field of a reset frame.
const (
	// ReasonEpochChanged: the resume's epoch is not the stream's; the
	// numbering restarted, so its seq means nothing.
	ReasonEpochChanged = "epoch_changed"
	// ReasonHistoryGone: events after since are no longer held.
	ReasonHistoryGone = "history_gone"
	// ReasonAhead: since is greater than the stream's seq.
	ReasonAhead = "ahead"
)

// Error codes: the "code" field of an error frame or REST error body.
const (
	CodeBadJSON              = "bad_json"               // the frame is not a JSON object
	CodeBadRequest           = "bad_request"            // a field is missing or invalid
	CodeUnknownAction        = "unknown_action"         // "action" is not subscribe or unsubscribe
	CodeTooManySubscriptions = "too_many_subscriptions" // the connection already follows MaxSubscriptions matches
	CodeForbidden            = "forbidden"              // the Guard's Ticket does not allow the match
	CodeUnauthorized         = "unauthorized"           // HTTP 401: the Guard refused the request
	CodeNotFound             = "not_found"              // REST: no such match
	CodeHistoryGone          = "history_gone"           // REST: events after since are no longer held
	CodeEpochChanged         = "epoch_changed"          // REST: the epoch asked for is not the stream's
	CodeUnavailable          = "unavailable"            // the hub is not running
)

// Close codes the server uses, besides the library's own (1009 for a frame
// over the read limit, 1002 for protocol errors).
const (
	// CloseSlowConsumer: the client's queue was full; it missed events.
	// Reconnect and resubscribe with since = the last seq received.
	CloseSlowConsumer websocket.StatusCode = 4008
	// ClosePingTimeout: the client did not answer a ping in time.
	ClosePingTimeout websocket.StatusCode = 4001
	// CloseTokenExpired: the credentials the connection was admitted with
	// (a JWT's exp) expired. Reconnect with fresh ones and resume.
	CloseTokenExpired websocket.StatusCode = 4003
	// CloseGoingAway (1001): the server is shutting down.
	CloseGoingAway = websocket.StatusGoingAway
)

// Close reasons sent with the codes above.
const (
	ReasonSlowConsumer = "slow consumer"
	ReasonPingTimeout  = "ping timeout"
	ReasonTokenExpired = "token expired"
	ReasonShutdown     = "server shutting down"
)

// Limits on what a client may send.
const (
	// ReadLimit is the largest client frame in bytes; a bigger one closes the
	// connection with 1009 (message too big).
	ReadLimit = 4 << 10
	// MaxMatchID is the longest match ID a client may subscribe to, in bytes.
	MaxMatchID = 128
	// MaxSubscriptions is how many matches one connection may follow at once.
	MaxSubscriptions = 64
	// MaxEpoch is the longest epoch, in bytes. An epoch is 1 to MaxEpoch
	// printable ASCII characters without spaces (0x21 to 0x7e).
	MaxEpoch = 64
)

// StateUnknown is the snapshot state of a match the hub has no events for
// yet. Subscribing to it is allowed; its events follow when it starts.
const StateUnknown = "unknown"

// Request is a client frame.
type Request struct {
	Action string `json:"action"`
	Match  string `json:"match"`
	// Since asks for a resume: replay the events after this seq. Absent: a
	// fresh snapshot.
	Since *uint64 `json:"since,omitempty"`
	// Epoch is the epoch Since belongs to. A resume with an epoch that is
	// not the stream's is answered with a reset. Empty: Since alone decides.
	Epoch string `json:"epoch,omitempty"`
	// Mode is ModeAll (the default when empty) or ModeLatest.
	Mode string `json:"mode,omitempty"`
}

// Snapshot is the state of one match at Seq: the "snapshot" frame, and the
// body of GET /v1/matches/{id}. Events with seq > Seq follow it.
type Snapshot struct {
	Op    string `json:"op"`
	Match string `json:"match"`
	// Epoch names the numbering Seq belongs to; see Hub.SetEpoch.
	Epoch string `json:"epoch"`
	// Seq is the stream seq of the last event the snapshot reflects; 0 when
	// none.
	Seq       uint64     `json:"seq"`
	State     string     `json:"state"`
	Result    string     `json:"result,omitempty"`
	Info      *Info      `json:"info,omitempty"`
	Scorecard *Scorecard `json:"scorecard,omitempty"`
	// Commentary holds the most recent lines, oldest first.
	Commentary []CommentaryLine `json:"commentary"`
}

// EventFrame is the "event" frame. The server writes it by hand (see
// appendEventFrame) so that Data is encoded once per event; this type is
// for decoding and for documentation.
type EventFrame struct {
	Op        string    `json:"op"`
	Match     string    `json:"match"`
	Epoch     string    `json:"epoch"`
	Seq       uint64    `json:"seq"`        // stream seq: 1, 2, 3... per match, gap-free
	IngestSeq uint64    `json:"ingest_seq"` // the ingest seq; may have gaps
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // event.Kind.String()
	Time      time.Time `json:"time,omitzero"`
	Source    string    `json:"source,omitempty"`
	Data      EventData `json:"data"`
}

// Delta is the "delta" frame: Text is appended to the earlier deltas of
// the event ID in Match, shown as a provisional line until the event with
// that ID arrives and replaces it. It has no seq: it is never stored,
// replayed or counted, and may be lost (a slow client skips deltas).
type Delta struct {
	Op    string `json:"op"`
	Match string `json:"match"`
	ID    string `json:"id"`
	Text  string `json:"text"`
}

// Resumed is the "resumed" frame: the events Since+1..Seq follow at once,
// then live events.
type Resumed struct {
	Op    string `json:"op"`
	Match string `json:"match"`
	Epoch string `json:"epoch"`
	Since uint64 `json:"since"`
	Seq   uint64 `json:"seq"`
}

// Reset is the "reset" frame: the resume after Since cannot be honoured
// for Reason (ReasonEpochChanged, ReasonHistoryGone or ReasonAhead). A
// snapshot of the match at Seq follows at once; drop local state for the
// match and start again from it.
type Reset struct {
	Op     string `json:"op"`
	Match  string `json:"match"`
	Epoch  string `json:"epoch"`
	Reason string `json:"reason"`
	Since  uint64 `json:"since"`
	Seq    uint64 `json:"seq"`
}

// Unsubscribed is the "unsubscribed" frame.
type Unsubscribed struct {
	Op    string `json:"op"`
	Match string `json:"match"`
}

// ErrorFrame is the "error" frame, and (without op) a REST error body.
type ErrorFrame struct {
	Op      string `json:"op,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Match   string `json:"match,omitempty"`
}

// EventData is an event's payload: exactly the fields the event carries.
type EventData struct {
	Info       *Info       `json:"info,omitempty"`
	Ball       *Ball       `json:"ball,omitempty"`
	Over       *Over       `json:"over,omitempty"`
	Innings    *Innings    `json:"innings,omitempty"`
	Status     *Status     `json:"status,omitempty"`
	Score      *Score      `json:"score,omitempty"`
	Milestone  *Milestone  `json:"milestone,omitempty"`
	Scorecard  *Scorecard  `json:"scorecard,omitempty"`
	Situation  *Situation  `json:"situation,omitempty"` // see situation.go
	Commentary *Commentary `json:"commentary,omitempty"`
}

// Info is the wire form of event.MatchInfo.
type Info struct {
	Title        string              `json:"title"`
	Teams        []string            `json:"teams"`
	Format       string              `json:"format,omitempty"`
	Overs        int                 `json:"overs,omitempty"`
	BallsPerOver int                 `json:"balls_per_over"`
	Venue        string              `json:"venue,omitempty"`
	Start        time.Time           `json:"start,omitzero"`
	TossWinner   string              `json:"toss_winner,omitempty"`
	TossDecision string              `json:"toss_decision,omitempty"`
	Players      map[string][]string `json:"players,omitempty"`
}

// Extras is the wire form of event.Extras.
type Extras struct {
	Wides   int `json:"wides"`
	NoBalls int `json:"noballs"`
	Byes    int `json:"byes"`
	LegByes int `json:"legbyes"`
	Penalty int `json:"penalty"`
}

// Wicket is the wire form of event.Wicket.
type Wicket struct {
	Kind      string   `json:"kind"`
	PlayerOut string   `json:"player_out"`
	Fielders  []string `json:"fielders,omitempty"`
}

// Ball is the wire form of event.Ball. Over is 0-based and Ball 1-based, so
// the conventional label is Over.Ball, e.g. "12.3".
type Ball struct {
	Innings     int      `json:"innings"`
	Over        int      `json:"over"`
	Ball        int      `json:"ball"`
	Sub         int      `json:"sub"`
	SuperOver   bool     `json:"super_over"`
	BattingTeam string   `json:"batting_team"`
	BowlingTeam string   `json:"bowling_team"`
	Batter      string   `json:"batter"`
	NonStriker  string   `json:"non_striker"`
	Bowler      string   `json:"bowler"`
	RunsBat     int      `json:"runs_bat"`
	Extras      Extras   `json:"extras"`
	Runs        int      `json:"runs"`
	Legal       bool     `json:"legal"`
	Four        bool     `json:"four"`
	Six         bool     `json:"six"`
	Wickets     []Wicket `json:"wickets"`
	Revision    int      `json:"revision,omitempty"`
}

// Over is the wire form of event.Over (an over was completed).
type Over struct {
	Innings int    `json:"innings"`
	Number  int    `json:"number"` // 0-based
	Bowler  string `json:"bowler"`
}

// Target is the wire form of event.Target.
type Target struct {
	Runs  int     `json:"runs"`
	Overs float64 `json:"overs,omitempty"`
}

// Innings is the wire form of event.Innings (an innings started or ended).
type Innings struct {
	Number      int     `json:"number"`
	Team        string  `json:"team"`
	SuperOver   bool    `json:"super_over"`
	End         bool    `json:"end"`
	Declared    bool    `json:"declared,omitempty"`
	Forfeited   bool    `json:"forfeited,omitempty"`
	Target      *Target `json:"target,omitempty"`
	PenaltyRuns int     `json:"penalty_runs,omitempty"`
}

// Status is the wire form of event.Status.
type Status struct {
	State  string `json:"state"`
	Result string `json:"result,omitempty"`
	Winner string `json:"winner,omitempty"`
	Note   string `json:"note,omitempty"`
}

// Score is the wire form of event.Score.
type Score struct {
	Innings int    `json:"innings"`
	Team    string `json:"team"`
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Overs   string `json:"overs"` // "O.B"
}

// Milestone is the wire form of event.Milestone.
type Milestone struct {
	Kind   string `json:"kind"`
	Player string `json:"player"`
	Value  int    `json:"value"`
}

// Commentary is the wire form of event.Commentary.
type Commentary struct {
	Text      string `json:"text"`
	Language  string `json:"language,omitempty"`
	Persona   string `json:"persona,omitempty"`
	Model     string `json:"model,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
	Fallback  bool   `json:"fallback"`
	Reason    string `json:"reason,omitempty"`
}

// CommentaryLine is one line of a snapshot's recent commentary.
type CommentaryLine struct {
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Ball is the ball label, e.g. "12.3", when the line is about a delivery.
	Ball    string `json:"ball,omitempty"`
	Innings int    `json:"innings,omitempty"`
	// Badge marks a notable delivery: "W" (a wicket), "6" or "4".
	Badge string `json:"badge,omitempty"`
	Commentary
}

// Scorecard is the wire form of event.Scorecard.
type Scorecard struct {
	State   string        `json:"state,omitempty"`
	Result  string        `json:"result,omitempty"`
	Innings []InningsCard `json:"innings"`
}

// InningsCard is the wire form of event.InningsCard.
type InningsCard struct {
	Number        int            `json:"number"`
	Team          string         `json:"team"`
	SuperOver     bool           `json:"super_over"`
	Runs          int            `json:"runs"`
	Wickets       int            `json:"wickets"`
	Overs         string         `json:"overs"` // "O.B"
	LegalBalls    int            `json:"legal_balls"`
	Extras        Extras         `json:"extras"`
	Declared      bool           `json:"declared,omitempty"`
	Closed        bool           `json:"closed"`
	Target        *Target        `json:"target,omitempty"`
	RunRate       float64        `json:"run_rate"`
	RequiredRate  float64        `json:"required_rate,omitempty"`
	RunsNeeded    int            `json:"runs_needed,omitempty"`
	BallsLeft     int            `json:"balls_left,omitempty"`
	Batters       []BatterCard   `json:"batters"`
	Bowlers       []BowlerCard   `json:"bowlers"`
	FallOfWickets []FallOfWicket `json:"fall_of_wickets"`
	Partnership   Partnership    `json:"partnership"`
}

// BatterCard is the wire form of event.BatterCard.
type BatterCard struct {
	Name       string   `json:"name"`
	Runs       int      `json:"runs"`
	Balls      int      `json:"balls"`
	Fours      int      `json:"fours"`
	Sixes      int      `json:"sixes"`
	StrikeRate float64  `json:"strike_rate"`
	Out        bool     `json:"out"`
	HowOut     string   `json:"how_out,omitempty"`
	Bowler     string   `json:"bowler,omitempty"`
	Fielders   []string `json:"fielders,omitempty"`
}

// BowlerCard is the wire form of event.BowlerCard.
type BowlerCard struct {
	Name       string  `json:"name"`
	Overs      string  `json:"overs"` // "O.B"
	LegalBalls int     `json:"legal_balls"`
	Maidens    int     `json:"maidens"`
	Runs       int     `json:"runs"`
	Wickets    int     `json:"wickets"`
	Wides      int     `json:"wides"`
	NoBalls    int     `json:"noballs"`
	Economy    float64 `json:"economy"`
}

// FallOfWicket is the wire form of event.FallOfWicket.
type FallOfWicket struct {
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Player  string `json:"player"`
	Overs   string `json:"overs"` // "O.B" when the wicket fell
}

// Partnership is the wire form of event.Partnership.
type Partnership struct {
	Runs    int      `json:"runs"`
	Balls   int      `json:"balls"`
	Batters []string `json:"batters"`
}

// MatchSummary is one entry of GET /v1/matches.
type MatchSummary struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	Teams  []string  `json:"teams"`
	Format string    `json:"format,omitempty"`
	Venue  string    `json:"venue,omitempty"`
	Start  time.Time `json:"start,omitzero"`
	State  string    `json:"state"`
	Result string    `json:"result,omitempty"`
	Seq    uint64    `json:"seq"`
	// Score has one entry per innings so far.
	Score []InningsScore `json:"score"`
	// Summary is Score as one line, e.g. "Australia 282/8 (50.0), England 45/1 (8.2)".
	Summary string `json:"summary"`
}

// InningsScore is one innings in a MatchSummary.
type InningsScore struct {
	Innings int    `json:"innings"`
	Team    string `json:"team"`
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Overs   string `json:"overs"`
}

// MatchList is the body of GET /v1/matches.
type MatchList struct {
	Matches []MatchSummary `json:"matches"`
}

// EventPage is the body of GET /v1/matches/{id}/events: the event frames
// with seq in (since, since+limit], oldest first.
type EventPage struct {
	Match    string `json:"match"`
	Epoch    string `json:"epoch"`
	Seq      uint64 `json:"seq"`       // the match's latest seq
	FirstSeq uint64 `json:"first_seq"` // the oldest seq still held; 0 when none
	// Events are EventFrame objects exactly as sent over the WebSocket.
	Events []EventFrame `json:"events"`
}

// BallLabel is the conventional label of a delivery, "Over.Ball" with Over
// 0-based and Ball 1-based, e.g. "12.3".
func BallLabel(over, ball int) string {
	return strconv.Itoa(over) + "." + strconv.Itoa(ball)
}

// badge is a delivery's CommentaryLine.Badge.
func badge(b *Ball) string {
	for _, w := range b.Wickets {
		if w.Kind != "retired hurt" && w.Kind != "retired not out" {
			return "W"
		}
	}
	switch {
	case b.Six:
		return "6"
	case b.Four:
		return "4"
	}
	return ""
}

// newEventData converts an event's payloads to their wire forms. The result
// shares nothing mutable with ev.
func newEventData(ev *event.Event, ballsPerOver int) *EventData {
	d := &EventData{}
	if ev.Info != nil {
		d.Info = newInfo(ev.Info)
	}
	if b := ev.Ball; b != nil {
		d.Ball = &Ball{
			Innings: b.Innings, Over: b.Over, Ball: b.Ball, Sub: b.Sub, SuperOver: b.SuperOver,
			BattingTeam: b.BattingTeam, BowlingTeam: b.BowlingTeam,
			Batter: b.Batter, NonStriker: b.NonStriker, Bowler: b.Bowler,
			RunsBat: b.RunsBat, Extras: newExtras(b.Extras), Runs: b.Runs(), Legal: b.Legal,
			Four: b.Four(), Six: b.Six(), Wickets: make([]Wicket, 0, len(b.Wickets)), Revision: b.Revision,
		}
		for _, w := range b.Wickets {
			d.Ball.Wickets = append(d.Ball.Wickets, Wicket{Kind: w.Kind, PlayerOut: w.PlayerOut, Fielders: clone(w.Fielders)})
		}
	}
	if o := ev.Over; o != nil {
		d.Over = &Over{Innings: o.Innings, Number: o.Number, Bowler: o.Bowler}
	}
	if in := ev.Innings; in != nil {
		d.Innings = &Innings{
			Number: in.Number, Team: in.Team, SuperOver: in.SuperOver, End: in.End,
			Declared: in.Declared, Forfeited: in.Forfeited, Target: newTarget(in.Target), PenaltyRuns: in.PenaltyRuns,
		}
	}
	if s := ev.Status; s != nil {
		d.Status = &Status{State: s.State, Result: s.Result, Winner: s.Winner, Note: s.Note}
	}
	if s := ev.Score; s != nil {
		d.Score = &Score{Innings: s.Innings, Team: s.Team, Runs: s.Runs, Wickets: s.Wickets, Overs: event.Overs(s.Balls, ballsPerOver)}
	}
	if m := ev.Milestone; m != nil {
		d.Milestone = &Milestone{Kind: m.Kind, Player: m.Player, Value: m.Value}
	}
	if ev.Scorecard != nil {
		d.Scorecard = newScorecard(ev.Scorecard, ballsPerOver)
	}
	if ev.Situation != nil {
		d.Situation = newSituation(ev.Situation, ballsPerOver)
	}
	if c := ev.Commentary; c != nil {
		d.Commentary = &Commentary{
			Text: c.Text, Language: c.Language, Persona: c.Persona, Model: c.Model,
			LatencyMS: c.Latency.Milliseconds(), Fallback: c.Fallback, Reason: c.Reason,
		}
	}
	return d
}

func newInfo(i *event.MatchInfo) *Info {
	w := &Info{
		Title: i.Title, Teams: clone(i.Teams), Format: i.Format, Overs: i.Overs, BallsPerOver: i.BallsPerOver,
		Venue: i.Venue, Start: i.Start, TossWinner: i.TossWinner, TossDecision: i.TossDecision,
	}
	if w.BallsPerOver <= 0 {
		w.BallsPerOver = 6
	}
	if len(i.Players) > 0 {
		w.Players = make(map[string][]string, len(i.Players))
		for team, ps := range i.Players {
			w.Players[team] = clone(ps)
		}
	}
	return w
}

func newExtras(e event.Extras) Extras {
	return Extras{Wides: e.Wides, NoBalls: e.NoBalls, Byes: e.Byes, LegByes: e.LegByes, Penalty: e.Penalty}
}

func newTarget(t *event.Target) *Target {
	if t == nil {
		return nil
	}
	return &Target{Runs: t.Runs, Overs: finite(t.Overs)}
}

func newScorecard(s *event.Scorecard, bpo int) *Scorecard {
	w := &Scorecard{State: s.State, Result: s.Result, Innings: make([]InningsCard, 0, len(s.Innings))}
	for i := range s.Innings {
		in := &s.Innings[i]
		c := InningsCard{
			Number: in.Number, Team: in.Team, SuperOver: in.SuperOver, Runs: in.Runs, Wickets: in.Wickets,
			Overs: event.Overs(in.LegalBalls, bpo), LegalBalls: in.LegalBalls, Extras: newExtras(in.Extras),
			Declared: in.Declared, Closed: in.Closed, Target: newTarget(in.Target),
			RunRate: round2(in.RunRate), RequiredRate: round2(in.RequiredRate), RunsNeeded: in.RunsNeeded, BallsLeft: in.BallsLeft,
			Batters:       make([]BatterCard, 0, len(in.Batters)),
			Bowlers:       make([]BowlerCard, 0, len(in.Bowlers)),
			FallOfWickets: make([]FallOfWicket, 0, len(in.FallOfWickets)),
			Partnership:   Partnership{Runs: in.Partnership.Runs, Balls: in.Partnership.Balls, Batters: clone(in.Partnership.Batters)},
		}
		if c.Partnership.Batters == nil {
			c.Partnership.Batters = []string{}
		}
		for _, b := range in.Batters {
			c.Batters = append(c.Batters, BatterCard{
				Name: b.Name, Runs: b.Runs, Balls: b.Balls, Fours: b.Fours, Sixes: b.Sixes, StrikeRate: round2(b.StrikeRate),
				Out: b.Out, HowOut: b.HowOut, Bowler: b.Bowler, Fielders: clone(b.Fielders),
			})
		}
		for _, b := range in.Bowlers {
			c.Bowlers = append(c.Bowlers, BowlerCard{
				Name: b.Name, Overs: event.Overs(b.LegalBalls, bpo), LegalBalls: b.LegalBalls, Maidens: b.Maidens,
				Runs: b.Runs, Wickets: b.Wickets, Wides: b.Wides, NoBalls: b.NoBalls, Economy: round2(b.Economy),
			})
		}
		for _, f := range in.FallOfWickets {
			c.FallOfWickets = append(c.FallOfWickets, FallOfWicket{
				Runs: f.Runs, Wickets: f.Wickets, Player: f.Player, Overs: event.Overs(f.LegalBalls, bpo),
			})
		}
		w.Innings = append(w.Innings, c)
	}
	return w
}

// finite replaces NaN and infinities, which JSON cannot carry, with 0.
func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// round2 rounds rates to two decimals; NaN and infinities become 0 (JSON
// cannot carry them).
func round2(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return math.Round(f*100) / 100
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}
