package sdk_test

import (
	"context"
	"strings"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// typist writes each event's line word by word, as a streaming model
// would: every word goes to frontends as a delta at once, and the final
// line replaces them.
type typist struct{}

func (typist) Configure(context.Context, sdk.Config) error { return nil }

func (t typist) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	return t.line(ctx, ev, func(sdk.Delta) {})
}

func (t typist) ProcessStream(ctx context.Context, batch []*sdk.Event, emit func(sdk.Delta)) ([][]*sdk.Event, []error) {
	outs := make([][]*sdk.Event, len(batch))
	errs := make([]error, len(batch))
	for i, ev := range batch {
		outs[i], errs[i] = t.line(ctx, ev, emit)
	}
	return outs, errs
}

func (typist) line(_ context.Context, ev *sdk.Event, emit func(sdk.Delta)) ([]*sdk.Event, error) {
	const line = "Full and driven through cover for four."
	for _, w := range strings.SplitAfter(line, " ") {
		emit(sdk.Delta{EventID: ev.GetId(), Match: ev.GetMatch(), Text: w})
	}
	ev.Commentary = &pb.Commentary{Text: line, Language: "en"}
	return []*sdk.Event{ev}, nil
}

// A stage that streams implements StreamStage; Serve announces it to the
// host (sdk.CapabilityStream), which then forwards its deltas.
func ExampleStreamStage() {
	var _ sdk.StreamStage = typist{}
	// In the plugin's main:
	//	sdk.Serve(typist{}, nil)
}
