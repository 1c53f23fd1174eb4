// Package echo is a pass-through stage: every event comes back unchanged.
// It is the reference for the cost of the plugin hop itself (see
// cmd/ballcast-bench) and a handy placeholder in a pipeline.
package echo

import (
	"context"

	"github.com/ballcast/ballcast/plugins/sdk"
)

// Stage passes events through.
type Stage struct{}

// New returns an echo stage.
func New() *Stage { return &Stage{} }

// Describe implements sdk.Describer.
func (*Stage) Describe() sdk.Description {
	return sdk.Description{Name: "echo", Version: "0.1.0", Description: "passes every event through unchanged"}
}

// Configure implements sdk.Stage; echo takes no config.
func (*Stage) Configure(_ context.Context, cfg sdk.Config) error {
	var none struct{}
	return cfg.Decode(&none)
}

// Process implements sdk.Stage.
func (*Stage) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	return []*sdk.Event{ev}, nil
}
