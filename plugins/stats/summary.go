package stats

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// overSummary sums over n of in, or nil when none of it was bowled. The
// bowler's figures include the over, and its maiden if it is one.
func (m *match) overSummary(in *innings, n int) *pb.OverSummary {
	o := in.t.overs[n]
	if o == nil {
		return nil
	}
	s := &pb.OverSummary{Number: int32(n), Bowler: o.bowler}
	for i := range in.balls {
		d := &in.balls[i]
		if d.over != n {
			continue
		}
		s.Runs += int32(d.total())
		s.Extras += int32(d.extras.total())
		s.Wickets += int32(d.teamWickets())
		if d.boundary() {
			s.Boundaries++
		}
		s.Bowler = d.bowler // the last one, if two shared the over
	}
	s.Maiden = !o.mixed && o.bowler != "" && o.legal == m.bpo && o.charged == 0
	if i, ok := in.t.bowlerAt[s.Bowler]; ok {
		bw := in.t.bowlers[i]
		maidens := bw.maidens
		if s.Maiden && !o.maiden { // counted once the over is ended
			maidens++
		}
		s.Figures = &pb.BowlerFigures{Name: bw.name, LegalBalls: int32(bw.legal), Maidens: int32(maidens), Runs: int32(bw.runs), Wickets: int32(bw.wickets)}
	}
	return s
}

// inningsSummary sums the innings in, which has just ended: the score,
// its best batter and bowler, and the target it sets (limited overs, super
// overs) or the side's lead once both sides have batted (no overs limit).
func (m *match) inningsSummary(in *innings) *pb.InningsSummary {
	t := &in.t
	s := &pb.InningsSummary{Number: int32(in.number), Team: in.team, Runs: int32(in.runs()), Wickets: int32(t.wickets),
		LegalBalls: int32(t.legal), AllOut: t.wickets >= 10, Declared: in.declared}
	for _, b := range t.batters {
		if tb := s.TopBatter; tb == nil || int32(b.runs) > tb.Runs || int32(b.runs) == tb.Runs && int32(b.balls) < tb.Balls {
			s.TopBatter = &pb.BatterFigures{Name: b.name, Runs: int32(b.runs), Balls: int32(b.balls)}
		}
	}
	for _, b := range t.bowlers {
		if tb := s.TopBowler; b.wickets > 0 && (tb == nil || int32(b.wickets) > tb.Wickets || int32(b.wickets) == tb.Wickets && int32(b.runs) < tb.Runs) {
			s.TopBowler = &pb.BowlerFigures{Name: b.name, LegalBalls: int32(b.legal), Maidens: int32(b.maidens), Runs: int32(b.runs), Wickets: int32(b.wickets)}
		}
	}
	var same []*innings // innings of in's kind up to in
	for _, o := range m.innings {
		if o.number <= in.number && o.superOver == in.superOver {
			same = append(same, o)
		}
	}
	switch {
	case (in.superOver || m.overs > 0) && len(same)%2 == 1:
		s.Target = s.Runs + 1
	case !in.superOver && m.infoKnown && m.overs == 0 && in.team != "" && slices.ContainsFunc(same, func(o *innings) bool { return o.team != in.team }):
		// A lead once both sides have batted.
		for _, o := range same {
			if o.team == in.team {
				s.Lead += int32(o.runs())
			} else {
				s.Lead -= int32(o.runs())
			}
		}
	}
	return s
}

var marginRE = regexp.MustCompile(`won by (an innings and )?(\d+) (run|wicket)`)

// matchResult is how the match ended, on a status event that ends it: the
// margin as the provider states it, else as the scorecard shows it.
func (m *match) matchResult(st *pb.Status) *pb.MatchResult {
	state := st.GetState()
	if state != "completed" && state != "abandoned" {
		return nil
	}
	r := &pb.MatchResult{Winner: st.GetWinner(), Text: st.GetResult()}
	lower := strings.ToLower(r.Text)
	if r.Winner == "" {
		switch {
		case strings.Contains(lower, "tie"):
			r.By = "tie"
		case strings.Contains(lower, "draw"):
			r.By = "draw"
		case state == "abandoned" || strings.Contains(lower, "no result") || strings.Contains(lower, "abandon"):
			r.By = "no result"
		}
		return r
	}
	if g := marginRE.FindStringSubmatch(r.Text); g != nil {
		n, _ := strconv.Atoi(g[2])
		r.Margin, r.By = int32(n), g[3]+"s"
		if g[1] != "" {
			r.By = "innings"
		}
		return r
	}
	var regular []*innings
	for _, in := range m.innings {
		if in.superOver {
			r.By = "super over"
			return r
		}
		regular = append(regular, in)
	}
	if len(regular) == 0 {
		return r
	}
	if last := regular[len(regular)-1]; last.team == r.Winner {
		r.By, r.Margin = "wickets", int32(max(10-last.t.wickets, 0))
		return r
	}
	won, lost, wonInns, lostInns := 0, 0, 0, 0
	for _, in := range regular {
		if in.team == r.Winner {
			won, wonInns = won+in.runs(), wonInns+1
		} else {
			lost, lostInns = lost+in.runs(), lostInns+1
		}
	}
	if won > lost {
		r.By, r.Margin = "runs", int32(won-lost)
		if wonInns == 1 && lostInns == 2 {
			r.By = "innings"
		}
	}
	return r
}
