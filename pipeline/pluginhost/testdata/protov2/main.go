// Command protov2 is a test plugin built for a future ballcast plugin
// protocol: it completes go-plugin's handshake with ballcast's magic cookie
// but protocol version 2, so the host must refuse it with a clear message.
package main

import (
	"github.com/hashicorp/go-plugin"

	"github.com/ballcast/ballcast/plugins/sdk"
)

func main() {
	hs := sdk.Handshake
	hs.ProtocolVersion = 2
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: hs,
		Plugins:         plugin.PluginSet{sdk.PluginName: &sdk.GRPCPlugin{}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
