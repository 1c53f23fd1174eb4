package sportrix

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// Tracker turns one match's successive snapshots (snapshot and update
// frames alike: both are full state) into the events that happened since
// the last state it emitted. Feeding it a repeated, stale or re-sent
// snapshot emits nothing, so a reconnect's fresh snapshot simply becomes
// the new base. Event IDs follow the provider-neutral convention of the
// replay source ("<match>/<innings>.<over>.<ball>.<sub>", "innings/N/start",
// "over/N.O", "status/live", ...), so two providers of one match merge.
//
// A Tracker is not safe for concurrent use.
type Tracker struct {
	match string
	sport string

	prev    *Cricket
	live    bool // status/live emitted
	done    bool // status/completed emitted
	started int  // highest innings whose start was emitted
	ended   int  // highest innings whose end was emitted
	cur     cursor
	legal   int // legal balls emitted in the cursor's innings
	gaps    int

	soc socState
}

// cursor is the last delivery emitted: n tokens of over (0-based) of
// innings; over -1 before the first. open: its over end is not yet emitted.
type cursor struct {
	innings, over, n int
	bowler           string
	open             bool
}

// NewTracker returns a tracker whose events carry match as their match ID.
func NewTracker(match string) *Tracker {
	return &Tracker{match: match, cur: cursor{over: -1}}
}

// Gaps is the number of legal deliveries known to have happened that no
// snapshot let the tracker recover (missed while disconnected, beyond the
// over tickers a snapshot carries).
func (t *Tracker) Gaps() int { return t.gaps }

// Apply folds one snapshot or update frame into the tracker and returns the
// events it adds, in the order they happened. A frame that cannot be
// decoded changes nothing and returns an error.
func (t *Tracker) Apply(f Frame) ([]event.Event, error) {
	if t.sport != "" && f.Sport != t.sport {
		return nil, fmt.Errorf("sportrix: match %s: sport changed from %s to %s", t.match, t.sport, f.Sport)
	}
	switch f.Sport {
	case SportCricket:
		var c Cricket
		if err := json.Unmarshal(f.Data, &c); err != nil {
			return nil, fmt.Errorf("%w: cricket snapshot of match %d: %v", ErrFrame, f.MatchID, err)
		}
		evs, err := t.cricket(&c)
		if err != nil {
			return nil, err
		}
		t.sport = f.Sport
		return evs, nil
	case SportSoccer:
		var s Soccer
		if err := json.Unmarshal(f.Data, &s); err != nil {
			return nil, fmt.Errorf("%w: soccer snapshot of match %d: %v", ErrFrame, f.MatchID, err)
		}
		t.sport = f.Sport
		return t.soccer(&s), nil
	}
	return nil, fmt.Errorf("sportrix: match %d: unsupported sport %q", f.MatchID, f.Sport)
}

// emitter collects events with the tracker's match and the frame's time.
type emitter struct {
	match string
	at    time.Time
	evs   []event.Event
}

func (e *emitter) add(id string, kind event.Kind, fill func(*event.Event)) {
	ev := event.Event{ID: e.match + "/" + id, Match: e.match, Kind: kind, Time: e.at, Source: "sportrix"}
	fill(&ev)
	e.evs = append(e.evs, ev)
}

func frameTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// fresh is a delivery a snapshot shows that was not yet emitted.
type fresh struct {
	over *OverTicker
	idx  int
	tok  Token
}

// Bounds a snapshot must respect; beyond them it is malformed (they also
// bound the work one frame can cause).
const (
	maxInnings      = 20
	maxOvers        = 1000
	maxTickerLength = 100
)

func checkCricket(c *Cricket) error {
	if c.Innings < 0 || c.Innings > maxInnings || len(c.Scorecard) > maxInnings {
		return fmt.Errorf("%w: match %d: innings %d of %d: want at most %d", ErrFrame, c.MatchID, c.Innings, len(c.Scorecard), maxInnings)
	}
	for _, o := range []*OverTicker{c.PrevOver, c.Over} {
		if o != nil && (o.Number < 0 || o.Number >= maxOvers || len(o.Balls) > maxTickerLength || o.Innings < 0 || o.Innings > maxInnings) {
			return fmt.Errorf("%w: match %d: over ticker %d with %d balls out of bounds", ErrFrame, c.MatchID, o.Number, len(o.Balls))
		}
	}
	for _, ov := range append([]Overs{c.Score.Overs}, func() []Overs {
		var out []Overs
		for _, card := range c.Scorecard {
			out = append(out, card.Overs)
		}
		return out
	}()...) {
		if ov.Overs >= maxOvers || ov.Balls > maxTickerLength {
			return fmt.Errorf("%w: match %d: overs %s out of bounds", ErrFrame, c.MatchID, ov)
		}
	}
	return nil
}

