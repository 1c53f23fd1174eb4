package roanuz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Envelope is the v5 response envelope shared by the REST API and, when the
// socket sends it, the push. Data is the payload: a Match for match documents.
type Envelope struct {
	Data           *Match  `json:"data"`
	Cache          *Cache  `json:"cache,omitempty"`
	Error          any     `json:"error"`
	Sport          string  `json:"sport,omitempty"`
	Schema         *Schema `json:"schema,omitempty"`
	DataKind       string  `json:"data_kind,omitempty"`
	HTTPStatusCode int     `json:"http_status_code,omitempty"`
}

// Cache is the envelope's cache block.
type Cache struct {
	Key     string   `json:"key"`
	ETag    string   `json:"etag"`
	Expires *float64 `json:"expires"`
	MaxAge  *float64 `json:"max_age"`
}

// Schema is the envelope's schema version block.
type Schema struct {
	MajorVersion string `json:"major_version"`
	MinorVersion string `json:"minor_version"`
}

// Match is the v5 match document (`data` of `on_match_update` and of
// `GET match/{key}/`), reduced to the fields ballcast reads or the simulator
// writes. Unknown fields are ignored.
type Match struct {
	Key                      string               `json:"key"`
	Name                     string               `json:"name"`
	ShortName                string               `json:"short_name,omitempty"`
	SubTitle                 string               `json:"sub_title,omitempty"`
	Title                    string               `json:"title,omitempty"`
	Status                   string               `json:"status,omitempty"`
	PlayStatus               string               `json:"play_status,omitempty"`
	StartAt                  *float64             `json:"start_at"`
	StartAtLocal             *float64             `json:"start_at_local,omitempty"`
	EstimatedEndDate         *float64             `json:"estimated_end_date,omitempty"`
	CompletedDateApproximate *float64             `json:"completed_date_approximate"`
	MetricGroup              string               `json:"metric_group,omitempty"`
	Sport                    string               `json:"sport,omitempty"`
	Gender                   string               `json:"gender,omitempty"`
	Format                   string               `json:"format,omitempty"`
	Winner                   *string              `json:"winner"`
	Weather                  string               `json:"weather,omitempty"`
	Messages                 []any                `json:"messages"`
	Notes                    []any                `json:"notes,omitempty"`
	Tournament               *Tournament          `json:"tournament,omitempty"`
	Association              *Association         `json:"association,omitempty"`
	Teams                    map[string]Team      `json:"teams,omitempty"`
	Toss                     *Toss                `json:"toss,omitempty"`
	Venue                    *Venue               `json:"venue,omitempty"`
	Play                     *Play                `json:"play"`
	Players                  map[string]PlayerRef `json:"players"`
	Squad                    map[string]Squad     `json:"squad,omitempty"`
	Umpires                  *Umpires             `json:"umpires,omitempty"`
	DataReview               map[string]any       `json:"data_review,omitempty"`
}

// Tournament names the series a match belongs to.
type Tournament struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	ShortName string `json:"short_name"`
}

// Association is the governing body of a match.
type Association struct {
	Key     string `json:"key"`
	Code    string `json:"code"`
	Name    string `json:"name"`
	Parent  any    `json:"parent"`
	Country any    `json:"country"`
}

// Team is one side, keyed "a" or "b" in Match.Teams.
type Team struct {
	Key         string `json:"key"`
	Code        string `json:"code"`
	Name        string `json:"name"`
	CountryCode string `json:"country_code,omitempty"`
}

// Toss is the toss result; Winner is a team side ("a"/"b"), Elected "bat" or "bowl".
type Toss struct {
	Called         *string `json:"called"`
	Winner         string  `json:"winner"`
	Elected        string  `json:"elected"`
	SquadAnnounced bool    `json:"squad_announced"`
}

// Venue is where the match is played.
type Venue struct {
	Key         string  `json:"key"`
	Name        string  `json:"name"`
	City        string  `json:"city"`
	Country     Country `json:"country"`
	Geolocation *string `json:"geolocation"`
}

