package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pluginhost"
)

// Streaming commentary end to end: a plugin that streams its line word by
// word (plugins/internal/streamtest, built as a real binary), the plugin
// host, the pipeline and the hub, to a real WebSocket client. The plugin
// holds one ball at a gate (a Unix socket the test listens on) before its
// first word and before its final line, so what reached the client before
// the final line is certain without any sleep.

var streamWords = []string{"Full", "and", "driven", "through", "cover", "for", "four."}

const streamMatch = "1298179"

// streamSetup builds the plugin, makes the gate and picks the held ball.
type streamSetup struct {
	words           []string // default streamWords
	bin, gate, hold string
	upto            int // events in the stream up to and including hold
	ln              *net.UnixListener
}

func newStreamSetup(t testing.TB) streamSetup {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "ballcast-plugin-streamtest")
	args := []string{"build", "-o", bin}
	if raceEnabled() { // reuse the race-built dependencies of this binary
		args = append(args, "-race")
	}
	build := exec.CommandContext(t.Context(), "go", append(args, "github.com/ballcast/ballcast/plugins/internal/streamtest/cmd/ballcast-plugin-streamtest")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the streamtest plugin: %v\n%s", err, out)
	}
	gate := filepath.Join(dir, "gate")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: gate, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	evs, err := replay.Parse(streamMatch, replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	s := streamSetup{bin: bin, gate: gate, ln: ln}
	balls := 0
	for i, ev := range evs {
		if ev.Kind == event.KindBall {
			if balls++; balls == 5 {
				s.hold, s.upto = ev.ID, i+1
				break
			}
		}
	}
	return s
}

// open waits for the plugin to arrive at the gate and lets it through. A
// wait of a process that has died since (its connection still queued)
// cannot be written to and is skipped.
func (s streamSetup) open(t testing.TB) {
	t.Helper()
	if err := s.ln.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.release(); err != nil {
		t.Fatalf("gate: %v", err)
	}
}

func (s streamSetup) release() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return err
		}
		_, err = c.Write([]byte{1})
		c.Close()
		if err == nil {
			return nil
		}
	}
}

// keepOpen lets every wait at the gate through until the returned stop is
// called: once a test has seen every word, the final line may go, and if
// the batch was retried meanwhile (a plugin killed for a slow health check
// on a loaded machine), the retry goes through too.
func (s streamSetup) keepOpen(t testing.TB) (stop func()) {
	t.Helper()
	if err := s.ln.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s.release() == nil {
		}
	}()
	return func() {
		_ = s.ln.SetDeadline(time.Now()) // ends the Accept
		<-done
	}
}

func (s streamSetup) wordList() []string {
	if len(s.words) > 0 {
		return s.words
	}
	return streamWords
}

// yaml is a pipeline replaying the bundled match through the streaming
// stage and then the echo plugin (which must see no delta), with extra
// stage config and bus config.
func (s streamSetup) yaml(stageCfg, bus string) string {
	return `sources:
  - {name: bundled, type: replay, config: {speed: max}}
stages:
  - name: commentary
    plugin: ` + s.bin + `
    timeout: 60s
    on_error: retry
    retries: 3
    config: {words: [` + strings.Join(s.wordList(), ", ") + `], gate: ` + s.gate + `, hold: "` + s.hold + `"` + stageCfg + `}
  - {name: echo, plugin: echo}
` + bus
}

// streamStage is the streaming stage's plugin host.
func streamStage(srv *server) *pluginhost.Stage {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.stages.hosts[0]
}

func startRole(t testing.TB, yml, role, dataDir string) *server {
	t.Helper()
	cfg, err := pipeline.Parse("stream.yaml", []byte(yml), &pipeline.LoadOptions{SourceTypes: sourceTypes(), Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of the %s node:\n%s", role, logs)
		}
	})
	srv, err := startServer(ctx, cfg, serverOptions{listen: "127.0.0.1:0", dataDir: dataDir, role: role}, zerolog.New(logs).Level(zerolog.InfoLevel))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Wait(); err != nil {
			t.Errorf("server (%s): %v", role, err)
		}
	})
	return srv
}