func (t *Tracker) cricket(c *Cricket) ([]event.Event, error) {
	if err := checkCricket(c); err != nil {
		return nil, err
	}
	// Parse every ticker first: a malformed token rejects the whole frame
	// before any state changes.
	toks := map[*OverTicker][]Token{}
	for _, o := range []*OverTicker{c.PrevOver, c.Over} {
		if o == nil {
			continue
		}
		ts := make([]Token, len(o.Balls))
		for i, s := range o.Balls {
			tok, err := ParseToken(s)
			if err != nil {
				return nil, fmt.Errorf("%w: match %d over %d: %v", ErrFrame, c.MatchID, o.Number, err)
			}
			ts[i] = tok
		}
		toks[o] = ts
	}
	e := &emitter{match: t.match, at: frameTime(c.UpdatedAt)}
	final := c.Status == "completed" || c.Status == "abandoned"
	cur := c.Innings
	if cur == 0 {
		cur = len(c.Scorecard)
	}
	if !t.live && (c.Status != "not_started" || cur > 0) {
		info := &event.MatchInfo{Teams: nonEmpty(c.Home, c.Away), Format: c.Format, Venue: c.Venue, BallsPerOver: 6}
		info.Title = c.Home + " v " + c.Away
		if c.Competition != "" {
			info.Title += ", " + c.Competition
		}
		e.add("status/live", event.KindStatus, func(ev *event.Event) {
			ev.Info = info
			ev.Status = &event.Status{State: event.StateLive}
		})
		t.live = true
	}
	for n := max(t.ended+1, 1); n <= cur; n++ {
		card := cardOf(c, n)
		if n > t.started {
			t.endOver(e)
			in := &event.Innings{Number: n}
			if card != nil {
				in.Team, in.SuperOver = card.Team, card.SuperOver
			}
			if n == cur {
				if in.Team == "" {
					in.Team = c.Batting
				}
				if c.Target != nil {
					in.Target = &event.Target{Runs: c.Target.Runs, Overs: c.Target.Overs}
				}
			}
			e.add(fmt.Sprintf("innings/%d/start", n), event.KindInnings, func(ev *event.Event) { ev.Innings = in })
			t.started = n
			t.cur, t.legal = cursor{innings: n, over: -1}, 0
		}
		if n == t.cur.innings {
			t.deliveries(e, c, n, card, knownOvers(c, n, cur), toks)
		}
		if n < cur || final || card != nil && card.Closed {
			if n == t.cur.innings {
				t.endOver(e)
				if card != nil && card.Overs.LegalBalls(6) > t.legal {
					// Deliveries after the cursor that no snapshot showed:
					// their overs still ended.
					total := card.Overs.LegalBalls(6)
					t.countGap(total)
					for o := t.cur.over + 1; o <= (total-1)/6; o++ {
						t.overEnd(e, n, o, "")
					}
				}
			}
			end := &event.Innings{Number: n, End: true}
			if card != nil {
				end.Team, end.SuperOver, end.Declared = card.Team, card.SuperOver, card.Declared
			}
			e.add(fmt.Sprintf("innings/%d/end", n), event.KindInnings, func(ev *event.Event) { ev.Innings = end })
			t.ended = n
		}
	}
	if final && !t.done {
		st := &event.Status{State: event.StateCompleted, Result: c.Result, Winner: c.Winner}
		if c.Status == "abandoned" {
			st.State = event.StateAbandoned
		}
		e.add("status/completed", event.KindStatus, func(ev *event.Event) { ev.Status = st })
		t.done = true
	}
	t.prev = c
	return e.evs, nil
}

// knownOvers are the over tickers c shows for innings n (cur is c's
// current innings), oldest first.
func knownOvers(c *Cricket, n, cur int) []*OverTicker {
	of := func(o *OverTicker) bool { return o != nil && (o.Innings == n || o.Innings == 0 && n == cur) }
	var out []*OverTicker
	if of(c.PrevOver) {
		out = append(out, c.PrevOver)
	}
	if of(c.Over) {
		if len(out) == 1 && out[0].Number >= c.Over.Number {
			out = out[:0] // out of order: trust the latest
		}
		out = append(out, c.Over)
	}
	return out
}

