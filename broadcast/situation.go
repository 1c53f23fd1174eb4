package broadcast

import "github.com/ballcast/ballcast/core/event"

// Situation is the wire form of event.Situation: what a commentator knows
// at the event, as the stats stage computes it. Overs are "O.B" strings as
// elsewhere in the protocol.
type Situation struct {
	Innings      int               `json:"innings,omitempty"`
	Phase        SituationPhase    `json:"phase"`
	Chase        *SituationChase   `json:"chase,omitempty"`
	Momentum     SituationMomentum `json:"momentum"`
	Partnership  Partnership       `json:"partnership"`
	Milestones   []SituationMark   `json:"milestones,omitempty"`
	Near         []SituationMark   `json:"near,omitempty"`
	HatTrickBall bool              `json:"hat_trick_ball,omitempty"`
	OnHatTrick   string            `json:"on_hat_trick,omitempty"`
	Records      []SituationRecord `json:"records,omitempty"`
	Over         *SituationOver    `json:"over,omitempty"`
	InningsEnd   *SituationInnings `json:"innings_end,omitempty"`
	Result       *SituationResult  `json:"result,omitempty"`
}

// SituationPhase is event.Phase.
type SituationPhase struct {
	Name      string `json:"name,omitempty"`
	Over      int    `json:"over,omitempty"`
	Changed   bool   `json:"changed,omitempty"`
	Day       int    `json:"day,omitempty"`
	Session   int    `json:"session,omitempty"`
	Estimated bool   `json:"estimated,omitempty"`
}

// SituationChase is event.Chase.
type SituationChase struct {
	Target       int     `json:"target"`
	RunsNeeded   int     `json:"runs_needed"`
	BallsLeft    int     `json:"balls_left,omitempty"`
	RequiredRate float64 `json:"required_rate,omitempty"`
	CurrentRate  float64 `json:"current_rate"`
	WicketsLeft  int     `json:"wickets_left"`
	Pressure     string  `json:"pressure"`
}

// SituationMomentum is event.Momentum.
type SituationMomentum struct {
	Last3              SituationSpell `json:"last3"`
	Last5              SituationSpell `json:"last5"`
	DotStreak          int            `json:"dot_streak"`
	BallsSinceBoundary int            `json:"balls_since_boundary"`
	Boundaries         int            `json:"boundaries"`
}

// SituationSpell is event.Spell.
type SituationSpell struct {
	Overs   int `json:"overs"`
	Runs    int `json:"runs"`
	Wickets int `json:"wickets"`
	Fours   int `json:"fours"`
	Sixes   int `json:"sixes"`
}

// SituationMark is a milestone reached or near (event.Milestone in a
// situation).
type SituationMark struct {
	Kind    string `json:"kind"`
	Player  string `json:"player"`
	Value   int    `json:"value"`
	Partner string `json:"partner,omitempty"`
	Runs    int    `json:"runs,omitempty"`
	Balls   int    `json:"balls,omitempty"`
	Wickets int    `json:"wickets,omitempty"`
	Need    int    `json:"need,omitempty"`
	New     bool   `json:"new,omitempty"`
}

// SituationRecord is event.Record.
type SituationRecord struct {
	Kind          string `json:"kind"`
	Player        string `json:"player"`
	Partner       string `json:"partner,omitempty"`
	Value         int    `json:"value"`
	Runs          int    `json:"runs,omitempty"`
	Previous      string `json:"previous,omitempty"`
	PreviousValue int    `json:"previous_value,omitempty"`
}

// SituationFigures are a bowler's figures.
type SituationFigures struct {
	Name    string `json:"name"`
	Overs   string `json:"overs"`
	Maidens int    `json:"maidens"`
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
}

// SituationOver is event.OverSummary.
type SituationOver struct {
	Number     int              `json:"number"`
	Bowler     string           `json:"bowler"`
	Runs       int              `json:"runs"`
	Wickets    int              `json:"wickets"`
	Extras     int              `json:"extras"`
	Boundaries int              `json:"boundaries"`
	Maiden     bool             `json:"maiden"`
	Figures    SituationFigures `json:"figures"`
}

