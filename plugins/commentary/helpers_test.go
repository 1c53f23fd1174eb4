package commentary

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

// scorer attaches a scorecard and a situation to each event, as the
// stats stage does in a pipeline: it is the stats stage, in process.
type scorer struct {
	st *stats.Stage
	sc *pb.Scorecard // the last scorecard attached
}

func newScorer() *scorer { return &scorer{st: stats.New()} }

// apply runs ev through the stats stage, which attaches its scorecard and
// situation to ev.
func (s *scorer) apply(ev *pb.Event) {
	out, err := s.st.Process(context.Background(), ev)
	if err != nil || len(out) != 1 {
		panic(fmt.Sprintf("stats: event %s: %d events, %v", ev.GetId(), len(out), err))
	}
	s.sc = ev.GetScorecard()
}

// sim plays a made-up match through a Stage in process, numbering balls the
// way the replay source does.
type sim struct {
	t      testing.TB
	stage  *Stage
	sc     *scorer
	match  string
	teams  [2]string
	inn    int
	over   int
	legal  int
	pos    int
	sub    int
	seq    uint64
	target *pb.Target
}

func newSim(t testing.TB, stage *Stage, match string) *sim {
	t.Helper()
	s := &sim{t: t, stage: stage, sc: newScorer(), match: match, teams: [2]string{"England", "Pakistan"}}
	s.send(&pb.Event{Kind: "status", Id: match + "/status/live", Status: &pb.Status{State: "live"}, Info: &pb.MatchInfo{
		Teams: s.teams[:], Overs: 20, BallsPerOver: 6, TossWinner: "Pakistan", TossDecision: "field",
		Players: map[string]*pb.TeamPlayers{
			"England":  {Players: []string{"JC Buttler", "AD Hales", "BA Stokes", "MM Ali", "HC Brook", "LS Livingstone"}},
			"Pakistan": {Players: []string{"Babar Azam", "Mohammad Rizwan", "Shaheen Shah Afridi", "Haris Rauf", "Naseem Shah", "Shadab Khan"}},
		}}})
	s.startInnings(nil)
	return s
}

func (s *sim) send(ev *pb.Event) *pb.Event {
	s.t.Helper()
	s.seq++
	ev.Match, ev.Seq = s.match, s.seq
	s.sc.apply(ev)
	out, err := s.stage.Process(context.Background(), ev)
	if err != nil || len(out) != 1 {
		s.t.Fatalf("Process(%s) = %d events, %v; want 1 event", ev.GetId(), len(out), err)
	}
	return out[0]
}

func (s *sim) startInnings(target *pb.Target) *pb.Event {
	s.inn++
	s.over, s.legal, s.pos, s.sub = 0, 0, 0, 0
	s.target = target
	return s.send(&pb.Event{Kind: "innings", Id: fmt.Sprintf("%s/innings/%d/start", s.match, s.inn),
		Innings: &pb.Innings{Number: int32(s.inn), Team: s.batting(), Target: target}})
}

func (s *sim) endInnings() *pb.Event {
	return s.send(&pb.Event{Kind: "innings", Id: fmt.Sprintf("%s/innings/%d/end", s.match, s.inn),
		Innings: &pb.Innings{Number: int32(s.inn), Team: s.batting(), End: true}})
}

func (s *sim) batting() string { return s.teams[(s.inn+1)%2] }

// bowl sends b after filling in its position and teams, and returns the
// line written for it.
func (s *sim) bowl(b *pb.Ball) string {
	s.t.Helper()
	return s.bowlC(b).GetText()
}

// bowlC is bowl returning the whole commentary.
func (s *sim) bowlC(b *pb.Ball) *pb.Commentary {
	s.t.Helper()
	b.Innings, b.BattingTeam, b.BowlingTeam = int32(s.inn), s.batting(), s.teams[s.inn%2]
	b.Legal = b.GetExtras().GetWides() == 0 && b.GetExtras().GetNoballs() == 0
	if s.legal+1 != s.pos {
		s.pos, s.sub = s.legal+1, 0
	} else {
		s.sub++
	}
	b.Over, b.Ball, b.Sub = int32(s.over), int32(s.pos), int32(s.sub)
	if b.Legal {
		s.legal++
	}
	ev := s.send(&pb.Event{Kind: "ball", Id: fmt.Sprintf("%s/%d.%d.%d.%d", s.match, b.Innings, b.Over, b.Ball, b.Sub), Ball: b})
	if s.legal == 6 {
		s.over, s.legal, s.pos, s.sub = s.over+1, 0, 0, 0
	}
	if ev.GetCommentary().GetText() == "" {
		s.t.Fatalf("ball %s: no commentary", ev.GetId())
	}
	return ev.GetCommentary()
}

// dot is a ball with no run from bowler to batter.
func dot(batter, bowler string) *pb.Ball {
	return &pb.Ball{Batter: batter, NonStriker: "AD Hales", Bowler: bowler}
}

func runs(batter, bowler string, n int32) *pb.Ball {
	b := dot(batter, bowler)
	b.RunsBat = n
	return b
}

// mustContain fails unless s contains every one of subs.
func mustContain(t testing.TB, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("line %q does not contain %q", s, sub)
		}
	}
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func newTestStage(t testing.TB) *Stage {
	t.Helper()
	s := New()
	if err := s.Configure(context.Background(), sdk.NewConfig("commentary", []byte(`{"llm":{"enabled":false}}`))); err != nil {
		t.Fatal(err)
	}
	return s
}

// splitWords splits s into words: letters, digits, apostrophes and hyphens.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '\'' || r == '-' || r > 127)
	})
}
