package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ballcast/ballcast/core/event"
)

// Cricsheet's JSON match format (data_version 1.x), as far as ballcast reads it.
type csMatch struct {
	Meta struct {
		DataVersion string `json:"data_version"`
	} `json:"meta"`
	Info    csInfo      `json:"info"`
	Innings []csInnings `json:"innings"`
}

type csInfo struct {
	BallsPerOver int                 `json:"balls_per_over"`
	City         string              `json:"city"`
	Dates        []string            `json:"dates"`
	Event        csEvent             `json:"event"`
	MatchType    string              `json:"match_type"`
	Overs        int                 `json:"overs"`
	Players      map[string][]string `json:"players"`
	Teams        []string            `json:"teams"`
	Toss         struct {
		Decision string `json:"decision"`
		Winner   string `json:"winner"`
	} `json:"toss"`
	Venue   string    `json:"venue"`
	Outcome csOutcome `json:"outcome"`
}

type csEvent struct {
	Name        string          `json:"name"`
	MatchNumber json.RawMessage `json:"match_number"`
	Stage       string          `json:"stage"`
}

type csOutcome struct {
	Winner     string `json:"winner"`
	Result     string `json:"result"`
	Eliminator string `json:"eliminator"`
	Method     string `json:"method"`
	By         struct {
		Runs    int `json:"runs"`
		Wickets int `json:"wickets"`
		Innings int `json:"innings"`
	} `json:"by"`
}

type csInnings struct {
	Team      string   `json:"team"`
	Overs     []csOver `json:"overs"`
	SuperOver bool     `json:"super_over"`
	Declared  bool     `json:"declared"`
	Forfeited bool     `json:"forfeited"`
	Target    *struct {
		Runs  int     `json:"runs"`
		Overs float64 `json:"overs"`
	} `json:"target"`
	PenaltyRuns *struct {
		Pre  int `json:"pre"`
		Post int `json:"post"`
	} `json:"penalty_runs"`
}

type csOver struct {
	Over       int          `json:"over"`
	Deliveries []csDelivery `json:"deliveries"`
}

type csDelivery struct {
	Batter     string `json:"batter"`
	Bowler     string `json:"bowler"`
	NonStriker string `json:"non_striker"`
	Runs       struct {
		Batter      int  `json:"batter"`
		Extras      int  `json:"extras"`
		Total       int  `json:"total"`
		NonBoundary bool `json:"non_boundary"`
	} `json:"runs"`
	Extras struct {
		Wides   int `json:"wides"`
		NoBalls int `json:"noballs"`
		Byes    int `json:"byes"`
		LegByes int `json:"legbyes"`
		Penalty int `json:"penalty"`
	} `json:"extras"`
	Wickets []struct {
		Kind      string `json:"kind"`
		PlayerOut string `json:"player_out"`
		Fielders  []struct {
			Name string `json:"name"`
		} `json:"fielders"`
	} `json:"wickets"`
}

// ErrFormat is returned for JSON that is not a Cricsheet match.
var ErrFormat = errors.New("replay: not a cricsheet match")

// Parse turns one Cricsheet match file into the events of that match, in the
// order they happened, with IDs derived from match and ball position. Seq
// and Received are left for ingest to assign.
func Parse(match string, data []byte) ([]event.Event, error) {
	var m csMatch
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("replay: parse %s: %w", match, err)
	}
	if len(m.Info.Teams) != 2 || m.Innings == nil && m.Info.Outcome.Result == "" {
		return nil, fmt.Errorf("%w: %s: want info.teams with two teams and innings", ErrFormat, match)
	}
	return convert(match, &m), nil
}

