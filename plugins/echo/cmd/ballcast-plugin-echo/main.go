// Command ballcast-plugin-echo serves the pass-through echo stage.
package main

import (
	"github.com/ballcast/ballcast/plugins/echo"
	"github.com/ballcast/ballcast/plugins/sdk"
)

func main() { sdk.Serve(echo.New(), nil) }
