package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/source/replay"
)

// TestMultiNode runs a deployment across processes: a 3-node NATS
// cluster (real nats-server processes, JetStream, streams replicated 3
// times), one ballcast pipeline node and two ballcast broadcast nodes. A
// client on each broadcast node follows the bundled match while the NATS
// node the first broadcast node is connected to is killed (SIGKILL)
// mid-match. Both clients must receive the same stream: every event
// exactly once, in order, with the same frame numbers.
//
// By default (skipped with -short) the match is replayed fast and the kill
// comes early in it. BALLCAST_MULTINODE=1 runs the full variant: the
// replay at its usual pace and the kill anywhere in the match.
// BALLCAST_MULTINODE_OUT=DIR keeps every run's output (each process's log,
// both streams as JetStream holds them at the end, the frames each client
// received) in DIR/run-*; without it the output is kept only when the run
// fails. BALLCAST_MULTINODE_KILL_AT=N kills after event N.
// BALLCAST_NATS_SERVER=PATH runs that nats-server binary instead of this
// test binary acting as one.
func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node cluster test: starts 3 nats-server and 3 ballcast processes")
	}
	// pace is the replay's delay between deliveries; the kill comes after
	// a random event in [killFrom, killTo).
	pace, killFrom, killTo := "5ms", uint64(10), uint64(100)
	if os.Getenv("BALLCAST_MULTINODE") == "1" {
		pace, killFrom, killTo = "15ms", 10, 240
	}
	out := runDir(t)
	dir := t.TempDir()
	nodes := startNATSCluster(t, dir, out, 3)
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url)
	}
	yml := filepath.Join(dir, "pipeline.yaml")
	cfg := fmt.Sprintf(`sources:
  - name: bundled
    type: replay
    config: {speed: %s}
stages:
  - {name: dedup, plugin: dedup, timeout: 5s}
  - {name: stats, plugin: stats, timeout: 5s}
  - {name: commentary, plugin: commentary, timeout: 10s}
bus:
  url: %q
  replicas: 3
log: {format: json, level: debug}
`, pace, strings.Join(urls, ","))
	if err := os.WriteFile(yml, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Broadcast nodes first, so they see the feed being written live.
	b1 := startBallcast(t, "-c", yml, "--role", "broadcast")
	keepLog(t, out, "broadcast1.log", b1)
	b2 := startBallcast(t, "-c", yml, "--role", "broadcast")
	keepLog(t, out, "broadcast2.log", b2)
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	last := want[len(want)-1].ID
	var (
		wg     sync.WaitGroup
		frames [2][]broadcasttest.Frame
		errs   [2]error
	)
	for i, b := range []*chaosProc{b1, b2} {
		c := broadcasttest.Dial(t, b.url+"/v1/ws")
		wg.Add(1)
		go func() {
			defer wg.Done()
			frames[i], errs[i] = followMatch(t.Context(), c, "1298179", last)
			keepFrames(t, out, fmt.Sprintf("broadcast%d.frames", i+1), frames[i])
		}()
	}
	p := startBallcast(t, "-c", yml, "--role", "pipeline")
	keepLog(t, out, "pipeline.log", p)
	streamsKept := false
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		if !streamsKept {
			keepStreamInfo(t, out, "at-failure", nodes)
			keepStreams(t, out, nodes)
		}
		// Each ballcast node prints its goroutines into its log.
		for _, b := range []*chaosProc{b1, b2, p} {
			dumpGoroutines(t, b)
		}
	})
	// Kill the NATS node the first broadcast node reads the feed through,
	// somewhere in the match.
	killAt := killFrom + rand.Uint64N(killTo-killFrom)
	if v, err := strconv.ParseUint(os.Getenv("BALLCAST_MULTINODE_KILL_AT"), 10, 64); err == nil {
		killAt = v
	}
	at := waitFrames(t, b1.url, "1298179", killAt)
	victim := connectedNode(t, nodes, b1)
	keepStreamInfo(t, out, "before-kill", nodes)
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	victim.killed = true
	t.Logf("killed nats node %s after event %d of %d at %s", victim.name, at, len(want), time.Now().UTC().Format(time.RFC3339Nano))
	wg.Wait()
	keepStreamInfo(t, out, "after", nodes)
	keepStreams(t, out, nodes)
	streamsKept = true
	for i, err := range errs {
		if err != nil {
			t.Errorf("broadcast node %d: after %d events: %v", i+1, len(frames[i]), err)
		}
	}
	for i := range frames {
		if len(frames[i]) != len(want) {
			got := map[string]int{}
			for _, f := range frames[i] {
				got[f.ID]++
			}
			var missing, dup []string
			for _, ev := range want {
				if got[ev.ID] == 0 {
					missing = append(missing, ev.ID)
				}
				if got[ev.ID] > 1 {
					dup = append(dup, ev.ID)
				}
			}
			t.Errorf("broadcast node %d: %d events, want %d; missing %v, duplicated %v",
				i+1, len(frames[i]), len(want), missing, dup)
		}
	}
	if t.Failed() {
		return
	}
	for i := range frames {
		for j, f := range frames[i] {
			if f.ID != want[j].ID || f.Seq != uint64(j+1) {
				t.Fatalf("broadcast node %d: event %d is %s seq %d, want %s seq %d", i+1, j+1, f.ID, f.Seq, want[j].ID, j+1)
			}
		}
	}
	for j := range frames[0] {
		a, b := frames[0][j], frames[1][j]
		if string(a.Raw) != string(b.Raw) {
			t.Fatalf("event %d differs between broadcast nodes: %s seq %d vs %s seq %d", j+1, a.ID, a.Seq, b.ID, b.Seq)
		}
	}
	t.Logf("%d events identical on both broadcast nodes after losing NATS node %s", len(want), victim.name)
}

