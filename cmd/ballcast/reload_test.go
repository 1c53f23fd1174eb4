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
    config: {speed: 20ms}
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

	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	frames := follow(t, c, "1298179", len(want), nil)
	if err := <-reloaded; err != nil {
		t.Fatalf("%v\nlogs:\n%s", err, tail(logs.String(), 4000))
	}
	var before, after int
	for i, f := range frames {
		if f.ID != want[i].ID {
			t.Fatalf("event %d is %s, want %s", i+1, f.ID, want[i].ID)
		}
		if f.Kind != "ball" {
			continue
		}
		if f.Data.Commentary != nil {
			after++
			continue
		}
		if after > 0 {
			t.Fatalf("ball %s has no commentary although an earlier ball had: the old pipeline ran after the swap", f.ID)
		}
		before++
	}
	if before == 0 || after == 0 {
		t.Fatalf("balls without commentary %d, with %d: the reload did not land mid-replay", before, after)
	}
	// The broken file was reported with its position.
	if out := logs.String(); !strings.Contains(out, "pipeline.yaml:") || !strings.Contains(out, "reload refused") {
		t.Fatalf("the refused reload is not reported with file:line:col:\n%s", tail(out, 4000))
	}
	// stats moved to a new process at the swap and carried on from its
	// stored state: the final scorecard is still exact.
	ref, err := refscore.Score(replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	if d := scorereport.Diff(wireReport(frames[len(frames)-1].Data.Scorecard), ref); len(d) > 0 {
		t.Fatalf("final scorecard differs from Cricsheet after the reload:\n%s", strings.Join(d, "\n"))
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
