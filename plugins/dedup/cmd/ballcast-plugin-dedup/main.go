// Command ballcast-plugin-dedup serves the dedup stage as a ballcast plugin.
package main

import (
	"github.com/ballcast/ballcast/plugins/dedup"
	"github.com/ballcast/ballcast/plugins/sdk"
)

func main() { sdk.Serve(dedup.New(), nil) }
