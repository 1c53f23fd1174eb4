package commentary_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
			lines := playMatch(t, evs)
			checkMatch(t, evs, lines, words)
			if id == sampleMatch {
				logSample(t, evs, lines)
			}
		})
	}
}

// playMatch runs evs through stats (in process) and commentary (sdktest)
// and returns each event's line ("" for none), by index.
func playMatch(t *testing.T, evs []event.Event) []string {
	t.Helper()
	st := stats.New()
	c := sdktest.Start(t, commentary.New(), map[string]any{"llm": map[string]any{"enabled": false}})
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
	return lines
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
	batRuns := map[string]int{}  // innings/batter → runs so far
	bowlWkts := map[string]int{} // innings/bowler → wickets so far
	var balls, fifties, hundreds, hauls int
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

		b := ev.Ball
		if b == nil {
			continue
		}
		bk := fmt.Sprintf("%d/%s", b.Innings, b.Batter)
		before := batRuns[bk]
		batRuns[bk] += b.RunsBat
		if before < 50 && batRuns[bk] >= 50 {
			fifties++
			if !strings.Contains(line, surname(b.Batter)) || !containsAny(strings.ToLower(line), "fifty", "50", "half-century") {
				t.Errorf("event %s: %s reaches %d, line %q does not mention the fifty", ev.ID, b.Batter, batRuns[bk], line)
			}
		}
		if before < 100 && batRuns[bk] >= 100 {
			hundreds++
			if !strings.Contains(line, surname(b.Batter)) || !containsAny(strings.ToLower(line), "hundred", "100", "century") {
				t.Errorf("event %s: %s reaches %d, line %q does not mention the hundred", ev.ID, b.Batter, batRuns[bk], line)
			}
		}
		for _, w := range b.Wickets {
			if !w.CreditsBowler() {
				continue
			}
			wk := fmt.Sprintf("%d/%s", b.Innings, b.Bowler)
			bowlWkts[wk]++
			if bowlWkts[wk] == 3 {
				hauls++
				if !strings.Contains(line, surname(b.Bowler)) || !containsAny(strings.ToLower(line), "three", "third", "3 wickets") {
					t.Errorf("event %s: %s's third wicket, line %q does not mention it", ev.ID, b.Bowler, line)
				}
			}
		}
	}
	t.Logf("%d balls, %d lines, %d fifties, %d hundreds, %d three-wicket hauls checked", balls, len(used), fifties, hundreds, hauls)
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
		if (r < '0' || r > '9') && r != '.' && r != '/' {
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