// SituationInnings is event.InningsSummary.
type SituationInnings struct {
	Number    int               `json:"number"`
	Team      string            `json:"team"`
	Runs      int               `json:"runs"`
	Wickets   int               `json:"wickets"`
	Overs     string            `json:"overs"`
	AllOut    bool              `json:"all_out,omitempty"`
	Declared  bool              `json:"declared,omitempty"`
	TopBatter *SituationBatter  `json:"top_batter,omitempty"`
	TopBowler *SituationFigures `json:"top_bowler,omitempty"`
	Lead      int               `json:"lead,omitempty"`
	Target    int               `json:"target,omitempty"`
}

// SituationBatter is event.BatterFigures.
type SituationBatter struct {
	Name  string `json:"name"`
	Runs  int    `json:"runs"`
	Balls int    `json:"balls"`
}

// SituationResult is event.MatchResult.
type SituationResult struct {
	Winner string `json:"winner,omitempty"`
	By     string `json:"by,omitempty"`
	Margin int    `json:"margin,omitempty"`
	Text   string `json:"text,omitempty"`
}

func newSituation(s *event.Situation, bpo int) *Situation {
	spell := func(p event.Spell) SituationSpell {
		return SituationSpell{Overs: p.Overs, Runs: p.Runs, Wickets: p.Wickets, Fours: p.Fours, Sixes: p.Sixes}
	}
	figures := func(f event.BowlerFigures) SituationFigures {
		return SituationFigures{Name: f.Name, Overs: event.Overs(f.LegalBalls, bpo), Maidens: f.Maidens, Runs: f.Runs, Wickets: f.Wickets}
	}
	marks := func(ms []event.Milestone) []SituationMark {
		var out []SituationMark
		for _, m := range ms {
			out = append(out, SituationMark{Kind: m.Kind, Player: m.Player, Value: m.Value, Partner: m.Partner, Runs: m.Runs,
				Balls: m.Balls, Wickets: m.Wickets, Need: m.Need, New: m.New})
		}
		return out
	}
	p := s.Phase
	w := &Situation{
		Innings:      s.Innings,
		Phase:        SituationPhase{Name: p.Name, Over: p.Over, Changed: p.Changed, Day: p.Day, Session: p.Session, Estimated: p.Estimated},
		Momentum:     SituationMomentum{Last3: spell(s.Momentum.Last3), Last5: spell(s.Momentum.Last5), DotStreak: s.Momentum.DotStreak, BallsSinceBoundary: s.Momentum.BallsSinceBoundary, Boundaries: s.Momentum.Boundaries},
		Partnership:  Partnership{Runs: s.Partnership.Runs, Balls: s.Partnership.Balls, Batters: clone(s.Partnership.Batters)},
		Milestones:   marks(s.Milestones),
		Near:         marks(s.Near),
		HatTrickBall: s.HatTrickBall,
		OnHatTrick:   s.OnHatTrick,
	}
	if c := s.Chase; c != nil {
		w.Chase = &SituationChase{Target: c.Target, RunsNeeded: c.RunsNeeded, BallsLeft: c.BallsLeft, RequiredRate: c.RequiredRate,
			CurrentRate: c.CurrentRate, WicketsLeft: c.WicketsLeft, Pressure: c.Pressure}
	}
	for _, r := range s.Records {
		w.Records = append(w.Records, SituationRecord{Kind: r.Kind, Player: r.Player, Partner: r.Partner, Value: r.Value, Runs: r.Runs,
			Previous: r.Previous, PreviousValue: r.PreviousValue})
	}
	if o := s.Over; o != nil {
		w.Over = &SituationOver{Number: o.Number, Bowler: o.Bowler, Runs: o.Runs, Wickets: o.Wickets, Extras: o.Extras,
			Boundaries: o.Boundaries, Maiden: o.Maiden, Figures: figures(o.Figures)}
	}
	if in := s.InningsEnd; in != nil {
		w.InningsEnd = &SituationInnings{Number: in.Number, Team: in.Team, Runs: in.Runs, Wickets: in.Wickets,
			Overs: event.Overs(in.LegalBalls, bpo), AllOut: in.AllOut, Declared: in.Declared, Lead: in.Lead, Target: in.Target}
		if b := in.TopBatter; b != nil {
			w.InningsEnd.TopBatter = &SituationBatter{Name: b.Name, Runs: b.Runs, Balls: b.Balls}
		}
		if b := in.TopBowler; b != nil {
			f := figures(*b)
			w.InningsEnd.TopBowler = &f
		}
	}
	if r := s.Result; r != nil {
		w.Result = &SituationResult{Winner: r.Winner, By: r.By, Margin: r.Margin, Text: r.Text}
	}
	return w
}