// stallLimit is how long a client may go without an event before the test
// calls its node's feed stalled. A failover takes a few seconds; the feed
// reader's own stall repair acts after 2.
const stallLimit = 45 * time.Second

// followMatch reads match's event frames from c until the one with ID
// last, failing when none arrives for stallLimit.
func followMatch(ctx context.Context, c *broadcasttest.Client, match, last string) ([]broadcasttest.Frame, error) {
	c.Subscribe(match, 0)
	var got []broadcasttest.Frame
	for {
		rctx, cancel := context.WithTimeout(ctx, stallLimit)
		f, err := c.Read(rctx)
		cancel()
		if err != nil {
			return got, fmt.Errorf("no event for %s: %w", stallLimit, err)
		}
		if f.Op != broadcast.OpEvent || f.Match != match {
			continue
		}
		got = append(got, f)
		if f.ID == last {
			return got, nil
		}
	}
}

// dumpGoroutines makes a stalled node print its goroutines (SIGQUIT) into
// its log and exit.
func dumpGoroutines(t *testing.T, p *chaosProc) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGQUIT) //nolint:errcheck // may be gone
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		t.Logf("no goroutine dump from pid %d", p.cmd.Process.Pid)
	}
}

// runDir is where this run's output goes: a new run-* directory under
// BALLCAST_MULTINODE_OUT, kept; otherwise a temporary one kept only when
// the test fails.
func runDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("BALLCAST_MULTINODE_OUT")
	keep := root != ""
	if !keep {
		root = os.TempDir()
	} else if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(root, "run-"+time.Now().UTC().Format("150405")+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || keep {
			t.Logf("run output in %s", dir)
			return
		}
		os.RemoveAll(dir) //nolint:errcheck // a temporary directory
	})
	return dir
}

// keepLog writes p's log to out/name when the test ends (after p stops).
func keepLog(t *testing.T, out, name string, p *chaosProc) {
	t.Cleanup(func() {
		p.stop(t)
		writeOut(t, out, name, []byte(p.logs.String()))
	})
}

