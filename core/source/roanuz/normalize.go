package roanuz

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// ErrGap is wrapped by the error Normalize returns when balls are missing
// and could not be backfilled; the events returned alongside are still valid
// and in order.
var ErrGap = errors.New("roanuz: gap in balls")

// Backfiller fetches one over from the REST ball-by-ball endpoint
// (`match/{matchKey}/ball-by-ball/{overKey}/`). Over keys are
// `{side}_{innings number}_{over}` with the over 0-based, e.g. "a_1_10"
// (0-based is inferred: over numbers are 0-based everywhere else in v5).
type Backfiller interface {
	FetchOver(ctx context.Context, matchKey, overKey string) (*BallByBall, error)
}

// maxFetches bounds the backfill calls one Normalize call makes.
const maxFetches = 1024

// Normalizer turns the successive match documents of one match into new
// ballcast events. It remembers what it emitted, so a document that repeats
// earlier balls yields only what is new. One goroutine owns it.
type Normalizer struct {
	match  string
	source string
	bf     Backfiller
	bpo    int

	key        string
	state      string
	playStatus string
	stateSeen  map[string]int
	infoSig    string
	teams      map[string]string // side → name
	names      map[string]string // player key → name
	order      []string          // innings keys in play order
	innings    map[string]*inningsState
	balls      map[string]*ballRecord
	statusDone bool
	fetches    int
}

type inningsState struct {
	key     string
	num     int
	side    string
	super   bool
	started bool
	ended   bool

	any         bool
	lastKey     string
	lastOver    int
	lastPos     int
	lastSub     int
	legalInOver int
	lastBowler  string
	legal       int
	runs        int
	complete    map[int]bool
	gapReported bool
}

type ballRecord struct {
	updated float64
	ball    event.Ball
	id      string
}

// NewNormalizer returns a Normalizer emitting events for ballcast match ID
// match (empty: the Roanuz match key of the first document). bf may be nil:
// gaps are then reported, not filled.
func NewNormalizer(match string, bf Backfiller) *Normalizer {
	return &Normalizer{
		match: match, source: "roanuz", bf: bf, bpo: 6,
		stateSeen: map[string]int{}, teams: map[string]string{}, names: map[string]string{},
		innings: map[string]*inningsState{}, balls: map[string]*ballRecord{},
	}
}