// Country is a venue's or player's country.
type Country struct {
	ShortCode    string `json:"short_code"`
	Code         string `json:"code"`
	Name         string `json:"name"`
	OfficialName string `json:"official_name"`
	IsRegion     bool   `json:"is_region"`
}

// Squad is one side's squad.
type Squad struct {
	PlayerKeys   []string `json:"player_keys"`
	Captain      *string  `json:"captain"`
	Keeper       *string  `json:"keeper"`
	PlayingXI    []string `json:"playing_xi"`
	Replacements []string `json:"replacements"`
}

// Umpires lists the officials.
type Umpires struct {
	MatchUmpires   []Official `json:"match_umpires"`
	TVUmpires      []Official `json:"tv_umpires"`
	ReserveUmpires []Official `json:"reserve_umpires"`
	MatchReferee   []Official `json:"match_referee"`
}

// Official is one umpire or referee.
type Official struct {
	Key       string `json:"key"`
	Name      string `json:"name"`
	LegalName string `json:"legal_name"`
}

// PlayerRef is one entry of Match.Players.
type PlayerRef struct {
	Player Player         `json:"player"`
	Score  map[string]any `json:"score"`
}

// Player is a player's identity block.
type Player struct {
	Key          string   `json:"key"`
	Name         string   `json:"name"`
	JerseyName   string   `json:"jersey_name"`
	LegalName    string   `json:"legal_name,omitempty"`
	Gender       string   `json:"gender,omitempty"`
	Roles        []string `json:"roles"`
	Skills       []string `json:"skills"`
	SeasonalRole string   `json:"seasonal_role,omitempty"`
	BattingStyle string   `json:"batting_style,omitempty"`
	LegalNameV2  string   `json:"legal_name_v2,omitempty"`
	JerseyNameV2 string   `json:"jersey_name_v2,omitempty"`
	DateOfBirth  *float64 `json:"date_of_birth,omitempty"`
	Nationality  *Country `json:"nationality,omitempty"`
	BowlingStyle any      `json:"bowling_style,omitempty"`
}

// Play is the match's play block.
type Play struct {
	FirstBatting    string             `json:"first_batting"`
	DayNumber       int                `json:"day_number"`
	OversPerInnings []int              `json:"overs_per_innings,omitempty"`
	ReducedOvers    any                `json:"reduced_overs"`
	Target          *Target            `json:"target"`
	Result          *Result            `json:"result"`
	InningsOrder    []string           `json:"innings_order"`
	Innings         map[string]Innings `json:"innings"`
	Live            *Live              `json:"live"`
	RelatedBalls    map[string]Ball    `json:"related_balls"`
}

// Target is the chasing side's target.
type Target struct {
	Runs      int  `json:"runs"`
	Balls     int  `json:"balls"`
	DLApplied bool `json:"dl_applied"`
}

// Result is the match result once known. Winner is a team side.
type Result struct {
	POM        []string `json:"pom"`
	Winner     string   `json:"winner"`
	ResultType string   `json:"result_type"`
	Msg        string   `json:"msg"`
}

// Innings is one entry of Play.Innings, keyed like "a_1".
type Innings struct {
	Index        string        `json:"index"`
	Overs        Overs         `json:"overs"`
	IsCompleted  bool          `json:"is_completed"`
	Score        InningsScore  `json:"score"`
	Wickets      int           `json:"wickets"`
	ScoreStr     string        `json:"score_str"`
	ExtraRuns    ExtraRuns     `json:"extra_runs"`
	BallsBreakup BallsBreakup  `json:"balls_breakup"`
	BattingOrder []string      `json:"batting_order"`
	BowlingOrder []string      `json:"bowling_order"`
	WicketOrder  []string      `json:"wicket_order"`
	Partnerships []Partnership `json:"partnerships"`
}

// InningsScore is an innings' running score; Balls counts legal balls.
type InningsScore struct {
	Runs     int     `json:"runs"`
	Balls    int     `json:"balls"`
	Fours    int     `json:"fours"`
	Sixes    int     `json:"sixes"`
	RunRate  float64 `json:"run_rate"`
	DotBalls int     `json:"dot_balls"`
}

