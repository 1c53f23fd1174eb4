package roanuz

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"

	"github.com/ballcast/ballcast/core/event"
)

// ErrNoOver is returned by Generator.Over for an over that has not been bowled.
var ErrNoOver = errors.New("roanuz: no such over")

// Generator turns a Cricsheet match's events (from replay.Parse) into the v5
// match documents a live Roanuz feed would push: Document(0) before the
// first ball, Document(i) after the i-th delivery, the last one at the
// result. Ball keys follow the formula of LIBRARY-NOTES
// (innings·2^19 + over·512 + ball·64 + k); related_balls holds the last 19
// legal balls of the current innings plus every wicket ball so far.
//
// Choices where the real evidence is silent: super-over innings are keyed
// "{side}_superover_{n}"; a ball carries the optional "extras" split only
// when ball_type and the bowler/team extras cannot express it; only the
// first wicket of a delivery is sent (the wire has one wicket object);
// recent_players carries {key, name} without stats; partnerships are empty.
//
// A Generator is owned by one goroutine. FetchOver answers from the
// deliveries the last Document call has revealed, as the live REST
// endpoint would.
type Generator struct {
	key     string
	info    event.MatchInfo
	sides   map[string]string // team name → side
	pkeys   map[string]string // player name → key
	players map[string]PlayerRef
	squad   map[string]Squad
	inns    []genInnings
	dels    []genDelivery
	final   event.Status
	start   float64
	now     int // deliveries revealed
}

type genInnings struct {
	key    string
	side   string
	target *event.Target
}

type genDelivery struct {
	inn  int
	ball event.Ball
	wire Ball
}

// NewGenerator builds a generator for one match under Roanuz key matchKey.
func NewGenerator(matchKey string, events []event.Event) (*Generator, error) {
	g := &Generator{key: matchKey, sides: map[string]string{}, pkeys: map[string]string{},
		players: map[string]PlayerRef{}, squad: map[string]Squad{}}
	for _, ev := range events {
		if ev.Info != nil {
			g.info = *ev.Info
		}
	}
	if len(g.info.Teams) != 2 {
		return nil, fmt.Errorf("roanuz: generate %s: want match info with two teams", matchKey)
	}
	if !g.info.Start.IsZero() {
		g.start = float64(g.info.Start.Unix()) + 9*3600
	}
	for i, t := range g.info.Teams {
		side := string(rune('a' + i))
		g.sides[t] = side
		sq := Squad{PlayerKeys: []string{}, PlayingXI: []string{}, Replacements: []string{}}
		for _, p := range g.info.Players[t] {
			k := g.player(p)
			sq.PlayerKeys = append(sq.PlayerKeys, k)
			sq.PlayingXI = append(sq.PlayingXI, k)
		}
		g.squad[side] = sq
	}
	count := map[string]int{}
	for _, ev := range events {
		switch {
		case ev.Kind == event.KindInnings && ev.Innings != nil && !ev.Innings.End:
			side := g.sides[ev.Innings.Team]
			if side == "" {
				return nil, fmt.Errorf("roanuz: generate %s: unknown team %q", matchKey, ev.Innings.Team)
			}
			kind := "_"
			if ev.Innings.SuperOver {
				kind = "_superover_"
			}
			count[side+kind]++
			g.inns = append(g.inns, genInnings{key: side + kind + strconv.Itoa(count[side+kind]), side: side, target: ev.Innings.Target})
		case ev.Kind == event.KindBall && ev.Ball != nil:
			b := *ev.Ball
			if b.Innings < 1 || b.Innings > len(g.inns) {
				return nil, fmt.Errorf("roanuz: generate %s: ball %s outside the innings", matchKey, b.Key())
			}
			if b.Ball > 7 || b.Sub > 63 || b.Over > 1023 {
				return nil, fmt.Errorf("roanuz: generate %s: ball %s does not fit the key formula", matchKey, b.Key())
			}
			g.dels = append(g.dels, genDelivery{inn: b.Innings - 1, ball: b})
		case ev.Kind == event.KindStatus && ev.Status != nil && (ev.Status.State == event.StateCompleted || ev.Status.State == event.StateAbandoned):
			g.final = *ev.Status
		}
	}
	for i := range g.dels {
		g.dels[i].wire = g.wireBall(i)
	}
	return g, nil
}

