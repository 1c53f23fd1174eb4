package stats

import (
	"fmt"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// steps are the multiples of step, from first, in (before, now].
func steps(before, now, first, step int) []int {
	var out []int
	for t := first; t <= now; t += step {
		if before < t {
			out = append(out, t)
		}
	}
	return out
}

// milestones are those delivery d, just applied to in, reached: a batter's
// 50, 100, 150, ...; a bowler's third wicket and each after it; a
// hat-trick; the team's 50, 100, ...; the stand's 50, 100, ...; the target.
func (m *match) milestones(in *innings, d *delivery, hatTrickBall bool) []*pb.Milestone {
	t := &in.t
	var out []*pb.Milestone
	if i, ok := t.batterAt[d.batter]; ok && d.batter != "" {
		b := t.batters[i]
		for _, v := range steps(b.runs-d.runsBat, b.runs, 50, 50) {
			out = append(out, &pb.Milestone{Kind: fmt.Sprintf("batter_%d", v), Player: b.name, Value: int32(v), Runs: int32(b.runs), Balls: int32(b.balls)})
		}
	}
	if i, ok := t.bowlerAt[d.bowler]; ok && d.bowler != "" {
		bw := t.bowlers[i]
		fig := func(kind string, v int) *pb.Milestone {
			return &pb.Milestone{Kind: kind, Player: bw.name, Value: int32(v), Wickets: int32(bw.wickets), Runs: int32(bw.runs), Balls: int32(bw.legal)}
		}
		for _, v := range steps(bw.wickets-d.credited(), bw.wickets, 3, 1) {
			out = append(out, fig(fmt.Sprintf("bowler_%dw", v), v))
		}
		if hatTrickBall && d.credited() > 0 {
			out = append(out, fig("hat_trick", 3))
		}
	}
	runs := in.runs()
	for _, v := range steps(runs-d.total(), runs, 50, 50) {
		out = append(out, &pb.Milestone{Kind: fmt.Sprintf("team_%d", v), Player: in.team, Value: int32(v), Runs: int32(runs)})
	}
	if p := t.part; p.a != "" && p.b != "" && d.teamWickets() == 0 {
		for _, v := range steps(p.runs-d.total(), p.runs, 50, 50) {
			a, b := strikerFirst(p.a, p.b, d.batter)
			out = append(out, &pb.Milestone{Kind: fmt.Sprintf("partnership_%d", v), Player: a, Partner: b, Value: int32(v), Runs: int32(p.runs), Balls: int32(p.balls)})
		}
	}
	if tg := m.target(in); tg != nil && tg.GetRuns() > 0 {
		if v := int(tg.GetRuns()); runs-d.total() < v && runs >= v {
			out = append(out, &pb.Milestone{Kind: "target", Player: in.team, Value: int32(v), Runs: int32(runs)})
		}
	}
	return out
}

func strikerFirst(a, b, striker string) (string, string) {
	if b == striker {
		return b, a
	}
	return a, b
}

// nextStep is the next multiple of 50 above runs, and how many runs short
// of it count as near.
func nextStep(runs int) (next, within int) {
	next = (runs/50 + 1) * 50
	if next == 50 {
		return next, nearFifty
	}
	return next, nearHundred
}

// near lists the milestones close at hand after delivery d: each batter's
// and the stand's next 50, the bowler's third or fifth wicket, the team's
// next hundred. New marks those that d brought close.
func (m *match) near(in *innings, d *delivery, happened bool) []*pb.Milestone {
	t := &in.t
	var out []*pb.Milestone
	for _, name := range []string{t.part.a, t.part.b} {
		i, ok := t.batterAt[name]
		if !ok || name == "" || t.batters[i].out {
			continue
		}
		b := t.batters[i]
		next, within := nextStep(b.runs)
		if next-b.runs > within {
			continue
		}
		before := b.runs
		if name == d.batter {
			before -= d.runsBat
		}
		out = append(out, &pb.Milestone{Kind: fmt.Sprintf("batter_%d", next), Player: name, Value: int32(next), Runs: int32(b.runs),
			Balls: int32(b.balls), Need: int32(next - b.runs), New: happened && next-before > within})
	}
	if i, ok := t.bowlerAt[d.bowler]; ok && d.bowler != "" {
		if bw := t.bowlers[i]; bw.wickets == 2 || bw.wickets == 4 {
			out = append(out, &pb.Milestone{Kind: fmt.Sprintf("bowler_%dw", bw.wickets+1), Player: bw.name, Value: int32(bw.wickets + 1),
				Wickets: int32(bw.wickets), Runs: int32(bw.runs), Balls: int32(bw.legal), Need: 1, New: happened && d.credited() > 0})
		}
	}
	runs := in.runs()
	if next := (runs/100 + 1) * 100; next-runs <= nearTeam {
		out = append(out, &pb.Milestone{Kind: fmt.Sprintf("team_%d", next), Player: in.team, Value: int32(next), Runs: int32(runs),
			Need: int32(next - runs), New: happened && next-(runs-d.total()) > nearTeam})
	}
	if p := t.part; p.a != "" && p.b != "" {
		if next, within := nextStep(p.runs); next-p.runs <= within {
			a, b := strikerFirst(p.a, p.b, d.batter)
			out = append(out, &pb.Milestone{Kind: fmt.Sprintf("partnership_%d", next), Player: a, Partner: b, Value: int32(next),
				Runs: int32(p.runs), Balls: int32(p.balls), Need: int32(next - p.runs), New: happened && next-(p.runs-d.total()) > within})
		}
	}
	return out
}

// hatTrick looks at delivery end-1 of in: whether it is a hat-trick ball
// (its bowler's previous two deliveries both took wickets credited to
// him), and whose next delivery will be one. A wide or no-ball that took
// no wicket is not counted among his deliveries: it neither makes nor
// breaks a hat-trick.
func (in *innings) hatTrick(end int) (ball bool, next string) {
	d := &in.balls[end-1]
	if d.bowler == "" {
		return false, ""
	}
	counts := func(x *delivery) bool { return x.bowler == d.bowler && (x.legal() || x.credited() > 0) }
	var prev []bool // the bowler's counted deliveries before d, latest first: took a wicket
	for i := end - 2; i >= 0 && len(prev) < 2; i-- {
		if x := &in.balls[i]; counts(x) {
			prev = append(prev, x.credited() > 0)
		}
	}
	if !counts(d) { // the bowler stands where he stood before d
		if len(prev) == 2 && prev[0] && prev[1] {
			next = d.bowler
		}
		return false, next
	}
	ball = len(prev) == 2 && prev[0] && prev[1]
	if d.credited() > 0 && len(prev) >= 1 && prev[0] {
		next = d.bowler
	}
	return ball, next
}

// records are the match records delivery d, just applied to in, set: the
// highest individual score, the most sixes by a batter, the best bowling
// and the biggest stand, each when it passes the one someone else held
// and is past a floor that makes it worth a mention.
func (m *match) records(in *innings, d *delivery) []*pb.Record {
	t := &in.t
	var out []*pb.Record
	if i, ok := t.batterAt[d.batter]; ok && d.batter != "" && d.runsBat > 0 &&
		(t.batters[i].runs >= recordScore || d.runsBat == 6 && t.batters[i].sixes >= recordSixes) {
		b := t.batters[i]
		best, sixes := 0, 0
		var bestBy, sixesBy string
		for _, o := range m.innings {
			for _, x := range o.t.batters {
				if o == in && x.name == b.name {
					continue
				}
				if x.runs > best {
					best, bestBy = x.runs, x.name
				}
				if x.sixes > sixes {
					sixes, sixesBy = x.sixes, x.name
				}
			}
		}
		if passes(b.runs, b.runs-d.runsBat, best, recordScore) {
			out = append(out, &pb.Record{Kind: "highest_score", Player: b.name, Value: int32(b.runs), Previous: bestBy, PreviousValue: int32(best)})
		}
		if d.boundary() && d.runsBat == 6 && passes(b.sixes, b.sixes-1, sixes, recordSixes) {
			out = append(out, &pb.Record{Kind: "most_sixes", Player: b.name, Value: int32(b.sixes), Previous: sixesBy, PreviousValue: int32(sixes)})
		}
	}
	if i, ok := t.bowlerAt[d.bowler]; ok && d.bowler != "" && d.credited() > 0 && t.bowlers[i].wickets >= recordWickets {
		bw := t.bowlers[i]
		bestW, bestR := 0, 0
		var bestBy string
		for _, o := range m.innings {
			for _, x := range o.t.bowlers {
				if o == in && x.name == bw.name || x.wickets == 0 {
					continue
				}
				if x.wickets > bestW || x.wickets == bestW && x.runs < bestR {
					bestW, bestR, bestBy = x.wickets, x.runs, x.name
				}
			}
		}
		beats := func(w, r int) bool { return w > bestW || w == bestW && r < bestR }
		before := bw.wickets - d.credited()
		if bestW > 0 && bw.wickets >= recordWickets && beats(bw.wickets, bw.runs) && (!beats(before, bw.runs-d.charged()) || before < recordWickets) {
			out = append(out, &pb.Record{Kind: "best_bowling", Player: bw.name, Value: int32(bw.wickets), Runs: int32(bw.runs),
				Previous: bestBy, PreviousValue: int32(bestW)})
		}
	}
	if p := t.part; p.a != "" && p.b != "" && p.runs >= recordStand && d.total() > 0 && d.teamWickets() == 0 {
		best := 0
		for _, o := range m.innings {
			stands := o.stands()
			if o == in && len(stands) > 0 {
				stands = stands[:len(stands)-1] // the current stand
			}
			for _, s := range stands {
				best = max(best, s)
			}
		}
		if passes(p.runs, p.runs-d.total(), best, recordStand) {
			a, b := strikerFirst(p.a, p.b, d.batter)
			out = append(out, &pb.Record{Kind: "biggest_partnership", Player: a, Partner: b, Value: int32(p.runs), PreviousValue: int32(best)})
		}
	}
	return out
}

// passes reports whether a value going from before to now passes a
// record held by someone else (best, at least two thirds of floor: passing
// a 15 is no news) and is at least floor: it does so once, when it first
// both beats the record and reaches the floor.
func passes(now, before, best, floor int) bool {
	return best >= floor*2/3 && best > 0 && now >= floor && now > best && (before <= best || before < floor)
}

// stands are the runs of each partnership of in, in order, as the tally
// counts them: a stand is a run of deliveries between the same two
// batters, and any dismissal ends it.
func (in *innings) stands() []int {
	var out []int
	var a, b string
	open := false
	for i := range in.balls {
		d := &in.balls[i]
		if !open || !(d.batter == a && d.nonStriker == b || d.batter == b && d.nonStriker == a) {
			out = append(out, 0)
			a, b, open = d.batter, d.nonStriker, true
		}
		out[len(out)-1] += d.total()
		if len(d.wickets) > 0 {
			open = false
		}
	}
	return out
}