// Normalize takes the next match document and returns the events it adds, in
// order: status and info changes, then per innings its start, new balls
// (backfilling gaps through the Backfiller), corrections of earlier balls,
// over ends and its end, then completion. A ball already emitted is dropped
// unless it comes with a later updated_time and different content, which
// yields a correction (Ball.Revision+1, ID suffixed "#r<rev>"). A non-nil
// error wrapping ErrGap means balls are missing; the events are still valid.
func (n *Normalizer) Normalize(ctx context.Context, m *Match) ([]event.Event, error) {
	if m == nil {
		return nil, fmt.Errorf("roanuz: normalize: %w: data", ErrMissingField)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("roanuz: normalize: %w", err)
	}
	if n.key == "" {
		n.key = m.Key
		if n.match == "" {
			n.match = m.Key
		}
	} else if m.Key != n.key {
		return nil, fmt.Errorf("roanuz: normalize: document for %s, normalizer for %s", m.Key, n.key)
	}
	n.fetches = 0
	n.learnNames(m)
	var out []event.Event
	var errs []error

	state, note := mapStatus(m.Status, m.PlayStatus)
	final := state == event.StateCompleted || state == event.StateAbandoned
	if !final {
		out = n.statusEvents(out, m, state, note)
	}

	play := m.Play
	if play == nil {
		play = &Play{}
	}
	n.updateOrder(play)
	related := map[string][]*Ball{}
	for k := range play.RelatedBalls {
		b := play.RelatedBalls[k]
		related[b.Innings] = append(related[b.Innings], &b)
	}
	for i, ik := range n.order {
		st := n.innings[ik]
		later := false
		for _, lk := range n.order[i+1:] {
			if n.active(play, lk, related) {
				later = true
			}
		}
		if !st.started && !n.active(play, ik, related) && !later {
			continue
		}
		inn, hasInn := play.Innings[ik]
		ended := later || final || hasInn && inn.IsCompleted
		if st.ended {
			out = n.corrections(out, st, related[ik])
			continue
		}
		if !st.started {
			st.started = true
			ev := n.newEvent(fmt.Sprintf("innings/%d/start", st.num), event.KindInnings, time.Time{})
			ev.Innings = &event.Innings{Number: st.num, Team: n.team(st.side), SuperOver: st.super}
			if play.Target != nil && st.num > 1 && play.Target.Runs > 0 && (play.Live == nil || play.Live.Innings == ik) {
				ev.Innings.Target = &event.Target{Runs: play.Target.Runs, Overs: float64(play.Target.Balls/6) + float64(play.Target.Balls%6)/10}
			}
			out = append(out, ev)
		}
		var err error
		out, err = n.innBalls(ctx, out, st, play, related[ik], ended)
		if err != nil {
			errs = append(errs, err)
		}
		if ended {
			out = n.overEnd(out, st)
			st.ended = true
			ev := n.newEvent(fmt.Sprintf("innings/%d/end", st.num), event.KindInnings, time.Time{})
			ev.Innings = &event.Innings{Number: st.num, Team: n.team(st.side), SuperOver: st.super, End: true}
			out = append(out, ev)
		}
	}
	if final {
		out = n.statusEvents(out, m, state, note)
	}
	return out, errors.Join(errs...)
}

func (n *Normalizer) active(play *Play, ik string, related map[string][]*Ball) bool {
	if len(related[ik]) > 0 {
		return true
	}
	if play.Live != nil && play.Live.Innings == ik {
		return true
	}
	inn, ok := play.Innings[ik]
	return ok && (inn.IsCompleted || inn.Score.Balls > 0 || inn.Overs != Overs{})
}

func (n *Normalizer) updateOrder(play *Play) {
	add := func(k string) {
		if k == "" || n.innings[k] != nil {
			return
		}
		side, _, _ := strings.Cut(k, "_")
		n.order = append(n.order, k)
		n.innings[k] = &inningsState{key: k, num: len(n.order), side: side,
			super: strings.Contains(k, "super"), complete: map[int]bool{}}
	}
	for _, k := range play.InningsOrder {
		add(k)
	}
	if play.Live != nil {
		add(play.Live.Innings)
	}
	var extra []string
	for _, b := range play.RelatedBalls {
		if n.innings[b.Innings] == nil && !slices.Contains(extra, b.Innings) {
			extra = append(extra, b.Innings)
		}
	}
	slices.SortFunc(extra, func(a, b string) int {
		return compareKeys(minKey(play, a), minKey(play, b))
	})
	for _, k := range extra {
		add(k)
	}
}

func minKey(play *Play, ik string) string {
	min := ""
	for _, b := range play.RelatedBalls {
		if b.Innings == ik && (min == "" || compareKeys(b.Key, min) < 0) {
			min = b.Key
		}
	}
	return min
}