func convert(match string, m *csMatch) []event.Event {
	bpo := m.Info.BallsPerOver
	if bpo <= 0 {
		bpo = 6
	}
	var start time.Time
	if len(m.Info.Dates) > 0 {
		start, _ = time.Parse("2006-01-02", m.Info.Dates[0])
	}
	info := &event.MatchInfo{
		Title:        title(&m.Info),
		Teams:        m.Info.Teams,
		Format:       m.Info.MatchType,
		Overs:        m.Info.Overs,
		BallsPerOver: bpo,
		Venue:        m.Info.Venue,
		Start:        start,
		TossWinner:   m.Info.Toss.Winner,
		TossDecision: m.Info.Toss.Decision,
		Players:      m.Info.Players,
	}
	evs := make([]event.Event, 0, 512)
	add := func(id string, kind event.Kind, fill func(*event.Event)) {
		ev := event.Event{ID: match + "/" + id, Match: match, Kind: kind, Time: start, Source: "replay"}
		fill(&ev)
		evs = append(evs, ev)
	}
	add("status/live", event.KindStatus, func(ev *event.Event) {
		ev.Info = info
		ev.Status = &event.Status{State: event.StateLive}
	})
	for i, in := range m.Innings {
		n := i + 1
		bowling := other(m.Info.Teams, in.Team)
		start := &event.Innings{Number: n, Team: in.Team, SuperOver: in.SuperOver, Forfeited: in.Forfeited}
		if in.Target != nil {
			start.Target = &event.Target{Runs: in.Target.Runs, Overs: in.Target.Overs}
		}
		if in.PenaltyRuns != nil {
			start.PenaltyRuns = in.PenaltyRuns.Pre
		}
		add(fmt.Sprintf("innings/%d/start", n), event.KindInnings, func(ev *event.Event) { ev.Innings = start })
		for _, ov := range in.Overs {
			legal, pos, sub := 0, 0, 0
			bowler := ""
			for _, d := range ov.Deliveries {
				b := &event.Ball{
					Innings: n, SuperOver: in.SuperOver, BattingTeam: in.Team, BowlingTeam: bowling,
					Over: ov.Over, Legal: d.Extras.Wides == 0 && d.Extras.NoBalls == 0,
					Batter: d.Batter, NonStriker: d.NonStriker, Bowler: d.Bowler,
					RunsBat: d.Runs.Batter, NonBoundary: d.Runs.NonBoundary,
					Extras: event.Extras{Wides: d.Extras.Wides, NoBalls: d.Extras.NoBalls, Byes: d.Extras.Byes, LegByes: d.Extras.LegByes, Penalty: d.Extras.Penalty},
				}
				if legal+1 != pos {
					pos, sub = legal+1, 0
				} else {
					sub++
				}
				b.Ball, b.Sub = pos, sub
				if b.Legal {
					legal++
				}
				for _, w := range d.Wickets {
					wk := event.Wicket{Kind: w.Kind, PlayerOut: w.PlayerOut}
					for _, f := range w.Fielders {
						wk.Fielders = append(wk.Fielders, f.Name)
					}
					b.Wickets = append(b.Wickets, wk)
				}
				bowler = d.Bowler
				add(b.Key(), event.KindBall, func(ev *event.Event) { ev.Ball = b })
			}
			o := &event.Over{Innings: n, Number: ov.Over, Bowler: bowler}
			add(fmt.Sprintf("over/%d.%d", n, ov.Over), event.KindOver, func(ev *event.Event) { ev.Over = o })
		}
		end := &event.Innings{Number: n, Team: in.Team, SuperOver: in.SuperOver, End: true, Declared: in.Declared, Forfeited: in.Forfeited}
		if in.PenaltyRuns != nil {
			end.PenaltyRuns = in.PenaltyRuns.Post
		}
		add(fmt.Sprintf("innings/%d/end", n), event.KindInnings, func(ev *event.Event) { ev.Innings = end })
	}
	st := &event.Status{State: event.StateCompleted, Result: Result(m.Info.Outcome), Winner: m.Info.Outcome.Winner}
	if m.Info.Outcome.Winner == "" && m.Info.Outcome.Eliminator != "" {
		st.Winner = m.Info.Outcome.Eliminator
	}
	if m.Info.Outcome.Result == "no result" {
		st.State = event.StateAbandoned
	}
	add("status/completed", event.KindStatus, func(ev *event.Event) { ev.Status = st })
	return evs
}

// Result phrases a Cricsheet outcome the way scorecards do.
func Result(o csOutcome) string {
	var s string
	switch {
	case o.Winner != "" && o.By.Innings > 0:
		s = fmt.Sprintf("%s won by an innings and %s", o.Winner, plural(o.By.Runs, "run"))
	case o.Winner != "" && o.By.Runs > 0:
		s = fmt.Sprintf("%s won by %s", o.Winner, plural(o.By.Runs, "run"))
	case o.Winner != "" && o.By.Wickets > 0:
		s = fmt.Sprintf("%s won by %s", o.Winner, plural(o.By.Wickets, "wicket"))
	case o.Winner != "":
		s = o.Winner + " won"
	case o.Result == "tie" && o.Eliminator != "":
		s = fmt.Sprintf("Match tied (%s won the super over)", o.Eliminator)
	case o.Result == "tie":
		s = "Match tied"
	case o.Result == "draw":
		s = "Match drawn"
	case o.Result == "no result":
		s = "No result"
	default:
		s = o.Result
	}
	if o.Method != "" && s != "" {
		s += " (" + o.Method + " method)"
	}
	return s
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func title(i *csInfo) string {
	t := strings.Join(i.Teams, " v ")
	if i.Event.Name == "" {
		return t
	}
	ev := i.Event.Name
	switch {
	case i.Event.Stage != "":
		ev += ", " + i.Event.Stage
	case len(i.Event.MatchNumber) > 0:
		ev += fmt.Sprintf(" (match %s)", strings.Trim(string(i.Event.MatchNumber), `"`))
	}
	return t + ", " + ev
}

func other(teams []string, team string) string {
	for _, t := range teams {
		if t != team {
			return t
		}
	}
	return ""
}
