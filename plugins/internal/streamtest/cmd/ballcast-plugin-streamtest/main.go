// Command ballcast-plugin-streamtest serves the streamtest stage, a
// streaming stage for tests.
package main

import (
	"github.com/ballcast/ballcast/plugins/internal/streamtest"
	"github.com/ballcast/ballcast/plugins/sdk"
)

func main() { sdk.Serve(streamtest.New(), nil) }
