package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/roanuz/roanuzsim"
	"github.com/ballcast/ballcast/core/source/scorelytics/scorelyticssim"
)

// TestTwoProvidersOneMatch runs one pipeline with two sources feeding one
// ballcast match, "final": the Roanuz simulator (ball by ball over
// Socket.IO, match key "rz-wc22") and the Scorelytics simulator (snapshot
// + WebSocket deltas, match "sl-wc22"), each renamed by its source's
// matches: map, through the dedup and stats stages. Scorelytics' clock
// starts once Roanuz has delivered 20 balls, so Roanuz delivers the first
// balls and Scorelytics' copies are dropped as duplicates; a quarter of
// the way in the Roanuz simulator is killed and Scorelytics catches up and
// carries the match on. The frontend must see every ball once,
// in order, with no gap, and the Cricsheet scorecard at the end.
func TestTwoProvidersOneMatch(t *testing.T) {
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	var balls []string
	for _, ev := range want {
		if ev.Kind == event.KindBall {
			balls = append(balls, "final"+strings.TrimPrefix(ev.ID, ev.Match))
		}
	}

	rz, err := roanuzsim.New(roanuzsim.Config{ProjectKey: "proj", APIKey: "rz-key", Interval: 15 * time.Millisecond},
		map[string][]event.Event{"rz-wc22": want}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	sl, err := scorelyticssim.New(scorelyticssim.Config{APIKey: "sl-key", Interval: 25 * time.Millisecond},
		map[string][]event.Event{"sl-wc22": want}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	rzAPI, slAPI := httptest.NewServer(rz.Handler()), httptest.NewServer(sl.Handler())
	defer slAPI.Close()
	rzCtx, stopRZ := context.WithCancel(context.Background())
	slCtx, stopSL := context.WithCancel(context.Background())
	rzDone, slDone := make(chan error, 1), make(chan error, 1)
	defer func() { stopSL(); <-slDone }()
	killed := false
	kill := func() {
		stopRZ()
		<-rzDone
		rzAPI.CloseClientConnections()
		rzAPI.Close()
		killed = true
	}
	defer func() {
		if !killed {
			kill()
		}
	}()

	t.Setenv("TEST_MERGE_ROANUZ_KEY", "rz-key")
	t.Setenv("TEST_MERGE_SCORELYTICS_KEY", "sl-key")
	yml := `
sources:
  - name: roanuz
    type: roanuz
    config:
      project_key: proj
      api_key_env: TEST_MERGE_ROANUZ_KEY
      api_url: ` + rzAPI.URL + `
      socket_url: ` + rzAPI.URL + `
      backoff_min: 10ms
      backoff_max: 50ms
      heartbeat: 200ms
      stale_after: 1s
      join_timeout: 1s
      http_timeout: 1s
      max_attempts: 3
      matches:
        - key: rz-wc22
    matches:
      rz-wc22: final
  - name: scorelytics
    type: scorelytics
    config:
      matches: [sl-wc22]
      api_key_env: TEST_MERGE_SCORELYTICS_KEY
      api_url: ` + slAPI.URL + `
      backoff_min: 10ms
      backoff_max: 50ms
    matches:
      sl-wc22: final
stages:
  - name: dedup
    plugin: dedup
    timeout: 2s
  - name: stats
    plugin: stats
    timeout: 2s
`
	srv, _ := runYAML(t, "merge-e2e.yaml", yml, "")
	go func() { rzDone <- rz.Run(rzCtx) }()
	slStarted := false
	defer func() {
		if !slStarted {
			slDone <- nil
		}
	}()

	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	rctx, rcancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer rcancel()
	c.Subscribe("final", 0)
	var (
		got      []broadcasttest.Frame // balls
		last     broadcasttest.Frame
		seq      uint64
		killedAt int
	)
	seen := map[string]bool{}
	for last.ID != "final/status/completed" {
		f := c.Next(rctx)
		if f.Op != broadcast.OpEvent {
			continue
		}
		if seq++; f.Seq != seq {
			t.Fatalf("frame %s has seq %d, want %d (gap or reorder)", f.ID, f.Seq, seq)
		}
		if seen[f.ID] {
			t.Fatalf("event %s delivered twice (from %s)", f.ID, f.Source)
		}
		seen[f.ID] = true
		last = f
		if f.Kind != "ball" {
			continue
		}
		if i := len(got); i >= len(balls) || f.ID != balls[i] {
			t.Fatalf("ball %d is %s from %s, want %s (missing, repeated or out of order)", i+1, f.ID, f.Source, balls[min(i, len(balls)-1)])
		}
		got = append(got, f)
		if len(got) == 20 && !slStarted {
			// Scorelytics' clock starts now, behind Roanuz's: its source
			// is already connected, waiting at the pre-match snapshot.
			slStarted = true
			go func() { slDone <- sl.Run(slCtx) }()
		}
		if len(got) == len(balls)/4 && !killed {
			kill()
			killedAt = len(got)
			t.Logf("killed the Roanuz simulator after %d balls (it had pushed %d updates)", killedAt, rz.Stats().Pushes)
		}
	}
	if len(got) != len(balls) {
		t.Fatalf("got %d balls, want %d", len(got), len(balls))
	}
	from := map[string]int{}
	for i, f := range got {
		from[f.Source]++
		// Events already in the pipeline at the kill may still be Roanuz's;
		// past the half-way mark every ball is Scorelytics'.
		if i >= len(got)/2 && f.Source != "scorelytics" {
			t.Fatalf("ball %s from %s, after Roanuz was killed at ball %d", f.ID, f.Source, killedAt)
		}
	}
	if from["roanuz"] < 20 || from["scorelytics"] == 0 {
		t.Fatalf("balls by provider %v: want both, Roanuz at least the 20 before Scorelytics started", from)
	}
	wantBundledScorecard(t, last)
	// Scorelytics delivered the balls Roanuz had already given too: the
	// ingest log kept one copy.
	dups := metric(t, "http://"+srv.Addr()+"/metrics", `ingest_duplicates_total\{source="scorelytics"\} (\d+)`)
	if dups < from["roanuz"] {
		t.Fatalf("%d scorelytics duplicates dropped, want at least the %d balls Roanuz delivered first", dups, from["roanuz"])
	}
	t.Logf("%d balls exactly once in order: %v; %d scorelytics duplicates dropped", len(got), from, dups)
}

// metric reads one integer from a Prometheus text page.
func metric(t *testing.T, url, pattern string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(pattern).FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s: no %s", url, pattern)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestMergeExampleValidates: examples/pipelines/merge.yaml maps both
// providers onto one match and validates with its credentials set.
func TestMergeExampleValidates(t *testing.T) {
	for _, v := range []string{"ROANUZ_PROJECT_KEY", "ROANUZ_API_KEY", "SCORELYTICS_API_KEY"} {
		t.Setenv(v, "x")
	}
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/merge.yaml"}, &out, &errb); err != nil {
		t.Fatalf("merge.yaml: %v\n%s", err, errb.String())
	}
	cfg, err := loadConfig("../../examples/pipelines/merge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, s := range cfg.Sources {
		for _, to := range s.Matches {
			targets[to] = true
		}
	}
	if len(cfg.Sources) != 2 || len(targets) != 1 {
		t.Fatalf("%d sources mapped onto %v: want two sources, one match", len(cfg.Sources), targets)
	}
}
