package sportrix

import (
	"fmt"

	"github.com/ballcast/ballcast/core/event"
)

// socState is what a soccer match last emitted.
type socState struct {
	status     string // ID of the last status event
	home, away int
	info       bool
}

// soccer passes a soccer snapshot through as status and score events:
// a status event when the status (or the period of live play) changes,
// and a score event per side whose goal count changed, with ID
// "score/<home|away>/<goals>" so a re-sent snapshot repeats no event.
func (t *Tracker) soccer(s *Soccer) []event.Event {
	e := &emitter{match: t.match, at: frameTime(s.UpdatedAt)}
	id := "status/" + s.Status
	if s.Status == "live" && s.Clock.Period != "" {
		id += "/" + s.Clock.Period
	}
	if s.Status != "" && id != t.soc.status {
		st := &event.Status{State: soccerState(s.Status), Note: s.Phase.Label}
		var info *event.MatchInfo
		if !t.soc.info {
			info = &event.MatchInfo{Title: s.Home + " v " + s.Away, Teams: nonEmpty(s.Home, s.Away)}
			if s.Competition != "" {
				info.Title += ", " + s.Competition
			}
			t.soc.info = true
		}
		if st.State == event.StateCompleted {
			st.Result = fmt.Sprintf("%s %d-%d %s", s.Home, s.Score.Home, s.Score.Away, s.Away)
			switch {
			case s.Score.Home > s.Score.Away:
				st.Winner = s.Home
			case s.Score.Away > s.Score.Home:
				st.Winner = s.Away
			}
		}
		t.soc.status = id
		add := func() { e.add(id, event.KindStatus, func(ev *event.Event) { ev.Status, ev.Info = st, info }) }
		if st.State == event.StateCompleted { // the last goals come before the final whistle
			t.score(e, s)
			add()
			t.done = true
		} else {
			add()
			t.score(e, s)
		}
		return e.evs
	}
	t.score(e, s)
	return e.evs
}

func (t *Tracker) score(e *emitter, s *Soccer) {
	if s.Score.Home != t.soc.home {
		t.soc.home = s.Score.Home
		sc := &event.Score{Team: s.Home, Runs: s.Score.Home}
		e.add(fmt.Sprintf("score/home/%d", s.Score.Home), event.KindScore, func(ev *event.Event) { ev.Score = sc })
	}
	if s.Score.Away != t.soc.away {
		t.soc.away = s.Score.Away
		sc := &event.Score{Team: s.Away, Runs: s.Score.Away}
		e.add(fmt.Sprintf("score/away/%d", s.Score.Away), event.KindScore, func(ev *event.Event) { ev.Score = sc })
	}
}

func soccerState(s string) string {
	switch s {
	case "live":
		return event.StateLive
	case "ht":
		return event.StateBreak
	case "ft":
		return event.StateCompleted
	}
	return event.StateScheduled
}
