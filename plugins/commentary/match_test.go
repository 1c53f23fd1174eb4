package commentary_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/plugins/commentary"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
	"github.com/ballcast/ballcast/plugins/stats"
)

// sampleMatch is the match whose lines the test prints for a reviewer.
const sampleMatch = "1298179"

// TestWholeMatches replays every dev match through the stats stage and then
// the commentary stage (over in-memory gRPC), and checks every line against
// facts the test computes on its own from the balls.
func TestWholeMatches(t *testing.T) {
	words := commentary.BankWords()
	for _, path := range cricsheettest.CricsheetFiles(t) {
		id := strings.TrimSuffix(filepath.Base(path), ".json")
		t.Run(id, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			evs, err := replay.Parse(id, data)
			if err != nil {
				t.Fatal(err)
			}
			lines, stage := playMatch(t, evs)
			checkMatch(t, evs, lines, words)
			checkMilestones(t, evs, lines)
			// The plugin's own grounding check (the one LLM lines go
			// through) on every template line, against the fact list the
			// LLM would get: every number and name must be in it.
			c := stage.Counters()
			if c.TemplateUngrounded != 0 {
				t.Errorf("%d of %d template lines fail the grounding check", c.TemplateUngrounded, c.Lines)
			}
			t.Logf("%d lines, %d failing the grounding check", c.Lines, c.TemplateUngrounded)
			if id == sampleMatch {
				logSample(t, evs, lines)
			}
		})
	}
}

// playMatch runs evs through stats (in process) and commentary (sdktest)
// and returns each event's line ("" for none), by index.
func playMatch(t *testing.T, evs []event.Event) ([]string, *commentary.Stage) {
	t.Helper()
	st := stats.New()
	stage := commentary.New()
	c := sdktest.Start(t, stage, map[string]any{"llm": map[string]any{"enabled": false}, "check_templates": true})
	lines := make([]string, len(evs))
	const batch = 32
	for start := 0; start < len(evs); start += batch {
		var in []*pb.Event
		for i := start; i < min(start+batch, len(evs)); i++ {
			p := eventpb.ToProto(&evs[i])
			p.Seq = uint64(i + 1)
			out, err := st.Process(context.Background(), p)
			if err != nil || len(out) != 1 {
				t.Fatalf("stats: event %s: %d events, %v", p.GetId(), len(out), err)
			}
			in = append(in, out[0])
		}
		res := c.ProcessBatch(in)
		for j, r := range res.GetResults() {
			if r.GetError() != "" || len(r.GetEvents()) != 1 {
				t.Fatalf("commentary: event %s: %d events, error %q", in[j].GetId(), len(r.GetEvents()), r.GetError())
			}
			out := r.GetEvents()[0]
			if out.GetId() != in[j].GetId() || out.GetKind() != in[j].GetKind() {
				t.Fatalf("commentary replaced event %s with %s", in[j].GetId(), out.GetId())
			}
			cm := out.GetCommentary()
			if cm != nil && (cm.GetFallback() || cm.GetModel() != "" || cm.GetLanguage() != "en") {
				t.Fatalf("event %s: template commentary = %v, want language en, no model, no fallback", out.GetId(), cm)
			}
			lines[start+j] = cm.GetText()
		}
	}
	return lines, stage
}

