package sportrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Frame operations (PROVIDERS.md §2).
const (
	OpSnapshot = "snapshot" // full state, right after a successful subscribe
	OpUpdate   = "update"   // full state, whenever the match changes
	OpError    = "error"    // a refused control message or subscription
)

// Sports a snapshot may describe.
const (
	SportCricket = "cricket"
	SportSoccer  = "soccer"
)

// ErrFrame is wrapped by every error ParseFrame returns.
var ErrFrame = errors.New("sportrix: malformed frame")

// Frame is one server frame, parsed as far as routing needs.
type Frame struct {
	Op string
	// MatchID is data.match_id for snapshot and update frames, and the
	// optional match_id of an error frame (0 when absent: the documented
	// error frame names no match).
	MatchID int64
	Sport   string
	Error   string          // error frames only
	Data    json.RawMessage // snapshot and update frames only
}

// Control is a client control message.
type Control struct {
	Action  string `json:"action"` // "subscribe" or "unsubscribe"
	MatchID int64  `json:"match_id"`
}

type rawFrame struct {
	Op      string          `json:"op"`
	Data    json.RawMessage `json:"data"`
	Error   *string         `json:"error"`
	MatchID *jsonInt        `json:"match_id"`
}

type routing struct {
	MatchID *jsonInt `json:"match_id"`
	Sport   string   `json:"sport"`
}

// ParseFrame parses one text frame. A snapshot or update must carry an
// object data with an integer match_id and a sport; an error frame a
// string error. Anything else is ErrFrame with the reason.
func ParseFrame(b []byte) (Frame, error) {
	var r rawFrame
	if err := json.Unmarshal(b, &r); err != nil {
		return Frame{}, fmt.Errorf("%w: %v", ErrFrame, err)
	}
	f := Frame{Op: r.Op}
	switch r.Op {
	case OpSnapshot, OpUpdate:
		d := bytes.TrimSpace(r.Data)
		if len(d) == 0 || d[0] != '{' {
			return Frame{}, fmt.Errorf("%w: %s frame without a data object", ErrFrame, r.Op)
		}
		rt, err := route(d)
		if err != nil {
			return Frame{}, fmt.Errorf("%w: %s data: %v", ErrFrame, r.Op, err)
		}
		if rt.MatchID == nil || *rt.MatchID <= 0 {
			return Frame{}, fmt.Errorf("%w: %s frame without a positive data.match_id", ErrFrame, r.Op)
		}
		if rt.Sport == "" {
			return Frame{}, fmt.Errorf("%w: %s frame for match %d without data.sport", ErrFrame, r.Op, *rt.MatchID)
		}
		f.MatchID, f.Sport, f.Data = int64(*rt.MatchID), rt.Sport, d
	case OpError:
		if r.Error == nil {
			return Frame{}, fmt.Errorf("%w: error frame without an error string", ErrFrame)
		}
		f.Error = *r.Error
		if r.MatchID != nil {
			f.MatchID = int64(*r.MatchID)
		} else if len(r.Data) > 0 {
			var rt routing
			if json.Unmarshal(r.Data, &rt) == nil && rt.MatchID != nil {
				f.MatchID = int64(*rt.MatchID)
			}
		}
	case "":
		return Frame{}, fmt.Errorf("%w: no op", ErrFrame)
	default:
		return Frame{}, fmt.Errorf("%w: unknown op %q", ErrFrame, r.Op)
	}
	return f, nil
}

// route reads match_id and sport from a data object, stopping as soon as
// both are known (they lead the object in practice, so a large snapshot is
// not decoded twice).
func route(d []byte) (routing, error) {
	var rt routing
	dec := json.NewDecoder(bytes.NewReader(d))
	if _, err := dec.Token(); err != nil { // '{', checked by the caller
		return rt, err
	}
	for dec.More() && (rt.MatchID == nil || rt.Sport == "") {
		tok, err := dec.Token()
		if err != nil {
			return rt, err
		}
		switch tok {
		case "match_id":
			err = dec.Decode(&rt.MatchID)
		case "sport":
			err = dec.Decode(&rt.Sport)
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return rt, err
		}
	}
	return rt, nil
}

