package scorereport

import "fmt"

// Diff lists the differences between got and want, one readable line per
// differing field, e.g. `innings[1].batters[3] (DA Warner).balls: got 12, want 11`.
// It returns nil when the reports are equal.
func Diff(got, want Report) []string {
	var d []string
	add := func(path string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s: got %+v, want %+v", path, g, w))
		}
	}
	add("len(innings)", len(got.Innings), len(want.Innings))
	for i := range min(len(got.Innings), len(want.Innings)) {
		g, w := got.Innings[i], want.Innings[i]
		p := fmt.Sprintf("innings[%d] (%s)", i, w.Team)
		add(p+".team", g.Team, w.Team)
		add(p+".super_over", g.SuperOver, w.SuperOver)
		add(p+".runs", g.Runs, w.Runs)
		add(p+".wickets", g.Wickets, w.Wickets)
		add(p+".overs", g.Overs, w.Overs)
		add(p+".extras", g.Extras, w.Extras)
		add(p+".len(batters)", len(g.Batters), len(w.Batters))
		for j := range min(len(g.Batters), len(w.Batters)) {
			add(fmt.Sprintf("%s.batters[%d] (%s)", p, j, w.Batters[j].Name), g.Batters[j], w.Batters[j])
		}
		add(p+".len(bowlers)", len(g.Bowlers), len(w.Bowlers))
		for j := range min(len(g.Bowlers), len(w.Bowlers)) {
			add(fmt.Sprintf("%s.bowlers[%d] (%s)", p, j, w.Bowlers[j].Name), g.Bowlers[j], w.Bowlers[j])
		}
		add(p+".len(fall_of_wickets)", len(g.FallOfWickets), len(w.FallOfWickets))
		for j := range min(len(g.FallOfWickets), len(w.FallOfWickets)) {
			add(fmt.Sprintf("%s.fall_of_wickets[%d]", p, j), g.FallOfWickets[j], w.FallOfWickets[j])
		}
	}
	return d
}
