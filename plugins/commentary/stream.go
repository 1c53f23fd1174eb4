package commentary

import (
	"context"

	"github.com/ballcast/ballcast/plugins/sdk"
)

// ProcessStream implements sdk.StreamStage. It is ProcessBatch, and with
// llm.stream on, each piece of a streamed LLM reply is passed to emit as a
// Delta (EventID and Match of the event, Text the new piece, to append to
// the earlier pieces) the moment it arrives, from the goroutine reading the
// reply.
//
// Deltas are provisional. The event's final commentary replaces them all,
// and it may say something else: the template line when the finished reply
// fails the grounding check, is cut off, too long or a repeat, or when the
// stream breaks. A retried request emits nothing twice: only requests that
// failed before any text (429, 5xx) are retried. Template lines and
// re-delivered events emit no deltas.
func (s *Stage) ProcessStream(ctx context.Context, batch []*sdk.Event, emit func(sdk.Delta)) ([][]*sdk.Event, []error) {
	if emit == nil {
		emit = func(sdk.Delta) {}
	}
	return s.process(ctx, batch, emit)
}