// compareKeys orders ball keys: numerically for numeric keys (shorter is
// smaller), lexically otherwise.
func compareKeys(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// innBalls emits the new balls of one innings in key order, backfilling gaps.
func (n *Normalizer) innBalls(ctx context.Context, out []event.Event, st *inningsState, play *Play, rel []*Ball, ended bool) ([]event.Event, error) {
	out = n.corrections(out, st, rel)
	known := map[string]*Ball{}
	for _, b := range rel {
		if n.balls[b.Key] == nil && (!st.any || compareKeys(b.Key, st.lastKey) > 0) {
			known[b.Key] = b
		}
	}
	fetched := map[int]bool{}
	wantLegal, wantRuns, lastBall, endOver := n.targets(st, play)
	var gapErr error
	gap := func(format string, args ...any) {
		if gapErr == nil {
			gapErr = fmt.Errorf("roanuz: %s innings %s: %w: "+format, append([]any{n.key, st.key, ErrGap}, args...)...)
		}
	}
	for {
		next := firstKey(known)
		if next != nil && n.contiguous(st, next) {
			delete(known, next.Key)
			out = n.emitBall(out, st, next, true)
			continue
		}
		need := next != nil ||
			st.legal < wantLegal || ended && st.legal == wantLegal && st.runs < wantRuns ||
			lastBall != "" && n.balls[lastBall] == nil && (!st.any || compareKeys(lastBall, st.lastKey) > 0)
		if !need {
			break
		}
		limit := endOver
		if next != nil {
			limit = next.Overs[0]
		}
		if o, ok := n.overToFetch(st, fetched, limit); ok {
			fetched[o] = true
			added, err := n.backfill(ctx, st, o, ended, known, &out)
			if err != nil {
				gap("%v", err)
			}
			if added || err == nil {
				continue
			}
		}
		if next == nil {
			if (st.legal < wantLegal || lastBall != "" && n.balls[lastBall] == nil) && !st.gapReported {
				st.gapReported = true
				gap("have %d of %d legal balls", st.legal, wantLegal)
			}
			break
		}
		gap("before ball %s (over %d.%d)", next.Key, next.Overs[0], next.Overs[1])
		delete(known, next.Key)
		out = n.emitBall(out, st, next, false)
	}
	return out, gapErr
}

// targets returns what the document says the innings holds: legal balls,
// runs, the last ball key (live innings only) and the last over index.
func (n *Normalizer) targets(st *inningsState, play *Play) (legal, runs int, last string, endOver int) {
	endOver = -1
	if play.Live != nil && play.Live.Innings == st.key && play.Live.Score != nil {
		s := play.Live.Score
		legal, runs, last = s.Balls, s.Runs, play.Live.LastBallKey
		endOver = lastOverIndex(s.Overs)
	} else if inn, ok := play.Innings[st.key]; ok {
		legal, runs = inn.Score.Balls, inn.Score.Runs
		endOver = lastOverIndex(inn.Overs)
	}
	if endOver < 0 && legal > 0 {
		endOver = (legal - 1) / n.bpo
	}
	return legal, runs, last, endOver
}

func lastOverIndex(o Overs) int {
	if o[1] == 0 {
		return o[0] - 1
	}
	return o[0]
}

func (n *Normalizer) overToFetch(st *inningsState, fetched map[int]bool, limit int) (int, bool) {
	if n.bf == nil || n.fetches >= maxFetches {
		return 0, false
	}
	start := 0
	if st.any {
		start = st.lastOver
	}
	if limit < start {
		limit = start
	}
	for o := start; o <= limit; o++ {
		if !st.complete[o] && !fetched[o] {
			return o, true
		}
	}
	return 0, false
}

// backfill fetches one over and adds its unseen balls to known; it reports
// whether anything was added.
func (n *Normalizer) backfill(ctx context.Context, st *inningsState, over int, ended bool, known map[string]*Ball, out *[]event.Event) (bool, error) {
	n.fetches++
	overKey := st.key + "_" + strconv.Itoa(over)
	bb, err := n.bf.FetchOver(ctx, n.key, overKey)
	if err != nil {
		return false, fmt.Errorf("backfill %s: %w", overKey, err)
	}
	if bb == nil {
		return false, fmt.Errorf("backfill %s: empty response", overKey)
	}
	if ended || bb.NextOverKey != nil && *bb.NextOverKey != "" {
		st.complete[over] = true
	}
	added := false
	var rel []*Ball
	for i := range bb.Over.Balls {
		b := &bb.Over.Balls[i]
		if b.Innings == "" {
			b.Innings = st.key
		}
		if b.Innings != st.key || b.Key == "" {
			continue
		}
		if n.balls[b.Key] != nil {
			rel = append(rel, b)
			continue
		}
		if _, ok := known[b.Key]; !ok && (!st.any || compareKeys(b.Key, st.lastKey) > 0) {
			known[b.Key] = b
			added = true
		}
	}
	*out = n.corrections(*out, st, rel)
	return added, nil
}

func firstKey(known map[string]*Ball) *Ball {
	var first *Ball
	for _, b := range known {
		if first == nil || compareKeys(b.Key, first.Key) < 0 {
			first = b
		}
	}
	return first
}

// contiguous reports whether b is the delivery that follows the last one
// emitted in st, judged by positions (overs + ball_type), not keys.
func (n *Normalizer) contiguous(st *inningsState, b *Ball) bool {
	o, p, legal := b.Overs[0], b.Overs[1], isLegal(b.BallType)
	if !st.any {
		return o == 0 && (p == 1 || !legal && p == 0)
	}
	L := st.legalInOver
	switch o {
	case st.lastOver:
		if legal {
			return p == L+1
		}
		return p == L+1 || p == L
	case st.lastOver + 1:
		if L < n.bpo && !st.complete[st.lastOver] {
			return false
		}
		return p == 1 || !legal && p == 0
	}
	return false
}

// emitBall appends b's event. Contiguous balls get their position by
// counting (a wide counts toward the next legal position); after a gap the
// position comes from overs, and sub from the key when the key formula of
// LIBRARY-NOTES agrees with it.
func (n *Normalizer) emitBall(out []event.Event, st *inningsState, b *Ball, contiguous bool) []event.Event {
	o := b.Overs[0]
	legal := isLegal(b.BallType)
	if st.any && o != st.lastOver {
		out = n.overEnd(out, st)
	}
	var pos, sub int
	if contiguous {
		if !st.any || o != st.lastOver {
			st.legalInOver = 0
		}
		pos = st.legalInOver + 1
		if st.any && o == st.lastOver && pos == st.lastPos {
			sub = st.lastSub + 1
		}
	} else {
		pos = max(b.Overs[1], 1)
		sub = keySub(b.Key, st.num, o, pos)
		st.legalInOver = pos - 1
	}
	if legal {
		st.legalInOver++
		st.legal++
	}
	st.any, st.lastKey, st.lastOver, st.lastPos, st.lastSub = true, b.Key, o, pos, sub
	eb := n.ball(st, b)
	eb.Over, eb.Ball, eb.Sub = o, pos, sub
	st.runs += eb.Runs()
	st.lastBowler = eb.Bowler
	ev := n.newEvent(eb.Key(), event.KindBall, unixTime(b.EntryTime))
	ev.Ball = eb
	n.balls[b.Key] = &ballRecord{updated: b.UpdatedTime, ball: *eb, id: ev.ID}
	return append(out, ev)
}

func keySub(key string, inn, over, pos int) int {
	k, err := strconv.ParseUint(key, 10, 64)
	if err != nil || k>>19 != uint64(inn) || int(k>>9&1023) != over || int(k>>6&7) != pos {
		return 0
	}
	return int(k & 63)
}

func (n *Normalizer) overEnd(out []event.Event, st *inningsState) []event.Event {
	if !st.any {
		return out
	}
	ev := n.newEvent(fmt.Sprintf("over/%d.%d", st.num, st.lastOver), event.KindOver, time.Time{})
	ev.Over = &event.Over{Innings: st.num, Number: st.lastOver, Bowler: st.lastBowler}
	return append(out, ev)
}

// corrections emits a correction for every ball in rel that was emitted
// before and now comes with a later updated_time and different content.
func (n *Normalizer) corrections(out []event.Event, st *inningsState, rel []*Ball) []event.Event {
	slices.SortFunc(rel, func(a, b *Ball) int { return compareKeys(a.Key, b.Key) })
	for _, b := range rel {
		rec := n.balls[b.Key]
		if rec == nil || !(b.UpdatedTime > rec.updated) {
			continue
		}
		rec.updated = b.UpdatedTime
		eb := n.ball(st, b)
		eb.Over, eb.Ball, eb.Sub, eb.Revision = rec.ball.Over, rec.ball.Ball, rec.ball.Sub, rec.ball.Revision
		if reflect.DeepEqual(*eb, rec.ball) {
			continue
		}
		eb.Revision++
		st.runs += eb.Runs() - rec.ball.Runs()
		if isLegal(b.BallType) != rec.ball.Legal {
			if eb.Legal {
				st.legal++
			} else {
				st.legal--
			}
		}
		rec.ball = *eb
		ev := n.newEvent(eb.Key()+"#r"+strconv.Itoa(eb.Revision), event.KindBall, unixTime(b.UpdatedTime))
		ev.Ball = eb
		out = append(out, ev)
	}
	return out
}

// ball maps the wire ball's content (not its position) to an event.Ball.
func (n *Normalizer) ball(st *inningsState, b *Ball) *event.Ball {
	eb := &event.Ball{
		Innings: st.num, SuperOver: st.super,
		BattingTeam: n.team(st.side), BowlingTeam: n.team(otherSide(st.side)),
		Legal:      isLegal(b.BallType),
		Batter:     n.name(b.Batsman.PlayerKey),
		NonStriker: n.name(b.NonStrikerKey),
		Bowler:     n.name(b.Bowler.PlayerKey),
		RunsBat:    b.Batsman.Runs,
	}
	eb.NonBoundary = eb.RunsBat == 4 && !b.Batsman.IsFour || eb.RunsBat == 6 && !b.Batsman.IsSix
	eb.Extras = extras(b)
	if w := b.Wicket; w != nil && (w.PlayerKey != "" || w.WicketType != "") {
		wk := event.Wicket{Kind: WicketKind(w.WicketType), PlayerOut: n.name(w.PlayerKey)}
		for _, f := range b.Fielders {
			if f.PlayerKey != "" {
				wk.Fielders = append(wk.Fielders, n.name(f.PlayerKey))
			}
		}
		if wk.Kind == "caught" && len(b.Fielders) == 1 && b.Fielders[0].PlayerKey == b.Bowler.PlayerKey {
			wk.Kind, wk.Fielders = "caught and bowled", nil
		}
		eb.Wickets = []event.Wicket{wk}
	}
	return eb
}

// extras splits a delivery's extras by type: the optional extras detail if
// present, else ball_type with team_score/bowler extras (no-ball: the
// bowler's extras are the no-ball, the rest byes; a "normal" ball with
// extras: byes).
func extras(b *Ball) event.Extras {
	if d := b.Extras; d != nil {
		return event.Extras{Wides: d.Wide, NoBalls: d.NoBall, Byes: d.Bye, LegByes: d.LegBye, Penalty: d.Penalty}
	}
	x := b.TeamScore.Extras
	switch normBallType(b.BallType) {
	case "wide":
		return event.Extras{Wides: x}
	case "no_ball":
		nb := min(max(b.Bowler.Extras, 1), max(x, 1))
		return event.Extras{NoBalls: nb, Byes: max(x-nb, 0)}
	case "leg_bye":
		return event.Extras{LegByes: x}
	default:
		return event.Extras{Byes: x}
	}
}

func normBallType(t string) string {
	switch strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(t, "-", ""), "_", "")) {
	case "wide", "wides", "wd":
		return "wide"
	case "noball", "noballs", "nb":
		return "no_ball"
	case "legbye", "legbyes", "lb":
		return "leg_bye"
	case "bye", "byes", "b":
		return "bye"
	}
	return "normal"
}

