package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/plugins/sdk"
)

var streamWords = []string{"Full", "and", "driven", "for", "four."}

// startStream starts the streamtest plugin binary with cfg (words default
// to streamWords).
func startStream(t *testing.T, cfg map[string]any) *Stage {
	t.Helper()
	bin := builtPlugin(t, "ballcast-plugin-streamtest")
	if cfg == nil {
		cfg = map[string]any{}
	}
	cfg["words"] = streamWords
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return start(t, Config{Stage: "commentary", Plugin: "streamtest", Config: raw, Command: func() *exec.Cmd { return exec.Command(bin) }})
}

// fifo makes a FIFO the plugin waits on before its final line.
func fifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gate")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// open lets the plugin waiting on gate carry on.
func open(t *testing.T, gate string) {
	t.Helper()
	f, err := os.OpenFile(gate, os.O_WRONLY, 0)
	if err != nil {
		t.Errorf("open gate: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString("go\n"); err != nil {
		t.Errorf("write gate: %v", err)
	}
}

type callResult struct {
	res []pipeline.Result
	err error
}

// TestStreamDeltasArriveBeforeTheResult: every delta reaches the callback,
// in order, while the plugin still holds back its final line.
func TestStreamDeltasArriveBeforeTheResult(t *testing.T) {
	t.Parallel()
	gate := fifo(t)
	s := startStream(t, map[string]any{"gate": gate})
	if !s.Description().Streams() {
		t.Fatalf("description %+v does not announce %q", s.Description(), sdk.CapabilityStream)
	}
	deltas := make(chan pipeline.Delta, 64)
	done := make(chan callResult, 1)
	go func() {
		res, err := s.ProcessStream(t.Context(), events("m/1.0.1.0"), func(d pipeline.Delta) { deltas <- d })
		done <- callResult{res, err}
	}()
	timeout := time.After(10 * time.Second)
	for i, w := range streamWords {
		select {
		case d := <-deltas:
			if d.EventID != "m/1.0.1.0" || d.Match != "m" || strings.TrimSpace(d.Text) != w {
				t.Fatalf("delta %d = %+v, want %q of m/1.0.1.0 in match m", i, d, w)
			}
		case r := <-done:
			t.Fatalf("the call returned (%v) before delta %d arrived", r.err, i)
		case <-timeout:
			t.Fatalf("delta %d did not arrive within 10s", i)
		}
	}
	open(t, gate)
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := r.res[0].Events[0].Commentary; got == nil || got.Text != strings.Join(streamWords, " ") {
		t.Fatalf("final commentary = %+v, want the whole line", got)
	}
	if st := s.Stats(); st.Deltas != int64(len(streamWords)) {
		t.Fatalf("stats %+v, want %d deltas", st, len(streamWords))
	}
}

// TestStreamPlainPluginAndPlainCall: a plugin that does not stream is
// called as before through ProcessStream (emit never called), and a
// streaming plugin called through Process streams nothing.
func TestStreamPlainPluginAndPlainCall(t *testing.T) {
	t.Parallel()
	plain := start(t, Config{})
	if plain.Description().Streams() {
		t.Fatal("the echo test plugin announces streaming")
	}
	res, err := plain.ProcessStream(t.Context(), events("a"), func(d pipeline.Delta) { t.Errorf("unexpected delta %+v", d) })
	if err != nil || res[0].Events[0].ID != "A" {
		t.Fatalf("plain plugin via ProcessStream: %v %+v", err, res)
	}
	s := startStream(t, nil)
	res, err = s.Process(t.Context(), events("b"))
	if err != nil || res[0].Events[0].Commentary.Text != strings.Join(streamWords, " ") {
		t.Fatalf("streaming plugin via Process: %v %+v", err, res)
	}
	if st := s.Stats(); st.Deltas != 0 {
		t.Fatalf("%d deltas through Process, want 0", st.Deltas)
	}
}

// TestStreamCrashMidStream: the plugin dies after its first delta; the
// call fails saying so, the process is replaced, and the retried batch
// streams again and completes.
func TestStreamCrashMidStream(t *testing.T) {
	t.Parallel()
	gate := fifo(t)
	s := startStream(t, map[string]any{"gate": gate, "crash_once": filepath.Join(t.TempDir(), "crashed")})
	var got []string
	_, err := s.ProcessStream(t.Context(), events("x"), func(d pipeline.Delta) {
		got = append(got, d.Text)
		go open(t, gate) // the first delta is here: let the plugin crash
	})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want the plugin's exit status", err)
	}
	if len(got) != 1 {
		t.Fatalf("deltas before the crash = %q, want the first word only", got)
	}
	got = nil
	res, err := s.ProcessStream(t.Context(), events("x"), func(d pipeline.Delta) {
		if got = append(got, d.Text); len(got) == len(streamWords) {
			go open(t, gate)
		}
	})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if strings.Join(got, "") != strings.Join(streamWords, " ") || res[0].Events[0].Commentary.Text != strings.Join(streamWords, " ") {
		t.Fatalf("retry streamed %q and returned %+v, want the whole line in both", got, res[0].Events[0].Commentary)
	}
	if st := s.Stats(); st.Restarts != 1 || st.Crashes != 1 {
		t.Fatalf("stats %+v, want 1 crash and 1 restart", st)
	}
}

// TestStreamTimeout: a streaming call past its deadline kills the plugin,
// as Process does, and the next call runs on a new process.
func TestStreamTimeout(t *testing.T) {
	t.Parallel()
	gate := fifo(t)
	s := startStream(t, map[string]any{"gate": gate})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	n := 0
	_, err := s.ProcessStream(ctx, events("hang"), func(pipeline.Delta) { n++ })
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out, plugin killed") {
		t.Fatalf("err = %v, want a timeout that killed the plugin", err)
	}
	if n != len(streamWords) {
		t.Fatalf("%d deltas before the timeout, want %d", n, len(streamWords))
	}
	done := make(chan callResult, 1)
	go func() {
		res, err := s.ProcessStream(t.Context(), events("after"), func(pipeline.Delta) {})
		done <- callResult{res, err}
	}()
	open(t, gate)
	if r := <-done; r.err != nil {
		t.Fatalf("after the timeout: %v", r.err)
	}
	if st := s.Stats(); st.Restarts != 1 || st.Timeouts != 1 {
		t.Fatalf("stats %+v, want 1 timeout and 1 restart", st)
	}
}
