package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/scorelytics/scorelyticssim"
)

// expectedScorelytics is the stream a Scorelytics feed of evs must
// produce: the replay's events, each ball followed by the score it leaves.
func expectedScorelytics(evs []event.Event, match string) []string {
	type tot struct{ legal, runs, wkts int }
	tots := map[int]*tot{}
	var ids []string
	for _, ev := range evs {
		ids = append(ids, match+strings.TrimPrefix(ev.ID, ev.Match))
		if ev.Kind != event.KindBall {
			continue
		}
		b := ev.Ball
		if tots[b.Innings] == nil {
			tots[b.Innings] = &tot{}
		}
		s := tots[b.Innings]
		if b.Legal {
			s.legal++
		}
		s.runs += b.Runs()
		for _, w := range b.Wickets {
			if w.IsTeamWicket() {
				s.wkts++
			}
		}
		ids = append(ids, fmt.Sprintf("%s/score/%d/%d/%d/%d", match, b.Innings, s.legal, s.runs, s.wkts))
	}
	return ids
}

// TestScorelyticsThroughSimulatorWithFaults replays the bundled match
// through the Scorelytics simulator with faults on (connections dropped,
// malformed, duplicated and delayed deltas) into the real source, renamed
// onto ballcast match "1298179" by the source's matches: map, and the
// default stages. The frontend must see every state change (status,
// innings, ball, score, over) exactly once, in order, and the Cricsheet
// scorecard at the end; every reconnect must follow a fresh snapshot.
func TestScorelyticsThroughSimulatorWithFaults(t *testing.T) {
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := scorelyticssim.New(scorelyticssim.Config{
		APIKey: "sk_e2e", Interval: 8 * time.Millisecond, PingInterval: 200 * time.Millisecond,
		Faults: scorelyticssim.Faults{DropEvery: 400 * time.Millisecond, MalformedEvery: 9, DuplicateEvery: 5, Delay: time.Millisecond},
	}, map[string][]event.Event{"sl-wc22": want}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	apiURL, startClock := startSim(t, sim.Handler(), sim.Run)

	t.Setenv("TEST_SCORELYTICS_KEY", "sk_e2e")
	yml := `
sources:
  - name: scorelytics
    type: scorelytics
    config:
      matches: [sl-wc22]
      api_key_env: TEST_SCORELYTICS_KEY
      api_url: ` + apiURL + `
      backoff_min: 10ms
      backoff_max: 100ms
      read_timeout: 2s
    matches:
      sl-wc22: "1298179"
` + stagesOf(t)
	srv, logs := runYAML(t, "scorelytics-e2e.yaml", yml, "")
	startClock()

	ids := expectedScorelytics(want, "1298179")
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	got := follow(t, c, "1298179", len(ids), func(i int, f broadcasttest.Frame) {
		if f.ID != ids[i] {
			t.Fatalf("event %d is %s, want %s (missing, repeated or out of order)", i+1, f.ID, ids[i])
		}
		if f.Source != "scorelytics" {
			t.Fatalf("event %s from %q", f.ID, f.Source)
		}
	})
	last := got[len(got)-1]
	if last.ID != "1298179/status/completed" {
		t.Fatalf("last event %s", last.ID)
	}
	wantBundledScorecard(t, last)
	st := sim.Stats()
	if st.Drops == 0 || st.Malformed == 0 || st.Duplicates == 0 || st.Connects < 2 {
		t.Fatalf("faults not all injected: %+v", st)
	}
	// The reconnect path: every connection follows a snapshot of its own.
	fresh := false
	for _, line := range sim.Trace() {
		if strings.HasPrefix(line, "snapshot ") {
			fresh = true
			continue
		}
		if !fresh {
			t.Fatalf("%s without a fresh snapshot before it:\n%s", line, strings.Join(sim.Trace(), "\n"))
		}
		fresh = false
	}
	if !strings.Contains(logs.String(), "malformed message skipped") {
		t.Fatal("malformed frames were not logged")
	}
	if strings.Contains(logs.String(), "sk_e2e") {
		t.Fatal("the API key appears in the log")
	}
	t.Logf("%d events exactly once in order; simulator %+v", len(got), st)
}

// TestScorelyticsExampleValidates: the example needs its match and key
// from the environment; with them it passes validate.
func TestScorelyticsExampleValidates(t *testing.T) {
	for _, v := range []string{"SCORELYTICS_MATCH_ID", "SCORELYTICS_API_KEY"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	var out, errb bytes.Buffer
	validate := func(missing string) {
		t.Helper()
		errb.Reset()
		if err := run(t.Context(), []string{"validate", "../../examples/pipelines/scorelytics.yaml"}, &out, &errb); err == nil || !strings.Contains(errb.String(), missing) {
			t.Fatalf("without %s: got %v, want it named\n%s", missing, err, errb.String())
		}
	}
	validate("SCORELYTICS_MATCH_ID")
	t.Setenv("SCORELYTICS_MATCH_ID", "1298179")
	validate("SCORELYTICS_API_KEY")
	t.Setenv("SCORELYTICS_API_KEY", "sim-key")
	errb.Reset()
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/scorelytics.yaml"}, &out, &errb); err != nil {
		t.Fatalf("scorelytics.yaml does not validate with its variables set: %v\n%s", err, errb.String())
	}
}

// TestSimulateScorelyticsUsage: the simulator is listed and rejects bad flags.
func TestSimulateScorelyticsUsage(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"simulate", "nope"}, &out, &errb)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "scorelytics") {
		t.Fatalf("unknown provider: got %v, want a usage error listing scorelytics", err)
	}
	if err := run(t.Context(), []string{"simulate", "scorelytics", "--bogus"}, &out, &errb); exitCode(err) != 2 {
		t.Fatalf("bad flag: got %v, want exit 2", err)
	}
}