func (g *Generator) player(name string) string {
	if k, ok := g.pkeys[name]; ok {
		return k
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			sb.WriteRune(r)
		case sb.Len() > 0 && !strings.HasSuffix(sb.String(), "_"):
			sb.WriteByte('_')
		}
	}
	base := strings.TrimSuffix(sb.String(), "_")
	if base == "" {
		base = "player"
	}
	k := base
	for i := 2; g.players[k].Player.Key != ""; i++ {
		k = base + "_" + strconv.Itoa(i)
	}
	g.pkeys[name] = k
	jersey := name
	if i := strings.LastIndexByte(name, ' '); i >= 0 {
		jersey = name[i+1:]
	}
	g.players[k] = PlayerRef{Player: Player{Key: k, Name: name, JerseyName: jersey, LegalName: name, Gender: "male",
		Roles: []string{}, Skills: []string{}, LegalNameV2: name, JerseyNameV2: jersey}, Score: map[string]any{}}
	return k
}

// BallKey is the ball key of a delivery: innings·2^19 + over·512 + ball·64 + sub.
func BallKey(innings, over, ball, sub int) string {
	return strconv.Itoa(innings<<19 + over<<9 + ball<<6 + sub)
}

func (g *Generator) wireBall(i int) Ball {
	d := &g.dels[i]
	b := d.ball
	in := g.inns[d.inn]
	x := b.Extras
	bt := "normal"
	switch {
	case x.Wides > 0:
		bt = "wide"
	case x.NoBalls > 0:
		bt = "no_ball"
	case x.LegByes > 0:
		bt = "leg_bye"
	case x.Byes > 0:
		bt = "bye"
	}
	count := 0
	if b.Legal {
		count = 1
	}
	faced := 1
	if x.Wides > 0 {
		faced = 0
	}
	t := g.start + 40*float64(i+1)
	w := Ball{
		Key: BallKey(b.Innings, b.Over, b.Ball, b.Sub), BallType: bt, BattingTeam: in.side, Innings: in.key,
		Overs:   Overs{b.Over, b.Ball},
		Comment: fmt.Sprintf("%s to %s: %s", b.Bowler, b.Batter, repr(&b)),
		Batsman: BallBatsman{PlayerKey: g.player(b.Batter), BallCount: faced, Runs: b.RunsBat,
			IsDotBall: b.Runs() == 0, IsFour: b.Four(), IsSix: b.Six()},
		Bowler: BallBowler{PlayerKey: g.player(b.Bowler), BallCount: count, Runs: b.RunsBat + x.Wides + x.NoBalls,
			Extras: x.Wides + x.NoBalls},
		TeamScore:     BallScore{BallCount: count, Runs: b.Runs(), Extras: x.Total(), IsWicket: len(b.Wickets) > 0},
		Fielders:      []Fielder{},
		NonStrikerKey: g.player(b.NonStriker),
		EntryTime:     t, UpdatedTime: t, BallPlayStatus: "played", BallTags: []string{},
	}
	if len(b.Wickets) > 0 {
		wk := b.Wickets[0]
		w.Wicket = &BallWicket{PlayerKey: g.player(wk.PlayerOut), WicketType: strings.ReplaceAll(wk.Kind, " ", "_")}
		w.Bowler.IsWicket = wk.CreditsBowler()
		for _, f := range wk.Fielders {
			w.Fielders = append(w.Fielders, Fielder{PlayerKey: g.player(f), IsCatch: wk.Kind == "caught",
				IsStumps: wk.Kind == "stumped", IsRunOut: wk.Kind == "run out"})
		}
	}
	if extras(&w) != x {
		w.Extras = &BallExtras{Wide: x.Wides, NoBall: x.NoBalls, Bye: x.Byes, LegBye: x.LegByes, Penalty: x.Penalty}
	}
	return w
}