func keepFrames(t *testing.T, out, name string, frames []broadcasttest.Frame) {
	var b strings.Builder
	for _, f := range frames {
		fmt.Fprintf(&b, "%d %s ingest_seq=%d\n", f.Seq, f.ID, f.IngestSeq)
	}
	writeOut(t, out, name, []byte(b.String()))
}

func writeOut(t *testing.T, out, name string, data []byte) {
	if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
		t.Errorf("keep %s: %v", name, err)
	}
}

// connectedNode is the NATS node p's bus connected to, from its log.
func connectedNode(t *testing.T, nodes []*natsNode, p *chaosProc) *natsNode {
	t.Helper()
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var l struct {
			Message    string `json:"message"`
			ServerName string `json:"server_name"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Message != "bus open" {
			continue
		}
		for _, n := range nodes {
			if n.name == l.ServerName {
				return n
			}
		}
	}
	t.Fatalf("no NATS node named in the broadcast node's log")
	return nil
}

// jsOn connects to the nodes still running.
func jsOn(t *testing.T, nodes []*natsNode) (*nats.Conn, jetstream.JetStream, error) {
	var urls []string
	for _, n := range nodes {
		if !n.killed {
			urls = append(urls, n.url)
		}
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// keepStreamInfo records both streams' state and cluster placement and
// the feed's consumers.
func keepStreamInfo(t *testing.T, out, when string, nodes []*natsNode) {
	t.Helper()
	nc, js, err := jsOn(t, nodes)
	if err != nil {
		t.Logf("stream info %s: %v", when, err)
		return
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var b strings.Builder
	for _, name := range []string{"BALLCAST_INGEST", "BALLCAST_FEED"} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", name, err)
			continue
		}
		info := s.CachedInfo()
		j, _ := json.Marshal(struct {
			State   jetstream.StreamState
			Cluster *jetstream.ClusterInfo
		}{info.State, info.Cluster})
		fmt.Fprintf(&b, "%s: %s\n", name, j)
		names := s.ConsumerNames(ctx)
		for name := range names.Name() {
			c, err := s.Consumer(ctx, name)
			if err != nil {
				fmt.Fprintf(&b, "  consumer %s: %v\n", name, err)
				continue
			}
			ci := c.CachedInfo()
			j, _ := json.Marshal(struct {
				Config      jetstream.ConsumerConfig
				Delivered   jetstream.SequenceInfo
				AckFloor    jetstream.SequenceInfo
				Pending     uint64
				AckPending  int
				Redelivered int
				Cluster     *jetstream.ClusterInfo
			}{ci.Config, ci.Delivered, ci.AckFloor, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, ci.Cluster})
			fmt.Fprintf(&b, "  consumer %s %s\n", name, j)
		}
		if err := names.Err(); err != nil {
			fmt.Fprintf(&b, "  consumer names: %v\n", err)
		}
	}
	writeOut(t, out, "streams-"+when+".txt", []byte(b.String()))
}

// keepStreams writes both streams' entries as JetStream holds them: one
// line per stream sequence with its subject and message ID (the event ID).
func keepStreams(t *testing.T, out string, nodes []*natsNode) {
	t.Helper()
	keepStream(t, out, nodes, "BALLCAST_INGEST", "ingest.txt")
	keepStream(t, out, nodes, "BALLCAST_FEED", "feed.txt")
}

func keepStream(t *testing.T, out string, nodes []*natsNode, stream, file string) {
	t.Helper()
	nc, js, err := jsOn(t, nodes)
	if err != nil {
		t.Logf("%s dump: %v", stream, err)
		return
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Logf("%s dump: %v", stream, err)
		return
	}
	st := s.CachedInfo().State
	var b strings.Builder
	fmt.Fprintf(&b, "# first %d last %d msgs %d\n", st.FirstSeq, st.LastSeq, st.Msgs)
	for seq := st.FirstSeq; seq <= st.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			fmt.Fprintf(&b, "%d error %v\n", seq, err)
			continue
		}
		fmt.Fprintf(&b, "%d %s %s\n", seq, m.Subject, m.Header.Get(jetstream.MsgIDHeader))
	}
	writeOut(t, out, file, []byte(b.String()))
}

// asNATSServer names the environment variable that makes the test binary
// a nats-server process: its value is the configuration file.
const asNATSServer = "BALLCAST_TEST_AS_NATS_SERVER"

// init runs the test binary as a nats-server when asked (before TestMain,
// which would run ballcast). The server is the nats-server module ballcast
// embeds, so no separate build is needed, offline or not.
func init() {
	if conf := os.Getenv(asNATSServer); conf != "" {
		os.Exit(runNATSServer(conf))
	}
}

func runNATSServer(conf string) int {
	opts, err := natsserver.ProcessConfigFile(conf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats-server:", err)
		return 1
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nats-server:", err)
		return 1
	}
	s.ConfigureLogger()
	if err := natsserver.Run(s); err != nil {
		fmt.Fprintln(os.Stderr, "nats-server:", err)
		return 1
	}
	s.WaitForShutdown()
	return 0
}

// natsServerCommand runs nats-server with conf: BALLCAST_NATS_SERVER if
// set, otherwise this test binary as one.
func natsServerCommand(conf string) *exec.Cmd {
	if bin := os.Getenv("BALLCAST_NATS_SERVER"); bin != "" {
		return exec.Command(bin, "-c", conf)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asNATSServer+"="+conf)
	return cmd
}

// waitFrames polls a node's REST history until match has n events and
// returns how many it has then.
func waitFrames(t *testing.T, base, match string, n uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("%s/v1/matches/%s/events?limit=1", base, match))
		if err == nil {
			var page broadcast.EventPage
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && page.Seq >= n {
				return page.Seq
			}
		}
		time.Sleep(100 * time.Millisecond) // an HTTP poll against a deadline (and the node's connect rate limit)
	}
	t.Fatalf("%s never reached %d events", match, n)
	return 0
}

type natsNode struct {
	name   string
	url    string
	cmd    *exec.Cmd
	killed bool
}

// startNATSCluster starts n nats-server processes with JetStream forming
// one cluster, and waits until JetStream is ready on every one. Each
// node's log goes to out/<name>.log when the test ends.
func startNATSCluster(t *testing.T, dir, out string, n int) []*natsNode {
	t.Helper()
	ports := freePorts(t, 3*n)
	var routes []string
	for i := 0; i < n; i++ {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3*i+1]))
	}
	var nodes []*natsNode
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("n%d", i+1)
		client, cluster, monitor := ports[3*i], ports[3*i+1], ports[3*i+2]
		conf := filepath.Join(dir, name+".conf")
		quoted := make([]string, len(routes))
		for j, r := range routes {
			quoted[j] = fmt.Sprintf("%q", r)
		}
		text := fmt.Sprintf(`server_name: %s
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
max_payload: 8MB
jetstream { store_dir: %q }
cluster {
  name: ballcast-test
  listen: "127.0.0.1:%d"
  routes: [%s]
}
`, name, client, monitor, filepath.Join(dir, name), cluster, strings.Join(quoted, ", "))
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := natsServerCommand(conf)
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		node := &natsNode{name: name, url: fmt.Sprintf("nats://127.0.0.1:%d", client), cmd: cmd}
		nodes = append(nodes, node)
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may be dead
			cmd.Wait()                          //nolint:errcheck // killed on purpose
			writeOut(t, out, name+".log", []byte(logs.String()))
		})
	}
	// JetStream is ready when every node's health endpoint says so.
	deadline := time.Now().Add(60 * time.Second)
	for i := range nodes {
		url := fmt.Sprintf("http://127.0.0.1:%d/healthz", ports[3*i+2])
		for {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("nats cluster not ready after 60s (%s: %v)", url, err)
			}
			time.Sleep(50 * time.Millisecond) // polling a health endpoint against a deadline
		}
	}
	return nodes
}

// freePorts reserves n distinct loopback ports and releases them.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
