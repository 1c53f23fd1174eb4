package pluginhost

import (
	"context"
	"fmt"
	"os/exec"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/pipeline"
)

// BenchmarkProcessStream measures one Process call on the test echo plugin
// over the long-lived stream, for a live ball (batch 1) and a backlog
// (batch 64). ns/op is per call; events/s is per event.
func BenchmarkProcessStream(b *testing.B) { benchmarkProcess(b, TransportStream) }

// BenchmarkProcessUnary is BenchmarkProcessStream with one unary call per
// batch.
func BenchmarkProcessUnary(b *testing.B) { benchmarkProcess(b, TransportUnary) }

func benchmarkProcess(b *testing.B, tr Transport) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, err := Start(b.Context(), Config{Stage: "upper", Plugin: "test-echo", Command: command("echo"), Transport: tr}, zerolog.Nop())
			if err != nil {
				b.Fatalf("start: %v", err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			ids := make([]string, size)
			for i := range ids {
				ids[i] = fmt.Sprintf("m/1.%d.%d.0", i/6, i%6+1)
			}
			batch := events(ids...)
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Process(b.Context(), batch)
				if err != nil {
					b.Fatal(err)
				}
				if len(res) != size {
					b.Fatalf("got %d results, want %d", len(res), size)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkStreamingPlugin is one batch of one event to the streamtest
// plugin (a one-word line) on its long-lived StreamDeltas stream: through
// ProcessStream with its delta taken ("deltas"), and through Process,
// which drops it ("process"). Compare with BenchmarkProcessStream (echo
// on Stream): streaming costs the plugin hop no extra round trip.
func BenchmarkStreamingPlugin(b *testing.B) {
	bin := builtPlugin(b, "ballcast-plugin-streamtest")
	for _, mode := range []string{"process", "deltas"} {
		b.Run(mode, func(b *testing.B) {
			s, err := Start(b.Context(), Config{Stage: "commentary", Plugin: "streamtest", Config: []byte(`{"words":["Four."]}`),
				Command: func() *exec.Cmd { return exec.Command(bin) }}, zerolog.Nop())
			if err != nil {
				b.Fatalf("start: %v", err)
			}
			b.Cleanup(func() { s.Close(context.Background()) })
			batch := events("m/1.0.1.0")
			n := 0
			emit := func(pipeline.Delta) { n++ }
			for b.Loop() {
				var err error
				if mode == "deltas" {
					_, err = s.ProcessStream(b.Context(), batch, emit)
				} else {
					_, err = s.Process(b.Context(), batch)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if mode == "deltas" && n != b.N {
				b.Fatalf("%d deltas for %d calls", n, b.N)
			}
		})
	}
}
