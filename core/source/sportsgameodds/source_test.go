package sportsgameodds_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	sgo "github.com/ballcast/ballcast/core/source/sportsgameodds"
	"github.com/ballcast/ballcast/core/source/sportsgameodds/sgosim"
	"github.com/ballcast/ballcast/internal/polltest"
)

// TestReplayThroughSimulatorWithFaults replays the bundled T20 final
// through the simulator with every fault on (connections dropped and
// pusher:error 4200/4100 just before a notification, so it reaches nobody;
// malformed, duplicated and delayed notifications; a wrong Pusher key on
// the first session) into the real source: it must see every state change exactly
// once and in order, recovering each missed notification by the resync
// that follows every reconnect.
func TestReplayThroughSimulatorWithFaults(t *testing.T) {
	evs, err := replay.Parse("wc22final", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	want := append([]string{"wc22final/status/scheduled"}, sgosim.StateIDs("wc22final", evs)...)
	sim, err := sgosim.New(sgosim.Config{
		APIKey: "k3y", Interval: 2 * time.Millisecond, Lockstep: true,
		Faults: sgosim.Faults{DropEvery: 41, ErrorEvery: 67, ErrorCodes: []int{4200, 4100}, MalformedEvery: 29, DuplicateEvery: 7, WrongKeyFirst: 1, Delay: time.Millisecond},
	}, map[string][]event.Event{"wc22final": evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()

	t.Setenv("TEST_SGO_KEY", "k3y")
	src, err := sgo.New(sgo.Config{
		APIKeyEnv: "TEST_SGO_KEY", APIURL: api.URL + "/v2", Feed: sgo.FeedByID, EventID: "wc22final",
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond, HTTPTimeout: 5 * time.Second,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out := make(chan event.Event, 64)
	srcDone := make(chan error, 1)
	go func() { srcDone <- src.Run(ctx, out) }()
	simDone := make(chan error, 1)
	started := false

	var got []string
	for len(got) < len(want) {
		select {
		case ev := <-out:
			if ev.Source != "sportsgameodds" || ev.Match != "wc22final" {
				t.Fatalf("event %+v: want source sportsgameodds, match wc22final", ev)
			}
			got = append(got, ev.ID)
			if ev.ID != want[len(got)-1] {
				t.Fatalf("event %d is %s, want %s (missing, repeated or out of order); got so far %s",
					len(got), ev.ID, want[len(got)-1], strings.Join(got[max(0, len(got)-5):], " "))
			}
			if !started { // the scheduled state is in; now the match begins
				started = true
				go func() { simDone <- sim.Run(ctx) }()
			}
		case err := <-srcDone:
			t.Fatalf("source stopped after %d of %d events: %v", len(got), len(want), err)
		case <-ctx.Done():
			t.Fatalf("got %d of %d events; next wanted %s; simulator %+v; source %+v", len(got), len(want), want[len(got)], sim.Stats(), src.Stats())
		}
	}
	cancel()
	if err := <-srcDone; err != context.Canceled {
		t.Fatalf("source Run = %v, want context.Canceled", err)
	}
	<-simDone
	select {
	case ev := <-out:
		t.Fatalf("extra event %s after the result", ev.ID)
	default:
	}
	st, ss := sim.Stats(), src.Stats()
	if st.Missed == 0 || st.Recovered != st.Missed || st.Drops == 0 || st.Errors == 0 || st.Malformed == 0 || st.Duplicates == 0 || st.WrongKeys != 1 {
		t.Fatalf("faults not all injected or a missed state not recovered: %+v", st)
	}
	if ss.Resyncs < ss.Subscriptions || ss.Malformed == 0 || ss.Sessions < 2 || ss.Connections < 2 {
		t.Fatalf("source stats %+v: want a resync after every subscription, malformed notifications seen, a second session after the wrong key", ss)
	}
	t.Logf("%d state changes exactly once, in order; simulator %+v; source %+v", len(got), st, ss)
}

// TestUpcomingFeed follows a league's upcoming events: the scheduled match
// is in the snapshot, its start is notified on the upcoming channel, and
// after that it is no longer an upcoming event, so nothing more arrives.
func TestUpcomingFeed(t *testing.T) {
	evs, err := replay.Parse("m1", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := sgosim.New(sgosim.Config{APIKey: "k", League: "T20WC", Interval: time.Millisecond, Lockstep: true, LockstepMax: time.Second},
		map[string][]event.Event{"m1": evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	t.Setenv("TEST_SGO_KEY", "k")
	src, err := sgo.New(sgo.Config{APIKeyEnv: "TEST_SGO_KEY", APIURL: api.URL + "/v2", Feed: sgo.FeedUpcoming, LeagueID: "T20WC",
		BackoffMin: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out := make(chan event.Event, 64)
	go src.Run(ctx, out) //nolint:errcheck // ends with ctx
	next := func() event.Event {
		select {
		case ev := <-out:
			return ev
		case <-ctx.Done():
			t.Fatalf("no event; source %+v", src.Stats())
		}
		return event.Event{}
	}
	if ev := next(); ev.ID != "m1/status/scheduled" || ev.Info == nil || ev.Info.Title != "Pakistan v England, T20WC" {
		t.Fatalf("first event %s info %+v, want the scheduled status with match info", ev.ID, ev.Info)
	}
	polltest.Until(t, "the subscription", func() bool { return sim.Subscribers("private-sgo-upcoming-T20WC") > 0 })
	go sim.Run(ctx) //nolint:errcheck // ends with ctx
	if ev := next(); ev.ID != "m1/status/live" {
		t.Fatalf("second event %s, want m1/status/live", ev.ID)
	}
	// The match plays on, off this feed: unfetched, each step waits out
	// LockstepMax. (LockstepMax is well above a fetch on a loaded machine:
	// when it passed before the live state was fetched, the fetch saw the
	// innings start too, rightly.)
	polltest.Until(t, "four steps of the simulator", func() bool { return sim.Stats().Steps >= 4 })
	select {
	case ev := <-out:
		t.Fatalf("event %s after the match left the upcoming feed", ev.ID)
	default:
	}
}
