package sportsgameodds

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/ballcast/ballcast/core/event"
)

// inningsPeriod matches a cricket innings period ID: "1i", "2i", ... [INF:
// SportsGameOdds publishes no cricket period IDs; this follows its "1h"/"1q"
// pattern for halves and quarters].
var inningsPeriod = regexp.MustCompile(`^([1-9][0-9]?)i$`)

// State returns the state an event's status is in, one of the
// event.State constants.
func State(s Status) string {
	switch {
	case s.Cancelled:
		return event.StateAbandoned
	case s.Ended || s.Completed || s.Finalized:
		return event.StateCompleted
	case s.Started || s.Live:
		return event.StateLive
	}
	return event.StateScheduled
}

// Implied returns the ballcast events that ev's current state implies, in
// the order they happened, each with an ID derived from the state it
// describes ("<match>/status/live", "<match>/innings/1/start",
// "<match>/score/1/<balls>/<runs>-<wickets>", ...). A source emits the ones
// it has not emitted before: re-reading the same state yields nothing new,
// and a newer state yields only its changes. The first status event
// carries the match info. Source and Received are left to the caller.
func Implied(match string, ev *Event) []event.Event {
	var out []event.Event
	add := func(id string, kind event.Kind, fill func(*event.Event)) {
		e := event.Event{ID: match + "/" + id, Match: match, Kind: kind, Time: ev.Status.StartsAt}
		fill(&e)
		out = append(out, e)
	}
	info := matchInfo(ev)
	state := State(ev.Status)
	note := ""
	if ev.Status.Delayed {
		note = "delayed"
	}
	status := func(st string) {
		add("status/"+st, event.KindStatus, func(e *event.Event) {
			e.Status = &event.Status{State: st, Note: note}
			if len(out) == 0 {
				e.Info = info
			}
		})
	}
	switch state {
	case event.StateScheduled:
		status(event.StateScheduled)
		return out
	case event.StateLive, event.StateCompleted:
		status(event.StateLive)
	}
	if note != "" && state == event.StateLive {
		// A delay is a break in play; the first one of a match is
		// reported (its ID carries no time, so a second delay dedups).
		add("status/delayed", event.KindStatus, func(e *event.Event) {
			e.Status = &event.Status{State: event.StateBreak, Note: note}
		})
	}
	started, ended := set(ev.Status.Periods.Started), set(ev.Status.Periods.Ended)
	innings := inningsOf(ev)
	if len(innings) > 0 {
		for _, in := range innings {
			team := teamIn(ev, in.period)
			if started[in.period] || in.hasScore {
				add(fmt.Sprintf("innings/%d/start", in.n), event.KindInnings, func(e *event.Event) {
					e.Innings = &event.Innings{Number: in.n, Team: team}
				})
			}
			if sc, ok := inningsScore(ev, in.period); ok {
				sc.Innings, sc.Team = in.n, team
				add(fmt.Sprintf("score/%d/%d/%d-%d", in.n, sc.Balls, sc.Runs, sc.Wickets), event.KindScore, func(e *event.Event) { e.Score = &sc })
			}
			if ended[in.period] {
				add(fmt.Sprintf("innings/%d/end", in.n), event.KindInnings, func(e *event.Event) {
					e.Innings = &event.Innings{Number: in.n, Team: team, End: true}
				})
			}
		}
	} else {
		// Not cricket, or no innings periods: the teams' scores.
		for _, side := range []struct {
			key  string
			team Team
		}{{"home", ev.Teams.Home}, {"away", ev.Teams.Away}} {
			if side.team.Score == nil {
				continue
			}
			runs := int(*side.team.Score)
			add(fmt.Sprintf("score/%s/%d", side.key, runs), event.KindScore, func(e *event.Event) {
				e.Score = &event.Score{Team: side.team.Name(), Runs: runs}
			})
		}
	}
	if state == event.StateAbandoned || state == event.StateCompleted {
		add("status/"+state, event.KindStatus, func(e *event.Event) {
			e.Status = &event.Status{State: state, Result: result(ev), Winner: winner(ev), Note: note}
		})
	}
	return out
}

type inningsRef struct {
	n        int
	period   string
	hasScore bool
}

// inningsOf lists the innings periods named in the status or results, in
// innings order.
func inningsOf(ev *Event) []inningsRef {
	seen := map[string]*inningsRef{}
	note := func(p string, scored bool) {
		m := inningsPeriod.FindStringSubmatch(p)
		if m == nil {
			return
		}
		r := seen[p]
		if r == nil {
			n, _ := strconv.Atoi(m[1])
			r = &inningsRef{n: n, period: p}
			seen[p] = r
		}
		r.hasScore = r.hasScore || scored
	}
	for _, p := range ev.Status.Periods.Started {
		note(p, false)
	}
	for _, p := range ev.Status.Periods.Ended {
		note(p, false)
	}
	for p := range ev.Results {
		note(p, true)
	}
	out := make([]inningsRef, 0, len(seen))
	for _, r := range seen {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	return out
}

// battingEntity is the side with batting results ("points") in period.
func battingEntity(ev *Event, period string) string {
	for _, side := range []string{"home", "away"} {
		if _, ok := ev.Results[period][side]["points"]; ok {
			return side
		}
	}
	return ""
}

func teamIn(ev *Event, period string) string {
	switch battingEntity(ev, period) {
	case "home":
		return ev.Teams.Home.Name()
	case "away":
		return ev.Teams.Away.Name()
	}
	return ""
}

// inningsScore reads the batting side's points (runs), wickets and balls
// for an innings period.
func inningsScore(ev *Event, period string) (event.Score, bool) {
	side := battingEntity(ev, period)
	if side == "" {
		return event.Score{}, false
	}
	st := ev.Results[period][side]
	return event.Score{Runs: int(st["points"]), Wickets: int(st["wickets"]), Balls: int(st["balls"])}, true
}

func result(ev *Event) string {
	if ev.Status.DisplayLong != "" {
		return ev.Status.DisplayLong
	}
	return ev.Status.DisplayShort
}

// winner is the side with the higher score once the event is completed.
func winner(ev *Event) string {
	h, a := ev.Teams.Home.Score, ev.Teams.Away.Score
	if h == nil || a == nil || ev.Status.Cancelled {
		return ""
	}
	switch {
	case *h > *a:
		return ev.Teams.Home.Name()
	case *a > *h:
		return ev.Teams.Away.Name()
	}
	return ""
}

func matchInfo(ev *Event) *event.MatchInfo {
	teams := []string{ev.Teams.Home.Name(), ev.Teams.Away.Name()}
	mi := &event.MatchInfo{Title: teams[0] + " v " + teams[1], Teams: teams, Start: ev.Status.StartsAt, BallsPerOver: 6}
	if ev.LeagueID != "" {
		mi.Title += ", " + ev.LeagueID
	}
	if ev.Info != nil && ev.Info.Venue != nil {
		mi.Venue = ev.Info.Venue.Name
	}
	return mi
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
