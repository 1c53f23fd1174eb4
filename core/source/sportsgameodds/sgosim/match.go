package sgosim

import (
	"fmt"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
	sgo "github.com/ballcast/ballcast/core/source/sportsgameodds"
)

// match replays one Cricsheet match as the successive states of a
// SportsGameOdds Event.
type match struct {
	id     string
	league string
	steps  []event.Event // the replay events that change the state (overs do not)
	idx    int           // steps applied; 0 = scheduled
	doc    sgo.Event     // state after idx steps

	home, away string
	innings    []inn
	missed     bool // the notification of the current state reached nobody
	fetchedIdx int  // the newest step served by GET /v2/events; -1 none
}

type inn struct {
	n                 int
	side              string // "home" or "away"
	runs, wkts, balls int
	started, ended    bool
	period            string
}

func newMatch(id, league string, evs []event.Event) (*match, error) {
	m := &match{id: id, league: league, fetchedIdx: -1}
	for _, ev := range evs {
		if ev.Info != nil && m.home == "" && len(ev.Info.Teams) == 2 {
			m.home, m.away = ev.Info.Teams[0], ev.Info.Teams[1]
			m.doc = scheduled(id, league, ev.Info)
		}
		if ev.Kind != event.KindOver {
			m.steps = append(m.steps, ev)
		}
	}
	if m.home == "" {
		return nil, fmt.Errorf("sgosim: match %s: no status event with two teams", id)
	}
	return m, nil
}

func scheduled(id, league string, info *event.MatchInfo) sgo.Event {
	doc := sgo.Event{EventID: id, SportID: "CRICKET", LeagueID: league, Type: "match"}
	doc.Status.StartsAt = info.Start
	if info.Start.IsZero() {
		doc.Status.StartsAt = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	doc.Status.DisplayShort, doc.Status.DisplayLong = "Scheduled", "Scheduled"
	doc.Status.Periods.Started, doc.Status.Periods.Ended = []string{}, []string{}
	if info.Venue != "" {
		doc.Info = &sgo.Info{}
		doc.Info.Venue = &struct {
			Name string `json:"name,omitempty"`
			City string `json:"city,omitempty"`
		}{Name: info.Venue}
	}
	for i, t := range []*sgo.Team{&doc.Teams.Home, &doc.Teams.Away} {
		name := info.Teams[i]
		t.TeamID = strings.ToUpper(strings.ReplaceAll(name, " ", "_")) + "_CRICKET"
		t.StatEntityID = []string{"home", "away"}[i]
		t.Names.Long, t.Names.Medium = name, name
	}
	return doc
}

// finished reports whether every step is applied.
func (m *match) finished() bool { return m.idx >= len(m.steps) }

// started reports whether the match has gone live.
func (m *match) started() bool { return m.doc.Status.Started }

// advance applies the next step.
func (m *match) advance() {
	ev := m.steps[m.idx]
	m.idx++
	st := &m.doc.Status
	switch ev.Kind {
	case event.KindStatus:
		switch ev.Status.State {
		case event.StateLive:
			st.Started, st.Live = true, true
			st.DisplayShort, st.DisplayLong = "Live", "Live"
		case event.StateCompleted, event.StateAbandoned:
			st.Live, st.Ended, st.Completed, st.Finalized = false, true, true, true
			st.Cancelled = ev.Status.State == event.StateAbandoned
			st.DisplayShort, st.DisplayLong = "Final", ev.Status.Result
		}
	case event.KindInnings:
		in := ev.Innings
		if !in.End {
			side := "home"
			if in.Team == m.away {
				side = "away"
			}
			m.innings = append(m.innings, inn{n: in.Number, side: side, started: true, period: fmt.Sprintf("%di", in.Number)})
			st.PreviousPeriodID, st.CurrentPeriodID = st.CurrentPeriodID, fmt.Sprintf("%di", in.Number)
		} else if i := m.find(in.Number); i >= 0 {
			m.innings[i].ended = true
		}
	case event.KindBall:
		if i := m.find(ev.Ball.Innings); i >= 0 {
			in := &m.innings[i]
			in.runs += ev.Ball.Runs()
			for _, w := range ev.Ball.Wickets {
				if w.IsTeamWicket() {
					in.wkts++
				}
			}
			if ev.Ball.Legal {
				in.balls++
			}
		}
	}
	m.render()
}

func (m *match) find(n int) int {
	for i := range m.innings {
		if m.innings[i].n == n {
			return i
		}
	}
	return -1
}

// render rewrites the periods, results and team scores from the innings.
func (m *match) render() {
	st := &m.doc.Status
	st.Periods.Started, st.Periods.Ended = []string{}, []string{}
	res := sgo.Results{}
	totals := map[string]float64{}
	scored := map[string]bool{}
	for _, in := range m.innings {
		st.Periods.Started = append(st.Periods.Started, in.period)
		if in.ended {
			st.Periods.Ended = append(st.Periods.Ended, in.period)
		}
		res[in.period] = map[string]map[string]float64{in.side: {
			"points": float64(in.runs), "wickets": float64(in.wkts), "balls": float64(in.balls),
		}}
		totals[in.side] += float64(in.runs)
		scored[in.side] = true
	}
	m.doc.Results = res
	for side, t := range map[string]*sgo.Team{"home": &m.doc.Teams.Home, "away": &m.doc.Teams.Away} {
		t.Score = nil
		if scored[side] {
			v := totals[side]
			t.Score = &v
		}
	}
}

// snapshot is a deep copy of the current state, for serving.
func (m *match) snapshot() sgo.Event {
	d := m.doc
	d.Status.Periods.Started = append([]string{}, d.Status.Periods.Started...)
	d.Status.Periods.Ended = append([]string{}, d.Status.Periods.Ended...)
	d.Results = sgo.Results{}
	for p, ents := range m.doc.Results {
		d.Results[p] = map[string]map[string]float64{}
		for e, stats := range ents {
			d.Results[p][e] = map[string]float64{}
			for k, v := range stats {
				d.Results[p][e][k] = v
			}
		}
	}
	for _, t := range []*sgo.Team{&d.Teams.Home, &d.Teams.Away} {
		if t.Score != nil {
			v := *t.Score
			t.Score = &v
		}
	}
	return d
}
