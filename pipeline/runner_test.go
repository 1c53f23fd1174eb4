package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pipelinetest"
)

func tag(name string) pipeline.StageFunc {
	return func(_ context.Context, ev event.Event) ([]event.Event, error) {
		ev.Source += name
		return []event.Event{ev}, nil
	}
}

func run(t *testing.T, specs []pipeline.Spec, in <-chan event.Event) (*pipelinetest.Sink, error) {
	t.Helper()
	sink := pipelinetest.NewSink()
	err := pipeline.NewRunner(specs, sink, zerolog.Nop()).Run(t.Context(), in)
	return sink, err
}

func TestRunnerKeepsEachMatchInOrderThroughEveryStage(t *testing.T) {
	matches := []string{"a", "b", "c"}
	var feeds [][]event.Event
	for _, m := range matches {
		feeds = append(feeds, pipelinetest.Balls(m, 500))
	}
	// Interleave the matches as a live feed would.
	in := make(chan event.Event)
	go func() {
		defer close(in)
		for i := range 500 {
			for _, f := range feeds {
				in <- f[i]
			}
		}
	}()
	specs := []pipeline.Spec{{Name: "1", Stage: tag("1"), Batch: 8}, {Name: "2", Stage: tag("2"), Batch: 3}, {Name: "3", Stage: tag("3")}}
	sink, err := run(t, specs, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		got := sink.Events(m)
		if len(got) != 500 {
			t.Fatalf("match %s: got %d events, want 500", m, len(got))
		}
		for i, ev := range got {
			if ev.Seq != uint64(i+1) {
				t.Fatalf("match %s: event %d has seq %d, want %d", m, i, ev.Seq, i+1)
			}
			if ev.Source != "123" {
				t.Fatalf("match %s seq %d passed stages %q, want 123", m, ev.Seq, ev.Source)
			}
		}
	}
}