func repr(b *event.Ball) string {
	x := b.Extras
	switch {
	case len(b.Wickets) > 0:
		return "w"
	case x.Wides > 0:
		return fmt.Sprintf("e%d,wd", x.Total())
	case x.NoBalls > 0:
		return fmt.Sprintf("e%d,nb", b.Runs())
	case x.LegByes > 0:
		return fmt.Sprintf("e%d,lb", x.Total())
	case x.Byes > 0:
		return fmt.Sprintf("e%d,b", x.Total())
	case b.Four():
		return "b4"
	case b.Six():
		return "b6"
	}
	return "r" + strconv.Itoa(b.Runs())
}

// Len is the number of documents: one before play, one per delivery, one at the result.
func (g *Generator) Len() int { return len(g.dels) + 2 }

// Key is the Roanuz match key.
func (g *Generator) Key() string { return g.key }

// Document returns document i (0 ≤ i < Len) as the full v5 envelope, and
// reveals its deliveries to FetchOver. Each call builds a fresh value.
func (g *Generator) Document(i int) *Envelope {
	i = max(0, min(i, g.Len()-1))
	d := min(i, len(g.dels))
	final := i == g.Len()-1
	g.now = d
	m := g.match(d, final)
	exp := g.start + 40*float64(d) + 3600*24
	return &Envelope{
		Data:     m,
		Cache:    &Cache{Key: "api:rz:v5_cricket_match:" + g.key, ETag: strconv.Itoa(1e9 + i), Expires: &exp},
		Sport:    "cricket",
		Schema:   &Schema{MajorVersion: "5.0", MinorVersion: "2"},
		DataKind: "match",
	}
}

// Ball returns the wire ball of delivery i (0-based), for tests that alter deliveries.
func (g *Generator) Ball(i int) Ball { return g.dels[i].wire }

func (g *Generator) match(d int, final bool) *Match {
	start := g.start
	m := &Match{
		Key: g.key, Name: strings.Join(g.info.Teams, " vs "), ShortName: g.code(0) + " vs " + g.code(1),
		SubTitle: g.info.Title, Title: g.info.Title, StartAt: &start, StartAtLocal: &start, MetricGroup: "MG100",
		Sport: "cricket", Gender: "male", Format: strings.ToLower(g.info.Format), Messages: []any{}, Notes: []any{},
		Weather:    "",
		Tournament: &Tournament{Key: "sim", Name: "Simulated", ShortName: "SIM"},
		Teams:      map[string]Team{},
		Venue:      &Venue{Key: g.slug(g.info.Venue), Name: g.info.Venue, Country: Country{}},
		Players:    g.players, Squad: g.squad,
		Umpires:    &Umpires{MatchUmpires: []Official{}, TVUmpires: []Official{}, ReserveUmpires: []Official{}, MatchReferee: []Official{}},
		DataReview: map[string]any{"score": false, "result": false},
	}
	for i, t := range g.info.Teams {
		m.Teams[string(rune('a'+i))] = Team{Key: g.slug(t), Code: g.code(i), Name: t, CountryCode: ""}
	}
	if s := g.sides[g.info.TossWinner]; s != "" {
		el := g.info.TossDecision
		if el == "field" {
			el = "bowl"
		}
		m.Toss = &Toss{Winner: s, Elected: el, SquadAnnounced: true}
	}
	switch {
	case final:
		m.Status, m.PlayStatus = "completed", "result"
		if g.final.State == event.StateAbandoned {
			m.Status, m.PlayStatus = "cancelled", "abandoned"
		}
	case d == 0:
		m.Status, m.PlayStatus = "not_started", "pre_match"
	default:
		m.Status, m.PlayStatus = "started", "in_play"
	}
	m.Play = g.play(d, final)
	if final {
		if s := g.sides[g.final.Winner]; s != "" {
			m.Winner = &s
			m.Play.Result = &Result{POM: []string{}, Winner: s, ResultType: "", Msg: g.final.Result}
		} else {
			m.Play.Result = &Result{POM: []string{}, Msg: g.final.Result}
		}
	}
	return m
}

