package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/sportsgameodds/sgosim"
)

// TestSportsGameOddsThroughSimulatorWithFaults runs the bundled match
// through the SportsGameOdds simulator (events:live feed, public channel,
// provider event "SGO_WC22" renamed to ballcast match 1298179 by the
// source's matches: map) with faults on: connections dropped and
// pusher:error 4200 just before notifications, malformed and duplicated
// notifications. Through the default stages, the frontend must see every
// state change (status, innings, the score after every delivery, result)
// exactly once and in order.
func TestSportsGameOddsThroughSimulatorWithFaults(t *testing.T) {
	evs, err := replay.Parse("SGO_WC22", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	want := sgosim.StateIDs("1298179", evs)
	sim, err := sgosim.New(sgosim.Config{
		APIKey: "k3y", Interval: 3 * time.Millisecond, Public: true, Lockstep: true,
		Faults: sgosim.Faults{DropEvery: 43, ErrorEvery: 71, MalformedEvery: 31, DuplicateEvery: 5},
	}, map[string][]event.Event{"SGO_WC22": evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()

	t.Setenv("TEST_SGO_KEY", "k3y")
	yml := `
sources:
  - name: sgo
    type: sportsgameodds
    matches:
      SGO_WC22: "1298179"
    config:
      api_key_env: TEST_SGO_KEY
      api_url: ` + api.URL + `/v2
      feed: events:live
      backoff_min: 10ms
      backoff_max: 100ms
      http_timeout: 5s
` + stagesOf(t)
	srv, logs := runYAML(t, "sgo-e2e.yaml", yml, "")

	// The match starts once the source listens on the live channel (it is
	// not in the live snapshot before it starts).
	rctx, rcancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer rcancel()
	tick := time.NewTicker(5 * time.Millisecond)
	for sim.Subscribers("sgo-live") == 0 {
		select {
		case <-rctx.Done():
			t.Fatalf("the source never subscribed to the live channel; logs:\n%s", logs.String())
		case <-tick.C:
		}
	}
	tick.Stop()
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- sim.Run(simCtx) }()
	defer func() { stopSim(); <-simDone }()

	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	c.Subscribe("1298179", 0)
	var got []string
	seen := map[string]bool{}
	var seq uint64
	for len(got) < len(want) {
		f := c.Next(rctx)
		if f.Op != "event" {
			continue
		}
		if seq++; f.Seq != seq {
			t.Fatalf("frame %s has seq %d, want %d", f.ID, f.Seq, seq)
		}
		if seen[f.ID] {
			t.Fatalf("event %s delivered twice", f.ID)
		}
		seen[f.ID] = true
		switch f.Kind {
		case "status", "innings", "score":
		default:
			continue // added by a stage
		}
		if got = append(got, f.ID); f.ID != want[len(got)-1] {
			t.Fatalf("state change %d is %s, want %s (missing, repeated or out of order)", len(got), f.ID, want[len(got)-1])
		}
	}
	st := sim.Stats()
	if st.Missed == 0 || st.Recovered != st.Missed || st.Malformed == 0 || st.Duplicates == 0 {
		t.Fatalf("faults not all injected, or a missed state not recovered: %+v", st)
	}
	t.Logf("%d state changes exactly once in order; simulator %+v", len(got), st)
}

// TestSportsGameOddsExampleValidates: examples/pipelines/sportsgameodds.yaml
// needs its variables, and validates once they are set.
func TestSportsGameOddsExampleValidates(t *testing.T) {
	const file = "../../examples/pipelines/sportsgameodds.yaml"
	t.Setenv("SPORTSGAMEODDS_API_KEY", "")
	t.Setenv("SGO_EVENT_ID", "")
	var out, errb syncBuffer
	if err := run(t.Context(), []string{"validate", file}, &out, &errb); err == nil {
		t.Fatal("sportsgameodds.yaml validated without SPORTSGAMEODDS_API_KEY and SGO_EVENT_ID")
	}
	t.Setenv("SPORTSGAMEODDS_API_KEY", "k")
	t.Setenv("SGO_EVENT_ID", "1298179")
	if err := run(t.Context(), []string{"validate", file}, &out, &errb); err != nil {
		t.Fatalf("sportsgameodds.yaml does not validate with its variables set: %v\n%s", err, errb.String())
	}
}
