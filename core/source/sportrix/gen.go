package sportrix

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// Generate turns a match's ground-truth events (replay.Parse) into the
// cricket snapshots a live Sportrix feed would push for it, as the JSON
// data objects of update frames: one per change of state (the match going
// live, each innings starting or ending, each delivery, the result). Over
// ends change nothing a snapshot shows, so they have no frame of their
// own. Batsmen are those at the crease for the next delivery, as a live
// scoreboard shows them.
func Generate(matchID int64, evs []event.Event) ([][]byte, error) {
	if len(evs) == 0 {
		return nil, errors.New("sportrix: generate: no events")
	}
	g := &generator{c: Cricket{V: 1, MatchID: matchID, Sport: SportCricket, Status: "not_started"}, bpo: 6}
	var out [][]byte
	for i, ev := range evs {
		if !g.apply(ev, evs[i+1:]) {
			continue
		}
		b, err := json.Marshal(&g.c)
		if err != nil {
			return nil, fmt.Errorf("sportrix: generate %d: %w", matchID, err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("sportrix: generate: no state changes")
	}
	return out, nil
}

type generator struct {
	c     Cricket
	bpo   int
	teams []string
	// per innings in progress: legal balls by bowler
	bowlerBalls map[string]int
	legal       int
}

// apply folds ev into the snapshot and reports whether it changed.
func (g *generator) apply(ev event.Event, rest []event.Event) bool {
	c := &g.c
	if !ev.Time.IsZero() {
		c.UpdatedAt = ev.Time.UTC().Format(time.RFC3339)
	}
	switch ev.Kind {
	case event.KindStatus:
		if ev.Info != nil {
			g.teams = ev.Info.Teams
			if ev.Info.BallsPerOver > 0 {
				g.bpo = ev.Info.BallsPerOver
			}
			if len(ev.Info.Teams) == 2 {
				c.Home, c.Away = ev.Info.Teams[0], ev.Info.Teams[1]
			}
			c.Competition = strings.TrimPrefix(ev.Info.Title, strings.Join(ev.Info.Teams, " v ")+", ")
			if c.Competition == ev.Info.Title && len(ev.Info.Teams) == 2 {
				c.Competition = ""
			}
			c.Format, c.Venue = ev.Info.Format, ev.Info.Venue
		}
		if ev.Status == nil {
			return false
		}
		switch ev.Status.State {
		case event.StateCompleted:
			c.Status = "completed"
		case event.StateAbandoned:
			c.Status = "abandoned"
		default:
			c.Status = "live"
		}
		c.Result, c.Winner = ev.Status.Result, ev.Status.Winner
		c.LastEvent = &LastEvent{Label: statusLabel(c), Type: "status"}
		return true
	case event.KindInnings:
		in := ev.Innings
		if in == nil {
			return false
		}
		if in.End {
			if n := len(c.Scorecard); n > 0 {
				c.Scorecard[n-1].Closed, c.Scorecard[n-1].Declared = true, in.Declared
			}
			c.Status = "innings_break"
			c.LastEvent = &LastEvent{Label: "End of innings", Type: "innings"}
			return true
		}
		c.Scorecard = append(c.Scorecard, InningsCard{Innings: in.Number, Team: in.Team, SuperOver: in.SuperOver})
		c.Innings, c.Batting, c.Bowling = in.Number, in.Team, other(g.teams, in.Team)
		c.Score = CricketScore{}
		c.Target = nil // the ended innings' tickers stay until this one's first ball
		if in.Target != nil {
			c.Target = &Target{Runs: in.Target.Runs, Overs: in.Target.Overs}
		}
		c.Status = "live"
		g.bowlerBalls, g.legal = map[string]int{}, 0
		g.lookahead(rest, nil)
		c.LastEvent = &LastEvent{Label: in.Team + " innings", Type: "innings"}
		return true
	case event.KindBall:
		if ev.Ball == nil || len(c.Scorecard) == 0 {
			return false
		}
		g.ball(ev.Ball)
		g.lookahead(rest, ev.Ball)
		return true
	}
	return false
}

func (g *generator) ball(b *event.Ball) {
	c := &g.c
	card := &c.Scorecard[len(c.Scorecard)-1]
	bat := batter(card, b.Batter)
	bat.Runs += b.RunsBat
	if b.Extras.Wides == 0 {
		bat.Balls++
	}
	if b.Four() {
		bat.Fours++
	}
	if b.Six() {
		bat.Sixes++
	}
	bw := bowler(card, b.Bowler)
	bw.Runs += b.RunsBat + b.Extras.Wides + b.Extras.NoBalls
	if b.Extras.Wides > 0 {
		bw.Wides++
	}
	if b.Extras.NoBalls > 0 {
		bw.NoBalls++
	}
	if b.Legal {
		g.bowlerBalls[b.Bowler]++
		g.legal++
	}
	bw.Overs = overs(g.bowlerBalls[b.Bowler], g.bpo)
	card.Runs += b.Runs()
	card.Extras = addExtras(card.Extras, b.Extras)
	card.Overs = overs(g.legal, g.bpo)
	for _, w := range b.Wickets {
		out := batter(card, w.PlayerOut)
		out.Out, out.Fielders, out.Bowler = w.Kind, w.Fielders, ""
		if w.CreditsBowler() {
			bw.Wickets++
			out.Bowler = b.Bowler
		}
		if w.IsTeamWicket() {
			card.Wickets++
			card.FallOfWickets = append(card.FallOfWickets, FoW{Wicket: card.Wickets, Runs: card.Runs, Player: w.PlayerOut, Overs: card.Overs})
		}
	}
	if c.Over == nil || c.Over.Number != b.Over || c.Over.Innings != b.Innings {
		c.PrevOver = c.Over
		c.Over = &OverTicker{Innings: b.Innings, Number: b.Over}
	}
	c.Over.Bowler = b.Bowler
	c.Over.Balls = append(append([]string(nil), c.Over.Balls...), TokenOf(b).String())
	c.Score = CricketScore{Runs: card.Runs, Wickets: card.Wickets, Overs: card.Overs}
	c.Status = "live"
	c.LastEvent = &LastEvent{Label: ballLabel(b), Type: "ball"}
	if len(b.Wickets) > 0 {
		c.LastEvent.Type = "wicket"
	} else if b.Four() || b.Six() {
		c.LastEvent.Type = "boundary"
	}
}

// lookahead sets batsmen and bowler to those of the next delivery of the
// innings (or, at its end, of the last one).
func (g *generator) lookahead(rest []event.Event, last *event.Ball) {
	c := &g.c
	next := last
	for _, ev := range rest {
		if ev.Kind == event.KindInnings {
			break
		}
		if ev.Kind == event.KindBall && ev.Ball != nil {
			next = ev.Ball
			break
		}
	}
	if next == nil {
		return
	}
	card := &c.Scorecard[len(c.Scorecard)-1]
	c.Batsmen = c.Batsmen[:0:0]
	for i, name := range []string{next.Batter, next.NonStriker} {
		if name == "" {
			continue
		}
		bc := batter(card, name)
		if next != last && (bc.Out == "retired hurt" || bc.Out == "retired not out") {
			bc.Out = "" // back at the crease
		}
		c.Batsmen = append(c.Batsmen, Batsman{Name: name, Runs: bc.Runs, Balls: bc.Balls, Fours: bc.Fours, Sixes: bc.Sixes, Striker: i == 0})
	}
	bw := *bowler(card, next.Bowler)
	c.Bowler = &bw
}

func batter(card *InningsCard, name string) *BatterCard {
	for i := range card.Batting {
		if card.Batting[i].Name == name {
			return &card.Batting[i]
		}
	}
	card.Batting = append(card.Batting, BatterCard{Name: name})
	return &card.Batting[len(card.Batting)-1]
}

func bowler(card *InningsCard, name string) *BowlerCard {
	for i := range card.Bowling {
		if card.Bowling[i].Name == name {
			return &card.Bowling[i]
		}
	}
	card.Bowling = append(card.Bowling, BowlerCard{Name: name})
	return &card.Bowling[len(card.Bowling)-1]
}

func overs(legal, bpo int) Overs { return Overs{Overs: legal / bpo, Balls: legal % bpo} }

func addExtras(a Extras, e event.Extras) Extras {
	return Extras{a.Wides + e.Wides, a.NoBalls + e.NoBalls, a.Byes + e.Byes, a.LegByes + e.LegByes, a.Penalty + e.Penalty}
}

// TokenOf is the ticker token a scoreboard shows for b.
func TokenOf(b *event.Ball) Token {
	t := Token{Runs: b.Runs(), Wicket: len(b.Wickets) > 0}
	e := b.Extras
	switch {
	case e.Wides > 0:
		t.Extra = "wd"
	case e.NoBalls > 0 && e.Byes > 0:
		t.Extra = "nbb"
	case e.NoBalls > 0 && e.LegByes > 0:
		t.Extra = "nblb"
	case e.NoBalls > 0:
		t.Extra = "nb"
	case e.Byes > 0:
		t.Extra = "b"
	case e.LegByes > 0:
		t.Extra = "lb"
	}
	if e.Penalty > 0 {
		if t.Extra == "" && b.RunsBat == 0 {
			t.Extra = "p"
		} else {
			t.Penalty = e.Penalty
		}
	}
	return t
}

func ballLabel(b *event.Ball) string {
	switch {
	case len(b.Wickets) > 0:
		return "WICKET"
	case b.Six():
		return "SIX"
	case b.Four():
		return "FOUR"
	case b.Extras.Wides > 0:
		return "Wide"
	case b.Extras.NoBalls > 0:
		return "No ball"
	case b.Runs() == 0:
		return "Dot ball"
	case b.Runs() == 1:
		return "1 run"
	}
	return fmt.Sprintf("%d runs", b.Runs())
}

func statusLabel(c *Cricket) string {
	if c.Result != "" {
		return c.Result
	}
	return "Match started"
}

func other(teams []string, team string) string {
	for _, t := range teams {
		if t != team {
			return t
		}
	}
	return ""
}