// deliveries emits the deliveries of c's current innings after the cursor.
func (t *Tracker) deliveries(e *emitter, c *Cricket, n int, card *InningsCard, tickers []*OverTicker, toks map[*OverTicker][]Token) {
	batting, bowling := c.Batting, c.Bowling
	if n != prevInnings(c) && card != nil {
		batting, bowling = card.Team, other([]string{c.Home, c.Away}, card.Team)
	}
	var (
		news []fresh
		lost bool // deliveries between the cursor and news are unknown
	)
	for _, o := range tickers {
		if o.Number < t.cur.over {
			continue
		}
		start := 0
		if o.Number == t.cur.over {
			start = t.cur.n
		} else if len(news) == 0 {
			lost = lost || t.skipped(o.Number, tickers)
		}
		for i := start; i < len(o.Balls); i++ {
			news = append(news, fresh{over: o, idx: i, tok: toks[o][i]})
		}
	}
	if len(news) == 0 {
		return
	}
	prev := t.prev
	if prev != nil && prevInnings(prev) != t.cur.innings {
		prev = nil
	}
	single := len(news) == 1 && !lost && prev != nil
	outs := newlyOut(cardOf(prev, t.cur.innings), card)
	wTokens := 0
	for _, f := range news {
		if f.tok.Wicket {
			wTokens++
		}
	}
	var s, ns string
	if prev != nil && !lost {
		s, ns = strikerOf(prev)
	}
	legalNow := c.Score.Overs.LegalBalls(6)
	if n != prevInnings(c) && card != nil {
		legalNow = card.Overs.LegalBalls(6)
	}
	assigned := assignOuts(news, outs, single || wTokens == 1 && !lost, lost, card, legalNow)
	for k, f := range news {
		if f.over.Number != t.cur.over {
			t.endOver(e)
			for o := t.cur.over + 1; o < f.over.Number; o++ {
				t.overEnd(e, t.cur.innings, o, "")
			}
			t.cur.over, t.cur.n = f.over.Number, 0
		}
		pos, sub := position(toks[f.over][:f.idx+1])
		b := &event.Ball{
			Innings: t.cur.innings, BattingTeam: batting, BowlingTeam: bowling,
			Over: f.over.Number, Ball: pos, Sub: sub, Legal: f.tok.Legal(),
			Bowler: f.over.Bowler, Batter: s, NonStriker: ns,
		}
		if card != nil {
			b.SuperOver = card.SuperOver
			if b.BattingTeam == "" {
				b.BattingTeam = card.Team
			}
		}
		b.RunsBat, b.Extras = splitOf(f.tok)
		if single {
			t.refine(b, f.tok, prev, c, card)
		}
		for _, o := range assigned[k] {
			b.Wickets = append(b.Wickets, event.Wicket{Kind: o.Out, PlayerOut: o.Name, Fielders: o.Fielders})
		}
		if !single {
			s, ns = rotate(b, s, ns, c, k+1 < len(news) && news[k+1].over != f.over || k+1 == len(news) && t.overDone(toks[f.over]) && f.idx == len(f.over.Balls)-1)
		}
		e.add(b.Key(), event.KindBall, func(ev *event.Event) { ev.Ball = b })
		t.cur.n = f.idx + 1
		t.cur.bowler = f.over.Bowler
		t.cur.open = true
		if b.Legal {
			t.legal++
		}
	}
	if lost && n == prevInnings(c) {
		t.countGap(c.Score.Overs.LegalBalls(6))
	}
}