// ExtraRuns breaks down an innings' extras.
type ExtraRuns struct {
	Extra   int `json:"extra"`
	Bye     int `json:"bye"`
	LegBye  int `json:"leg_bye"`
	Wide    int `json:"wide"`
	NoBall  int `json:"no_ball"`
	Penalty int `json:"penalty"`
}

// BallsBreakup counts an innings' balls; Wides counts wide runs (as the real feed does).
type BallsBreakup struct {
	Balls    int `json:"balls"`
	DotBalls int `json:"dot_balls"`
	Wides    int `json:"wides"`
	NoBalls  int `json:"no_balls"`
}

// Partnership is one batting partnership.
type Partnership struct {
	BeginOvers   Overs          `json:"begin_overs"`
	EndOvers     Overs          `json:"end_overs"`
	PlayerAKey   string         `json:"player_a_key"`
	PlayerBKey   string         `json:"player_b_key"`
	PlayerAScore map[string]int `json:"player_a_score"`
	PlayerBScore map[string]int `json:"player_b_score"`
	Score        map[string]any `json:"score"`
	IsCompleted  bool           `json:"is_completed"`
}

// Live is the play.live block: the current innings and its latest state.
type Live struct {
	Innings         string          `json:"innings"`
	BattingTeam     string          `json:"batting_team"`
	BowlingTeam     string          `json:"bowling_team"`
	StrikerKey      string          `json:"striker_key"`
	NonStrikerKey   string          `json:"non_striker_key"`
	BowlerKey       string          `json:"bowler_key"`
	MatchBreak      any             `json:"match_break"`
	Score           *LiveScore      `json:"score"`
	RequiredScore   *RequiredScore  `json:"required_score"`
	LastBallKey     string          `json:"last_ball_key"`
	RecentOvers     []RecentOver    `json:"recent_overs"`
	RecentOversRepr []RecentOverRep `json:"recent_overs_repr"`
	RecentPlayers   map[string]any  `json:"recent_players,omitempty"`
}

// LiveScore is the live innings' total; Balls counts legal balls.
type LiveScore struct {
	Runs       int     `json:"runs"`
	Balls      int     `json:"balls"`
	Overs      Overs   `json:"overs"`
	Wickets    int     `json:"wickets"`
	RunRate    float64 `json:"run_rate"`
	Title      string  `json:"title"`
	MsgLeadBy  string  `json:"msg_lead_by"`
	MsgTrailBy string  `json:"msg_trail_by"`
}

// RequiredScore is what the chasing side still needs.
type RequiredScore struct {
	Runs    int     `json:"runs"`
	Balls   int     `json:"balls"`
	Title   string  `json:"title"`
	RunRate float64 `json:"run_rate"`
}

// RecentOver lists the ball keys of one recent over (Overnumber is 0-based).
type RecentOver struct {
	Overnumber int      `json:"overnumber"`
	BallKeys   []string `json:"ball_keys"`
}

// RecentOverRep is the repr of one recent over's balls ("r1", "e1,wd", "w").
type RecentOverRep struct {
	Overnumber int      `json:"overnumber"`
	BallRepr   []string `json:"ball_repr"`
}

// Ball is the v5 ball object of play.related_balls and of the ball-by-ball
// endpoint. TeamScore is the runs of this delivery, not the innings total.
type Ball struct {
	Key            string       `json:"key"`
	BallType       string       `json:"ball_type"`
	BattingTeam    string       `json:"batting_team"`
	Innings        string       `json:"innings"`
	Overs          Overs        `json:"overs"`
	Comment        string       `json:"comment"`
	Batsman        BallBatsman  `json:"batsman"`
	Bowler         BallBowler   `json:"bowler"`
	TeamScore      BallScore    `json:"team_score"`
	Fielders       []Fielder    `json:"fielders"`
	Wicket         *BallWicket  `json:"wicket"`
	NonStrikerKey  string       `json:"non_striker_key"`
	EntryTime      float64      `json:"entry_time"`
	UpdatedTime    float64      `json:"updated_time"`
	BallPlayStatus string       `json:"ball_play_status,omitempty"`
	BallTags       []string     `json:"ball_tags"`
	Repr           string       `json:"repr,omitempty"`
	Extras         *BallExtras  `json:"extras,omitempty"`
	present        ballRequired // which required fields the JSON carried
}

