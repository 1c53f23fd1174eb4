package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/sportrix/sportrixsim"
)

// TestSportrixThroughSimulatorWithFaults replays the bundled match through
// the Sportrix simulator with faults on (connections dropped with play
// moving on while the source is away, malformed and duplicated frames, an
// error frame) into the real source, renamed onto ballcast match
// "wc22final" by the source's matches: map, and the default stages. The
// frontend must see the replay source's events exactly once, in order,
// and the Cricsheet scorecard at the end.
func TestSportrixThroughSimulatorWithFaults(t *testing.T) {
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	frames, err := sportrixsim.FromEvents(map[int64][]event.Event{1298179: want})
	if err != nil {
		t.Fatal(err)
	}
	sim, err := sportrixsim.New(sportrixsim.Config{
		APIKey: "sk_e2e", Interval: 8 * time.Millisecond, PingInterval: 200 * time.Millisecond, PauseUnwatched: true,
		Faults: sportrixsim.Faults{DropEvery: 400 * time.Millisecond, SkipOnDrop: 1, MalformedEvery: 9, DuplicateEvery: 5, ErrorAt: 30},
	}, frames, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	apiURL, startClock := startSim(t, sim.Handler(), sim.Run)

	t.Setenv("TEST_SPORTRIX_KEY", "sk_e2e")
	yml := `
sources:
  - name: sportrix
    type: sportrix
    config:
      url: ws` + strings.TrimPrefix(apiURL, "http") + sportrixsim.Path + `
      api_key_env: TEST_SPORTRIX_KEY
      auth: header
      matches: [1298179]
      ping_interval: 200ms
      read_timeout: 2s
      backoff_min: 10ms
      backoff_max: 100ms
    matches:
      "1298179": wc22final
` + stagesOf(t)
	srv, logs := runYAML(t, "sportrix-e2e.yaml", yml, "")
	startClock()

	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	got := follow(t, c, "wc22final", len(want), func(i int, f broadcasttest.Frame) {
		if id := "wc22final" + strings.TrimPrefix(want[i].ID, "1298179"); f.ID != id {
			t.Fatalf("event %d is %s, want %s (missing, repeated or out of order)", i+1, f.ID, id)
		}
		if f.Source != "sportrix" {
			t.Fatalf("event %s from %q", f.ID, f.Source)
		}
	})
	last := got[len(got)-1]
	wantBundledScorecard(t, last)
	st := sim.Stats()
	if st.Drops == 0 || st.Malformed == 0 || st.Duplicates == 0 || st.Errors == 0 || st.Snapshots < 2 {
		t.Fatalf("faults not all injected or no re-snapshot: %+v", st)
	}
	if strings.Contains(logs.String(), "sk_e2e") {
		t.Fatal("the API key appears in the logs")
	}
	t.Logf("%d events exactly once in order; simulator %+v", len(got), st)
}

// TestSportrixExampleValidates: examples/pipelines/sportrix.yaml needs its
// match id and key from the environment; with them it validates.
func TestSportrixExampleValidates(t *testing.T) {
	var out, errb bytes.Buffer
	for _, v := range []string{"SPORTRIX_MATCH_ID", "SPORTRIX_API_KEY", "SPORTRIX_URL"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/sportrix.yaml"}, &out, &errb); err == nil {
		t.Fatal("sportrix.yaml validated without SPORTRIX_MATCH_ID")
	}
	if !strings.Contains(errb.String(), "SPORTRIX_MATCH_ID") {
		t.Errorf("validate output does not name SPORTRIX_MATCH_ID:\n%s", errb.String())
	}
	t.Setenv("SPORTRIX_MATCH_ID", "1298179")
	t.Setenv("SPORTRIX_API_KEY", "sim-key")
	errb.Reset()
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/sportrix.yaml"}, &out, &errb); err != nil {
		t.Fatalf("sportrix.yaml does not validate with its variables set: %v\n%s", err, errb.String())
	}
	// A bad source config is reported with its location.
	bad := strings.Replace(readFile(t, "../../examples/pipelines/sportrix.yaml"), "read_timeout: 60s", "read_timeout: 10s", 1)
	path := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if err := run(t.Context(), []string{"validate", path}, &out, &errb); err == nil || !strings.Contains(errb.String(), "read_timeout") {
		t.Fatalf("read_timeout below the ping interval accepted: %v\n%s", err, errb.String())
	}
	// simulate sportrix knows its flags.
	if err := run(t.Context(), []string{"simulate", "sportrix", "--bogus"}, &out, &errb); exitCode(err) != 2 {
		t.Fatalf("simulate sportrix --bogus: %v, want a usage error", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
