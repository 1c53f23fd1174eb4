package pipeline

import (
	"context"

	"github.com/ballcast/ballcast/core/event"
)

// Stage is one step of the pipeline, as the runner sees it. The plugin host
// adapts an out-of-process plugin to it; tests use in-process stages.
//
// The interface is batch-first (unlike a per-event Process) because every
// call may cross a process boundary: a batch amortises that hop when a lane
// has a backlog, and a live ball is simply a batch of one.
type Stage interface {
	// Process handles a batch of one match's events, in order. It returns
	// one Result per input event, in input order. An error means the whole
	// batch failed (transport, crash, timeout) and may be retried.
	Process(ctx context.Context, batch []event.Event) ([]Result, error)
	// Close releases the stage.
	Close(ctx context.Context) error
}

// Result is the outcome of one input event: zero events drop it, one passes
// or replaces it, several fan out. Err is set when the stage failed on this
// event alone.
type Result struct {
	Events []event.Event
	Err    error
}

// Sink receives the pipeline's output, per match in order. The broadcast
// hub implements it.
type Sink interface {
	Publish(ctx context.Context, ev event.Event) error
}

// StageFunc adapts a per-event function to Stage; for tests and
// in-process stages.
type StageFunc func(ctx context.Context, ev event.Event) ([]event.Event, error)

// Process implements Stage.
func (f StageFunc) Process(ctx context.Context, batch []event.Event) ([]Result, error) {
	out := make([]Result, len(batch))
	for i, ev := range batch {
		evs, err := f(ctx, ev)
		out[i] = Result{Events: evs, Err: err}
	}
	return out, nil
}

// Close implements Stage.
func (StageFunc) Close(context.Context) error { return nil }