func (g *Generator) code(i int) string {
	t := strings.ToUpper(strings.ReplaceAll(g.info.Teams[i], " ", ""))
	return t[:min(3, len(t))]
}

func (g *Generator) slug(s string) string {
	return strings.Trim(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(s)), "_")
}

func (g *Generator) play(d int, final bool) *Play {
	p := &Play{InningsOrder: []string{}, Innings: map[string]Innings{}, RelatedBalls: map[string]Ball{}, DayNumber: 1}
	if len(g.inns) > 0 {
		p.FirstBatting = g.inns[0].side
	}
	if g.info.Overs > 0 {
		p.OversPerInnings = []int{g.info.Overs, g.info.Overs}
	}
	cur := -1
	if d > 0 {
		cur = g.dels[d-1].inn
	}
	for ii := 0; ii <= cur; ii++ {
		in := g.inns[ii]
		p.InningsOrder = append(p.InningsOrder, in.key)
		p.Innings[in.key] = g.inningsDoc(ii, d, ii < cur || final)
	}
	for i := 0; i < d; i++ {
		if len(g.dels[i].ball.Wickets) > 0 {
			p.RelatedBalls[g.dels[i].wire.Key] = g.dels[i].wire
		}
	}
	if cur < 0 {
		return p
	}
	in := g.inns[cur]
	if t := in.target; t != nil {
		p.Target = &Target{Runs: t.Runs, Balls: int(math.Floor(t.Overs))*6 + int(math.Round((t.Overs-math.Floor(t.Overs))*10))}
	}
	// The tail: from the 19th-last legal ball of the current innings.
	from, legal := d, 0
	for from > 0 && g.dels[from-1].inn == cur && legal < 19 {
		from--
		if g.dels[from].ball.Legal {
			legal++
		}
	}
	last := g.dels[d-1]
	inn := p.Innings[in.key]
	live := &Live{
		Innings: in.key, BattingTeam: in.side, BowlingTeam: otherSide(in.side),
		StrikerKey: g.player(last.ball.Batter), NonStrikerKey: g.player(last.ball.NonStriker), BowlerKey: g.player(last.ball.Bowler),
		Score: &LiveScore{Runs: inn.Score.Runs, Balls: inn.Score.Balls, Overs: inn.Overs, Wickets: inn.Wickets,
			RunRate: inn.Score.RunRate, Title: fmt.Sprintf("%d/%d in %d.%d", inn.Score.Runs, inn.Wickets, inn.Overs[0], inn.Overs[1])},
		LastBallKey:     last.wire.Key,
		RecentOvers:     []RecentOver{},
		RecentOversRepr: []RecentOverRep{},
		RecentPlayers: map[string]any{
			"striker":     map[string]any{"key": g.player(last.ball.Batter), "name": last.ball.Batter},
			"non_striker": map[string]any{"key": g.player(last.ball.NonStriker), "name": last.ball.NonStriker},
			"bowler":      map[string]any{"key": g.player(last.ball.Bowler), "name": last.ball.Bowler},
		},
	}
	if p.Target != nil {
		need := p.Target.Runs - inn.Score.Runs
		left := p.Target.Balls - inn.Score.Balls
		rr := 0.0
		if left > 0 {
			rr = math.Round(float64(need)*600/float64(left)) / 100
		}
		live.RequiredScore = &RequiredScore{Runs: need, Balls: left, Title: fmt.Sprintf("%d runs in %d balls", need, left), RunRate: rr}
	}
	for i := from; i < d; i++ {
		dl := g.dels[i]
		p.RelatedBalls[dl.wire.Key] = dl.wire
		n := len(live.RecentOvers)
		if n == 0 || live.RecentOvers[n-1].Overnumber != dl.ball.Over {
			live.RecentOvers = append(live.RecentOvers, RecentOver{Overnumber: dl.ball.Over})
			live.RecentOversRepr = append(live.RecentOversRepr, RecentOverRep{Overnumber: dl.ball.Over})
			n++
		}
		live.RecentOvers[n-1].BallKeys = append(live.RecentOvers[n-1].BallKeys, dl.wire.Key)
		live.RecentOversRepr[n-1].BallRepr = append(live.RecentOversRepr[n-1].BallRepr, repr(&dl.ball))
	}
	p.Live = live
	return p
}

