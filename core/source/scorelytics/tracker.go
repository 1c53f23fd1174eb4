package scorelytics

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// Tracker applies one match's REST snapshots and WebSocket deltas, in
// arrival order, and returns the ballcast events for what changed since
// it last emitted: a snapshot after a reconnect yields only what the
// deltas had not already delivered, and a re-sent or out-of-date delta
// yields nothing.
//
// Identity follows the provider-neutral convention of core/source/replay:
// "status/live", "innings/N/start", "<innings>.<over>.<ball>.<sub>",
// "over/N.O", "innings/N/end", "status/completed", all prefixed
// "<match>/". Score events carry the state they describe,
// "score/<innings>/<legal balls>/<runs>/<wickets>", so a re-sent state gets
// the same ID.
//
// A Tracker belongs to one goroutine.
type Tracker struct {
	match      string
	home, away string
	info       *event.MatchInfo
	innings    map[int]*inningsState
	cur        int // innings in progress; 0 before the first
	emitted    map[string]bool
	finished   bool
	detail     bool         // the feed carries deliveries, so a state without its ball is a gap
	declared   map[int]bool // innings the last snapshot marks declared
	started    bool         // a snapshot has been applied
}

type inningsState struct {
	num                     int
	team                    string
	super                   bool
	target                  *Target
	started, ended          bool
	n                       int // deliveries applied
	lastOver, lastBall, sub int
	lastBowler              string
	legal, runs, wickets    int
}

// NewTracker returns a tracker emitting events for ballcast match ID match.
func NewTracker(match string) *Tracker {
	return &Tracker{match: match, innings: map[int]*inningsState{}, emitted: map[string]bool{}}
}

// Finished reports whether the match's final status has been emitted.
func (t *Tracker) Finished() bool { return t.finished }

type emitter struct {
	t   *Tracker
	out []event.Event
}

func (e *emitter) add(id string, kind event.Kind, fill func(*event.Event)) {
	id = e.t.match + "/" + id
	if e.t.emitted[id] {
		return
	}
	e.t.emitted[id] = true
	ev := event.Event{ID: id, Match: e.t.match, Kind: kind, Source: "scorelytics"}
	fill(&ev)
	e.out = append(e.out, ev)
}

// ApplySnapshot takes a REST match document and returns the events it
// adds: the match going live (with its MatchInfo), deliveries the tracker
// has not applied yet (Cricket.Balls beyond those already applied, innings
// by innings), innings and overs that closed, the current score, and the
// final status.
func (t *Tracker) ApplySnapshot(s *Snapshot) []event.Event {
	e := &emitter{t: t}
	if t.finished {
		return nil
	}
	t.started = true
	t.learn(s)
	if s.StatusCode >= StatusLive {
		t.live(e)
	}
	if c := s.Cricket; c != nil {
		meta := map[int]Innings{}
		t.declared = map[int]bool{}
		for _, in := range c.Innings {
			meta[in.Number] = in
			t.declared[in.Number] = in.Declared
		}
		seen := map[int]int{}
		for i := range c.Balls {
			b := &c.Balls[i]
			k := seen[b.Innings]
			seen[b.Innings]++
			if st := t.innings[b.Innings]; st != nil && k < st.n {
				continue // applied from a delta or an earlier snapshot
			}
			m := meta[b.Innings]
			if m.Team == "" && b.Innings == s.Period {
				m.Team = t.side(c.Batting)
			}
			t.ball(e, b, m.Team, m.SuperOver, m.Target)
			t.score(e, t.innings[b.Innings])
		}
		if len(c.Balls) == 0 && !t.detail && s.Period > 0 {
			// A feed without deliveries: the totals are all there is.
			m := meta[s.Period]
			runs := s.HomeScore
			if c.Batting == "away" {
				runs = s.AwayScore
			}
			st := t.start(e, s.Period, t.side(c.Batting), m.SuperOver, m.Target)
			st.legal, st.runs, st.wickets = c.LegalBalls, runs, c.Wickets
		}
		if st := t.innings[t.cur]; st != nil {
			t.score(e, st)
		}
		for _, in := range c.Innings {
			if st := t.innings[in.Number]; in.Closed && st != nil && st.started {
				t.end(e, st)
			}
		}
	}
	switch s.StatusCode {
	case StatusFinished, StatusAbandoned:
		t.endAll(e, 1<<30)
		st := &event.Status{State: event.StateCompleted, Result: s.Result, Winner: s.Winner}
		if s.StatusCode == StatusAbandoned {
			st.State = event.StateAbandoned
		}
		e.add("status/completed", event.KindStatus, func(ev *event.Event) { ev.Status = st })
		t.finished = true
	}
	return e.out
}