// jsonInt is an integer that may arrive as a JSON number or a numeric
// string (PROVIDERS.md §2 leaves open whether match_id is always an int).
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %s", b)
	}
	*n = jsonInt(v)
	return nil
}

// Overs is an overs figure, "6.2" or 6.2 on the wire: complete overs and
// legal balls of the over in progress.
type Overs struct {
	Overs, Balls int
}

// LegalBalls is the number of legal balls the figure stands for.
func (o Overs) LegalBalls(ballsPerOver int) int { return o.Overs*ballsPerOver + o.Balls }

func (o Overs) String() string { return fmt.Sprintf("%d.%d", o.Overs, o.Balls) }

// MarshalJSON writes the figure as a string, the way scoreboards print it.
func (o Overs) MarshalJSON() ([]byte, error) { return json.Marshal(o.String()) }

// UnmarshalJSON accepts "6.2", 6.2, "6" and 6.
func (o *Overs) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" || s == "" {
		*o = Overs{}
		return nil
	}
	whole, frac, _ := strings.Cut(s, ".")
	ov, err := strconv.Atoi(whole)
	if err != nil || ov < 0 {
		return fmt.Errorf("overs %s: want O.B", b)
	}
	bl := 0
	if frac != "" {
		if bl, err = strconv.Atoi(frac); err != nil || bl < 0 || len(frac) > 2 {
			return fmt.Errorf("overs %s: want O.B", b)
		}
	}
	*o = Overs{Overs: ov, Balls: bl}
	return nil
}

// Cricket is a cricket live snapshot (data of a snapshot or update frame).
// Documented fields: match_id, sport, batting, score.{runs,wickets,overs},
// last_event.label, and the presence of over, batsmen, bowler and
// scorecard; their sub-fields are this package's reading (see
// docs/providers/sportrix.md). Every field is optional.
type Cricket struct {
	V           int    `json:"v,omitempty"`
	MatchID     int64  `json:"match_id"`
	Sport       string `json:"sport"`
	Competition string `json:"competition,omitempty"`
	Home        string `json:"home,omitempty"`
	Away        string `json:"away,omitempty"`
	Format      string `json:"format,omitempty"`
	Venue       string `json:"venue,omitempty"`
	// Status: "not_started", "live", "innings_break", "completed" or
	// "abandoned".
	Status string `json:"status"`
	Result string `json:"result,omitempty"`
	Winner string `json:"winner,omitempty"`

	Innings int          `json:"innings,omitempty"` // the innings in progress, 1-based
	Batting string       `json:"batting,omitempty"`
	Bowling string       `json:"bowling,omitempty"`
	Score   CricketScore `json:"score"`
	Target  *Target      `json:"target,omitempty"`
	// Over is the over in progress (or just completed); PrevOver the one
	// before it, so a client that missed the end of an over can still
	// recover its balls. Between innings they are the last overs of the
	// innings that ended.
	Over     *OverTicker `json:"over,omitempty"`
	PrevOver *OverTicker `json:"prev_over,omitempty"`
	// Batsmen are the two at the crease for the next delivery; Striker
	// marks the one on strike.
	Batsmen   []Batsman     `json:"batsmen,omitempty"`
	Bowler    *BowlerCard   `json:"bowler,omitempty"`
	Scorecard []InningsCard `json:"scorecard,omitempty"`
	LastEvent *LastEvent    `json:"last_event,omitempty"`
	UpdatedAt string        `json:"updated_at,omitempty"`
}

// CricketScore is the current innings' score.
type CricketScore struct {
	Runs    int   `json:"runs"`
	Wickets int   `json:"wickets"`
	Overs   Overs `json:"overs"`
}