func checkMatch(t *testing.T, evs []event.Event, lines []string, bankWords map[string]bool) {
	t.Helper()
	// Every word of every name in the match: players, fielders, teams, and
	// the words of the result as the source states it.
	nameWords := map[string]bool{}
	addWords := func(s string) {
		for _, w := range splitWords(s) {
			nameWords[w] = true
		}
	}
	for _, ev := range evs {
		if ev.Info != nil {
			for team, players := range ev.Info.Players {
				addWords(team)
				for _, p := range players {
					addWords(p)
				}
			}
			for _, team := range ev.Info.Teams {
				addWords(team)
			}
		}
		if b := ev.Ball; b != nil {
			addWords(b.Batter + " " + b.NonStriker + " " + b.Bowler + " " + b.BattingTeam + " " + b.BowlingTeam)
			for _, w := range b.Wickets {
				addWords(w.PlayerOut + " " + strings.Join(w.Fielders, " "))
			}
		}
		if ev.Status != nil {
			addWords(ev.Status.Result)
		}
	}

	type key struct {
		innings int
		line    string
	}
	used := map[key]int{}
	var balls int
	innings := 0
	for i, ev := range evs {
		line := lines[i]
		switch ev.Kind {
		case event.KindBall:
			innings = ev.Ball.Innings
			balls++
		case event.KindInnings:
			innings = ev.Innings.Number
		}
		wantLine := ev.Kind == event.KindBall || ev.Kind == event.KindInnings ||
			ev.Kind == event.KindStatus && (ev.Status.State == event.StateCompleted || ev.Status.State == event.StateAbandoned)
		if wantLine != (line != "") {
			t.Errorf("event %s (%s): line %q, want a line: %v", ev.ID, ev.Kind, line, wantLine)
		}
		if line == "" {
			continue
		}
		if j, ok := used[key{innings, line}]; ok {
			t.Errorf("event %s repeats the line of event %s in innings %d: %q", ev.ID, evs[j].ID, innings, line)
		}
		used[key{innings, line}] = i
		for _, w := range splitWords(line) {
			w = strings.TrimSuffix(w, "'s")
			if bankWords[strings.ToLower(w)] || nameWords[w] || isNumber(w) {
				continue
			}
			t.Errorf("event %s: %q in line %q is neither phrase-bank text nor a name from the match", ev.ID, w, line)
		}

	}
	t.Logf("%d balls, %d lines", balls, len(used))
}

func logSample(t *testing.T, evs []event.Event, lines []string) {
	t.Helper()
	// The first innings' start, some balls from both innings including
	// every wicket and milestone line, and the result: 15 lines.
	var picked []int
	seen := map[int]bool{}
	add := func(i int) {
		if len(picked) < 15 && !seen[i] && lines[i] != "" {
			picked, seen[i] = append(picked, i), true
		}
	}
	add(1)
	for i, ev := range evs {
		if ev.Ball != nil && (len(ev.Ball.Wickets) > 0 || strings.Contains(strings.ToLower(lines[i]), "fifty")) {
			add(i)
		}
		if len(picked) >= 8 {
			break
		}
	}
	for i := 2; i < len(evs) && len(picked) < 14; i += len(evs) / 7 {
		add(i)
	}
	add(len(evs) - 1)
	for _, i := range picked {
		t.Logf("%-22s %s", evs[i].ID, lines[i])
	}
}

func surname(full string) string {
	f := strings.Fields(full)
	return f[len(f)-1]
}

func isNumber(w string) bool {
	for _, r := range w {
		if (r < '0' || r > '9') && r != '.' && r != '/' && r != '-' {
			return false
		}
	}
	return w != ""
}

func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '\'' || r == '-' || r > 127)
	})
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// milestone is one the test finds in the balls themselves, with what its
// line must say: every one of all, and one of any (lower case).
type milestone struct {
	kind string
	id   string
	all  []string
	any  []string
}

