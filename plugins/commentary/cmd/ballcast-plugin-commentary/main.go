// Command ballcast-plugin-commentary serves the commentary stage as a
// ballcast plugin.
package main

import (
	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/sdk"
)

func main() { sdk.Serve(commentary.New(), nil) }
