package sdk

import "context"

// Delta is a piece of output a stage makes while it is still working on an
// event, e.g. the next words of a commentary line from a streaming LLM.
// Text is appended to what the earlier deltas of the same event said; the
// event's final output replaces them all. Deltas are best effort: they go
// straight to frontends, are never stored, and a delta that is lost or
// arrives after the final event changes nothing that lasts.
type Delta struct {
	EventID string // the input event's ID
	Match   string
	Text    string
}

// StreamStage is implemented by stages that stream partial output. When a
// stage implements it, the host calls ProcessStream instead of Process or
// ProcessBatch. results and errs are as for BatchStage.ProcessBatch. emit
// may be called from any goroutine until ProcessStream returns; each call
// sends its delta to the host at once.
type StreamStage interface {
	Stage
	ProcessStream(ctx context.Context, batch []*Event, emit func(Delta)) (results [][]*Event, errs []error)
}