// readHeld reads frames until the deltas of the held ball spell want,
// failing on its final event or on deltas out of order; frames of earlier
// events may come in between. first, if not nil, is called at the first
// delta.
func readHeld(t *testing.T, ctx context.Context, c *broadcasttest.Client, hold, want string, first func()) {
	t.Helper()
	var text strings.Builder
	for text.Len() < len(want) {
		f := c.Next(ctx)
		switch {
		case f.Op == broadcast.OpEvent && f.ID == hold:
			t.Fatalf("the final line came while the plugin held it (deltas so far %q)", text.String())
		case f.Op != broadcast.OpDelta || f.ID != hold:
			continue // earlier events (and their lines) still arriving
		case f.Match != streamMatch:
			t.Fatalf("delta %s of another match", f.Raw)
		}
		if text.Len() == 0 && first != nil {
			first()
		}
		text.WriteString(f.Text)
		if !strings.HasPrefix(want, text.String()) {
			t.Fatalf("deltas spell %q, want %q in order", text.String(), want)
		}
	}
}

// readFinal reads until the held ball's event and checks that it carries
// the whole line, with no more text of it before. (A batch retried after
// every word was shown streams the line again; the runner passes none of
// it on.)
func readFinal(t *testing.T, ctx context.Context, c *broadcasttest.Client, hold string) broadcasttest.Frame {
	t.Helper()
	for {
		f := c.Next(ctx)
		if f.ID != hold {
			continue
		}
		if f.Op == broadcast.OpDelta {
			t.Fatalf("a delta %s after the plugin finished streaming", f.Raw)
		}
		if f.Op != broadcast.OpEvent || f.Data.Commentary == nil || f.Data.Commentary.Text != strings.Join(streamWords, " ") {
			t.Fatalf("final frame %s, want the event with the whole line", f.Raw)
		}
		return f
	}
}

