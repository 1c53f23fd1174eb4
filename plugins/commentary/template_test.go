package commentary

import (
	"context"
	"fmt"
	"strings"
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// categories the engine uses; each must be in the bank.
var usedCategories = []string{
	"dot", "single", "two", "three", "runs", "runs_no_boundary", "four", "six",
	"wide", "wides", "noball", "noball_runs", "noball_four", "noball_six",
	"bye", "byes", "legbye", "legbyes", "penalty_only",
	"bowled", "caught", "caught_and_bowled", "lbw", "stumped", "run_out", "run_out_nofielder",
	"hit_wicket", "retired", "wicket_other", "wicket_also",
	"note_wide", "note_noball", "note_bat_runs", "note_byes", "note_legbyes", "note_penalty",
	"batter_50", "batter_100", "batter_more", "bowler_3", "bowler_4", "bowler_5", "bowler_more",
	"team", "partnership_50", "partnership_100", "partnership_more", "target",
	"score", "score_allout", "end_over", "chase", "chase_rate", "chase_unlimited",
	"innings_first", "innings_first_toss_self", "innings_first_toss_other", "innings_chase",
	"innings_chase_revised", "innings_chase_unlimited", "innings_again", "innings_next",
	"innings_super", "innings_super_chase", "innings_super_next",
	"innings_end", "innings_end_allout", "innings_end_declared", "innings_end_noscore",
	"result_win", "result_other",
	// From the stats stage's situation.
	"hat_trick", "hat_trick_on", "hat_trick_missed",
	"record_highest_score", "record_highest_score_passing", "record_best_bowling", "record_best_bowling_passing",
	"record_most_sixes", "record_most_sixes_passing", "record_biggest_partnership",
	"phase_middle", "phase_death", "phase_session",
	"near_batter", "near_bowler", "near_team", "near_partnership",
	"dot_streak", "momentum_surge", "momentum_quiet", "end_over_summary", "end_over_maiden",
	"chase_pressure_low", "chase_pressure_high", "chase_pressure_extreme",
	"innings_top_batter", "innings_top_bowler", "innings_target", "innings_lead", "innings_trail",
}

func TestBank(t *testing.T) {
	e, err := newEngine("en")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, c := range usedCategories {
		used[c] = true
		if len(e.bank[c]) < 2 {
			t.Errorf("category %s has %d variants, want at least 2", c, len(e.bank[c]))
		}
	}
	for c := range e.bank {
		if !used[c] {
			t.Errorf("category %s is in the bank but never used", c)
		}
	}
	// Every ball outcome names the bowler and the batter (or the player out).
	ballCats := usedCategories[:29] // up to wicket_other
	for _, c := range ballCats {
		for _, p := range e.bank[c] {
			s := strings.Join(p.slots, " ")
			if !strings.Contains(s, "bowler") || !containsAny(s, "batter", "out") {
				t.Errorf("%s variant %q does not name both bowler and batter", c, p.expand(slots{}))
			}
		}
	}
	// Milestone and dismissal variants say what happened in words a reader
	// (and the whole-match test) recognises.
	keywords := map[string][]string{
		"batter_50":         {"fifty", "50", "half-century"},
		"batter_100":        {"hundred", "100", "century"},
		"bowler_3":          {"three", "third"},
		"bowler_4":          {"four", "fourth"},
		"bowler_5":          {"five"},
		"bowled":            {"bowl"},
		"caught":            {"{fielder}"},
		"stumped":           {"stumped"},
		"lbw":               {"lbw", "leg before"},
		"run_out":           {"run out", "{fielders}"},
		"caught_and_bowled": {"caught and bowled", "return catch"},
		"four":              {"four", "boundary"},
		"six":               {"six", "maximum"},
		"wide":              {"wide"},
		"noball":            {"no-ball"},
		"legbye":            {"leg-bye"},
		"target":            {"target"},
	}
	for c, kws := range keywords {
		for _, p := range e.bank[c] {
			raw := strings.ToLower(strings.Join(p.lits, "{}"))
			var withSlots strings.Builder
			for i, l := range p.lits {
				withSlots.WriteString(strings.ToLower(l))
				if i < len(p.slots) {
					withSlots.WriteString("{" + p.slots[i] + "}")
				}
			}
			if !containsAny(raw, kws...) && !containsAny(withSlots.String(), kws...) {
				t.Errorf("%s variant %q has none of %q", c, withSlots.String(), kws)
			}
		}
	}
}

func TestParsePhrase(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{name: "plain", in: "Dot ball.", want: "Dot ball."},
		{name: "slots", in: "{bowler} to {batter}, four.", want: "Rauf to Buttler, four."},
		{name: "unknown slot", in: "{bowlr} to {batter}", err: true},
		{name: "open brace", in: "{bowler to", err: true},
		{name: "close brace", in: "bowler} to", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePhrase(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("parsePhrase(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if err == nil {
				if got := p.expand(slots{"bowler": "Rauf", "batter": "Buttler"}); got != tc.want {
					t.Fatalf("expand = %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestBallLines(t *testing.T) {
	const bat, bowl = "JC Buttler", "Haris Rauf"
	with := func(f func(b *pb.Ball)) *pb.Ball {
		b := dot(bat, bowl)
		f(b)
		return b
	}
	wicket := func(kind, out string, fielders ...string) *pb.Ball {
		return with(func(b *pb.Ball) {
			b.Wickets = []*pb.Wicket{{Kind: kind, PlayerOut: out, Fielders: fielders}}
		})
	}
	tests := []struct {
		name string
		ball *pb.Ball
		want []string // every one must appear
		any  []string // one must appear, case-insensitive
	}{
		{"dot", dot(bat, bowl), []string{"Buttler", "Haris Rauf"}, []string{"no run", "dot", "nothing", "not a run", "scoreless"}},
		{"single", runs(bat, bowl, 1), []string{"Buttler", "Haris Rauf"}, []string{"single", "one"}},
		{"two", runs(bat, bowl, 2), []string{"Buttler", "Haris Rauf"}, []string{"two", "couple", "second"}},
		{"three", runs(bat, bowl, 3), []string{"Buttler", "Haris Rauf"}, []string{"three"}},
		{"four", runs(bat, bowl, 4), []string{"Buttler", "Haris Rauf", "4/0"}, []string{"four", "boundary"}},
		{"four all run", with(func(b *pb.Ball) { b.RunsBat, b.NonBoundary = 4, true }), []string{"Buttler", "Haris Rauf", "4"}, []string{"not a boundary", "run or overthrown", "without"}},
		{"six", runs(bat, bowl, 6), []string{"Buttler", "Haris Rauf", "6/0"}, []string{"six", "maximum"}},
		{"five runs", runs(bat, bowl, 5), []string{"Buttler", "Haris Rauf", "5 runs"}, nil},
		{"wide", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Wides: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"wide"}},
		{"five wides", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Wides: 5} }), []string{"Buttler", "Haris Rauf", "5", "5/0"}, []string{"wide"}},
		{"no-ball", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Noballs: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"no-ball"}},
		{"no-ball four", with(func(b *pb.Ball) { b.RunsBat, b.Extras = 4, &pb.Extras{Noballs: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"four", "boundary"}},
		{"no-ball six", with(func(b *pb.Ball) { b.RunsBat, b.Extras = 6, &pb.Extras{Noballs: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"six", "rope"}},
		{"no-ball single", with(func(b *pb.Ball) { b.RunsBat, b.Extras = 1, &pb.Extras{Noballs: 1} }), []string{"Buttler", "Haris Rauf", "1 run"}, []string{"no-ball"}},
		{"bye", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Byes: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"bye"}},
		{"four byes", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Byes: 4} }), []string{"Buttler", "Haris Rauf", "4 byes"}, nil},
		{"leg-bye", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Legbyes: 1} }), []string{"Buttler", "Haris Rauf"}, []string{"leg-bye"}},
		{"two leg-byes", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Legbyes: 2} }), []string{"Buttler", "Haris Rauf", "2 leg-byes"}, nil},
		{"penalty", with(func(b *pb.Ball) { b.Extras = &pb.Extras{Penalty: 5} }), []string{"Buttler", "Haris Rauf", "5 runs", "England"}, []string{"penalty"}},
		{"bowled", wicket("bowled", bat), []string{"Buttler", "Haris Rauf", "0/1"}, []string{"bowl"}},
		{"caught", wicket("caught", bat, "Mohammad Rizwan"), []string{"Buttler", "Haris Rauf", "Mohammad Rizwan"}, []string{"caught", "catch", " c "}},
		{"caught no fielder", wicket("caught", bat), []string{"Buttler", "Haris Rauf"}, []string{"caught"}},
		{"caught and bowled", wicket("caught and bowled", bat), []string{"Buttler", "Haris Rauf"}, []string{"caught and bowled", "return catch"}},
		{"lbw", wicket("lbw", bat), []string{"Buttler", "Haris Rauf"}, []string{"lbw", "leg before"}},
		{"stumped", wicket("stumped", bat, "Mohammad Rizwan"), []string{"Buttler", "Haris Rauf", "Mohammad Rizwan"}, []string{"stumped"}},
		{"run out non-striker", wicket("run out", "AD Hales", "Shadab Khan", "Mohammad Rizwan"), []string{"Hales", "Haris Rauf", "Shadab Khan", "Mohammad Rizwan"}, []string{"run out"}},
		{"run out no fielder", wicket("run out", bat), []string{"Buttler", "Haris Rauf"}, []string{"run out"}},
		{"run out after a run", with(func(b *pb.Ball) {
			b.RunsBat = 1
			b.Wickets = []*pb.Wicket{{Kind: "run out", PlayerOut: "AD Hales", Fielders: []string{"Babar Azam"}}}
		}), []string{"Hales", "Babar Azam", "1 run"}, []string{"run out"}},
		{"stumped off a wide", with(func(b *pb.Ball) {
			b.Extras = &pb.Extras{Wides: 1}
			b.Wickets = []*pb.Wicket{{Kind: "stumped", PlayerOut: bat, Fielders: []string{"Mohammad Rizwan"}}}
		}), []string{"Buttler", "Mohammad Rizwan"}, []string{"wide"}},
		{"hit wicket", wicket("hit wicket", bat), []string{"Buttler", "Haris Rauf"}, []string{"hit wicket"}},
		{"retired hurt", wicket("retired hurt", bat), []string{"Buttler", "Haris Rauf", "retires hurt"}, nil},
		{"obstructing the field", wicket("obstructing the field", bat), []string{"Buttler", "Haris Rauf", "obstructing the field"}, nil},
		{"two wickets", with(func(b *pb.Ball) {
			b.Wickets = []*pb.Wicket{{Kind: "run out", PlayerOut: bat, Fielders: []string{"Babar Azam"}}, {Kind: "retired out", PlayerOut: "AD Hales"}}
		}), []string{"Buttler", "Hales", "Babar Azam"}, []string{"retired out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t, newTestStage(t), "m")
			line := s.bowl(tc.ball)
			mustContain(t, line, tc.want...)
			if tc.any != nil && !containsAny(strings.ToLower(line), tc.any...) {
				t.Errorf("line %q has none of %q", line, tc.any)
			}
			t.Log(line)
		})
	}
}

