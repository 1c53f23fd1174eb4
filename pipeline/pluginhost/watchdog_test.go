package pluginhost

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// hostEnv makes the test binary act as a ballcast host (see TestMain): it
// starts the echo test plugin, prints "pid N" and waits for stdin to close.
const hostEnv = "BALLCAST_TEST_HOST"

func runTestHost() int {
	s, err := Start(context.Background(), Config{Stage: "orphan", Plugin: "test-echo", Command: command("echo")}, zerolog.Nop())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("pid %d\n", s.Pid())
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = s.Close(context.Background())
	return 0
}

// alive reports whether pid is a running process (a zombie is not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// TestNoOrphanAfterHostKilled kills -9 a host process (this test binary,
// re-executed) and checks that its plugin process does not outlive it: the
// SDK's parent-death watchdog notices the new parent and exits.
func TestNoOrphanAfterHostKilled(t *testing.T) {
	t.Parallel()
	host := exec.Command(os.Args[0])
	host.Env = append(os.Environ(), hostEnv+"=1", raceEnv)
	host.Stderr = os.Stderr
	stdin, err := host.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = host.Process.Kill()
		_ = host.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "pid ") {
				lines <- sc.Text()
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(lines)
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("host did not report its plugin's pid within 20 s")
	}
	pid, err := strconv.Atoi(strings.TrimPrefix(line, "pid "))
	if err != nil || pid <= 0 || !alive(pid) {
		t.Fatalf("host reported %q; want the pid of a running plugin", line)
	}
	t.Cleanup(func() {
		if alive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	if err := host.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	killed := time.Now()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for alive(pid) {
		select {
		case <-deadline.C:
			t.Fatalf("plugin %d still running 10 s after its host was killed", pid)
		case <-poll.C:
		}
	}
	t.Logf("plugin pid %d gone %v after kill -9 of its host", pid, time.Since(killed).Round(time.Millisecond))
}
