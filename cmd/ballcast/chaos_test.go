package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/scorereport"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/internal/refscore"
)

// chaosPlan is how hard TestChaos shakes the system. The default is short
// enough for every CI run; BALLCAST_CHAOS=1 runs the full plan the
// reliability figures in docs/reliability.md come from.
type chaosPlan struct {
	matches       int    // real matches replayed at once, smallest first
	pluginKills   int    // kill -9 of a random plugin process
	ballcastKills int    // kill -9 of ballcast itself (then restarted)
	speed         string // replay pace per delivery
}

func planFromEnv() chaosPlan {
	if os.Getenv("BALLCAST_CHAOS") == "1" {
		return chaosPlan{matches: 4, pluginKills: 60, ballcastKills: 4, speed: "20ms"}
	}
	return chaosPlan{matches: 2, pluginKills: 8, ballcastKills: 1, speed: "15ms"}
}

// TestChaos replays real matches while killing plugin processes and
// ballcast itself with SIGKILL, then checks what a frontend sees: every
// event of every match exactly once, in order, with a gap-free stream seq,
// and a final scorecard equal to the one computed from Cricsheet.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test: not in -short")
	}
	plan := planFromEnv()
	files := smallestMatches(t, plan.matches)
	dir := t.TempDir()
	yml := filepath.Join(dir, "chaos.yaml")
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = strconv.Quote(f)
	}
	cfg := fmt.Sprintf(`sources:
  - name: chaos
    type: replay
    config:
      files: [%s]
      speed: %s
      loop: true          # keeps events flowing until the kill plan is done; pass 1 is checked
stages:
  - {name: dedup, plugin: dedup, timeout: 5s, on_error: retry, batch: 16}
  - {name: stats, plugin: stats, timeout: 5s, on_error: retry, batch: 16}
  - {name: commentary, plugin: commentary, timeout: 5s, on_error: retry, batch: 8}
log: {level: info, format: json}
`, strings.Join(quoted, ", "), plan.speed)
	if err := os.WriteFile(yml, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	t.Logf("plan %+v, seed-free random victims; matches %v", plan, files)

	var (
		pluginKills, ballcastKills, exitsSeen, orphans int
		bc                                             *chaosProc
	)
	start := time.Now()
	var procs []*chaosProc
	launch := func() *chaosProc {
		p := startChaosProc(t, yml, data)
		procs = append(procs, p)
		return p
	}
	bc = launch()
	// Spread the ballcast kills evenly through the plugin kills.
	killAt := map[int]bool{}
	for i := 1; i <= plan.ballcastKills; i++ {
		killAt[i*plan.pluginKills/(plan.ballcastKills+1)] = true
	}
	for pluginKills < plan.pluginKills {
		// Every stage has a live process (the last victim was replaced),
		// so each kill hits a plugin that is processing events.
		victims := bc.plugins(t, chaosStages)
		v := victims[rng.IntN(len(victims))]
		if err := syscall.Kill(v, syscall.SIGKILL); err == nil {
			pluginKills++
			// Wait for the host to notice and start a replacement, so
			// every kill hits a live process.
			if bc.waitPluginGone(t, v) {
				exitsSeen++
			}
		}
		t.Logf("%.1fs: plugin kill %d (pid %d)", time.Since(start).Seconds(), pluginKills, v)
		if killAt[pluginKills] {
			kids := bc.plugins(t, chaosStages)
			bc.kill(t)
			ballcastKills++
			orphans += waitGone(kids, 10*time.Second)
			bc = launch()
		}
		// A little random slack between kills so they land at different
		// points of the batches.
		select {
		case <-time.After(time.Duration(rng.IntN(40)) * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal("test context done")
		}
	}

	t.Logf("%.1fs: kill plan done", time.Since(start).Seconds())
	// The last ballcast runs the replay to its end; a frontend then reads
	// every match from the start.
	c := broadcasttest.Dial(t, bc.url+"/v1/ws")
	var balls, losses, dups, reorders int
	for _, f := range files {
		m, err := replay.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		frames := readStream(t, c, m.ID, m.Events[len(m.Events)-1].ID, bc)
		seen := map[string]int{}
		for i, fr := range frames {
			seen[fr.ID]++
			if seen[fr.ID] > 1 {
				dups++
				t.Errorf("%s: %s delivered %d times", m.ID, fr.ID, seen[fr.ID])
			}
			if fr.Seq != uint64(i+1) {
				reorders++
				t.Errorf("%s: frame %d has stream seq %d", m.ID, i+1, fr.Seq)
			}
		}
		next := 0 // frames must follow the match's own order
		for _, ev := range m.Events {
			if seen[ev.ID] == 0 {
				losses++
				t.Errorf("%s: %s never reached the frontend", m.ID, ev.ID)
				continue
			}
			if ev.Kind.String() == "ball" {
				balls++
			}
			for next < len(frames) && frames[next].ID != ev.ID {
				next++
			}
			if next == len(frames) {
				reorders++
				t.Errorf("%s: %s out of order", m.ID, ev.ID)
				next = 0
			}
		}
		if len(frames) == 0 {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := refscore.Score(raw)
		if err != nil {
			t.Fatal(err)
		}
		if d := scorereport.Diff(wireReport(frames[len(frames)-1].Data.Scorecard), want); len(d) > 0 {
			t.Errorf("%s: final scorecard differs from Cricsheet:\n%s", m.ID, strings.Join(d, "\n"))
		}
	}
	t.Logf("%.1fs: streams checked", time.Since(start).Seconds())
	kids := bc.plugins(t, chaosStages)
	c.Close()
	bc.stop(t)
	t.Logf("%.1fs: stopped", time.Since(start).Seconds())
	orphans += waitGone(kids, 10*time.Second)
	if orphans > 0 {
		t.Errorf("%d plugin processes outlived their ballcast", orphans)
	}
	restarts, failedStarts := 0, 0
	for i, p := range procs {
		if d := os.Getenv("BALLCAST_CHAOS_LOGS"); d != "" {
			os.WriteFile(filepath.Join(d, fmt.Sprintf("ballcast-%d.log", i)), []byte(p.logs.String()), 0o644) //nolint:errcheck // debugging aid
		}
		restarts += strings.Count(p.logs.String(), `"message":"plugin restarted"`)
		failedStarts += strings.Count(p.logs.String(), `"message":"plugin restart failed"`)
	}
	fmt.Printf("chaos: %d matches, %d balls, %d plugin kills (%d exits seen, %d plugin restarts, %d starts killed before the handshake), %d ballcast kills, %d orphans, losses %d, duplicates %d, out of order %d, %.1fs\n",
		len(files), balls, pluginKills, exitsSeen, restarts, failedStarts, ballcastKills, orphans, losses, dups, reorders, time.Since(start).Seconds())
}

// readStream subscribes to match from the start and reads its events until
// the one with ID last, or fails after a deadline.
func readStream(t *testing.T, c *broadcasttest.Client, match, last string, p *chaosProc) []broadcasttest.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c.Subscribe(match, 0)
	var got []broadcasttest.Frame
	for {
		f, err := c.Read(ctx)
		if err != nil {
			logs := p.logs.String()
			dump := filepath.Join(os.TempDir(), fmt.Sprintf("ballcast-chaos-%d.log", p.cmd.Process.Pid))
			os.WriteFile(dump, []byte(logs), 0o644) //nolint:errcheck // best effort
			t.Fatalf("%s: after %d events: %v (full log in %s)\n%s", match, len(got), err, dump, tail(logs, 6000))
		}
		if f.Op != broadcast.OpEvent || f.Match != match {
			continue
		}
		got = append(got, f)
		if f.ID == last {
			return got
		}
	}
}

// smallestMatches picks the n smallest Cricsheet files, so the test stays
// quick whatever the directory holds.
func smallestMatches(t *testing.T, n int) []string {
	files := cricsheettest.CricsheetFiles(t)
	size := func(f string) int64 {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	slices.SortFunc(files, func(a, b string) int { return int(size(a) - size(b)) })
	if len(files) < n {
		t.Fatalf("need %d Cricsheet matches, have %d", n, len(files))
	}
	return files[:n]
}

// chaosProc is one ballcast process under test.
type chaosProc struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
	logs   *syncBuffer
}

func startChaosProc(t *testing.T, yml, data string) *chaosProc {
	t.Helper()
	return startBallcast(t, "-c", yml, "--data-dir", data)
}

// startBallcast runs `ballcast run ARGS…` on a free loopback port and
// returns once it serves.
func startBallcast(t *testing.T, args ...string) *chaosProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"run", "--listen", "127.0.0.1:0", "--plugin-dir", t.TempDir()}, args...)...)
	cmd.Env = append(os.Environ(), "BALLCAST_TEST_AS_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &chaosProc{cmd: cmd, exited: make(chan struct{}), logs: &syncBuffer{}}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.logs.Write(append(line, '\n'))
			var l struct {
				Message string `json:"message"`
				URL     string `json:"url"`
			}
			if json.Unmarshal(line, &l) == nil && l.Message == "serving the live page" {
				urls <- l.URL
			}
		}
		io.Copy(io.Discard, stderr)
		cmd.Wait() //nolint:errcheck // a killed process exits with an error
		close(p.exited)
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case p.url = <-urls:
	case <-p.exited:
		t.Fatalf("ballcast exited at start:\n%s", tail(p.logs.String(), 4000))
	case <-time.After(60 * time.Second):
		t.Fatalf("ballcast did not start:\n%s", tail(p.logs.String(), 4000))
	}
	return p
}