// TestStreamingCommentaryReachesWebSocket: on one node (role all) the
// plugin's words reach a WebSocket client as deltas, in order, before the
// final line, which then replaces them; the echo stage after the streaming
// one gets events only.
func TestStreamingCommentaryReachesWebSocket(t *testing.T) {
	s := newStreamSetup(t)
	srv := startRole(t, s.yaml("", ""), roleAll, t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	c.Subscribe(streamMatch, broadcasttest.Fresh)
	c.NextOp(ctx, broadcast.OpSnapshot)

	s.open(t) // the plugin starts streaming the held ball
	readHeld(t, ctx, c, s.hold, strings.Join(streamWords, " "), nil)
	stop := s.keepOpen(t) // every word is at the client: the final line may go now
	f := readFinal(t, ctx, c, s.hold)
	stop()
	if f.Seq == 0 {
		t.Fatalf("final event %s has no seq", f.Raw)
	}
	// Operators see the streamed pieces in /metrics.
	if err := waitMetric(srv, fmt.Sprintf(`ballcast_stage_deltas_total\{stage="commentary"\} ([%d-9]|[1-9][0-9]+)`, len(streamWords))); err != nil {
		t.Error(err)
	}
}

// TestStreamingPluginCrashMidStream: the plugin dies after the first word
// of the held ball reached the client; the batch is retried on a new
// process, which streams the line again from its start, the client gets
// the rest of it (not the first word twice), and the final line is
// published once.
func TestStreamingPluginCrashMidStream(t *testing.T) {
	s := newStreamSetup(t)
	marker := filepath.Join(t.TempDir(), "crashed")
	srv := startRole(t, s.yaml(`, crash_once: "`+marker+`"`, ""), roleAll, t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	c.Subscribe(streamMatch, broadcasttest.Fresh)
	c.NextOp(ctx, broadcast.OpSnapshot)

	s.open(t) // first process: the first word...
	readHeld(t, ctx, c, s.hold, streamWords[0]+" ", nil)
	pid := streamStage(srv).Pid()
	s.open(t) // ...then it exits with status 3
	s.open(t) // the new process streams the held ball again, from its start
	// The client gets the rest of the line: what was shown is not repeated.
	readHeld(t, ctx, c, s.hold, strings.Join(streamWords[1:], " "), nil)
	stop := s.keepOpen(t)
	readFinal(t, ctx, c, s.hold)
	stop()
	st := streamStage(srv)
	if got := st.Stats(); got.Crashes < 1 || got.Restarts < 1 || st.Pid() == pid {
		t.Fatalf("plugin stats %+v (pid %d, was %d), want the crash and a restart", got, st.Pid(), pid)
	}
	// Exactly once in the history.
	n := 0
	for _, f := range follow(t, broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws"), streamMatch, s.upto, nil) {
		if f.ID == s.hold {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the held ball is in the stream %d times, want 1", n)
	}
}

// TestStreamingAcrossNodes: with the pipeline on one node and the
// broadcast on another (one NATS, the pipeline node's embedded server),
// the deltas made on the pipeline node reach a WebSocket client of the
// broadcast node, in order, before the final line.
func TestStreamingAcrossNodes(t *testing.T) {
	s := newStreamSetup(t)
	pipe := startRole(t, s.yaml("", "bus: {listen: \"127.0.0.1:0\"}\n"), rolePipeline, t.TempDir())
	url := pipe.bus.ClientURL()
	if url == "" {
		t.Fatal("the pipeline node's NATS server is not listening")
	}
	bcast := startRole(t, s.yaml("", "bus: {url: \""+url+"\"}\n"), roleBroadcast, "")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := broadcasttest.Dial(t, "http://"+bcast.Addr()+"/v1/ws")
	c.Subscribe(streamMatch, broadcasttest.Fresh)
	c.NextOp(ctx, broadcast.OpSnapshot)

	s.open(t)
	readHeld(t, ctx, c, s.hold, strings.Join(streamWords, " "), nil)
	stop := s.keepOpen(t)
	readFinal(t, ctx, c, s.hold)
	stop()
}

// TestStreamingThroughCommentaryPlugin: the real commentary plugin with
// llm.stream on, against a local OpenAI-compatible server that streams its
// replies (server-sent events). The server holds its third reply: it sends
// nothing until the client has subscribed, then every piece, then waits
// again before finishing; the pieces reach the WebSocket client as deltas,
// in order, before the event, whose commentary is the whole reply.
func TestStreamingThroughCommentaryPlugin(t *testing.T) {
	pieces := []string{"what ", "a shot, ", "right off ", "the middle of the bat."}
	start, finish := make(chan struct{}), make(chan struct{})
	var (
		mu sync.Mutex
		n  int
	)
	llm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		n++
		held := n == 3
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		chunk := func(content, finish string) {
			fin := "null"
			if finish != "" {
				fin = `"` + finish + `"`
			}
			c, _ := json.Marshal(content)
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"model\":\"fake\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":%s}]}\n\n", c, fin)
			fl.Flush()
		}
		wait := func(ch chan struct{}) bool {
			select {
			case <-ch:
				return true
			case <-r.Context().Done():
				return false
			}
		}
		if !held {
			chunk(fmt.Sprintf("another ball, request %c.", 'a'+rune(n%26)), "")
		} else {
			if !wait(start) {
				return
			}
			for _, p := range pieces {
				chunk(p, "")
			}
			if !wait(finish) {
				return
			}
		}
		chunk("", "stop")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(llm.Close)

	yml := `sources:
  - {name: bundled, type: replay, config: {speed: max}}
stages:
  - {name: dedup, plugin: dedup}
  - {name: stats, plugin: stats}
  - name: commentary
    plugin: commentary
    timeout: 90s
    on_error: fallback
    config:
      llm: {base_url: "` + llm.URL + `/v1", model: fake, stream: true, timeout: 60s, max_concurrency: 1}
`
	srv := startRole(t, yml, roleAll, t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c := broadcasttest.Dial(t, "http://"+srv.Addr()+"/v1/ws")
	c.Subscribe(streamMatch, broadcasttest.Fresh)
	c.NextOp(ctx, broadcast.OpSnapshot)
	close(start)

	var id string
	var text strings.Builder
	want := strings.Join(pieces, "")
	for text.Len() < len(want) {
		f := c.Next(ctx)
		if f.Op != broadcast.OpDelta || (id == "" && f.Text != pieces[0]) || (id != "" && f.ID != id) {
			if f.Op == broadcast.OpEvent && id != "" && f.ID == id {
				t.Fatalf("the final line came while the server held the reply (deltas so far %q)", text.String())
			}
			continue // other events and their lines
		}
		id = f.ID
		text.WriteString(f.Text)
		if !strings.HasPrefix(want, text.String()) {
			t.Fatalf("deltas spell %q, want %q in order", text.String(), want)
		}
	}
	close(finish)
	for {
		f := c.Next(ctx)
		if f.ID != id {
			continue
		}
		if f.Op != broadcast.OpEvent || f.Data.Commentary == nil {
			t.Fatalf("after the reply was finished: %s, want the event", f.Raw)
		}
		if cm := f.Data.Commentary; cm.Text != want || cm.Fallback {
			t.Fatalf("final commentary %+v, want the streamed line %q", cm, want)
		}
		break
	}
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "-race" && st.Value == "true" {
				return true
			}
		}
	}
	return false
}

