// Command hello is the smallest useful third-party ballcast stage: it tags
// the commentary of every boundary. It imports the ballcast SDK and
// nothing else of ballcast.
package main

import (
	"context"

	"github.com/ballcast/ballcast/plugins/sdk"
)

type hello struct {
	Tag string `json:"tag"` // put in front of boundary commentary; default "🏏 "
}

func (h *hello) Describe() sdk.Description {
	return sdk.Description{Name: "hello", Version: "1.0.0", Description: "tags boundary commentary"}
}

func (h *hello) Configure(_ context.Context, cfg sdk.Config) error {
	h.Tag = "🏏 "
	return cfg.Decode(h)
}

func (h *hello) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	b, c := ev.GetBall(), ev.GetCommentary()
	if b != nil && c != nil && !b.GetNonBoundary() && (b.GetRunsBat() == 4 || b.GetRunsBat() == 6) {
		c.Text = h.Tag + c.GetText()
	}
	return []*sdk.Event{ev}, nil // one event out: passed on (zero would drop it)
}

func main() { sdk.Serve(&hello{}, nil) }