// chaosStages is the number of plugin processes a healthy ballcast runs in
// TestChaos.
const chaosStages = 3

// plugins returns the pids of ballcast's plugin processes, waiting (up to
// a deadline) until n of them run.
func (p *chaosProc) plugins(t *testing.T, n int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		kids := children(p.cmd.Process.Pid)
		if len(kids) >= n {
			return kids
		}
		if time.Now().After(deadline) {
			t.Fatalf("ballcast %d has %d plugin processes after 30s, want %d:\n%s", p.cmd.Process.Pid, len(kids), n, tail(p.logs.String(), 4000))
		}
		select {
		case <-p.exited:
			t.Fatalf("ballcast exited:\n%s", tail(p.logs.String(), 4000))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitPluginGone waits until the killed plugin has exited; it reports
// whether it did within the deadline.
func (p *chaosProc) waitPluginGone(t *testing.T, pid int) bool {
	t.Helper()
	return waitExit(pid, 20*time.Second)
}

func (p *chaosProc) kill(t *testing.T) {
	t.Helper()
	syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // may be gone
	<-p.exited
}

func (p *chaosProc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may be gone
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("ballcast did not stop on SIGTERM:\n%s", tail(p.logs.String(), 4000))
		p.kill(t)
	}
}

// children lists the pids whose parent is ppid.
func children(ppid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may
		// contain spaces: state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) && f[0] != "Z" {
			out = append(out, pid)
		}
	}
	return out
}

// waitGone waits until every pid has exited and returns how many had not
// by the deadline. It waits on pidfds, which become readable when their
// process exits, so nothing polls.
func waitGone(pids []int, d time.Duration) int {
	deadline := time.Now().Add(d)
	alive := 0
	for _, pid := range pids {
		if !waitExit(pid, time.Until(deadline)) {
			alive++
		}
	}
	return alive
}

// waitExit reports whether pid exited (or was already gone) within d.
func waitExit(pid int, d time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true // ESRCH: already gone
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(max(d, 0)/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}
