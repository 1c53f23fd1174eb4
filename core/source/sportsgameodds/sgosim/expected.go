package sgosim

import (
	"fmt"

	"github.com/ballcast/ballcast/core/event"
)

// StateIDs lists, independently of the source, the state changes a
// SportsGameOdds client sees while a Cricsheet match is replayed one
// delivery at a time: status, innings start (with its 0/0 score), the
// score after every delivery, innings end, result. Tests of the source
// compare what it emits against this list.
func StateIDs(match string, evs []event.Event) []string {
	type tally struct{ runs, wkts, balls int }
	inn := map[int]*tally{}
	var out []string
	seen := map[string]bool{}
	add := func(format string, args ...any) {
		id := match + "/" + fmt.Sprintf(format, args...)
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, ev := range evs {
		switch ev.Kind {
		case event.KindStatus:
			add("status/%s", ev.Status.State)
		case event.KindInnings:
			if ev.Innings.End {
				add("innings/%d/end", ev.Innings.Number)
				continue
			}
			inn[ev.Innings.Number] = &tally{}
			add("innings/%d/start", ev.Innings.Number)
			add("score/%d/0/0-0", ev.Innings.Number)
		case event.KindBall:
			t := inn[ev.Ball.Innings]
			t.runs += ev.Ball.Runs()
			for _, w := range ev.Ball.Wickets {
				if w.IsTeamWicket() {
					t.wkts++
				}
			}
			if ev.Ball.Legal {
				t.balls++
			}
			add("score/%d/%d/%d-%d", ev.Ball.Innings, t.balls, t.runs, t.wkts)
		}
	}
	return out
}