func TestInningsAndResultLines(t *testing.T) {
	st := newTestStage(t)
	s := newSim(t, st, "m")
	// newSim started innings 1; rebuild it to capture the line.
	st2 := newTestStage(t)
	s2 := &sim{t: t, stage: st2, sc: newScorer(), match: "m2", teams: s.teams}
	s2.send(&pb.Event{Kind: "status", Status: &pb.Status{State: "live"}, Info: &pb.MatchInfo{Teams: s.teams[:], Overs: 20, TossWinner: "Pakistan", TossDecision: "field"}})
	start := s2.startInnings(nil).GetCommentary().GetText()
	mustContain(t, start, "England", "bat first", "Pakistan won the toss")

	for range 6 {
		s.bowl(runs("JC Buttler", "Haris Rauf", 1))
	}
	end := s.endInnings().GetCommentary().GetText()
	mustContain(t, end, "England", "6/0", "1 over")

	chase := s.startInnings(&pb.Target{Runs: 7, Overs: 20}).GetCommentary().GetText()
	mustContain(t, chase, "Pakistan", "7", "20 overs")

	var lines []string
	for range 3 {
		lines = append(lines, s.bowl(runs("Babar Azam", "MM Ali", 2)))
	}
	mustContain(t, lines[0], "5 runs", "119 balls") // notable: tight chase, need <= 12
	last := s.bowl(runs("Babar Azam", "MM Ali", 1))
	mustContain(t, strings.ToLower(last), "target", "pakistan", "7/0")
	if strings.Contains(last, "need") {
		t.Errorf("winning ball %q still says what is needed", last)
	}
	res := s.send(&pb.Event{Kind: "status", Id: "m/status/completed", Status: &pb.Status{State: "completed", Result: "Pakistan won by 10 wickets", Winner: "Pakistan"}})
	if got, want := res.GetCommentary().GetText(), "Pakistan win by 10 wickets"; !strings.Contains(got, want) {
		t.Errorf("result line %q, want it to contain %q", got, want)
	}
	if _, ok := st.matches["m"]; ok {
		t.Error("match state kept after the result")
	}
}