// assignOuts gives the newly out batters to the deliveries with a wicket
// token: all of them to the one such delivery when there is one (or when
// the state before the delivery is known); else each team wicket to the
// delivery after which the innings had bowled as many legal balls as its
// fall of wicket records (counted back from legal, the innings' legal
// balls now), and the rest (retirements, and when nothing was lost any
// wicket that matched no delivery) to the remaining wicket deliveries,
// latest first. When deliveries were lost, a team wicket that matches
// none fell on one of them. A dismissal no longer visible (a retired
// batter back at the crease) cannot be recovered.
func assignOuts(news []fresh, outs []BatterCard, together, lost bool, card *InningsCard, legal int) map[int][]BatterCard {
	got := map[int][]BatterCard{}
	if len(outs) == 0 {
		return got
	}
	var ws []int // indexes of wicket deliveries
	for k, f := range news {
		if f.tok.Wicket {
			ws = append(ws, k)
		}
	}
	if len(ws) == 0 {
		return got
	}
	if together {
		got[ws[0]] = outs
		return got
	}
	after := make([]int, len(news)) // legal balls bowled after each delivery
	for k := len(news) - 1; k >= 0; k-- {
		after[k] = legal
		if news[k].tok.Legal() {
			legal--
		}
	}
	var rest []BatterCard
	for _, o := range outs {
		k, fell := -1, false
		if card != nil {
			for _, f := range card.FallOfWickets {
				if f.Player != o.Name {
					continue
				}
				fell = true
				for _, w := range ws {
					if after[w] == f.Overs.LegalBalls(6) && len(got[w]) == 0 {
						k = w
						break
					}
				}
			}
		}
		if k < 0 {
			if !fell || !lost {
				rest = append(rest, o)
			}
			continue
		}
		got[k] = append(got[k], o)
	}
	for i := len(ws) - 1; i >= 0 && len(rest) > 0; i-- {
		if len(got[ws[i]]) == 0 {
			got[ws[i]] = []BatterCard{rest[len(rest)-1]}
			rest = rest[:len(rest)-1]
		}
	}
	return got
}

// skipped reports whether moving the cursor to over may skip deliveries:
// the cursor's over is not among the tickers and did not look complete,
// or whole overs lie between.
func (t *Tracker) skipped(over int, tickers []*OverTicker) bool {
	if over > t.cur.over+1 {
		return true
	}
	if t.cur.over < 0 {
		return false
	}
	for _, o := range tickers {
		if o.Number == t.cur.over {
			return false
		}
	}
	if t.prev != nil && t.prev.Over != nil && t.prev.Over.Number == t.cur.over && t.cur.n == len(t.prev.Over.Balls) {
		ts := make([]Token, 0, len(t.prev.Over.Balls))
		for _, s := range t.prev.Over.Balls {
			tok, _ := ParseToken(s)
			ts = append(ts, tok)
		}
		return !t.overDone(ts)
	}
	return true
}

// overDone reports whether an over's tokens hold six legal balls.
func (t *Tracker) overDone(ts []Token) bool {
	legal := 0
	for _, tok := range ts {
		if tok.Legal() {
			legal++
		}
	}
	return legal >= 6
}

// refine fills what the token cannot say from the difference between prev
// (the state right before the delivery) and c (right after).
func (t *Tracker) refine(b *event.Ball, tok Token, prev, c *Cricket, card *InningsCard) {
	if c.Bowler != nil && c.Bowler.Name != "" && (c.Over == nil || c.Over.Bowler == "") {
		b.Bowler = c.Bowler.Name
	}
	pc := cardOf(prev, b.Innings)
	if pc != nil && card != nil {
		d := Extras{card.Extras.Wides - pc.Extras.Wides, card.Extras.NoBalls - pc.Extras.NoBalls,
			card.Extras.Byes - pc.Extras.Byes, card.Extras.LegByes - pc.Extras.LegByes, card.Extras.Penalty - pc.Extras.Penalty}
		total := d.Wides + d.NoBalls + d.Byes + d.LegByes + d.Penalty
		if d.Wides >= 0 && d.NoBalls >= 0 && d.Byes >= 0 && d.LegByes >= 0 && d.Penalty >= 0 && total <= tok.Runs {
			b.Extras = event.Extras{Wides: d.Wides, NoBalls: d.NoBalls, Byes: d.Byes, LegByes: d.LegByes, Penalty: d.Penalty}
			b.RunsBat = tok.Runs - total
		}
		if b.RunsBat == 4 || b.RunsBat == 6 {
			before, after := batterCard(pc, b.Batter), batterCard(card, b.Batter)
			if before != nil && after != nil {
				hit := after.Fours > before.Fours
				if b.RunsBat == 6 {
					hit = after.Sixes > before.Sixes
				}
				b.NonBoundary = !hit
			}
		}
	}
}

