package commentary

import (
	"strings"
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// These tests play made-up matches through the real stats stage and this
// stage, and check that the lines say what the stats stage's situation
// reports, at the ball it happens.

// dots bowls n overs' worth of dots of dots from bowler to batter and returns
// the lines.
func (s *sim) dots(n int, batter, bowler string) []string {
	var lines []string
	for range n * 6 {
		lines = append(lines, s.bowl(dot(batter, bowler)))
	}
	return lines
}

func lower(s string) string { return strings.ToLower(s) }

func TestPhaseChangeLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	lines := s.dots(6, "JC Buttler", "Haris Rauf")
	for _, l := range lines {
		if strings.Contains(l, "middle overs") {
			t.Errorf("powerplay ball %q mentions the middle overs", l)
		}
	}
	seventh := s.bowl(runs("JC Buttler", "Naseem Shah", 1))
	if !strings.Contains(seventh, "middle overs") {
		t.Errorf("first ball of the 7th over %q does not mention the middle overs", seventh)
	}
	s.dots(8, "JC Buttler", "Haris Rauf") // 85 balls
	for range 5 {
		s.bowl(runs("JC Buttler", "Haris Rauf", 1))
	}
	sixteenth := s.bowl(runs("JC Buttler", "Naseem Shah", 1))
	if !strings.Contains(sixteenth, "death overs") {
		t.Errorf("first ball of the 16th over %q does not mention the death overs", sixteenth)
	}
}

func TestHatTrickLines(t *testing.T) {
	wicket := func(batter string) *pb.Ball {
		b := dot(batter, "Shaheen Shah Afridi")
		b.Wickets = []*pb.Wicket{{Kind: "bowled", PlayerOut: batter}}
		return b
	}
	s := newSim(t, newTestStage(t), "m")
	s.bowl(dot("JC Buttler", "Shaheen Shah Afridi"))
	first := s.bowl(wicket("JC Buttler"))
	second := s.bowl(wicket("BA Stokes"))
	if strings.Contains(lower(first), "hat-trick") {
		t.Errorf("first wicket %q mentions a hat-trick", first)
	}
	if !strings.Contains(lower(second), "hat-trick") || !strings.Contains(second, "Shaheen Shah Afridi") {
		t.Errorf("second wicket in two balls %q does not say Afridi is on a hat-trick", second)
	}
	third := s.bowl(wicket("MM Ali"))
	if !strings.Contains(lower(third), "hat-trick") || !strings.Contains(third, "Shaheen Shah Afridi") {
		t.Errorf("third wicket in three balls %q does not mention the hat-trick", third)
	}

	s = newSim(t, newTestStage(t), "m2")
	s.bowl(wicket("JC Buttler"))
	s.bowl(wicket("BA Stokes"))
	survived := s.bowl(dot("MM Ali", "Shaheen Shah Afridi"))
	if !strings.Contains(lower(survived), "hat-trick") || !strings.Contains(survived, "Ali") {
		t.Errorf("hat-trick ball survived %q does not say so", survived)
	}
}

func TestNearMilestoneLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	for range 11 {
		s.bowl(runs("JC Buttler", "Haris Rauf", 4)) // 44
	}
	near := s.bowl(runs("JC Buttler", "Haris Rauf", 2)) // 46
	if !strings.Contains(near, "Buttler") || !strings.Contains(near, "50") {
		t.Errorf("Buttler to 46: line %q does not say he is close to 50", near)
	}
	after := s.bowl(dot("JC Buttler", "Haris Rauf"))
	if strings.Contains(after, "short of") || strings.Contains(after, "in sight") {
		t.Errorf("a dot at 46 repeats the near milestone: %q", after)
	}
}

func TestOverSummaryLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	var last string
	for range 6 {
		last = s.bowl(runs("JC Buttler", "Haris Rauf", 1))
	}
	if !strings.Contains(last, "1-0-6-0") || !strings.Contains(last, "6 runs") {
		t.Errorf("end of a six-run over %q: want 6 runs and Rauf's figures 1-0-6-0", last)
	}
	maiden := s.dots(1, "AD Hales", "Naseem Shah")[5]
	if !strings.Contains(lower(maiden), "maiden") || !strings.Contains(maiden, "1-1-0-0") {
		t.Errorf("end of a maiden %q: want the maiden and 1-1-0-0", maiden)
	}
}

func TestChasePressureLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	s.endInnings()
	s.startInnings(&pb.Target{Runs: 190, Overs: 20})
	var line string
	for i := range 60 { // 80 off 10 overs: 110 needed from 60 balls
		n := int32(1)
		if i%3 == 0 {
			n = 2
		}
		line = s.bowl(runs("Babar Azam", "MM Ali", n))
	}
	if !strings.Contains(line, "110 runs") || !strings.Contains(line, "60 balls") || !strings.Contains(lower(line), "pressure") {
		t.Errorf("end of over 10, 110 needed from 60: line %q, want the equation and the pressure", line)
	}
}

func TestInningsEndLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	for range 6 {
		s.bowl(runs("JC Buttler", "Haris Rauf", 4))
	}
	b := dot("AD Hales", "Haris Rauf")
	b.Wickets = []*pb.Wicket{{Kind: "bowled", PlayerOut: "AD Hales"}}
	s.bowl(b)
	end := s.endInnings().GetCommentary().GetText()
	for _, want := range []string{"Buttler", "24", "Haris Rauf", "1/24", "25"} {
		if !strings.Contains(end, want) {
			t.Errorf("innings end %q: want %q (top scorer, best bowler, target)", end, want)
		}
	}
}

func TestRecordLines(t *testing.T) {
	s := newSim(t, newTestStage(t), "m")
	for range 8 {
		s.bowl(runs("JC Buttler", "Haris Rauf", 4)) // 32
	}
	b := dot("JC Buttler", "Haris Rauf")
	b.Wickets = []*pb.Wicket{{Kind: "bowled", PlayerOut: "JC Buttler"}}
	s.bowl(b)
	s.endInnings()
	s.startInnings(&pb.Target{Runs: 200, Overs: 20})
	var line string
	for range 9 {
		line = s.bowl(runs("Babar Azam", "MM Ali", 4)) // 36 passes 32
		if strings.Contains(line, "score of the match") {
			break
		}
	}
	if !strings.Contains(line, "score of the match") || !strings.Contains(line, "Babar Azam") || !strings.Contains(line, "Buttler") {
		t.Errorf("Babar Azam passing Buttler's 32: line %q does not say it is the match's highest score", line)
	}
}
