package socketio

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/nodepeer"
)

// The real peers: the official Socket.IO servers from npm, run by
// testdata/node/server.js. See that file for the behaviours the tests drive.

const (
	peerDir        = "testdata/node"
	peerInstallCmd = "npm ci --prefix core/socketio/testdata/node"
	peerPath       = "/v5/websocket"
	peerStartLimit = 15 * time.Second

	// The heartbeat the peers run with (server.js reads PING_INTERVAL and
	// PING_TIMEOUT): short, so heartbeat tests are fast.
	peerPingInterval = 300 * time.Millisecond
	peerPingTimeout  = 300 * time.Millisecond
)

// peerVersions are the servers every behaviour runs against.
var peerVersions = []struct {
	name    string // subtest name
	version string // server.js argument
	eio     int    // what the client speaks
}{
	{name: "v4", version: "v4", eio: 4},
	{name: "v4_allowEIO3", version: "v4-eio3", eio: 3},
	{name: "v2", version: "v2", eio: 3},
}

// peer is one running `node server.js` process.
type peer struct {
	version string
	*nodepeer.Process
}

// url is what Dial takes.
func (p *peer) url() string { return p.URL() }

// checkPeerInstalled fails (never skips) when the peers are not installed.
func checkPeerInstalled(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("socketio: node is not on PATH (%v): the tests run the official Socket.IO servers; install Node.js 18+ and run `%s`", err, peerInstallCmd)
	}
	for _, pkg := range []string{"socket.io", "socket.io-v2"} {
		if _, err := os.Stat(filepath.Join(peerDir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("socketio: test peer %s is not installed: run `%s` (from the repository root)", pkg, peerInstallCmd)
		}
	}
}

// startPeer starts a server of the given version; port 0 picks a free port.
// It is killed at cleanup.
func startPeer(t testing.TB, version string, port int) *peer {
	t.Helper()
	checkPeerInstalled(t)
	p, err := launchPeer(version, port)
	if err != nil {
		t.Fatalf("start peer %s: %v", version, err)
	}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() && p.Stderr() != "" {
			t.Logf("peer %s stderr:\n%s", version, p.Stderr())
		}
	})
	return p
}

func launchPeer(version string, port int) (*peer, error) {
	proc, err := nodepeer.Start(peerDir, "server.js", []string{
		"PING_INTERVAL=" + strconv.FormatInt(peerPingInterval.Milliseconds(), 10),
		"PING_TIMEOUT=" + strconv.FormatInt(peerPingTimeout.Milliseconds(), 10),
	}, peerStartLimit, version, strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	return &peer{version: version, Process: proc}, nil
}

// kill ends the process at once and waits for it. Safe to call again.
func (p *peer) kill() { p.Kill() }

// freeze stops the process (SIGSTOP): its sockets stay open but it says
// nothing, like a dead peer behind a live TCP connection.
func (p *peer) freeze(t testing.TB) {
	t.Helper()
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("freeze peer: %v", err)
	}
}

// sharedPeers are started once per version and killed by TestMain, for
// tests whose behaviour does not disturb other connections.
var sharedPeers = struct {
	sync.Mutex
	m map[string]*peer
}{m: make(map[string]*peer)}

func sharedPeer(t testing.TB, version string) *peer {
	t.Helper()
	checkPeerInstalled(t)
	sharedPeers.Lock()
	defer sharedPeers.Unlock()
	if p := sharedPeers.m[version]; p != nil {
		select {
		case <-p.Exited():
			t.Fatalf("shared peer %s exited: %s", version, p.Stderr())
		default:
		}
		return p
	}
	p, err := launchPeer(version, 0)
	if err != nil {
		t.Fatalf("start shared peer %s: %v", version, err)
	}
	sharedPeers.m[version] = p
	return p
}

func stopSharedPeers() {
	sharedPeers.Lock()
	defer sharedPeers.Unlock()
	for v, p := range sharedPeers.m {
		p.kill()
		delete(sharedPeers.m, v)
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writer and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}
