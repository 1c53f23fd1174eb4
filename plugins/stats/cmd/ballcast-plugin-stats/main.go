// Command ballcast-plugin-stats serves the stats stage as a ballcast plugin.
package main

import (
	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/stats"
)

func main() { sdk.Serve(stats.New(), nil) }
