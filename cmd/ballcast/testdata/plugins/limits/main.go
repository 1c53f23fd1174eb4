// Command limits is a test plugin with a config schema: it passes events
// through unchanged. Its version is $BALLCAST_TEST_LIMITS_VERSION (default
// 1.0.0), so a test can install "new versions" without another build.
package main

import (
	"context"
	"os"

	"github.com/ballcast/ballcast/plugins/sdk"
)

const schema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "max": {"type": "integer", "minimum": 1},
    "labels": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
    "odd key": {"type": "boolean"}
  },
  "required": ["max"]
}`

type limits struct{}

func (limits) Describe() sdk.Description {
	v := os.Getenv("BALLCAST_TEST_LIMITS_VERSION")
	if v == "" {
		v = "1.0.0"
	}
	return sdk.Description{Name: "limits", Version: v, Description: "test plugin with a config schema", ConfigSchema: schema}
}

func (limits) Configure(context.Context, sdk.Config) error { return nil }

func (limits) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	return []*sdk.Event{ev}, nil
}

func main() { sdk.Serve(limits{}, nil) }
