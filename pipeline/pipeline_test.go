package pipeline_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pipelinetest"
)

// counted returns a stage that appends name to each event's Source.
func counted(name string, calls *atomic.Int64) pipeline.Stage {
	return pipeline.StageFunc(func(_ context.Context, ev event.Event) ([]event.Event, error) {
		calls.Add(1)
		ev.Source += "+" + name
		return []event.Event{ev}, nil
	})
}

func TestPipelineSwapLosesNothing(t *testing.T) {
	const perMatch = 400
	var a, b atomic.Int64
	sink := pipelinetest.NewSink()
	p := pipeline.NewPipeline([]pipeline.Spec{{Name: "a", Stage: counted("a", &a), Batch: 16}}, sink, zerolog.Nop())
	in := make(chan pipeline.Delivery)
	var acked atomic.Int64
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(t.Context(), in) }()

	evs := append(pipelinetest.Balls("m1", perMatch), pipelinetest.Balls("m2", perMatch)...)
	// Interleave the two matches and swap in a two-stage pipeline half way.
	var wg sync.WaitGroup
	swapped := make(chan error, 1)
	for i := 0; i < perMatch; i++ {
		for _, ev := range []event.Event{evs[i], evs[perMatch+i]} {
			in <- pipeline.Delivery{Event: ev, Ack: func() { acked.Add(1) }}
		}
		if i == perMatch/2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				swapped <- p.Swap(t.Context(), []pipeline.Spec{
					{Name: "a", Stage: counted("a", &a), Batch: 16},
					{Name: "b", Stage: counted("b", &b), Batch: 4},
				})
			}()
		}
	}
	wg.Wait()
	if err := <-swapped; err != nil {
		t.Fatal(err)
	}
	close(in)
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	if got := acked.Load(); got != 2*perMatch {
		t.Errorf("acknowledged %d deliveries, want %d", got, 2*perMatch)
	}
	for _, m := range []string{"m1", "m2"} {
		got := sink.Events(m)
		if len(got) != perMatch {
			t.Fatalf("%s: %d events published, want %d", m, len(got), perMatch)
		}
		sawB := false
		for i, ev := range got {
			if ev.Seq != uint64(i+1) {
				t.Fatalf("%s: event %d has seq %d: lost, duplicated or reordered", m, i, ev.Seq)
			}
			switch ev.Source {
			case "+a":
				if sawB {
					t.Fatalf("%s seq %d skipped stage b after the swap", m, ev.Seq)
				}
			case "+a+b":
				sawB = true
			default:
				t.Fatalf("%s seq %d went through %q", m, ev.Seq, ev.Source)
			}
		}
		if !sawB {
			t.Errorf("%s: no event went through the new stage", m)
		}
	}
	if a.Load() != 2*perMatch {
		t.Errorf("stage a processed %d events, want %d (each exactly once across the swap)", a.Load(), 2*perMatch)
	}
	t.Logf("stage b processed %d of %d events after the swap", b.Load(), 2*perMatch)
}

func TestPipelineSwapAfterStop(t *testing.T) {
	p := pipeline.NewPipeline(nil, pipelinetest.NewSink(), zerolog.Nop())
	in := make(chan pipeline.Delivery)
	close(in)
	if err := p.Run(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	if err := p.Swap(t.Context(), nil); err != pipeline.ErrNotRunning {
		t.Fatalf("Swap after Run returned: %v, want ErrNotRunning", err)
	}
}