func isLegal(ballType string) bool {
	t := normBallType(ballType)
	return t != "wide" && t != "no_ball"
}

// WicketKind maps a Roanuz wicket_type (v2 or v5 spelling) to Cricsheet's
// vocabulary ("caught", "run out", "hit wicket", ...).
func WicketKind(t string) string {
	k := strings.ToLower(strings.TrimSpace(t))
	switch strings.NewReplacer("_", "", " ", "", "-", "").Replace(k) {
	case "caught", "catch", "ct":
		return "caught"
	case "caughtandbowled", "caughtbowled", "c&b", "candb":
		return "caught and bowled"
	case "bowled":
		return "bowled"
	case "lbw", "legbeforewicket":
		return "lbw"
	case "runout", "run":
		return "run out"
	case "stumped", "stumbed", "stumping":
		return "stumped"
	case "hitwicket":
		return "hit wicket"
	case "retiredhurt":
		return "retired hurt"
	case "retiredout":
		return "retired out"
	case "retirednotout", "retired":
		return "retired not out"
	case "obstructingthefield", "obstructingfield", "obstructing":
		return "obstructing the field"
	case "handledtheball", "handledball":
		return "handled the ball"
	case "hittheballtwice", "hitballtwice":
		return "hit the ball twice"
	case "timedout":
		return "timed out"
	}
	return strings.ReplaceAll(k, "_", " ")
}

