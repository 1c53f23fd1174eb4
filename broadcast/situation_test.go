package broadcast

import (
	"encoding/json"
	"testing"

	"github.com/ballcast/ballcast/core/event"
)

// An event's situation reaches frontends in the event frame's data, in the
// protocol's snake_case, with overs as "O.B".
func TestSituationInEventData(t *testing.T) {
	ev := &event.Event{ID: "m/1.15.6.0", Match: "m", Kind: event.KindBall, Situation: &event.Situation{
		Innings:    2,
		Phase:      event.Phase{Name: event.PhaseDeath, Over: 16, Changed: true},
		Chase:      &event.Chase{Target: 150, RunsNeeded: 41, BallsLeft: 24, RequiredRate: 10.25, CurrentRate: 7.29, WicketsLeft: 6, Pressure: event.PressureHigh},
		Momentum:   event.Momentum{Last3: event.Spell{Overs: 3, Runs: 22, Fours: 2}, DotStreak: 2, BallsSinceBoundary: 5, Boundaries: 9},
		Milestones: []event.Milestone{{Kind: "batter_50", Player: "BA Stokes", Value: 50, Runs: 51, Balls: 40}},
		Near:       []event.Milestone{{Kind: "team_100", Player: "England", Value: 100, Runs: 97, Need: 3, New: true}},
		Over: &event.OverSummary{Number: 15, Bowler: "Haris Rauf", Runs: 9, Boundaries: 1,
			Figures: event.BowlerFigures{Name: "Haris Rauf", LegalBalls: 22, Runs: 30, Wickets: 2}},
	}}
	raw, err := json.Marshal(newEventData(ev, 6))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Situation struct {
			Phase struct {
				Name    string `json:"name"`
				Changed bool   `json:"changed"`
			} `json:"phase"`
			Chase struct {
				Pressure   string `json:"pressure"`
				RunsNeeded int    `json:"runs_needed"`
			} `json:"chase"`
			Milestones []struct {
				Kind string `json:"kind"`
			} `json:"milestones"`
			Near []struct {
				Need int  `json:"need"`
				New  bool `json:"new"`
			} `json:"near"`
			Over struct {
				Figures struct {
					Overs string `json:"overs"`
				} `json:"figures"`
			} `json:"over"`
		} `json:"situation"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	s := got.Situation
	if s.Phase.Name != "death" || !s.Phase.Changed || s.Chase.Pressure != "high" || s.Chase.RunsNeeded != 41 ||
		len(s.Milestones) != 1 || s.Milestones[0].Kind != "batter_50" || len(s.Near) != 1 || s.Near[0].Need != 3 || !s.Near[0].New ||
		s.Over.Figures.Overs != "3.4" {
		t.Errorf("situation on the wire: %s", raw)
	}
	if raw, _ := json.Marshal(newEventData(&event.Event{Kind: event.KindBall}, 6)); string(raw) != "{}" {
		t.Errorf("event without a situation: %s, want {}", raw)
	}
}