func TestMilestones(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	var lines []string
	bowl := func(b *pb.Ball) string {
		l := s.bowl(b)
		lines = append(lines, l)
		return l
	}
	for range 12 {
		if l := bowl(runs("JC Buttler", "Naseem Shah", 4)); containsAny(strings.ToLower(l), "fifty", "half-century") {
			t.Errorf("fifty mentioned early: %q", l)
		}
	}
	fifty := bowl(runs("JC Buttler", "Naseem Shah", 2)) // 50 off 13
	mustContain(t, fifty, "Buttler", "13")
	if !containsAny(strings.ToLower(fifty), "fifty", "50", "half-century") {
		t.Errorf("fifty ball %q does not mention the fifty", fifty)
	}
	if !containsAny(fifty, "partnership", "stand", "together") {
		t.Errorf("fifty ball %q does not mention the 50 partnership", fifty)
	}
	if !containsAny(fifty, "50 is up", "bring up 50", "50 up", "the 50") {
		t.Errorf("fifty ball %q does not mention the team's 50", fifty)
	}
	for range 12 {
		bowl(runs("JC Buttler", "Naseem Shah", 4))
	}
	hundred := bowl(runs("JC Buttler", "Naseem Shah", 4)) // 102 off 26
	if !containsAny(strings.ToLower(hundred), "hundred", "100", "century") || !strings.Contains(hundred, "Buttler") {
		t.Errorf("hundred ball %q does not mention Buttler's hundred", hundred)
	}
	var third string
	for i, b := range []string{"JC Buttler", "BA Stokes", "MM Ali"} {
		l := bowl(&pb.Ball{Batter: b, NonStriker: "AD Hales", Bowler: "Haris Rauf", Wickets: []*pb.Wicket{{Kind: "bowled", PlayerOut: b}}})
		if i < 2 && containsAny(l, "three", "third", "Three") {
			t.Errorf("wicket %d mentions a third wicket: %q", i+1, l)
		}
		third = l
	}
	mustContain(t, third, "Haris Rauf", "3/0")
	if !containsAny(strings.ToLower(third), "three", "third") {
		t.Errorf("third wicket %q does not mention the three-wicket haul", third)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Errorf("line repeated: %q", l)
		}
		seen[l] = true
	}
}