// Target is what the side batting last needs.
type Target struct {
	Runs  int     `json:"runs"`
	Overs float64 `json:"overs,omitempty"`
}

// OverTicker is one over's deliveries in bowling order, as scoreboard
// tokens (see ParseToken).
type OverTicker struct {
	// Innings is the innings the over belongs to: a snapshot keeps the
	// last overs of an innings that just ended until the next one is under
	// way. 0 means the current innings.
	Innings int      `json:"innings,omitempty"`
	Number  int      `json:"number"` // 0-based
	Bowler  string   `json:"bowler,omitempty"`
	Balls   []string `json:"balls"`
}

// Batsman is a batter at the crease.
type Batsman struct {
	Name    string `json:"name"`
	Runs    int    `json:"runs"`
	Balls   int    `json:"balls"`
	Fours   int    `json:"fours"`
	Sixes   int    `json:"sixes"`
	Striker bool   `json:"striker,omitempty"`
}

// BowlerCard is a bowler's figures.
type BowlerCard struct {
	Name    string `json:"name"`
	Overs   Overs  `json:"overs"`
	Maidens int    `json:"maidens"`
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Wides   int    `json:"wides,omitempty"`
	NoBalls int    `json:"noballs,omitempty"`
}

// InningsCard is one innings of the scorecard.
type InningsCard struct {
	Innings       int          `json:"innings"`
	Team          string       `json:"team"`
	SuperOver     bool         `json:"super_over,omitempty"`
	Runs          int          `json:"runs"`
	Wickets       int          `json:"wickets"`
	Overs         Overs        `json:"overs"`
	Extras        Extras       `json:"extras"`
	Closed        bool         `json:"closed,omitempty"`
	Declared      bool         `json:"declared,omitempty"`
	Batting       []BatterCard `json:"batting,omitempty"`
	Bowling       []BowlerCard `json:"bowling,omitempty"`
	FallOfWickets []FoW        `json:"fall_of_wickets,omitempty"`
}

// Extras are an innings' extras by type.
type Extras struct {
	Wides   int `json:"wides"`
	NoBalls int `json:"noballs"`
	Byes    int `json:"byes"`
	LegByes int `json:"legbyes"`
	Penalty int `json:"penalty"`
}

// BatterCard is one batter's scorecard line.
type BatterCard struct {
	Name     string   `json:"name"`
	Runs     int      `json:"runs"`
	Balls    int      `json:"balls"`
	Fours    int      `json:"fours"`
	Sixes    int      `json:"sixes"`
	Out      string   `json:"out,omitempty"` // dismissal kind, Cricsheet words; "" while in
	Bowler   string   `json:"bowler,omitempty"`
	Fielders []string `json:"fielders,omitempty"`
}

// FoW is one fall of wicket.
type FoW struct {
	Wicket int    `json:"wicket"`
	Runs   int    `json:"runs"`
	Player string `json:"player"`
	Overs  Overs  `json:"overs"`
}

// LastEvent describes what changed last, for display.
type LastEvent struct {
	Label string `json:"label"`
	Type  string `json:"type,omitempty"` // "ball", "wicket", "boundary", "innings", "status"
}

// Soccer is a soccer live snapshot (PROVIDERS.md §2, documented fields).
type Soccer struct {
	V           int    `json:"v,omitempty"`
	MatchID     int64  `json:"match_id"`
	Sport       string `json:"sport"`
	Competition string `json:"competition,omitempty"`
	Home        string `json:"home"`
	Away        string `json:"away"`
	Status      string `json:"status"` // live, ht, ft, not_started
	Clock       struct {
		Minute  int    `json:"minute"`
		Second  int    `json:"second"`
		Period  string `json:"period"`
		Running bool   `json:"running"`
	} `json:"clock"`
	Score struct {
		Home int `json:"home"`
		Away int `json:"away"`
	} `json:"score"`
	Phase struct {
		Label string `json:"label"`
	} `json:"phase"`
	UpdatedAt string `json:"updated_at,omitempty"`
}