func (g *Generator) inningsDoc(ii, d int, completed bool) Innings {
	in := g.inns[ii]
	r := Innings{Index: in.key, IsCompleted: completed, BattingOrder: []string{}, BowlingOrder: []string{},
		WicketOrder: []string{}, Partnerships: []Partnership{}}
	seen := map[string]bool{}
	lastOver, legalInLast := -1, 0
	for i := 0; i < d; i++ {
		dl := g.dels[i]
		if dl.inn != ii {
			continue
		}
		b := dl.ball
		x := b.Extras
		r.Score.Runs += b.Runs()
		r.ExtraRuns.Extra += x.Total()
		r.ExtraRuns.Bye += x.Byes
		r.ExtraRuns.LegBye += x.LegByes
		r.ExtraRuns.Wide += x.Wides
		r.ExtraRuns.NoBall += x.NoBalls
		r.ExtraRuns.Penalty += x.Penalty
		r.BallsBreakup.Wides += x.Wides
		if x.NoBalls > 0 {
			r.BallsBreakup.NoBalls++
		}
		if b.Over != lastOver {
			lastOver, legalInLast = b.Over, 0
		}
		if b.Legal {
			r.Score.Balls++
			legalInLast++
			if b.Runs() == 0 {
				r.Score.DotBalls++
			}
		}
		if b.Four() {
			r.Score.Fours++
		}
		if b.Six() {
			r.Score.Sixes++
		}
		for _, k := range []string{b.Batter, b.NonStriker} {
			if !seen["bat"+k] {
				seen["bat"+k] = true
				r.BattingOrder = append(r.BattingOrder, g.player(k))
			}
		}
		if !seen["bowl"+b.Bowler] {
			seen["bowl"+b.Bowler] = true
			r.BowlingOrder = append(r.BowlingOrder, g.player(b.Bowler))
		}
		for _, w := range b.Wickets {
			if w.IsTeamWicket() {
				r.Wickets++
			}
			r.WicketOrder = append(r.WicketOrder, g.player(w.PlayerOut))
		}
	}
	r.BallsBreakup.Balls, r.BallsBreakup.DotBalls = r.Score.Balls, r.Score.DotBalls
	if lastOver >= 0 {
		r.Overs = Overs{lastOver, legalInLast}
		if legalInLast >= 6 {
			r.Overs = Overs{lastOver + 1, 0}
		}
	}
	if r.Score.Balls > 0 {
		r.Score.RunRate = math.Round(float64(r.Score.Runs)*600/float64(r.Score.Balls)) / 100
	}
	r.ScoreStr = fmt.Sprintf("%d/%d in %d.%d", r.Score.Runs, r.Wickets, r.Overs[0], r.Overs[1])
	return r
}

// Over returns the ball-by-ball REST response for overKey
// ("{innings key}_{over}", over 0-based) as of the last Document call.
func (g *Generator) Over(overKey string) (*BallByBallResponse, error) {
	i := strings.LastIndexByte(overKey, '_')
	over, err := strconv.Atoi(overKey[i+1:])
	if i < 0 || err != nil || over < 0 {
		return nil, fmt.Errorf("roanuz: over %q: %w", overKey, ErrNoOver)
	}
	ik := overKey[:i]
	ii := -1
	for j, in := range g.inns {
		if in.key == ik {
			ii = j
		}
	}
	bb := &BallByBall{Over: OverBalls{Index: OverIndex{Innings: ik, OverNumber: over}, Balls: []Ball{}}}
	later := false
	for j := 0; j < g.now; j++ {
		dl := g.dels[j]
		switch {
		case dl.inn == ii && dl.ball.Over == over:
			w := dl.wire
			w.Repr = repr(&dl.ball)
			bb.Over.Balls = append(bb.Over.Balls, w)
		case dl.inn == ii && dl.ball.Over > over || dl.inn > ii && ii >= 0:
			later = true
		}
	}
	if len(bb.Over.Balls) == 0 {
		return nil, fmt.Errorf("roanuz: over %q: %w", overKey, ErrNoOver)
	}
	if over > 0 {
		s := ik + "_" + strconv.Itoa(over-1)
		bb.PreviousOverKey = &s
	}
	if later {
		s := ik + "_" + strconv.Itoa(over+1)
		bb.NextOverKey = &s
	}
	return &BallByBallResponse{Data: bb, Cache: &Cache{Key: "api:rz:v5_ball_by_ball:" + overKey}, Sport: "cricket",
		Schema: &Schema{MajorVersion: "5.0", MinorVersion: "2"}, DataKind: "ball_by_ball"}, nil
}

