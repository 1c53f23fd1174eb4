package pluginhost

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/plugins/dedup"
	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/stats"
)

// The test binary doubles as the plugin (go-plugin's helper-process trick):
// with BALLCAST_TEST_PLUGIN set it serves a test stage instead of testing.
func TestMain(m *testing.M) {
	switch name := os.Getenv("BALLCAST_TEST_PLUGIN"); name {
	case "":
	case "stats", "dedup": // the real built-in stages
		sdk.Serve(map[string]sdk.Stage{"stats": stats.New(), "dedup": dedup.New()}[name], nil)
		os.Exit(0)
	default:
		sdk.Serve(&testStage{mode: name}, nil)
		os.Exit(0)
	}
	if os.Getenv(hostEnv) != "" {
		os.Exit(runTestHost())
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// testStage upper-cases IDs; "hang" events block forever, "crash" events
// exit the process, "fail" events fail alone. In mode "count" it instead
// counts events per match in the host's store and appends the count to the
// ID.
type testStage struct {
	mode  string
	store sdk.Store
}

func (s *testStage) Describe() sdk.Description {
	return sdk.Description{Name: "test-" + s.mode, Version: "1.2.3"}
}

func (s *testStage) Configure(_ context.Context, cfg sdk.Config) error {
	var c struct {
		Reject bool `json:"reject"`
	}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.Reject {
		return errors.New("config rejected")
	}
	s.store = cfg.Store()
	return nil
}

func (s *testStage) count(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	v, _, err := s.store.Get(ctx, ev.GetMatch())
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(string(v))
	n++
	if err := s.store.Put(ctx, ev.GetMatch(), []byte(strconv.Itoa(n))); err != nil {
		return nil, err
	}
	ev.Id = fmt.Sprintf("%s#%d", ev.GetId(), n)
	if strings.HasPrefix(ev.GetId(), "big-write") { // a value of several MB from plugin to host
		if err := s.store.Put(ctx, ev.GetMatch()+"/big", bytes.Repeat([]byte{7}, 5<<20)); err != nil {
			return nil, err
		}
	}
	return []*sdk.Event{ev}, nil
}

func (s *testStage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	if s.mode == "count" {
		return s.count(ctx, ev)
	}
	switch ev.GetId() {
	case "hang":
		<-ctx.Done()
		select {} // ignore cancellation, like a truly hung plugin
	case "crash":
		os.Exit(3)
	case "fail":
		return nil, errors.New("cannot handle this one")
	case "drop":
		return nil, nil
	case "slow": // busy for a while, as a big batch would be
		t := time.NewTimer(300 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ev.Id = strings.ToUpper(ev.GetId())
	return []*sdk.Event{ev}, nil
}

func command(mode string) func() *exec.Cmd {
	return func() *exec.Cmd {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "BALLCAST_TEST_PLUGIN="+mode, raceEnv)
		return cmd
	}
}

// raceEnv stops a race-enabled test binary from sleeping a second when it
// exits (the race runtime's default), which every plugin stop would pay.
var raceEnv = "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")

func start(t *testing.T, cfg Config) *Stage {
	t.Helper()
	if cfg.Command == nil {
		cfg.Command = command("echo")
	}
	if cfg.Stage == "" {
		cfg.Stage, cfg.Plugin = "upper", "test-echo"
	}
	cfg.MinBackoff = time.Millisecond
	s, err := Start(t.Context(), cfg, zerolog.Nop())
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func events(ids ...string) []event.Event {
	evs := make([]event.Event, len(ids))
	for i, id := range ids {
		evs[i] = event.Event{ID: id, Match: "m", Seq: uint64(i + 1), Kind: event.KindBall, Ball: &event.Ball{Innings: 1, Batter: "a"}}
	}
	return evs
}

func TestProcess(t *testing.T) {
	t.Parallel()
	for _, tr := range []Transport{TransportStream, TransportUnary} {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			s := start(t, Config{Transport: tr})
			if d := s.Description(); d.Name != "test-echo" || d.Version != "1.2.3" {
				t.Fatalf("description = %+v", d)
			}
			res, err := s.Process(t.Context(), events("a", "drop", "fail", "b"))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 4 {
				t.Fatalf("got %d results, want 4", len(res))
			}
			if got := res[0].Events[0]; got.ID != "A" || got.Ball == nil || got.Ball.Batter != "a" {
				t.Fatalf("result 0 = %+v, want ID A with its ball", got)
			}
			if len(res[1].Events) != 0 || res[1].Err != nil {
				t.Fatalf("result 1 = %+v, want dropped", res[1])
			}
			if res[2].Err == nil || !strings.Contains(res[2].Err.Error(), "cannot handle this one") {
				t.Fatalf("result 2 err = %v, want the stage's error", res[2].Err)
			}
			if res[3].Events[0].ID != "B" {
				t.Fatalf("result 3 = %+v", res[3])
			}
		})
	}
}

func TestConcurrentCallers(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				id := fmt.Sprintf("w%d-%d", w, i)
				res, err := s.Process(t.Context(), events(id))
				if err != nil {
					errs <- err
					return
				}
				if got := res[0].Events[0].ID; got != strings.ToUpper(id) {
					errs <- fmt.Errorf("got %s, want %s", got, strings.ToUpper(id))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKilledPluginIsReportedAndRestarted(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	pid := s.Pid()
	if pid == 0 {
		t.Fatal("no pid")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// The next call may race the kill; within a deadline it must fail
	// clearly, and the call after must work on a new process.
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = s.Process(t.Context(), events("x")); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("want an error after the plugin was killed")
	}
	for _, want := range []string{"stage upper", "plugin test-echo", fmt.Sprint("pid ", pid), "killed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	res, err := s.Process(t.Context(), events("after"))
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if res[0].Events[0].ID != "AFTER" {
		t.Fatalf("after restart got %+v", res[0])
	}
	if s.Restarts() != 1 || s.Pid() == pid {
		t.Fatalf("restarts = %d, pid %d (old %d); want 1 restart and a new pid", s.Restarts(), s.Pid(), pid)
	}
	if st := s.Stats(); st != (Stats{Restarts: 1, Crashes: 1, Pid: s.Pid()}) {
		t.Fatalf("stats = %+v, want 1 restart after 1 crash", st)
	}
}

func TestCrashingEventFailsTheBatch(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	_, err := s.Process(t.Context(), events("a", "crash"))
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want the plugin's exit status", err)
	}
	if _, err := s.Process(t.Context(), events("a")); err != nil {
		t.Fatalf("after crash: %v", err)
	}
	if st := s.Stats(); st != (Stats{Restarts: 1, Crashes: 1, Pid: s.Pid()}) {
		t.Fatalf("stats = %+v, want 1 restart after 1 crash", st)
	}
}

func TestHungPluginTimesOutAndIsReplaced(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := s.Process(ctx, events("hang"))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out, plugin killed") {
		t.Fatalf("err = %v, want a timeout that killed the plugin", err)
	}
	if _, err := s.Process(t.Context(), events("a")); err != nil {
		t.Fatalf("after hang: %v", err)
	}
	if st := s.Stats(); st != (Stats{Restarts: 1, Timeouts: 1, Pid: s.Pid()}) {
		t.Fatalf("stats = %+v, want 1 restart after 1 timeout", st)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"not a plugin", Config{Command: func() *exec.Cmd { return exec.Command("true") }}, "start"},
		{"config rejected", Config{Config: []byte(`{"reject":true}`)}, "config rejected"},
		{"unknown config key", Config{Config: []byte(`{"rejekt":true}`)}, "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.cfg.Command == nil {
				tc.cfg.Command = command("echo")
			}
			tc.cfg.Stage, tc.cfg.Plugin = "s", "p"
			tc.cfg.StartTimeout = 5 * time.Second
			_, err := Start(t.Context(), tc.cfg, zerolog.Nop())
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "stage s (plugin p)") {
				t.Fatalf("err = %v, want it to name the stage and say %q", err, tc.want)
			}
		})
	}
}