func otherSide(s string) string {
	switch s {
	case "a":
		return "b"
	case "b":
		return "a"
	}
	return ""
}

func (n *Normalizer) team(side string) string {
	if t := n.teams[side]; t != "" {
		return t
	}
	return side
}

func (n *Normalizer) name(key string) string {
	if nm := n.names[key]; nm != "" {
		return nm
	}
	return key
}

// learnNames records team and player names: players[k].player.name first,
// then live.recent_players, then the "<Bowler> to <Batter>:" pattern of ball
// comments for keys the document does not name.
func (n *Normalizer) learnNames(m *Match) {
	for side, t := range m.Teams {
		if t.Name != "" {
			n.teams[side] = t.Name
		}
	}
	for k, p := range m.Players {
		if nm := strings.TrimSpace(p.Player.Name); nm != "" {
			n.names[k] = nm
		} else if p.Player.Key != "" && n.names[k] == "" {
			n.names[k] = k
		}
	}
	if m.Play == nil {
		return
	}
	if l := m.Play.Live; l != nil {
		for _, v := range l.RecentPlayers {
			rp, _ := v.(map[string]any)
			k, _ := rp["key"].(string)
			nm, _ := rp["name"].(string)
			if k != "" && strings.TrimSpace(nm) != "" && n.names[k] == "" {
				n.names[k] = strings.TrimSpace(nm)
			}
		}
	}
	for _, b := range m.Play.RelatedBalls {
		head, _, ok := strings.Cut(b.Comment, ":")
		if !ok {
			continue
		}
		bowler, batter, ok := strings.Cut(head, " to ")
		if !ok {
			continue
		}
		if k := b.Bowler.PlayerKey; k != "" && n.names[k] == "" {
			n.names[k] = strings.TrimSpace(bowler)
		}
		if k := b.Batsman.PlayerKey; k != "" && n.names[k] == "" {
			n.names[k] = strings.TrimSpace(batter)
		}
		if len(b.Fielders) == 1 && n.names[b.Fielders[0].PlayerKey] == "" {
			if _, rest, ok := strings.Cut(b.Comment, "Caught by "); ok {
				if nm, _, ok := strings.Cut(rest, "."); ok && len(nm) < 60 {
					n.names[b.Fielders[0].PlayerKey] = strings.TrimSpace(nm)
				}
			}
		}
	}
}

