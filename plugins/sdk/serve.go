package sdk

import (
	"os"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ServeOpts are the rare knobs of Serve; nil means defaults.
type ServeOpts struct {
	// Description is used when the stage is not a Describer.
	Description Description
	// ParentCheck is how often the plugin checks that the host is alive
	// (default 1 s). When the host dies the plugin exits.
	ParentCheck time.Duration
}

// Serve runs stage as a ballcast plugin and returns when the host is done
// with it. It must be called from the plugin's main.
func Serve(stage Stage, opts *ServeOpts) {
	if opts == nil {
		opts = &ServeOpts{}
	}
	go watchParent(os.Getppid(), opts.ParentCheck)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: VersionedPlugins(stage, opts.Description),
		GRPCServer: func(o []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(o, ServerOptions()...)...)
		},
	})
}

// watchParent exits the process when its parent changes (the host died and
// the plugin was re-parented), so a kill -9 of ballcast leaves no orphans.
func watchParent(ppid int, every time.Duration) {
	if every <= 0 {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for range t.C {
		if os.Getppid() != ppid {
			os.Exit(0)
		}
	}
}