// Token is one delivery of an over ticker.
type Token struct {
	Runs    int    // total runs of the delivery, penalty runs included
	Extra   string // "", "wd", "nb", "b", "lb", "nbb", "nblb", "p"
	Penalty int    // penalty runs on top of another outcome ("+5p")
	Wicket  bool   // a dismissal (of any kind) on this delivery
}

// Legal reports whether the delivery counts toward the over.
func (t Token) Legal() bool { return t.Extra != "wd" && !strings.HasPrefix(t.Extra, "nb") }

// Split divides the delivery's runs between the bat and the extras the
// token names: wides, byes, leg byes and penalties take all its runs; a
// no-ball takes one and the rest go to the bat, or to byes or leg byes
// for nbb and nblb.
func (t Token) Split() (bat int, ex Extras) {
	ex.Penalty = t.Penalty
	t.Runs -= t.Penalty
	switch t.Extra {
	case "wd":
		ex.Wides = t.Runs
	case "b":
		ex.Byes = t.Runs
	case "lb":
		ex.LegByes = t.Runs
	case "p":
		ex.Penalty += t.Runs
	case "nb", "nbb", "nblb":
		ex.NoBalls = min(1, t.Runs)
		rest := t.Runs - ex.NoBalls
		switch t.Extra {
		case "nbb":
			ex.Byes = rest
		case "nblb":
			ex.LegByes = rest
		default:
			bat = rest
		}
	default:
		bat = t.Runs
	}
	return bat, ex
}

func (t Token) String() string {
	s := strconv.Itoa(t.Runs) + t.Extra
	if t.Penalty > 0 {
		s += "+" + strconv.Itoa(t.Penalty) + "p"
	}
	if t.Wicket {
		if s == "0" {
			return "W"
		}
		s += "W"
	}
	return s
}

var extraCodes = []string{"nblb", "nbb", "nb", "wd", "lb", "b", "p"}

// ParseToken parses a ticker token: "<runs><extra>[+<n>p][W]", where runs
// (the delivery's total) may be omitted when 0, extra is one of wd, nb, b,
// lb, nbb, nblb, p, and +<n>p counts penalty runs awarded on top of the
// delivery's other outcome. Examples: "0", "4", "W", "1W" (run out after a
// run), "1wd", "5nb", "2lb", "6+5p" (a single and five penalty runs).
func ParseToken(s string) (Token, error) {
	var t Token
	rest := s
	if strings.HasSuffix(rest, "W") {
		t.Wicket, rest = true, strings.TrimSuffix(rest, "W")
	}
	if i := strings.LastIndexByte(rest, '+'); i >= 0 && strings.HasSuffix(rest, "p") {
		n, err := strconv.Atoi(rest[i+1 : len(rest)-1])
		if err != nil || n <= 0 || n > 99 {
			return Token{}, fmt.Errorf("ticker token %q: bad penalty", s)
		}
		t.Penalty, rest = n, rest[:i]
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i > 3 {
		return Token{}, fmt.Errorf("ticker token %q: too many runs", s)
	}
	if i > 0 {
		t.Runs, _ = strconv.Atoi(rest[:i])
	}
	code := rest[i:]
	if code != "" {
		ok := false
		for _, c := range extraCodes {
			if code == c {
				ok = true
				break
			}
		}
		if !ok {
			return Token{}, fmt.Errorf("ticker token %q: unknown extra %q", s, code)
		}
		t.Extra = code
	}
	if i == 0 && code == "" && !t.Wicket {
		return Token{}, fmt.Errorf("ticker token %q: empty", s)
	}
	if t.Penalty > t.Runs {
		return Token{}, fmt.Errorf("ticker token %q: penalty above the total", s)
	}
	return t, nil
}
