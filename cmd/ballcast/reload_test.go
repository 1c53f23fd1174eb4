package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/refscore"
	"github.com/ballcast/ballcast/pipeline"
)

const reloadBase = `sources:
  - name: bundled
    type: replay
    config: {speed: 20ms, loop: true}
stages:
  - {name: dedup, plugin: dedup, timeout: 5s}
  - {name: stats, plugin: stats, timeout: 5s}
`

// TestHotReload changes the pipeline file while the bundled match
// replays: first to a broken file, which is refused with its position while
// the running pipeline carries on, then to one with a commentary stage
// added, which takes over without losing, duplicating or reordering an
// event, and with the stats plugin's state carried over to its new process.
func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(reloadBase), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := pipeline.Load(file, &pipeline.LoadOptions{SourceTypes: sourceTypes()})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, serverOptions{listen: "127.0.0.1:0", dataDir: filepath.Join(dir, "data"), file: file, watch: true}, zerolog.New(logs))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}

	reloaded := make(chan error, 1)
	go func() {
		// A broken file (a stage with a bad timeout) is refused...
		broken := reloadBase + "  - {name: commentary, plugin: commentary, timeout: soon}\n"
		if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
			reloaded <- err
			return
		}
		if err := waitMetric(srv, `ballcast_pipeline_reloads_total\{result="failed"\} [1-9][0-9]*`); err != nil {
			reloaded <- err
			return
		}
		// ...and a good one adding a stage is applied.
		good := reloadBase + "  - {name: commentary, plugin: commentary, timeout: 10s, on_error: fallback, batch: 8}\n"
		if err := os.WriteFile(file, []byte(good), 0o644); err != nil {
			reloaded <- err
			return
		}
		reloaded <- waitMetric(srv, `ballcast_pipeline_reloads_total\{result="ok"\} [1-9][0-9]*`)
	}()

	// The replay loops, so however long the reload takes on a busy
	// machine it lands in some pass. Read pass after pass until one ran
	// wholly on the new pipeline; every pass must be complete, exact and
	// in order, and the switch to commentary must happen exactly once.
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	ref, err := refscore.Score(replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	var before, after int
	for pass := 1; ; pass++ {
		if pass > 8 {
			t.Fatalf("the reload did not land within 8 passes of the match (%d balls without commentary)\n%s", before, tail(logs.String(), 4000))
		}
		match := "1298179"
		if pass > 1 {
			match = fmt.Sprintf("1298179-%d", pass)
		}
		frames := follow(t, c, match, len(want), nil)
		passAfter := 0
		for i, f := range frames {
			if wantID := match + strings.TrimPrefix(want[i].ID, "1298179"); f.ID != wantID {
				t.Fatalf("pass %d: event %d is %s, want %s", pass, i+1, f.ID, wantID)
			}
			if f.Kind != "ball" {
				continue
			}
			if f.Data.Commentary != nil {
				after++
				passAfter++
				continue
			}
			if after > 0 {
				t.Fatalf("ball %s has no commentary although an earlier ball had: the old pipeline ran after the swap", f.ID)
			}
			before++
		}
		// stats moved to a new process at the swap and carried on from
		// its stored state: every pass's final scorecard is still exact.
		if d := scorereport.Diff(wireReport(frames[len(frames)-1].Data.Scorecard), ref); len(d) > 0 {
			t.Fatalf("pass %d: final scorecard differs from Cricsheet:\n%s", pass, strings.Join(d, "\n"))
		}
		c.Unsubscribe(match)
		if passAfter > 0 {
			break // the pass with the switch is complete
		}
	}
	if err := <-reloaded; err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 4000))
	}
	if before == 0 || after == 0 {
		t.Fatalf("balls without commentary %d, with %d: the reload did not land mid-replay", before, after)
	}
	// The broken file was reported with its position.
	if out := logs.String(); !strings.Contains(out, "pipeline.yaml:") || !strings.Contains(out, "reload refused") {
		t.Fatalf("the refused reload is not reported with file:line:col:\n%s", tail(out, 4000))
	}
	t.Logf("%d balls before the reload, %d after", before, after)
}

// waitMetric polls /metrics until a line matches re, or a deadline passes.
func waitMetric(srv *server, re string) error {
	return (&metricsURL{base: "http://" + srv.Addr()}).wait(re)
}

// TestSIGHUPReloads sends SIGHUP to a running ballcast process: the file is
// reloaded (counted in /metrics), and a file broken meanwhile is refused
// with the process still serving.
func TestSIGHUPReloads(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(file, []byte(reloadBase+"log: {format: json}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startChaosProc(t, file, filepath.Join(dir, "data"))
	srv := &metricsURL{base: p.url}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(`ballcast_pipeline_reloads_total\{result="ok"\} [1-9][0-9]*`); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.logs.String(), 3000))
	}
	if err := os.WriteFile(file, []byte("sources: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if err := srv.wait(`ballcast_pipeline_reloads_total\{result="failed"\} [1-9][0-9]*`); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.logs.String(), 3000))
	}
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz %d after a refused reload, want 200: the old pipeline must keep running", resp.StatusCode)
	}
}

// metricsURL polls a server's /metrics.
type metricsURL struct{ base string }

// wait polls until a line of /metrics matches the regular expression re.
func (m *metricsURL) wait(re string) error {
	rx := regexp.MustCompile("(?m)^" + re + "$")
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(m.base + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if rx.Match(b) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond) // an HTTP poll against a deadline; nothing to wait on
	}
	return fmt.Errorf("metrics never showed %s", re)
}