// mapStatus maps status and play_status to an event state and a note.
func mapStatus(status, play string) (string, string) {
	s := strings.ToLower(strings.ReplaceAll(status, "_", ""))
	p := strings.ToLower(play)
	switch {
	case s == "cancelled" || s == "canceled" || s == "abandoned" || p == "abandoned" || p == "canceled" || p == "cancelled":
		return event.StateAbandoned, p
	case s == "completed" || p == "result":
		return event.StateCompleted, ""
	case s == "notstarted" || s == "scheduled" || s == "":
		if p == "" || p == "scheduled" || p == "pre_match" || s == "notstarted" || s == "scheduled" {
			if p != "in_play" {
				return event.StateScheduled, p
			}
		}
		return event.StateLive, ""
	}
	switch {
	case p == "" || p == "in_play":
		return event.StateLive, ""
	case strings.HasSuffix(p, "_break") || p == "stumps" || p == "strategic_timeout" || strings.Contains(p, "delay") ||
		p == "bad_light" || strings.Contains(p, "suspended") || p == "floodlight_failure" || p == "player_injured":
		return event.StateBreak, strings.ReplaceAll(p, "_", " ")
	}
	return event.StateLive, strings.ReplaceAll(p, "_", " ")
}

func (n *Normalizer) statusEvents(out []event.Event, m *Match, state, note string) []event.Event {
	info := n.info(m)
	sig := fmt.Sprintf("%v", *info)
	infoChanged := sig != n.infoSig
	if state == n.state && note == n.playStatus && !infoChanged {
		return out
	}
	if state == event.StateScheduled && (n.state == event.StateLive || n.state == event.StateBreak || n.state == event.StateCompleted) {
		return out // a stale document: never move back
	}
	if n.statusDone {
		return out
	}
	id := "status/" + state
	if c := n.stateSeen[state]; c > 0 {
		id += "/" + strconv.Itoa(c+1)
	}
	n.stateSeen[state]++
	n.state, n.playStatus = state, note
	ev := n.newEvent(id, event.KindStatus, time.Time{})
	ev.Status = &event.Status{State: state, Note: note}
	if infoChanged {
		n.infoSig = sig
		ev.Info = info
	}
	if state == event.StateCompleted || state == event.StateAbandoned {
		n.statusDone = true
		if m.Play != nil && m.Play.Result != nil {
			ev.Status.Result = m.Play.Result.Msg
			ev.Status.Winner = n.team(m.Play.Result.Winner)
		}
		if ev.Status.Winner == "" && m.Winner != nil {
			ev.Status.Winner = n.team(*m.Winner)
		}
	}
	return append(out, ev)
}

