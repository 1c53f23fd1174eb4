package broadcast_test

import (
	"testing"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
)

// TestBundledMatch streams the real Cricsheet match that ships with
// ballcast: every event arrives once and in order, with its payload intact,
// and the list and snapshot describe the finished match.
func TestBundledMatch(t *testing.T) {
	evs, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatalf("parse bundled match: %v", err)
	}
	env := startHub(t, broadcast.Config{QueueSize: len(evs) + 16}, nil)
	c := broadcasttest.Dial(t, env.url)
	c.Subscribe("1298179", broadcasttest.Fresh)
	c.NextOp(ctxT(t), broadcast.OpSnapshot)
	for i := range evs {
		evs[i].Seq = uint64(i + 1)
	}
	publishAll(t, env.hub, evs...)

	frames := expectEvents(t, c, "1298179", 1, uint64(len(evs)))
	var balls, wickets int
	for i, f := range frames {
		ev := evs[i]
		if f.ID != ev.ID || f.Kind != ev.Kind.String() {
			t.Fatalf("seq %d: got id %q kind %q, want %q %q", f.Seq, f.ID, f.Kind, ev.ID, ev.Kind)
		}
		if b := ev.Ball; b != nil {
			balls++
			got := f.Data.Ball
			if got == nil || got.Innings != b.Innings || got.Over != b.Over || got.Ball != b.Ball || got.Sub != b.Sub ||
				got.Batter != b.Batter || got.Bowler != b.Bowler || got.Runs != b.Runs() || got.Legal != b.Legal ||
				got.Extras.Wides != b.Extras.Wides || got.Four != b.Four() || got.Six != b.Six() || len(got.Wickets) != len(b.Wickets) {
				t.Fatalf("seq %d: got ball %+v, want %+v", f.Seq, got, b)
			}
			wickets += len(b.Wickets)
		}
	}
	if balls == 0 || wickets == 0 {
		t.Fatalf("got %d balls and %d wickets, want some of each", balls, wickets)
	}

	list := getMatches(t, env).Matches
	if len(list) != 1 {
		t.Fatalf("got %d matches, want 1", len(list))
	}
	m := list[0]
	if m.State != event.StateCompleted || m.Result != "England won by 5 wickets" || m.Seq != uint64(len(evs)) || len(m.Teams) != 2 {
		t.Fatalf("got %+v, want the completed match with %d events", m, len(evs))
	}

	c2 := broadcasttest.Dial(t, env.url)
	c2.Subscribe("1298179", broadcasttest.Fresh)
	snap := c2.NextOp(ctxT(t), broadcast.OpSnapshot)
	if snap.Info == nil || snap.Info.Title != m.Title || snap.Info.BallsPerOver != 6 || len(snap.Info.Players) != 2 {
		t.Fatalf("got info %+v, want the match info with both squads", snap.Info)
	}
}
