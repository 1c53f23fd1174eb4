// Package nodepeer starts the Node.js programs that tests use as real
// protocol peers (the official Socket.IO servers and clients from npm). A
// peer script prints "listening PORT" on stdout once it accepts
// connections and exits when its stdin closes.
package nodepeer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one running peer.
type Process struct {
	// Port is the port the peer announced.
	Port int

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{} // closed after cmd.Wait returns
	stderr syncBuffer
}

// Start runs `node script args...` in dir with env added to the process
// environment, and waits up to limit for its "listening PORT" line.
func Start(dir, script string, env []string, limit time.Duration, args ...string) (*Process, error) {
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe() // the peer exits when this closes
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &Process{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	cmd.Stderr = &p.stderr
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
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case p.Port = <-listening:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("nodepeer: %s exited before listening (%v): %s", script, cmd.ProcessState, p.Stderr())
	case <-timer.C:
		p.Kill()
		return nil, fmt.Errorf("nodepeer: %s: no \"listening PORT\" line within %v: %s", script, limit, p.Stderr())
	}
}

// URL is the peer's base URL on loopback.
func (p *Process) URL() string { return "http://127.0.0.1:" + strconv.Itoa(p.Port) }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stderr is what the process wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Kill ends the process at once (resuming it first, in case a test froze
// it) and waits for it. Safe to call again.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	_ = p.cmd.Process.Kill()
	_ = p.stdin.Close()
	<-p.exited
}

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
