package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/roanuz/roanuzsim"
)

// TestRoanuzThroughSimulatorWithFaults replays the bundled match through the
// Roanuz simulator with faults on (connections dropped, a token expiry,
// malformed and duplicated updates) into the real Roanuz source and the
// default stages; the frontend must see every ball exactly once, in order,
// and the Cricsheet scorecard at the end.
func TestRoanuzThroughSimulatorWithFaults(t *testing.T) {
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := roanuzsim.New(roanuzsim.Config{
		ProjectKey: "proj", APIKey: "k3y", Interval: 8 * time.Millisecond,
		// Scaled to the test's pace: a drop every ~60 deliveries.
		Faults: roanuzsim.Faults{DropEvery: 500 * time.Millisecond, ExpireTokenAt: 90, MalformedEvery: 45, DuplicateEvery: 6},
	}, map[string][]event.Event{"wc22final": want}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	apiURL, startClock := startSim(t, sim.Handler(), sim.Run)

	t.Setenv("TEST_ROANUZ_KEY", "k3y")
	yml := `
sources:
  - name: roanuz
    type: roanuz
    config:
      project_key: proj
      api_key_env: TEST_ROANUZ_KEY
      api_url: ` + apiURL + `
      socket_url: ` + apiURL + `
      backoff_min: 10ms
      backoff_max: 100ms
      heartbeat: 200ms
      stale_after: 2s
      join_timeout: 2s
      matches:
        - key: wc22final
          id: "1298179"
` + stagesOf(t)
	srv, _ := runYAML(t, "roanuz-e2e.yaml", yml, "")
	startClock()

	var balls []event.Event
	for _, ev := range want {
		if ev.Kind == event.KindBall {
			balls = append(balls, ev)
		}
	}
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	rctx, rcancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer rcancel()
	c.Subscribe("1298179", 0)
	var got []broadcasttest.Frame
	var last broadcasttest.Frame
	seen := map[string]bool{}
	var seq uint64
	for len(got) < len(balls) {
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
		last = f
		if f.Kind == "ball" {
			got = append(got, f)
		}
	}
	for i, f := range got {
		if f.ID != balls[i].ID {
			t.Fatalf("ball %d is %s, want %s (missing, repeated or out of order)", i+1, f.ID, balls[i].ID)
		}
		if f.Data.Commentary == nil || f.Data.Commentary.Text == "" {
			t.Fatalf("ball %s has no commentary", f.ID)
		}
	}
	wantBundledScorecard(t, last)
	st := sim.Stats()
	if st.Drops == 0 || st.Malformed == 0 || st.Duplicates == 0 || st.Unauthorized == 0 {
		t.Fatalf("faults not all injected: %+v", st)
	}
	t.Logf("%d balls exactly once in order; simulator %+v", len(got), st)
}

// stagesOf returns the default pipeline's stages section with the
// commentary LLM off, so the test never calls out.
func stagesOf(t *testing.T) string {
	t.Helper()
	s := string(mustDefault(t))
	i, j := strings.Index(s, "\nstages:"), strings.Index(s, "\nbroadcast:")
	return s[i:j] + "\n"
}