// BenchmarkDeltaLatency measures how long a delta takes from the plugin's
// emit to a WebSocket client on one node (role all: plugin → gRPC →
// plugin host → hub → WebSocket), against a bare go-plugin round trip to
// the echo plugin (host → plugin → host, one event) in the same process.
// It streams 200 stamped deltas 2 ms apart (as a model's tokens come),
// then makes 200 echo calls, and reports both medians and their ratio.
// Run it with -benchtime=1x: the work does not scale with b.N.
func BenchmarkDeltaLatency(b *testing.B) {
	const n = 200
	s := newStreamSetup(b)
	for i := range n {
		s.words = append(s.words, fmt.Sprintf("w%d", i))
	}
	srv := startRole(b, s.yaml(`, stamp: true, pace: 2ms`, ""), roleAll, b.TempDir())
	ctx, cancel := context.WithTimeout(b.Context(), 2*time.Minute)
	defer cancel()
	c := broadcasttest.Dial(b, "http://"+srv.Addr()+"/v1/ws")
	c.Subscribe(streamMatch, broadcasttest.Fresh)
	c.NextOp(ctx, broadcast.OpSnapshot)
	s.open(b)
	var deltas []time.Duration
	for len(deltas) < n {
		f := c.Next(ctx)
		at := time.Now().UnixNano()
		if f.Op != broadcast.OpDelta || f.ID != s.hold {
			continue
		}
		_, stamp, _ := strings.Cut(strings.TrimSpace(f.Text), "@")
		sent, err := strconv.ParseInt(stamp, 10, 64)
		if err != nil {
			b.Fatalf("delta %q: no stamp", f.Text)
		}
		deltas = append(deltas, time.Duration(at-sent))
	}
	stop := s.keepOpen(b)
	defer stop()

	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	echo, err := pluginhost.Start(ctx, pluginhost.Config{Stage: "echo", Plugin: "echo",
		Command: func() *exec.Cmd { return exec.Command(self, "plugin", "serve", "echo") }}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer echo.Close(context.Background())
	ev := []event.Event{{ID: streamMatch + "/1.0.1.0", Match: streamMatch, Seq: 1, Kind: event.KindBall, Ball: &event.Ball{Innings: 1, Ball: 1}}}
	var trips []time.Duration
	for range n {
		t0 := time.Now()
		if _, err := echo.Process(ctx, ev); err != nil {
			b.Fatal(err)
		}
		trips = append(trips, time.Since(t0))
	}
	d, e := median(deltas), median(trips)
	b.ReportMetric(float64(d.Microseconds()), "delta-p50-µs")
	b.ReportMetric(float64(e.Microseconds()), "echo-p50-µs")
	b.ReportMetric(float64(d)/float64(e), "ratio")
	b.Logf("delta plugin→WebSocket p50 %s (p90 %s), echo round trip p50 %s (p90 %s)", d, pct(deltas, 0.9), e, pct(trips, 0.9))
}

func median(ds []time.Duration) time.Duration { return pct(ds, 0.5) }

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}