// ApplyFrame takes a WebSocket message of this match and returns the
// events it adds. resync asks the caller to fetch the snapshot and apply
// it: the delta does not follow from the state applied so far (deltas
// were missed), it opens a new innings (whose predecessor's last balls
// may have been missed), or the match finished (the result is only in
// the snapshot).
func (t *Tracker) ApplyFrame(f Frame) (evs []event.Event, resync bool) {
	if t.finished {
		return nil, false
	}
	e := &emitter{t: t}
	switch {
	case f.Status != nil:
		switch f.Status.To {
		case StatusLive:
			t.live(e)
			if f.Status.From == StatusInterrupted {
				t.statusAt(e, "resumed", event.StateLive)
			}
		case StatusInterrupted:
			t.statusAt(e, "break", event.StateBreak)
		case StatusFinished, StatusAbandoned:
			return nil, true
		}
		return e.out, false
	case f.Score != nil:
		return t.applyScore(e, f.Score)
	}
	return nil, false
}

func (t *Tracker) applyScore(e *emitter, u *ScoreUpdate) ([]event.Event, bool) {
	if u.Period == 0 || u.Batting == "" {
		return nil, false // not a cricket score: nothing to map
	}
	cur := t.innings[t.cur]
	var legal, runs, wickets int
	if cur != nil {
		legal, runs, wickets = cur.legal, cur.runs, cur.wickets
	}
	switch {
	case u.Period < t.cur:
		return nil, false // an earlier innings: out of date
	case u.Period == t.cur && u.LegalBalls <= legal && u.Runs() <= runs && u.Wickets <= wickets:
		return nil, false // a state already applied, or an earlier one
	}
	if u.Ball == nil && !t.detail {
		st := t.start(e, u.Period, t.side(u.Batting), u.SuperOver, u.Target)
		st.legal, st.runs, st.wickets = u.LegalBalls, u.Runs(), u.Wickets
		t.score(e, st)
		return e.out, false
	}
	b := u.Ball
	if b == nil || u.Period != t.cur || cur == nil || cur.ended {
		return nil, true
	}
	l := 0
	if b.legal() {
		l = 1
	}
	if u.LegalBalls != legal+l || u.Runs() != runs+b.runs() || u.Wickets != wickets+b.teamWickets() ||
		cur.n > 0 && (b.Over < cur.lastOver || b.Over == cur.lastOver && b.Ball < cur.lastBall) {
		return nil, true
	}
	t.ball(e, b, cur.team, cur.super, cur.target)
	t.score(e, cur)
	return e.out, false
}

func (t *Tracker) learn(s *Snapshot) {
	t.home, t.away = s.HomeTeam, s.AwayTeam
	if t.info != nil {
		return
	}
	info := &event.MatchInfo{Teams: []string{s.HomeTeam, s.AwayTeam}, BallsPerOver: 6}
	info.Title = s.HomeTeam + " v " + s.AwayTeam
	if s.League != "" {
		info.Title += ", " + s.League
	}
	if ts, err := time.Parse(time.RFC3339, s.StartTime); err == nil {
		info.Start = ts
	}
	if c := s.Cricket; c != nil {
		info.Format, info.Overs, info.Venue = c.Format, c.OversLimit, c.Venue
		info.TossWinner, info.TossDecision = c.TossWinner, c.TossDecision
		if c.BallsPerOver > 0 {
			info.BallsPerOver = c.BallsPerOver
		}
	}
	t.info = info
}

func (t *Tracker) side(s string) string {
	if s == "away" {
		return t.away
	}
	return t.home
}

func (t *Tracker) live(e *emitter) {
	info := t.info
	e.add("status/live", event.KindStatus, func(ev *event.Event) {
		ev.Info = info
		ev.Status = &event.Status{State: event.StateLive}
	})
}