// Milestones come from the situation the stats stage attached, not from
// the scorecard: a ball whose card shows a batter on 52 but whose
// situation reports nothing gets no fifty, and one whose situation reports
// the fifty gets it.
func TestMilestonesFromSituation(t *testing.T) {
	card := &pb.InningsCard{Number: 1, Team: "England", Runs: 120, Wickets: 1, LegalBalls: 59,
		Batters:     []*pb.BatterCard{{Name: "JC Buttler", Runs: 52, Balls: 30}},
		Bowlers:     []*pb.BowlerCard{{Name: "Haris Rauf", LegalBalls: 11, Runs: 20}},
		Partnership: &pb.Partnership{Runs: 70, Batters: []string{"JC Buttler", "AD Hales"}}}
	ball := func(id string, sit *pb.Situation) string {
		ev := &pb.Event{Id: id, Match: "x", Kind: "ball", Scorecard: &pb.Scorecard{Innings: []*pb.InningsCard{card}}, Situation: sit,
			Ball: &pb.Ball{Innings: 1, Over: 9, Ball: 5, Legal: true, BattingTeam: "England", BowlingTeam: "Pakistan",
				Batter: "JC Buttler", NonStriker: "AD Hales", Bowler: "Haris Rauf", RunsBat: 4}}
		out, err := newTestStage(t).Process(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		return out[0].GetCommentary().GetText()
	}
	if line := ball("x/1", nil); containsAny(strings.ToLower(line), "fifty", "50", "half-century") {
		t.Errorf("line %q: a fifty without the situation reporting one", line)
	}
	line := ball("x/2", &pb.Situation{Innings: 1, Milestones: []*pb.Milestone{{Kind: "batter_50", Player: "JC Buttler", Value: 50, Runs: 52, Balls: 30}}})
	if !containsAny(strings.ToLower(line), "fifty", "50", "half-century") || !strings.Contains(line, "30") {
		t.Errorf("line %q: want Buttler's fifty off 30 balls", line)
	}
}

func TestNoRepeatsAndDeterministic(t *testing.T) {
	play := func() []string {
		s := newSim(t, newTestStage(t), "same")
		var lines []string
		for i := range 400 {
			var b *pb.Ball
			switch i % 5 {
			case 4:
				b = dot("AD Hales", "Haris Rauf")
				b.Extras = &pb.Extras{Wides: 1}
			default:
				b = dot("JC Buttler", "Haris Rauf")
			}
			lines = append(lines, s.bowl(b))
		}
		return lines
	}
	a, b := play(), play()
	seen := map[string]int{}
	for i, l := range a {
		if j, ok := seen[l]; ok {
			t.Fatalf("line %d repeats line %d: %q", i, j, l)
		}
		seen[l] = i
		if b[i] != l {
			t.Fatalf("line %d differs between identical runs: %q vs %q", i, l, b[i])
		}
	}
	t.Logf("first lines: %q", a[:8])
}

func TestRedeliveryKeepsLine(t *testing.T) {
	st := newTestStage(t)
	s := newSim(t, st, "m")
	b := runs("JC Buttler", "Haris Rauf", 4)
	first := s.bowl(b)
	ev := &pb.Event{Id: "m/1.0.1.0", Match: "m", Kind: "ball", Ball: b, Scorecard: s.sc.sc}
	out, err := st.Process(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].GetCommentary().GetText(); got != first {
		t.Fatalf("re-delivered ball got %q, want the same line %q", got, first)
	}

	// A late copy in the next innings changes nothing there either.
	s.endInnings()
	s.startInnings(&pb.Target{Runs: 200, Overs: 20})
	seen := map[string]bool{}
	for i := range 60 {
		if i == 30 {
			ev := &pb.Event{Id: "m/1.0.1.0", Match: "m", Kind: "ball", Ball: b, Scorecard: s.sc.sc}
			out, err := st.Process(context.Background(), ev)
			if err != nil || out[0].GetCommentary().GetText() != first {
				t.Fatalf("late re-delivery got %v, %v; want %q", out, err, first)
			}
		}
		l := s.bowl(dot("Babar Azam", "MM Ali"))
		if seen[l] {
			t.Fatalf("line %d of innings 2 repeats: %q", i, l)
		}
		seen[l] = true
	}
}

func TestPassThrough(t *testing.T) {
	st := newTestStage(t)
	for _, ev := range []*pb.Event{
		{Id: "m/status/live", Match: "m", Kind: "status", Status: &pb.Status{State: "live"}},
		{Id: "m/over/1.0", Match: "m", Kind: "over", Over: &pb.Over{Innings: 1, Number: 0}},
		{Id: "m/score", Match: "m", Kind: "score", Score: &pb.Score{Runs: 10}},
		{Id: "m/ball-without-ball", Match: "m", Kind: "ball"},
	} {
		out, err := st.Process(context.Background(), ev)
		if err != nil || len(out) != 1 || out[0] != ev || ev.Commentary != nil {
			t.Errorf("%s: got %v, %v; want the event back unchanged", ev.Id, out, err)
		}
	}
}

func TestNames(t *testing.T) {
	nm := newNames(&pb.MatchInfo{Players: map[string]*pb.TeamPlayers{
		"A": {Players: []string{"JC Buttler", "Babar Azam", "Q de Kock", "AB Smith", "CD Smith", "Hales", "AD Hales"}},
	}})
	for full, want := range map[string]string{
		"JC Buttler": "Buttler", "Babar Azam": "Babar Azam", "Q de Kock": "de Kock",
		"AB Smith": "AB Smith", "AD Hales": "AD Hales", "Hales": "Hales", "New Player": "New Player",
	} {
		if got := nm.display(full); got != want {
			t.Errorf("display(%q) = %q, want %q", full, got, want)
		}
	}
}

func TestGroundedNumbers(t *testing.T) {
	if !grounded("Buttler 45/1 after 3.4 overs", "score 45/1 after 3.4 overs") {
		t.Error("grounded line rejected")
	}
	if grounded("Buttler has 99 runs", "Buttler has 98 runs") {
		t.Error("ungrounded number accepted")
	}
	if got := fmt.Sprint(numbers("a 45/1 b 3.4 c 12.")); got != "[45 1 3.4 12]" {
		t.Errorf("numbers = %s", got)
	}
}
