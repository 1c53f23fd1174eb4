package bus

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
)

const helperEnv = "BALLCAST_BUS_CRASH_HELPER"

// TestCrashHelper is the process TestCrashResume kills: it appends ten
// entries, acknowledges 1-5 and 7, waits until the server's ack floor is 5,
// says so on stdout and blocks.
func TestCrashHelper(t *testing.T) {
	dir := os.Getenv(helperEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashResume")
	}
	b := open(t, Config{DataDir: dir, AckWait: time.Hour})
	for i := uint64(1); i <= 10; i++ {
		appendAll(t, b, ball("m", i))
	}
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	for i := 1; i <= 10; i++ {
		d := recv(t, ch)
		if i <= 5 || i == 7 {
			d.Ack()
		}
	}
	polltest.Within(t, wait, "ack floor 5", func() bool { return ackFloor(t, b) == 5 })
	fmt.Println("ready")
	select {} // until killed
}

// TestCrashResume kills a process (SIGKILL, no Close) and resumes from its
// store: every acknowledged append survives, and delivery restarts at once
// after the ack floor, in order.
func TestCrashResume(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("helper exited before it was ready")
		}
	case <-time.After(3 * wait):
		_ = cmd.Process.Kill()
		t.Fatalf("helper not ready")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	b := open(t, Config{DataDir: dir, AckWait: time.Hour})
	if n, err := b.LastSeq(t.Context(), "m"); err != nil || n != 10 {
		t.Fatalf("LastSeq after crash = %d, %v; want 10", n, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	ch, err := b.ConsumeIngest(ctx)
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	first := recv(t, ch)
	// The floor (5) is written to the store asynchronously; a kill may lose
	// its last update, which only means more redelivery, never less.
	if first.Event.Seq > 6 {
		t.Fatalf("resumed at seq %d, want at most 6 (after the ack floor)", first.Event.Seq)
	}
	t.Logf("resumed at seq %d", first.Event.Seq)
	for want := first.Event.Seq + 1; want <= 10; want++ {
		if d := recv(t, ch); d.Event.Seq != want {
			t.Fatalf("delivered seq %d, want %d", d.Event.Seq, want)
		}
	}
}
