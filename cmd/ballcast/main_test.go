package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/internal/refscore"
	"github.com/ballcast/ballcast/pipeline"
)

// The test binary is also ballcast: built-in plugins are served by
// re-executing it, exactly as the real binary re-executes itself.
func TestMain(m *testing.M) {
	if os.Getenv("BALLCAST_TEST_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Setenv("BALLCAST_TEST_AS_MAIN", "1")
	// The commentary plugin must use its template engine here: no test
	// reaches out to a real LLM, whatever the developer's shell holds.
	os.Unsetenv("OPENAI_API_KEY")
	os.Unsetenv("OPENAI_BASE_URL")
	os.Exit(m.Run())
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTestServer runs the default pipeline with the given replay speed on
// a free loopback port.
func startTestServer(t *testing.T, speed string, logs *syncBuffer) *server {
	t.Helper()
	yml := strings.Replace(string(mustDefault(t)), "speed: 20x", "speed: "+speed, 1)
	cfg, err := pipeline.Parse("e2e.yaml", []byte(yml), &pipeline.LoadOptions{SourceTypes: sourceTypes(), Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, serverOptions{listen: "127.0.0.1:0", dataDir: t.TempDir()}, zerolog.New(logs))
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
	return srv
}

func mustDefault(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../examples/pipelines/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wireReport turns the scorecard a frontend received into the report shape.
func wireReport(sc *broadcast.Scorecard) scorereport.Report {
	var r scorereport.Report
	for _, in := range sc.Innings {
		ri := scorereport.Innings{Team: in.Team, SuperOver: in.SuperOver, Runs: in.Runs, Wickets: in.Wickets, Overs: in.Overs,
			Extras:  scorereport.Extras{Wides: in.Extras.Wides, NoBalls: in.Extras.NoBalls, Byes: in.Extras.Byes, LegByes: in.Extras.LegByes, Penalty: in.Extras.Penalty},
			Batters: []scorereport.Batter{}, Bowlers: []scorereport.Bowler{}, FallOfWickets: []scorereport.FallOfWicket{}}
		for _, b := range in.Batters {
			out := scorereport.NotOut
			if b.Out {
				out = b.HowOut
			}
			ri.Batters = append(ri.Batters, scorereport.Batter{Name: b.Name, Runs: b.Runs, Balls: b.Balls, Fours: b.Fours, Sixes: b.Sixes, Out: out})
		}
		for _, b := range in.Bowlers {
			ri.Bowlers = append(ri.Bowlers, scorereport.Bowler{Name: b.Name, Overs: b.Overs, Maidens: b.Maidens, Runs: b.Runs, Wickets: b.Wickets})
		}
		for _, f := range in.FallOfWickets {
			ri.FallOfWickets = append(ri.FallOfWickets, scorereport.FallOfWicket{Runs: f.Runs, Wickets: f.Wickets, Player: f.Player})
		}
		r.Innings = append(r.Innings, ri)
	}
	return r
}

// follow reads the stream of match from the start until n events arrived,
// checking exactly-once, in-order, gap-free delivery, and returns them.
func follow(t *testing.T, c *broadcasttest.Client, match string, n int, each func(i int, f broadcasttest.Frame)) []broadcasttest.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c.Subscribe(match, 0)
	var got []broadcasttest.Frame
	seen := map[string]bool{}
	for len(got) < n {
		f := c.Next(ctx)
		if f.Op != broadcast.OpEvent {
			continue // snapshot / resumed preamble
		}
		if want := uint64(len(got) + 1); f.Seq != want {
			t.Fatalf("event %s has seq %d, want %d (gap or reorder)", f.ID, f.Seq, want)
		}
		if seen[f.ID] {
			t.Fatalf("event %s delivered twice", f.ID)
		}
		seen[f.ID] = true
		got = append(got, f)
		if each != nil {
			each(len(got)-1, f)
		}
	}
	return got
}

func TestEndToEndReplayThroughPluginProcesses(t *testing.T) {
	logs := &syncBuffer{}
	srv := startTestServer(t, "max", logs)
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	frames := follow(t, c, "1298179", len(want), nil)
	lines := map[string]bool{}
	for i, f := range frames {
		if f.ID != want[i].ID || f.Kind != want[i].Kind.String() {
			t.Fatalf("event %d is %s (%s), want %s (%s)", i+1, f.ID, f.Kind, want[i].ID, want[i].Kind)
		}
		if f.Data.Scorecard == nil {
			t.Fatalf("event %s has no scorecard", f.ID)
		}
		if f.Kind == event.KindBall.String() {
			cm := f.Data.Commentary
			if cm == nil || strings.TrimSpace(cm.Text) == "" {
				t.Fatalf("ball %s has no commentary", f.ID)
			}
			// No LLM is configured here: every line is the template
			// engine's own (no model), not a fallback from a failed call.
			if cm.Model != "" || cm.Fallback {
				t.Fatalf("ball %s: want a template line without model or fallback, got %+v", f.ID, cm)
			}
			lines[cm.Text] = true
		}
	}
	got := wireReport(frames[len(frames)-1].Data.Scorecard)
	ref, err := refscore.Score(replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	if d := scorereport.Diff(got, ref); len(d) > 0 {
		t.Fatalf("final scorecard differs from Cricsheet:\n%s", strings.Join(d, "\n"))
	}
	if last := frames[len(frames)-1]; last.Data.Status == nil || last.Data.Status.Result != "England won by 5 wickets" {
		t.Fatalf("last event %s: status %+v, want the result", last.ID, last.Data.Status)
	}
	select {
	case <-srv.Fed():
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline did not report the replay finished")
	}
	// Operators see the same in /metrics: every event through every stage,
	// nothing left in the lanes, a commentary line per event.
	n := len(want)
	for _, re := range []string{
		fmt.Sprintf(`ballcast_ingest_events_total\{source="replay"\} %d`, n),
		fmt.Sprintf(`ballcast_stage_events_in_total\{stage="dedup"\} %d`, n),
		fmt.Sprintf(`ballcast_stage_events_out_total\{stage="commentary"\} %d`, n),
		`ballcast_lane_backlog_events 0`,
		`ballcast_plugin_up\{plugin="stats",stage="stats"\} 1`,
		`ballcast_stage_call_duration_seconds_count\{stage="stats"\} [1-9][0-9]*`,
	} {
		if err := waitMetric(srv, re); err != nil {
			t.Error(err)
		}
	}
	t.Logf("%d events, %d distinct commentary lines", len(frames), len(lines))
}

func TestKilledPluginIsReportedAndTheRunGoesOn(t *testing.T) {
	logs := &syncBuffer{}
	srv := startTestServer(t, "10ms", logs)
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	var victim int
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	var afterKill, withLine int
	follow(t, c, "1298179", len(want), func(i int, f broadcasttest.Frame) {
		if i == 60 {
			for _, h := range srv.stages.hosts {
				if h.Description().Name == "commentary" {
					victim = h.Pid()
				}
			}
			if victim == 0 {
				t.Fatal("no commentary plugin process")
			}
			if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
		if victim != 0 && f.Kind == "ball" {
			afterKill++
			if f.Data.Commentary != nil && f.Data.Commentary.Text != "" {
				withLine++
			}
		}
	})
	out := logs.String()
	if !regexp.MustCompile(`"stage":"commentary".*"plugin":"commentary".*signal: killed|signal: killed.*"stage":"commentary"`).MatchString(out) {
		t.Fatalf("logs do not report the killed commentary plugin:\n%s", tail(out, 3000))
	}
	if !strings.Contains(out, "plugin restarted") {
		t.Fatalf("logs do not report the restart:\n%s", tail(out, 3000))
	}
	if withLine < afterKill*9/10 {
		t.Fatalf("after the kill only %d of %d balls had commentary", withLine, afterKill)
	}
	t.Logf("killed pid %d; %d balls after the kill, %d with commentary", victim, afterKill, withLine)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func TestScorecardMatchesCricsheet(t *testing.T) {
	for _, f := range cricsheettest.CricsheetFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var out, errb bytes.Buffer
			if err := run(t.Context(), []string{"scorecard", f, "--json"}, &out, &errb); err != nil {
				t.Fatalf("scorecard: %v\n%s", err, errb.String())
			}
			var got scorereport.Report
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out.String())
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want, err := refscore.Score(data)
			if err != nil {
				t.Fatal(err)
			}
			if d := scorereport.Diff(got, want); len(d) > 0 {
				t.Fatalf("scorecard differs from Cricsheet:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestValidate(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"validate", "testdata/broken.yaml"}, &out, &errb)
	if err == nil || exitCode(err) == 0 {
		t.Fatalf("validate of a broken file succeeded: %s", out.String())
	}
	lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
	pos := regexp.MustCompile(`^testdata/broken\.yaml:\d+:\d+: `)
	for _, l := range lines {
		if !pos.MatchString(l) {
			t.Errorf("line without file:line:col: %q", l)
		}
	}
	for _, want := range []string{"sped", "sportz", "soon", "ignore", "duplicate", "no-such-plugin"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("output does not mention %q:\n%s", want, errb.String())
		}
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Errorf("problem reported twice: %q", l)
		}
		seen[l] = true
	}
	if len(lines) != 6 {
		t.Fatalf("got %d problems, want exactly the 6:\n%s", len(lines), errb.String())
	}

	out.Reset()
	errb.Reset()
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/default.yaml"}, &out, &errb); err != nil {
		t.Fatalf("default pipeline does not validate: %v\n%s", err, errb.String())
	}

	// The Roanuz example needs its credentials from the environment: without
	// them validate names the missing variables; with them it passes.
	errb.Reset()
	for _, v := range []string{"ROANUZ_PROJECT_KEY", "ROANUZ_MATCH_KEY", "ROANUZ_API_KEY"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/roanuz.yaml"}, &out, &errb); err == nil {
		t.Fatal("roanuz.yaml validated without ROANUZ_PROJECT_KEY and ROANUZ_MATCH_KEY")
	}
	for _, want := range []string{"ROANUZ_PROJECT_KEY", "ROANUZ_MATCH_KEY"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("validate output does not name %s:\n%s", want, errb.String())
		}
	}
	t.Setenv("ROANUZ_PROJECT_KEY", "sim")
	t.Setenv("ROANUZ_MATCH_KEY", "1298179")
	t.Setenv("ROANUZ_API_KEY", "sim-key")
	errb.Reset()
	if err := run(t.Context(), []string{"validate", "../../examples/pipelines/roanuz.yaml"}, &out, &errb); err != nil {
		t.Fatalf("roanuz.yaml does not validate with its variables set: %v\n%s", err, errb.String())
	}
}

func TestUsageErrors(t *testing.T) {
	cases := [][]string{{}, {"bogus"}, {"scorecard"}, {"plugin", "serve", "nope"}, {"validate"}}
	for _, args := range cases {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(t.Context(), args, &out, &errb)
			if exitCode(err) != 2 {
				t.Fatalf("err = %v (exit %d), want a usage error (exit 2)", err, exitCode(err))
			}
		})
	}
}

// runYAML parses yml (named name in errors; ${VAR} from the environment)
// and serves it as role ("" for all) on a fresh data directory until the
// test ends. logs gets the process log.
func runYAML(t *testing.T, name, yml, role string) (srv *server, logs *syncBuffer) {
	t.Helper()
	cfg, err := pipeline.Parse(name, []byte(yml), &pipeline.LoadOptions{SourceTypes: sourceTypes()})
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err = startServer(ctx, cfg, serverOptions{listen: "127.0.0.1:0", dataDir: t.TempDir(), role: role}, zerolog.New(logs))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Wait() }) //nolint:errcheck // shutting down
	return srv, logs
}

// startSim serves a provider simulator's handler and returns its URL and
// a function that starts its clock. Both stop when the test ends.
func startSim(t *testing.T, h http.Handler, run func(context.Context) error) (url string, start func()) {
	t.Helper()
	api := httptest.NewServer(h)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var once sync.Once
	start = func() { once.Do(func() { go func() { done <- run(ctx) }() }) }
	t.Cleanup(func() {
		start() // so that done is sent
		stop()
		<-done
		api.Close()
	})
	return api.URL, start
}

// wantBundledScorecard fails the test unless f's scorecard is the bundled
// match's final scorecard as Cricsheet has it.
func wantBundledScorecard(t *testing.T, f broadcasttest.Frame) {
	t.Helper()
	ref, err := refscore.Score(replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	if d := scorereport.Diff(wireReport(f.Data.Scorecard), ref); len(d) > 0 {
		t.Fatalf("final scorecard differs from Cricsheet:\n%s", strings.Join(d, "\n"))
	}
}