// findMilestones computes, from the Cricsheet balls alone (not from the
// stats stage), every milestone of the match: a batter's 50, 100, 150, ...;
// a bowler's 3rd, 4th and 5th wicket; a hat-trick (wickets credited to the
// bowler with three of his deliveries in a row, wides and no-balls that
// took none not counting); the team's 50, 100, ...; a stand's 50, 100,
// ... (a stand is the runs while the same two batters are in; any
// dismissal ends it, and a ball with a dismissal brings up none); and the
// target reached.
func findMilestones(evs []event.Event) map[int][]milestone {
	out := map[int][]milestone{}
	type inn struct {
		runs, target int
		bat, bowl    map[string]int
		hat          map[string][]bool
		pair         [2]string
		stand        int
	}
	var first, cur *inn
	n := 0
	for i, ev := range evs {
		b := ev.Ball
		if b == nil {
			continue
		}
		if b.Innings != n {
			n = b.Innings
			cur = &inn{bat: map[string]int{}, bowl: map[string]int{}, hat: map[string][]bool{}}
			switch {
			case first == nil:
				first = cur
			case n == 2 && !b.SuperOver && evs[0].Info != nil && evs[0].Info.Overs > 0:
				cur.target = first.runs + 1
			}
		}
		add := func(m milestone) { m.id = ev.ID; out[i] = append(out[i], m) }
		before := cur.bat[b.Batter]
		cur.bat[b.Batter] += b.RunsBat
		for v := 50; v <= cur.bat[b.Batter]; v += 50 {
			if before < v {
				m := milestone{kind: fmt.Sprintf("batter %d", v), all: []string{surname(b.Batter)}, any: []string{strconv.Itoa(v)}}
				switch v {
				case 50:
					m.any = append(m.any, "fifty", "half-century")
				case 100:
					m.any = append(m.any, "hundred", "century")
				}
				add(m)
			}
		}
		credited := 0
		for _, w := range b.Wickets {
			if w.CreditsBowler() {
				credited++
			}
		}
		for range credited {
			cur.bowl[b.Bowler]++
			words := map[int][]string{3: {"three", "third"}, 4: {"four", "fourth"}, 5: {"five"}}[cur.bowl[b.Bowler]]
			if words != nil {
				add(milestone{kind: fmt.Sprintf("bowler %d wickets", cur.bowl[b.Bowler]), all: []string{surname(b.Bowler)}, any: words})
			}
		}
		if b.Legal || credited > 0 {
			h := append(cur.hat[b.Bowler], credited > 0)
			cur.hat[b.Bowler] = h
			if k := len(h); k >= 3 && h[k-1] && h[k-2] && h[k-3] {
				add(milestone{kind: "hat-trick", all: []string{surname(b.Bowler)}, any: []string{"hat-trick"}})
			}
		}
		teamBefore := cur.runs
		cur.runs += b.Runs()
		for v := 50; v <= cur.runs; v += 50 {
			if teamBefore < v {
				add(milestone{kind: "team", all: []string{strconv.Itoa(v)}})
			}
		}
		if p := [2]string{b.Batter, b.NonStriker}; p != cur.pair && [2]string{p[1], p[0]} != cur.pair {
			cur.pair, cur.stand = p, 0
		}
		standBefore := cur.stand
		cur.stand += b.Runs()
		if len(b.Wickets) > 0 {
			cur.pair, cur.stand = [2]string{}, 0
		} else {
			for v := 50; v <= cur.stand; v += 50 {
				if standBefore < v {
					add(milestone{kind: fmt.Sprintf("partnership %d", v), all: []string{surname(b.Batter)},
						any: []string{"partnership", "stand", "together"}})
				}
			}
		}
		if cur.target > 0 && teamBefore < cur.target && cur.runs >= cur.target {
			add(milestone{kind: "target", any: []string{"target"}})
		}
	}
	return out
}

// checkMilestones checks that the line of every ball that brings up a
// milestone mentions it.
func checkMilestones(t *testing.T, evs []event.Event, lines []string) {
	t.Helper()
	counts := map[string]int{}
	found := findMilestones(evs)
	for i, ms := range found {
		line := lines[i]
		for _, m := range ms {
			counts[strings.Fields(m.kind)[0]]++
			ok := true
			for _, w := range m.all {
				ok = ok && strings.Contains(line, w)
			}
			if !ok || m.any != nil && !containsAny(strings.ToLower(line), m.any...) {
				t.Errorf("event %s: %s, line %q does not mention it", m.id, m.kind, line)
			}
		}
	}
	t.Logf("milestones mentioned: %v", counts)
}