type ballRequired struct{ key, innings, overs bool }

// BallBatsman is the striker's part of a delivery.
type BallBatsman struct {
	PlayerKey string `json:"player_key"`
	BallCount int    `json:"ball_count"`
	Runs      int    `json:"runs"`
	IsDotBall bool   `json:"is_dot_ball"`
	IsFour    bool   `json:"is_four"`
	IsSix     bool   `json:"is_six"`
}

// BallBowler is the bowler's part of a delivery; Extras are the extras
// charged to the bowler (wides and no-balls).
type BallBowler struct {
	PlayerKey string `json:"player_key"`
	BallCount int    `json:"ball_count"`
	Runs      int    `json:"runs"`
	Extras    int    `json:"extras"`
	IsWicket  bool   `json:"is_wicket"`
}

// BallScore is what the delivery added to the team: runs in total, extras
// among them, and whether a wicket fell.
type BallScore struct {
	BallCount int  `json:"ball_count"`
	Runs      int  `json:"runs"`
	Extras    int  `json:"extras"`
	IsWicket  bool `json:"is_wicket"`
}

// Fielder is a fielder involved in a dismissal.
type Fielder struct {
	PlayerKey string `json:"player_key"`
	IsCatch   bool   `json:"is_catch"`
	IsStumps  bool   `json:"is_stumps"`
	IsRunOut  bool   `json:"is_run_out"`
	IsAssists bool   `json:"is_assists"`
}

// BallWicket is a dismissal: the player out and the wicket type (v2 or v5 spelling).
type BallWicket struct {
	PlayerKey  string `json:"player_key"`
	WicketType string `json:"wicket_type"`
}

// BallExtras is an optional per-type split of a delivery's extras. It is not
// seen in real payloads; the simulator adds it when ball_type and the
// bowler/team extras cannot express the split (a no-ball with byes, penalty
// runs). Keys follow play.innings[].extra_runs.
type BallExtras struct {
	Wide    int `json:"wide"`
	NoBall  int `json:"no_ball"`
	Bye     int `json:"bye"`
	LegBye  int `json:"leg_bye"`
	Penalty int `json:"penalty"`
}