func (n *Normalizer) info(m *Match) *event.MatchInfo {
	in := &event.MatchInfo{Title: m.Title, Format: m.Format, BallsPerOver: n.bpo}
	if in.Title == "" {
		in.Title = m.Name
		if m.SubTitle != "" {
			in.Title += ", " + m.SubTitle
		}
	}
	for _, side := range []string{"a", "b"} {
		if _, ok := m.Teams[side]; ok {
			in.Teams = append(in.Teams, n.team(side))
		}
	}
	if m.Venue != nil {
		in.Venue = m.Venue.Name
	}
	if m.StartAt != nil {
		in.Start = unixTime(*m.StartAt)
	}
	if m.Play != nil && len(m.Play.OversPerInnings) > 0 {
		in.Overs = m.Play.OversPerInnings[0]
	}
	if t := m.Toss; t != nil && t.Winner != "" {
		in.TossWinner = n.team(t.Winner)
		in.TossDecision = t.Elected
		if t.Elected == "bowl" {
			in.TossDecision = "field"
		}
	}
	for side, sq := range m.Squad {
		if in.Players == nil {
			in.Players = map[string][]string{}
		}
		keys := sq.PlayingXI
		if len(keys) == 0 {
			keys = sq.PlayerKeys
		}
		for _, k := range keys {
			in.Players[n.team(side)] = append(in.Players[n.team(side)], n.name(k))
		}
	}
	return in
}

func (n *Normalizer) newEvent(id string, kind event.Kind, at time.Time) event.Event {
	return event.Event{ID: n.match + "/" + id, Match: n.match, Kind: kind, Time: at, Source: n.source}
}

func unixTime(f float64) time.Time {
	if f <= 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e12 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}
