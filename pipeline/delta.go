package pipeline

import (
	"context"

	"github.com/ballcast/ballcast/core/event"
)

// Delta is partial output a stage made while still working on an input
// event, e.g. the next words of a commentary line: Text is appended to the
// earlier deltas of the same event, and the event's final output, when it
// is published, replaces them all. Deltas are provisional and best effort:
// they bypass the later stages and the durable feed and are not
// acknowledged. A retried batch streams its lines again; the runner passes
// on only what goes beyond what the failed attempts showed.
type Delta struct {
	Match   string
	EventID string // the input event's ID
	Text    string
}

// StreamStage is a Stage that can stream deltas while it processes a batch.
// The runner calls ProcessStream instead of Process when it has a
// DeltaSink.
type StreamStage interface {
	Stage
	// ProcessStream is Process, calling emit with each delta as the stage
	// makes it. emit does not block and is not called after ProcessStream
	// returns.
	ProcessStream(ctx context.Context, batch []event.Event, emit func(Delta)) ([]Result, error)
}

// DeltaSink receives the deltas of streaming stages as they are made,
// before the events they belong to reach the Sink. PublishDelta must not
// block: it is called on the stage's receiving goroutine. The broadcast hub
// implements it (without importing pipeline); so does the bus, which
// carries deltas to broadcast nodes.
type DeltaSink interface {
	PublishDelta(match, eventID, text string)
}

// DeltaSinks fans deltas out to several sinks, in order.
type DeltaSinks []DeltaSink

// PublishDelta implements DeltaSink.
func (s DeltaSinks) PublishDelta(match, eventID, text string) {
	for _, d := range s {
		d.PublishDelta(match, eventID, text)
	}
}
