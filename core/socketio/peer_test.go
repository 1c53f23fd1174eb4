package socketio

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	port    int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	exited  chan struct{} // closed after cmd.Wait returns
	stderr  *syncBuffer
}

// url is what Dial takes.
func (p *peer) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

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
		if t.Failed() && p.stderr.Len() > 0 {
			t.Logf("peer %s stderr:\n%s", version, p.stderr.String())
		}
	})
	return p
}

func launchPeer(version string, port int) (*peer, error) {
	cmd := exec.Command("node", "server.js", version, strconv.Itoa(port))
	cmd.Dir = peerDir
	cmd.Env = append(os.Environ(),
		"PING_INTERVAL="+strconv.FormatInt(peerPingInterval.Milliseconds(), 10),
		"PING_TIMEOUT="+strconv.FormatInt(peerPingTimeout.Milliseconds(), 10),
	)
	stdin, err := cmd.StdinPipe() // the peer exits when this closes
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &peer{version: version, cmd: cmd, stdin: stdin, exited: make(chan struct{}), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}

	listening := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				if n, err := strconv.Atoi(rest); err == nil {
					select {
					case listening <- n:
					default:
					}
				}
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()

	timer := time.NewTimer(peerStartLimit)
	defer timer.Stop()
	select {
	case p.port = <-listening:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("exited before listening (%v): %s", cmd.ProcessState, p.stderr.String())
	case <-timer.C:
		p.kill()
		return nil, fmt.Errorf("no \"listening PORT\" line within %v: %s", peerStartLimit, p.stderr.String())
	}
}

// kill ends the process at once and waits for it. Safe to call again.
func (p *peer) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGCONT) // in case a test froze it
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	<-p.exited
}

// freeze stops the process (SIGSTOP): its sockets stay open but it says
// nothing, like a dead peer behind a live TCP connection.
func (p *peer) freeze(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
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
		case <-p.exited:
			t.Fatalf("shared peer %s exited: %s", version, p.stderr.String())
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
