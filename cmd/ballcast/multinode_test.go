package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/source/replay"
)

// TestMultiNode runs a deployment across processes: a 3-node NATS
// cluster (real nats-server processes, JetStream, streams replicated 3
// times), one ballcast pipeline node and two ballcast broadcast nodes. A
// client on each broadcast node follows the bundled match while one NATS
// node is killed mid-match. Both clients must receive the same stream:
// every event exactly once, in order, with the same frame numbers.
//
// Opt-in (BALLCAST_MULTINODE=1) for now: about one run in ten a broadcast
// node's feed stalls after the NATS node it was connected to dies, and
// the cause is not found yet (see docs/reliability.md, known limits).
func TestMultiNode(t *testing.T) {
	if os.Getenv("BALLCAST_MULTINODE") != "1" {
		t.Skip("multi-node cluster test: set BALLCAST_MULTINODE=1 (builds and starts 3 nats-server processes)")
	}
	dir := t.TempDir()
	natsBin := filepath.Join(dir, "nats-server")
	build := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, out)
	}
	nodes := startNATSCluster(t, natsBin, dir, 3)
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url)
	}
	yml := filepath.Join(dir, "pipeline.yaml")
	cfg := fmt.Sprintf(`sources:
  - name: bundled
    type: replay
    config: {speed: 15ms}
stages:
  - {name: dedup, plugin: dedup, timeout: 5s}
  - {name: stats, plugin: stats, timeout: 5s}
  - {name: commentary, plugin: commentary, timeout: 10s}
bus:
  url: %q
  replicas: 3
log: {format: json}
`, strings.Join(urls, ","))
	if err := os.WriteFile(yml, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// Broadcast nodes first, so they see the feed being written live.
	b1 := startBallcast(t, "-c", yml, "--role", "broadcast")
	b2 := startBallcast(t, "-c", yml, "--role", "broadcast")
	want, err := replay.Parse("1298179", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg     sync.WaitGroup
		frames [2][]broadcasttest.Frame
	)
	for i, b := range []*chaosProc{b1, b2} {
		c := broadcasttest.Dial(t, b.url+"/v1/ws")
		wg.Add(1)
		go func() {
			defer wg.Done()
			frames[i] = readStream(t, c, "1298179", want[len(want)-1].ID, b)
		}()
	}
	p := startBallcast(t, "-c", yml, "--role", "pipeline")
	// Kill a NATS node once the match is under way.
	waitFrames(t, b1.url, "1298179", 40)
	victim := nodes[1]
	if err := victim.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed nats node %s", victim.name)
	wg.Wait()
	if t.Failed() {
		t.Logf("pipeline node log:\n%s", tail(p.logs.String(), 4000))
		return
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
			dump := filepath.Join(os.TempDir(), "ballcast-multinode-pipeline.log")
			os.WriteFile(dump, []byte(p.logs.String()), 0o644) //nolint:errcheck // debugging aid
			t.Errorf("broadcast node %d: %d events, want %d; missing %v, duplicated %v (pipeline log in %s)",
				i+1, len(frames[i]), len(want), missing, dup, dump)
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

// waitFrames polls a node's REST history until match has n events.
func waitFrames(t *testing.T, base, match string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(fmt.Sprintf("%s/v1/matches/%s/events?since=%d&limit=1", base, match, n-1))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond) // an HTTP poll against a deadline
	}
	t.Fatalf("%s never reached %d events", match, n)
}

type natsNode struct {
	name string
	url  string
	cmd  *exec.Cmd
}

// startNATSCluster starts n nats-server processes with JetStream forming
// one cluster, and waits until JetStream is ready on every one.
func startNATSCluster(t *testing.T, bin, dir string, n int) []*natsNode {
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
		cmd := exec.Command(bin, "-c", conf)
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
		})
		defer func() {
			if t.Failed() {
				t.Logf("nats %s:\n%s", name, tail(logs.String(), 2000))
			}
		}()
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