// TestBusyStageRestartsOnce kills the plugin while many lanes keep calling
// it with short deadlines, as a busy pipeline does. The process must be
// replaced once and promptly: a failure counts once per process, not once
// per caller, and the restart is not bounded by any caller's deadline (a
// per-call count once pushed the backoff past every call timeout, and the
// stage never restarted).
func TestBusyStageRestartsOnce(t *testing.T) {
	t.Parallel()
	s, err := Start(t.Context(), Config{Stage: "upper", Plugin: "test-echo", Command: command("echo"),
		MinBackoff: 200 * time.Millisecond, MaxBackoff: 10 * time.Second}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	pid := s.Pid()
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(ctx, time.Second)
				if _, err := s.Process(cctx, events("x")); err == nil {
					ok.Add(1)
				}
				ccancel()
			}
		}()
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	before := ok.Load()
	deadline := time.Now().Add(15 * time.Second)
	for ok.Load() < before+100 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // sampling a counter against a deadline
	}
	cancel()
	wg.Wait()
	if ok.Load() < before+100 {
		t.Fatalf("the stage did not recover within 15s of the kill (stats %+v)", s.Stats())
	}
	if st := s.Stats(); st.Restarts != 1 || st.Crashes != 1 {
		t.Fatalf("stats %+v, want exactly 1 crash and 1 restart", st)
	}
	t.Logf("recovered %v after the kill", time.Since(killed).Round(time.Millisecond))
}

// TestIdlePluginIsReplacedAtOnce kills a plugin nobody is calling: a new
// process is started without waiting for the next batch.
func TestIdlePluginIsReplacedAtOnce(t *testing.T) {
	t.Parallel()
	s := start(t, Config{})
	pid := s.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p := s.Pid(); p != 0 && p != pid {
			return
		}
		time.Sleep(5 * time.Millisecond) // sampling a pid against a deadline
	}
	t.Fatalf("no new process 15s after the idle plugin was killed (stats %+v)", s.Stats())
}

// TestFailedRestartIsRetried kills a plugin whose next two starts fail (the
// binary is briefly not a plugin, as during an upgrade): the host keeps
// trying with backoff on its own until a process serves again, without
// any caller asking.
func TestFailedRestartIsRetried(t *testing.T) {
	t.Parallel()
	var starts atomic.Int64
	echo := command("echo")
	s := start(t, Config{Command: func() *exec.Cmd {
		if n := starts.Add(1); n == 2 || n == 3 {
			return exec.Command("/bin/true")
		}
		return echo()
	}})
	pid := s.Pid()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p := s.Pid(); p != 0 && p != pid {
			if n := starts.Load(); n != 4 {
				t.Fatalf("%d starts, want 4 (first, two failures, success)", n)
			}
			res, err := s.Process(t.Context(), events("back"))
			if err != nil || res[0].Events[0].ID != "BACK" {
				t.Fatalf("after the restarts: %v %+v", err, res)
			}
			return
		}
		time.Sleep(5 * time.Millisecond) // sampling a pid against a deadline
	}
	t.Fatalf("no serving process 15s after the kill; %d starts (stats %+v)", starts.Load(), s.Stats())
}