// FetchOver implements Backfiller from the generated match; it ignores ctx.
func (g *Generator) FetchOver(_ context.Context, matchKey, overKey string) (*BallByBall, error) {
	if matchKey != g.key {
		return nil, fmt.Errorf("roanuz: fetch over %s of %s: %w", overKey, matchKey, ErrNoOver)
	}
	r, err := g.Over(overKey)
	if err != nil {
		return nil, err
	}
	return r.Data, nil
}

// Encoding is a wire encoding of an update.
type Encoding int

// The encodings DecodeUpdate accepts.
const (
	EncodeJSON       Encoding = iota // JSON object text
	EncodeJSONString                 // a JSON string holding the JSON text
	EncodeGzip                       // binary gzip of the JSON text (the simulator's default)
	EncodeZlib                       // binary zlib of the JSON text
	EncodeBase64Gzip                 // base64 of gzip
	EncodeBase64Zlib                 // base64 of zlib
	EncodeBare                       // JSON object text of `data` alone (no envelope)
	numEncodings
)

var encodingNames = [...]string{"json", "json-string", "gzip", "zlib", "base64-gzip", "base64-zlib", "bare"}

func (e Encoding) String() string {
	if e >= 0 && e < numEncodings {
		return encodingNames[e]
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Encodings lists every Encoding.
func Encodings() []Encoding {
	out := make([]Encoding, numEncodings)
	for i := range out {
		out[i] = Encoding(i)
	}
	return out
}

// ParseEncoding is the inverse of Encoding.String.
func ParseEncoding(s string) (Encoding, error) {
	for i, n := range encodingNames {
		if n == s {
			return Encoding(i), nil
		}
	}
	return 0, fmt.Errorf("roanuz: unknown encoding %q", s)
}

// Encode marshals doc and encodes it for the wire. EncodeBare requires an
// *Envelope and sends its Data alone.
func Encode(doc any, enc Encoding) ([]byte, error) {
	if enc == EncodeBare {
		env, ok := doc.(*Envelope)
		if !ok {
			return nil, fmt.Errorf("roanuz: encode %s: want *Envelope, got %T", enc, doc)
		}
		doc = env.Data
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("roanuz: encode: %w", err)
	}
	switch enc {
	case EncodeJSON, EncodeBare:
		return js, nil
	case EncodeJSONString:
		return json.Marshal(string(js))
	case EncodeGzip, EncodeBase64Gzip, EncodeZlib, EncodeBase64Zlib:
		var buf bytes.Buffer
		var w interface {
			Write([]byte) (int, error)
			Close() error
		}
		if enc == EncodeGzip || enc == EncodeBase64Gzip {
			w = gzip.NewWriter(&buf)
		} else {
			w = zlib.NewWriter(&buf)
		}
		if _, err := w.Write(js); err != nil {
			return nil, fmt.Errorf("roanuz: encode %s: %w", enc, err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("roanuz: encode %s: %w", enc, err)
		}
		if enc == EncodeGzip || enc == EncodeZlib {
			return buf.Bytes(), nil
		}
		return []byte(base64.StdEncoding.EncodeToString(buf.Bytes())), nil
	}
	return nil, fmt.Errorf("roanuz: encode: unknown encoding %d", int(enc))
}
