package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/plugins/sdk"
)

var streamWords = []string{"Full", "and", "driven", "for", "four."}

// startStream starts the streamtest plugin binary with cfg (words default
// to streamWords).
func startStream(t *testing.T, cfg map[string]any, tr ...Transport) *Stage {
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
	c := Config{Stage: "commentary", Plugin: "streamtest", Config: raw, Command: func() *exec.Cmd { return exec.Command(bin) }}
	if len(tr) > 0 {
		c.Transport = tr[0]
	}
	return start(t, c)
}

// gate is the test's end of the streamtest plugin's gate: a Unix socket
// the plugin connects to and waits on.
type gate struct {
	path string
	ln   *net.UnixListener
}

func newGate(t *testing.T) *gate {
	t.Helper()
	p := filepath.Join(t.TempDir(), "gate")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &gate{path: p, ln: ln}
}

// open waits (up to 30 s) for a plugin to arrive at the gate and lets it
// through. A wait of a process that has died since (a killed plugin's
// connection, still queued) cannot be written to and is skipped.
func (g *gate) open(t *testing.T) {
	if err := g.ln.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Error(err)
		return
	}
	for {
		c, err := g.ln.Accept()
		if err != nil {
			t.Errorf("gate: %v", err)
			return
		}
		_, err = c.Write([]byte{1})
		c.Close()
		if err == nil {
			return
		}
	}
}

type callResult struct {
	res []pipeline.Result
	err error
}

// TestStreamDeltasArriveBeforeTheResult: every delta reaches the callback,
// in order, while the plugin still holds back its final line, on the
// long-lived stream (StreamDeltas) and with a call per batch
// (ProcessStream, the unary transport).
func TestStreamDeltasArriveBeforeTheResult(t *testing.T) {
	t.Parallel()
	for _, tr := range []Transport{TransportStream, TransportUnary} {
		t.Run(string(tr), func(t *testing.T) {
			t.Parallel()
			testDeltasBeforeResult(t, tr)
		})
	}
}

func testDeltasBeforeResult(t *testing.T, tr Transport) {
	gate := newGate(t)
	s := startStream(t, map[string]any{"gate": gate.path}, tr)
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
	gate.open(t)
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
	gate := newGate(t)
	s := startStream(t, map[string]any{"gate": gate.path, "crash_once": filepath.Join(t.TempDir(), "crashed")})
	var got []string
	_, err := s.ProcessStream(t.Context(), events("x"), func(d pipeline.Delta) {
		got = append(got, d.Text)
		go gate.open(t) // the first delta is here: let the plugin crash
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
			go gate.open(t)
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
	gate := newGate(t)
	s := startStream(t, map[string]any{"gate": gate.path})
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
	gate.open(t)
	if r := <-done; r.err != nil {
		t.Fatalf("after the timeout: %v", r.err)
	}
	if st := s.Stats(); st.Restarts != 1 || st.Timeouts != 1 {
		t.Fatalf("stats %+v, want 1 timeout and 1 restart", st)
	}
}
