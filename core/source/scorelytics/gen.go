package scorelytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// Generator turns the events of one match (core/source/replay's Parse, the
// ground truth) into what a Scorelytics feed would serve: one step per
// state change (a status_change, or a score_update per delivery) and the
// REST snapshot after any number of steps. It is for the simulator and
// tests. The first team of the match is "home". Safe for concurrent use
// once built.
type Generator struct {
	id         string
	home, away string
	league     string
	info       event.MatchInfo
	result     string
	winner     string
	balls      []Ball
	innings    []Innings
	steps      []genStep
}

type genStep struct {
	msg Message
	ups *ScoreUpdate // the score_update of a delivery, ball included; nil for status
	// state after the step
	status, period, home, away, wickets, legal int
	batting                                    string
	nballs, ninnings, closed                   int
}

// NewGenerator builds the feed of Scorelytics match id from evs.
func NewGenerator(id string, evs []event.Event) (*Generator, error) {
	g := &Generator{id: id}
	var cur genStep
	cur.status = StatusScheduled
	runs := map[int]int{} // innings → runs
	side := map[int]string{}
	for _, ev := range evs {
		switch {
		case ev.Info != nil && g.home == "":
			if len(ev.Info.Teams) != 2 {
				return nil, fmt.Errorf("scorelytics: generate %s: want two teams", id)
			}
			g.info = *ev.Info
			g.home, g.away = ev.Info.Teams[0], ev.Info.Teams[1]
			if _, rest, ok := strings.Cut(ev.Info.Title, ", "); ok {
				g.league = rest
			}
		}
		switch ev.Kind {
		case event.KindStatus:
			to := StatusLive
			switch ev.Status.State {
			case event.StateCompleted:
				to = StatusFinished
			case event.StateAbandoned:
				to = StatusAbandoned
			case event.StateBreak:
				to = StatusInterrupted
			}
			if to == StatusFinished || to == StatusAbandoned {
				g.result, g.winner = ev.Status.Result, ev.Status.Winner
			}
			if to == cur.status {
				continue
			}
			data, _ := json.Marshal(StatusChange{From: cur.status, To: to})
			cur.status = to
			cur.msg = Message{Type: TypeStatusChange, MatchID: id, Data: data}
			cur.ups = nil
			g.steps = append(g.steps, cur)
		case event.KindInnings:
			in := ev.Innings
			if in.End {
				if n := len(g.innings); n > 0 && g.innings[n-1].Number == in.Number {
					g.innings[n-1].Declared = in.Declared
				}
				cur.closed = in.Number
				if n := len(g.steps); n > 0 {
					g.steps[n-1].closed = in.Number
				}
				continue
			}
			meta := Innings{Number: in.Number, Team: in.Team, SuperOver: in.SuperOver}
			if in.Target != nil {
				meta.Target = &Target{Runs: in.Target.Runs, Overs: in.Target.Overs}
			}
			g.innings = append(g.innings, meta)
			side[in.Number] = "home"
			if in.Team == g.away {
				side[in.Number] = "away"
			}
			cur.ninnings = len(g.innings)
			if n := len(g.steps); n > 0 {
				g.steps[n-1].ninnings = cur.ninnings
			}
		case event.KindBall:
			b := ev.Ball
			if len(g.innings) == 0 || g.innings[len(g.innings)-1].Number != b.Innings {
				return nil, fmt.Errorf("scorelytics: generate %s: ball %s outside its innings", id, b.Key())
			}
			wb := Ball{
				Innings: b.Innings, Over: b.Over, Ball: b.Ball,
				Batter: b.Batter, NonStriker: b.NonStriker, Bowler: b.Bowler,
				RunsBatter: b.RunsBat, NonBoundary: b.NonBoundary,
				Extras: Extras{Wides: b.Extras.Wides, NoBalls: b.Extras.NoBalls, Byes: b.Extras.Byes, LegByes: b.Extras.LegByes, Penalty: b.Extras.Penalty},
			}
			for _, w := range b.Wickets {
				wb.Wickets = append(wb.Wickets, Wicket{Kind: w.Kind, PlayerOut: w.PlayerOut, Fielders: w.Fielders})
			}
			if cur.period != b.Innings {
				cur.period, cur.wickets, cur.legal = b.Innings, 0, 0
			}
			if wb.legal() {
				cur.legal++
			}
			cur.wickets += wb.teamWickets()
			runs[b.Innings] += wb.runs()
			cur.batting = side[b.Innings]
			if cur.batting == "home" {
				cur.home = runs[b.Innings]
			} else {
				cur.away = runs[b.Innings]
			}
			g.balls = append(g.balls, wb)
			cur.nballs = len(g.balls)
			u := &ScoreUpdate{
				Home: cur.home, Away: cur.away, Period: cur.period, Batting: cur.batting,
				Wickets: cur.wickets, LegalBalls: cur.legal, SuperOver: b.SuperOver,
				Target: g.innings[len(g.innings)-1].Target, Ball: &g.balls[len(g.balls)-1],
			}
			data, _ := json.Marshal(u)
			cur.msg = Message{Type: TypeScoreUpdate, MatchID: id, Data: data}
			cur.ups = u
			g.steps = append(g.steps, cur)
		}
	}
	if g.home == "" {
		return nil, errors.New("scorelytics: generate " + id + ": no match info")
	}
	return g, nil
}

// ID is the Scorelytics match ID.
func (g *Generator) ID() string { return g.id }

// Len is the number of steps.
func (g *Generator) Len() int { return len(g.steps) }

// Frame is the WebSocket message of step i (0-based). Without detail the
// score_update carries totals only (no ball).
func (g *Generator) Frame(i int, detail bool) []byte {
	st := g.steps[i]
	if st.ups != nil && !detail {
		u := *st.ups
		u.Ball = nil
		data, _ := json.Marshal(u)
		st.msg.Data = data
	}
	b, _ := json.Marshal(st.msg)
	return b
}

// Snapshot is the REST document after the first n steps (0: before the
// match). Without detail it carries no Balls.
func (g *Generator) Snapshot(n int, detail bool) *Snapshot {
	var st genStep
	st.status = StatusScheduled
	if n > 0 {
		st = g.steps[min(n, len(g.steps))-1]
	}
	s := &Snapshot{
		ID: g.id, Sport: "cricket", League: g.league, HomeTeam: g.home, AwayTeam: g.away,
		StatusCode: st.status, HomeScore: st.home, AwayScore: st.away, Period: st.period,
		Cricket: &Cricket{
			Format: g.info.Format, OversLimit: g.info.Overs, BallsPerOver: g.info.BallsPerOver, Venue: g.info.Venue,
			TossWinner: g.info.TossWinner, TossDecision: g.info.TossDecision,
			Batting: st.batting, Wickets: st.wickets, LegalBalls: st.legal,
			Innings: make([]Innings, st.ninnings),
		},
	}
	if !g.info.Start.IsZero() {
		s.StartTime = g.info.Start.UTC().Format(time.RFC3339)
	}
	copy(s.Cricket.Innings, g.innings)
	for i := range s.Cricket.Innings {
		in := &s.Cricket.Innings[i]
		in.Closed = in.Number <= st.closed
		in.Declared = in.Declared && in.Closed
	}
	if detail {
		s.Cricket.Balls = g.balls[:st.nballs:st.nballs]
	}
	if st.status == StatusFinished || st.status == StatusAbandoned {
		s.Result, s.Winner = g.result, g.winner
	}
	return s
}