// rotate returns who is on strike and who is not after b, as far as runs,
// wickets and the end of the over tell (a heuristic for deliveries
// recovered from a ticker without the state before them).
func rotate(b *event.Ball, s, ns string, c *Cricket, overEnds bool) (string, string) {
	if s == "" {
		return "", ""
	}
	run := b.RunsBat + b.Extras.Byes + b.Extras.LegByes + max(0, b.Extras.Wides-1)
	if b.RunsBat == 4 || b.RunsBat == 6 {
		run -= b.RunsBat
	}
	if run%2 == 1 {
		s, ns = ns, s
	}
	for _, w := range b.Wickets {
		in := ""
		for _, bm := range c.Batsmen {
			if bm.Name != s && bm.Name != ns && bm.Name != w.PlayerOut {
				in = bm.Name
				break
			}
		}
		switch w.PlayerOut {
		case s:
			s = in
		case ns:
			ns = in
		}
	}
	if overEnds {
		s, ns = ns, s
	}
	return s, ns
}

func (t *Tracker) endOver(e *emitter) {
	if t.cur.open {
		t.overEnd(e, t.cur.innings, t.cur.over, t.cur.bowler)
		t.cur.open = false
	}
}

func (t *Tracker) overEnd(e *emitter, innings, over int, bowler string) {
	o := &event.Over{Innings: innings, Number: over, Bowler: bowler}
	e.add(fmt.Sprintf("over/%d.%d", innings, over), event.KindOver, func(ev *event.Event) { ev.Over = o })
	if over > t.cur.over {
		t.cur.over, t.cur.n = over, 0
	}
}

// countGap records legal deliveries of the cursor's innings that total
// says happened beyond those emitted.
func (t *Tracker) countGap(total int) {
	if total > t.legal {
		t.gaps += total - t.legal
		t.legal = total
	}
}

// position replays the replay source's numbering over an over's tokens
// up to and including the delivery: Ball is the 1-based legal-ball
// position it counts toward, Sub numbers deliveries sharing it.
func position(ts []Token) (pos, sub int) {
	legal := 0
	for _, tok := range ts {
		if legal+1 != pos {
			pos, sub = legal+1, 0
		} else {
			sub++
		}
		if tok.Legal() {
			legal++
		}
	}
	return pos, sub
}

func splitOf(tok Token) (int, event.Extras) {
	bat, ex := tok.Split()
	return bat, event.Extras{Wides: ex.Wides, NoBalls: ex.NoBalls, Byes: ex.Byes, LegByes: ex.LegByes, Penalty: ex.Penalty}
}

// newlyOut are the batters out in after but not (or differently) in
// before, in fall-of-wicket order, retirements last.
func newlyOut(before, after *InningsCard) []BatterCard {
	if after == nil {
		return nil
	}
	var outs []BatterCard
	for _, bc := range after.Batting {
		if bc.Out == "" {
			continue
		}
		if p := batterCard(before, bc.Name); p != nil && p.Out == bc.Out {
			continue
		}
		outs = append(outs, bc)
	}
	rank := func(name string) int {
		for i, f := range after.FallOfWickets {
			if f.Player == name {
				return i
			}
		}
		return len(after.FallOfWickets)
	}
	for i := 1; i < len(outs); i++ { // stable insertion sort by rank
		for j := i; j > 0 && rank(outs[j].Name) < rank(outs[j-1].Name); j-- {
			outs[j], outs[j-1] = outs[j-1], outs[j]
		}
	}
	return outs
}

func batterCard(card *InningsCard, name string) *BatterCard {
	if card == nil {
		return nil
	}
	for i := range card.Batting {
		if card.Batting[i].Name == name {
			return &card.Batting[i]
		}
	}
	return nil
}

func cardOf(c *Cricket, n int) *InningsCard {
	if c == nil {
		return nil
	}
	for i := range c.Scorecard {
		if c.Scorecard[i].Innings == n {
			return &c.Scorecard[i]
		}
	}
	if n >= 1 && n <= len(c.Scorecard) && c.Scorecard[n-1].Innings == 0 {
		return &c.Scorecard[n-1]
	}
	return nil
}

func prevInnings(c *Cricket) int {
	if c.Innings > 0 {
		return c.Innings
	}
	return len(c.Scorecard)
}

// strikerOf returns the batsmen of c for the next delivery: the one
// flagged striker first.
func strikerOf(c *Cricket) (s, ns string) {
	for _, b := range c.Batsmen {
		if b.Striker && s == "" {
			s = b.Name
		} else if ns == "" {
			ns = b.Name
		}
	}
	if s == "" {
		s, ns = ns, ""
	}
	return s, ns
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