func (t *Tracker) statusAt(e *emitter, what, state string) {
	var legal int
	if st := t.innings[t.cur]; st != nil {
		legal = st.legal
	}
	e.add(fmt.Sprintf("status/%s/%d.%d", what, t.cur, legal), event.KindStatus, func(ev *event.Event) {
		ev.Status = &event.Status{State: state}
	})
}

// start returns innings num, starting it (and ending every earlier one) if
// it had not started.
func (t *Tracker) start(e *emitter, num int, team string, super bool, target *Target) *inningsState {
	st := t.innings[num]
	if st == nil {
		st = &inningsState{num: num}
		t.innings[num] = st
	}
	if st.team == "" {
		st.team = team
	}
	st.super = st.super || super
	if st.target == nil {
		st.target = target
	}
	if st.started {
		return st
	}
	t.endAll(e, num)
	st.started = true
	t.cur = max(t.cur, num)
	in := &event.Innings{Number: num, Team: st.team, SuperOver: st.super}
	if st.target != nil {
		in.Target = &event.Target{Runs: st.target.Runs, Overs: st.target.Overs}
	}
	e.add(fmt.Sprintf("innings/%d/start", num), event.KindInnings, func(ev *event.Event) { ev.Innings = in })
	return st
}

// endAll ends every started innings numbered below before.
func (t *Tracker) endAll(e *emitter, before int) {
	for _, n := range slices.Sorted(maps.Keys(t.innings)) {
		if st := t.innings[n]; n < before && st.started {
			t.end(e, st)
		}
	}
}

func (t *Tracker) end(e *emitter, st *inningsState) {
	if st.ended {
		return
	}
	if st.n > 0 {
		t.over(e, st)
	}
	st.ended = true
	in := &event.Innings{Number: st.num, Team: st.team, SuperOver: st.super, End: true, Declared: t.declared[st.num]}
	e.add(fmt.Sprintf("innings/%d/end", st.num), event.KindInnings, func(ev *event.Event) { ev.Innings = in })
}

// over ends st's current over.
func (t *Tracker) over(e *emitter, st *inningsState) {
	o := &event.Over{Innings: st.num, Number: st.lastOver, Bowler: st.lastBowler}
	e.add(fmt.Sprintf("over/%d.%d", st.num, st.lastOver), event.KindOver, func(ev *event.Event) { ev.Over = o })
}

func (t *Tracker) ball(e *emitter, b *Ball, team string, super bool, target *Target) {
	st := t.start(e, b.Innings, team, super, target)
	if st.n > 0 && b.Over != st.lastOver {
		t.over(e, st)
	}
	sub := 0
	if st.n > 0 && b.Over == st.lastOver && b.Ball == st.lastBall {
		sub = st.sub + 1
	}
	bowling := t.home
	if st.team == t.home {
		bowling = t.away
	}
	eb := &event.Ball{
		Innings: b.Innings, SuperOver: st.super, BattingTeam: st.team, BowlingTeam: bowling,
		Over: b.Over, Ball: b.Ball, Sub: sub, Legal: b.legal(),
		Batter: b.Batter, NonStriker: b.NonStriker, Bowler: b.Bowler,
		RunsBat: b.RunsBatter, NonBoundary: b.NonBoundary,
		Extras: event.Extras{Wides: b.Extras.Wides, NoBalls: b.Extras.NoBalls, Byes: b.Extras.Byes, LegByes: b.Extras.LegByes, Penalty: b.Extras.Penalty},
	}
	for _, w := range b.Wickets {
		eb.Wickets = append(eb.Wickets, event.Wicket{Kind: w.Kind, PlayerOut: w.PlayerOut, Fielders: w.Fielders})
	}
	st.n++
	st.lastOver, st.lastBall, st.sub, st.lastBowler = b.Over, b.Ball, sub, b.Bowler
	if b.legal() {
		st.legal++
	}
	st.runs += b.runs()
	st.wickets += b.teamWickets()
	t.detail = true
	e.add(eb.Key(), event.KindBall, func(ev *event.Event) { ev.Ball = eb })
}

func (t *Tracker) score(e *emitter, st *inningsState) {
	sc := &event.Score{Innings: st.num, Team: st.team, Runs: st.runs, Wickets: st.wickets, Balls: st.legal}
	e.add(fmt.Sprintf("score/%d/%d/%d/%d", st.num, st.legal, st.runs, st.wickets), event.KindScore, func(ev *event.Event) { ev.Score = sc })
}