// UnmarshalJSON decodes a ball and records which required fields were present.
func (b *Ball) UnmarshalJSON(data []byte) error {
	type plain Ball
	var p struct {
		plain
		Key     *string `json:"key"`
		Innings *string `json:"innings"`
		Overs   *Overs  `json:"overs"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return err
	}
	*b = Ball(p.plain)
	if p.Key != nil {
		b.Key, b.present.key = *p.Key, true
	}
	if p.Innings != nil {
		b.Innings, b.present.innings = *p.Innings, true
	}
	if p.Overs != nil {
		b.Overs, b.present.overs = *p.Overs, true
	}
	return nil
}

func (b *Ball) validate() error {
	switch {
	case !b.present.key && b.Key == "":
		return fmt.Errorf("%w: ball key", ErrMissingField)
	case !b.present.innings && b.Innings == "":
		return fmt.Errorf("%w: ball %s innings", ErrMissingField, b.Key)
	case !b.present.overs && b.Overs == (Overs{}):
		return fmt.Errorf("%w: ball %s overs", ErrMissingField, b.Key)
	case b.Key == "":
		return fmt.Errorf("%w: ball key is empty", ErrMissingField)
	}
	return nil
}

// Overs is an [over, ball] pair: over 0-based, ball 1-based within the over.
type Overs [2]int

// UnmarshalJSON accepts [over, ball] with integer or integral float numbers.
func (o *Overs) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*o = Overs{}
		return nil
	}
	var v []float64
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("overs: %w", err)
	}
	if len(v) != 2 {
		return fmt.Errorf("overs: want [over, ball], got %d numbers", len(v))
	}
	for i, f := range v {
		if f < 0 || f > 1<<20 || f != float64(int(f)) {
			return fmt.Errorf("overs: %v is not a small non-negative integer", f)
		}
		o[i] = int(f)
	}
	return nil
}

// MarshalJSON writes [over, ball].
func (o Overs) MarshalJSON() ([]byte, error) {
	return []byte("[" + strconv.Itoa(o[0]) + "," + strconv.Itoa(o[1]) + "]"), nil
}

// BallByBall is the `data` of the REST ball-by-ball response for one over.
type BallByBall struct {
	Over            OverBalls `json:"over"`
	PreviousOverKey *string   `json:"previous_over_key"`
	NextOverKey     *string   `json:"next_over_key"`
}

// OverBalls is one over of the ball-by-ball response.
type OverBalls struct {
	Index OverIndex `json:"index"`
	Balls []Ball    `json:"balls"`
}

// OverIndex identifies an over: innings key ("a_1") and 0-based over number.
type OverIndex struct {
	Innings    string `json:"innings"`
	OverNumber int    `json:"over_number"`
}

// BallByBallResponse is the REST envelope around BallByBall.
type BallByBallResponse struct {
	Data     *BallByBall `json:"data"`
	Cache    *Cache      `json:"cache,omitempty"`
	Error    any         `json:"error"`
	Sport    string      `json:"sport,omitempty"`
	Schema   *Schema     `json:"schema,omitempty"`
	DataKind string      `json:"data_kind,omitempty"`
}

// Auth is the `data` of the auth response.
type Auth struct {
	Token   string   `json:"token"`
	Expires UnixTime `json:"expires"`
}

// AuthResponse is the auth endpoint's response.
type AuthResponse struct {
	StatusCode int   `json:"status_code"`
	Data       *Auth `json:"data"`
	Error      any   `json:"error"`
}

// UnixTime is epoch seconds with a fraction, sent as a number or a numeric string.
type UnixTime float64

// UnmarshalJSON accepts 1711234567.89, "1711234567.89" and null (zero).
func (u *UnixTime) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		*u = 0
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if err := json.Unmarshal(data, &str); err != nil {
			return fmt.Errorf("expires: %w", err)
		}
		s = str
		if s == "" {
			*u = 0
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("expires: %q is not a number", s)
	}
	*u = UnixTime(f)
	return nil
}

// DecodeAuth parses an auth response body, requiring a token.
func DecodeAuth(body []byte) (*Auth, error) {
	var r AuthResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("roanuz: decode auth: %w: %w", ErrBadJSON, err)
	}
	if r.Data == nil || r.Data.Token == "" {
		return nil, fmt.Errorf("roanuz: decode auth: %w: data.token", ErrMissingField)
	}
	return r.Data, nil
}

// DecodeBallByBall parses a ball-by-ball response (envelope or bare data).
func DecodeBallByBall(body []byte) (*BallByBall, error) {
	var r BallByBallResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("roanuz: decode ball-by-ball: %w: %w", ErrBadJSON, err)
	}
	bb := r.Data
	if bb == nil {
		bb = new(BallByBall)
		if err := json.Unmarshal(body, bb); err != nil {
			return nil, fmt.Errorf("roanuz: decode ball-by-ball: %w: %w", ErrBadJSON, err)
		}
	}
	if bb.Over.Index.Innings == "" {
		return nil, fmt.Errorf("roanuz: decode ball-by-ball: %w: over.index.innings", ErrMissingField)
	}
	for i := range bb.Over.Balls {
		if err := bb.Over.Balls[i].validate(); err != nil {
			return nil, fmt.Errorf("roanuz: decode ball-by-ball: %w", err)
		}
	}
	return bb, nil
}

func (m *Match) validate() error {
	if m.Key == "" {
		return fmt.Errorf("%w: data.key", ErrMissingField)
	}
	if m.Play != nil {
		for k, b := range m.Play.RelatedBalls {
			if err := b.validate(); err != nil {
				return fmt.Errorf("related_balls[%s]: %w", k, err)
			}
		}
	}
	return nil
}