func TestRunnerDropsAndFansOut(t *testing.T) {
	stage := pipeline.StageFunc(func(_ context.Context, ev event.Event) ([]event.Event, error) {
		switch ev.Seq % 3 {
		case 0:
			return nil, nil
		case 1:
			dup := ev
			dup.ID += "+"
			return []event.Event{ev, dup}, nil
		}
		return []event.Event{ev}, nil
	})
	sink, err := run(t, []pipeline.Spec{{Name: "s", Stage: stage, Batch: 4}}, pipelinetest.Feed(pipelinetest.Balls("m", 9)))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range sink.Events("m") {
		ids = append(ids, strings.TrimPrefix(ev.ID, "m/"))
	}
	want := "1 1+ 2 4 4+ 5 7 7+ 8"
	if got := strings.Join(ids, " "); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// gate blocks its first call until released, so a backlog builds.
type gate struct {
	release chan struct{}
	entered chan struct{}
	once    sync.Once
	mu      sync.Mutex
	sizes   []int
}

func (g *gate) Process(_ context.Context, batch []event.Event) ([]pipeline.Result, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	g.mu.Lock()
	g.sizes = append(g.sizes, len(batch))
	g.mu.Unlock()
	out := make([]pipeline.Result, len(batch))
	for i, ev := range batch {
		out[i].Events = []event.Event{ev}
	}
	return out, nil
}

func (g *gate) Close(context.Context) error { return nil }

func TestRunnerBatchesABacklog(t *testing.T) {
	g := &gate{release: make(chan struct{}), entered: make(chan struct{})}
	in := make(chan event.Event, 200)
	evs := pipelinetest.Balls("m", 101)
	in <- evs[0]
	sink := pipelinetest.NewSink()
	done := make(chan error, 1)
	go func() {
		done <- pipeline.NewRunner([]pipeline.Spec{{Name: "g", Stage: g, Batch: 16}}, sink, zerolog.Nop()).Run(t.Context(), in)
	}()
	<-g.entered // the first event is in the stage; queue the rest behind it
	for _, ev := range evs[1:] {
		in <- ev
	}
	close(in)
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if sink.Len() != 101 {
		t.Fatalf("got %d events, want 101", sink.Len())
	}
	biggest := 0
	for _, n := range g.sizes {
		biggest = max(biggest, n)
	}
	if biggest < 2 || biggest > 16 {
		t.Fatalf("batch sizes %v: want a backlog batched, at most 16 per call", g.sizes)
	}
}

// flaky fails whole batches while failing > 0, and single events whose
// seq is in bad.
type flaky struct {
	failing atomic.Int64
	calls   atomic.Int64
	bad     map[uint64]bool
}

func (f *flaky) Process(_ context.Context, batch []event.Event) ([]pipeline.Result, error) {
	f.calls.Add(1)
	if f.failing.Add(-1) >= 0 {
		return nil, errors.New("plugin crashed")
	}
	out := make([]pipeline.Result, len(batch))
	for i, ev := range batch {
		if f.bad[ev.Seq] {
			out[i].Err = fmt.Errorf("cannot handle seq %d", ev.Seq)
			continue
		}
		ev.Source = "processed"
		out[i].Events = []event.Event{ev}
	}
	return out, nil
}

func (f *flaky) Close(context.Context) error { return nil }

func TestRunnerOnError(t *testing.T) {
	cases := []struct {
		name      string
		policy    pipeline.OnError
		failing   int64 // whole-batch failures before it works
		bad       map[uint64]bool
		wantErr   bool
		wantSeqs  string
		processed bool // every delivered event went through the stage
	}{
		{name: "transient failure is retried", policy: pipeline.OnErrorSkip, failing: 2, wantSeqs: "1 2 3", processed: true},
		{name: "retry policy outlasts retries", policy: pipeline.OnErrorRetry, failing: 6, wantSeqs: "1 2 3", processed: true},
		{name: "skip drops after retries", policy: pipeline.OnErrorSkip, failing: 1 << 40, wantSeqs: ""},
		{name: "fallback passes unchanged", policy: pipeline.OnErrorFallback, failing: 1 << 40, wantSeqs: "1 2 3"},
		{name: "fail stops the pipeline", policy: pipeline.OnErrorFail, failing: 1 << 40, wantErr: true},
		{name: "bad event skipped", policy: pipeline.OnErrorSkip, bad: map[uint64]bool{2: true}, wantSeqs: "1 3"},
		{name: "bad event passed on under fallback", policy: pipeline.OnErrorFallback, bad: map[uint64]bool{2: true}, wantSeqs: "1 2 3"},
		{name: "bad event fails the pipeline", policy: pipeline.OnErrorFail, bad: map[uint64]bool{2: true}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{bad: tc.bad}
			f.failing.Store(tc.failing)
			spec := pipeline.Spec{Name: "flaky", Stage: f, OnError: tc.policy, Retries: 2, Batch: 3}
			in := make(chan event.Event, 3)
			for _, ev := range pipelinetest.Balls("m", 3) {
				in <- ev
			}
			close(in)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			sink := pipelinetest.NewSink()
			err := pipeline.NewRunner([]pipeline.Spec{spec}, sink, zerolog.Nop()).Run(ctx, in)
			if tc.wantErr {
				if !errors.Is(err, pipeline.ErrStageFailed) || !strings.Contains(err.Error(), "flaky") {
					t.Fatalf("err = %v, want ErrStageFailed naming the stage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var seqs []string
			for _, ev := range sink.Events("m") {
				seqs = append(seqs, fmt.Sprint(ev.Seq))
				if tc.processed && ev.Source != "processed" {
					t.Errorf("seq %d was not processed by the stage", ev.Seq)
				}
			}
			if got := strings.Join(seqs, " "); got != tc.wantSeqs {
				t.Fatalf("delivered seqs %q, want %q", got, tc.wantSeqs)
			}
		})
	}
}

func TestRunnerStopsOnCancel(t *testing.T) {
	block := pipeline.StageFunc(func(ctx context.Context, ev event.Event) ([]event.Event, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithCancel(t.Context())
	in := make(chan event.Event, 1)
	in <- pipelinetest.Balls("m", 1)[0]
	done := make(chan error, 1)
	go func() {
		done <- pipeline.NewRunner([]pipeline.Spec{{Name: "b", Stage: block, OnError: pipeline.OnErrorRetry}}, pipelinetest.NewSink(), zerolog.Nop()).Run(ctx, in)
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runner did not stop after cancel")
	}
}

// ackSink checks, at every acknowledgement, that everything the stages made
// of that input was already published.
type ackSink struct {
	mu        sync.Mutex
	published map[string]int // match/input seq -> outputs published
}

func (s *ackSink) Publish(_ context.Context, ev event.Event) error {
	s.mu.Lock()
	s.published[fmt.Sprint(ev.Match, "/", ev.Seq)]++
	s.mu.Unlock()
	return nil
}

func TestRunnerAcknowledgesAfterPublish(t *testing.T) {
	// Seq%3 == 0 is dropped by the first stage, seq%3 == 1 fans out into two
	// events at the first stage and into two more at the second (four
	// outputs), the rest pass one to one.
	fanout := func(ctx context.Context, ev event.Event) ([]event.Event, error) {
		switch ev.Seq % 3 {
		case 0:
			return nil, nil
		case 1:
			a, b := ev, ev
			a.ID, b.ID = ev.ID+"/a", ev.ID+"/b"
			return []event.Event{a, b}, nil
		}
		return []event.Event{ev}, nil
	}
	again := func(ctx context.Context, ev event.Event) ([]event.Event, error) {
		if ev.Seq%3 == 1 {
			c := ev
			c.ID += "/c"
			return []event.Event{ev, c}, nil
		}
		return []event.Event{ev}, nil
	}
	want := map[uint64]int{}
	const n = 300
	for seq := uint64(1); seq <= n; seq++ {
		want[seq] = []int{0, 4, 1}[seq%3]
	}
	sink := &ackSink{published: map[string]int{}}
	r := pipeline.NewRunner([]pipeline.Spec{
		{Name: "fan", Stage: pipeline.StageFunc(fanout), Batch: 7},
		{Name: "again", Stage: pipeline.StageFunc(again), Batch: 5},
	}, sink, zerolog.Nop())

	var mu sync.Mutex
	acked := map[uint64]int{}
	var bad []string
	in := make(chan pipeline.Delivery)
	go func() {
		defer close(in)
		for _, ev := range append(pipelinetest.Balls("m1", n), pipelinetest.Balls("m2", n)...) {
			in <- pipeline.Delivery{Event: ev, Ack: func() {
				sink.mu.Lock()
				got := sink.published[fmt.Sprint(ev.Match, "/", ev.Seq)]
				sink.mu.Unlock()
				mu.Lock()
				defer mu.Unlock()
				acked[ev.Seq]++
				if got < want[ev.Seq] {
					bad = append(bad, fmt.Sprintf("%s acked with %d of %d outputs published", ev.ID, got, want[ev.Seq]))
				}
			}}
		}
	}()
	if err := r.RunDeliveries(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
	for seq := uint64(1); seq <= n; seq++ {
		if acked[seq] != 2 {
			t.Errorf("seq %d acknowledged %d times, want once per match (2)", seq, acked[seq])
		}
	}
	if r.Backlog() != 0 {
		t.Errorf("backlog %d after drain, want 0", r.Backlog())
	}
}

type callCounter struct {
	mu     sync.Mutex
	events map[string]int
}

func (c *callCounter) StageCall(stage string, events int, _ time.Duration, _ error) {
	c.mu.Lock()
	c.events[stage] += events
	c.mu.Unlock()
}

func TestRunnerObserver(t *testing.T) {
	obs := &callCounter{events: map[string]int{}}
	pass := pipeline.StageFunc(func(_ context.Context, ev event.Event) ([]event.Event, error) { return []event.Event{ev}, nil })
	r := pipeline.NewRunner([]pipeline.Spec{{Name: "a", Stage: pass, Batch: 8}, {Name: "b", Stage: pass, Batch: 3}}, pipelinetest.NewSink(), zerolog.Nop())
	r.SetObserver(obs)
	if err := r.Run(t.Context(), pipelinetest.Feed(pipelinetest.Balls("m", 50))); err != nil {
		t.Fatal(err)
	}
	if obs.events["a"] != 50 || obs.events["b"] != 50 {
		t.Fatalf("observed events %v, want 50 per stage", obs.events)
	}
}
