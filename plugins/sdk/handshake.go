package sdk

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// ProtocolVersion is the plugin wire protocol version this SDK speaks.
const ProtocolVersion = 1

// PluginName is the name the stage service is dispensed under.
const PluginName = "stage"

// Handshake is the go-plugin handshake shared by host and plugins. The
// cookie only tells a plugin binary that ballcast started it; it is not a
// security measure (checksums are).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "BALLCAST_PLUGIN",
	MagicCookieValue: "3c1b9c0e-ballcast-stage",
}

// GRPCPlugin is the go-plugin glue for the Stage service. Hosts use it with
// a nil Impl; plugins with their Stage.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl Stage
	Desc Description
}

// GRPCServer registers the stage service on a plugin's gRPC server; the
// stage reaches the host's state store through broker.
func (p *GRPCPlugin) GRPCServer(broker *plugin.GRPCBroker, s *grpc.Server) error {
	srv := NewServer(p.Impl, p.Desc)
	srv.SetDialer(func(id uint32) (*grpc.ClientConn, error) { return broker.DialWithOptions(id, DialOptions()...) })
	pb.RegisterStageServer(s, srv)
	return nil
}

// HostClient is what a host dispenses: the stage client, the connection it
// runs on (for health checks) and the broker through which the host serves
// the plugin its state store.
type HostClient struct {
	pb.StageClient
	Conn   *grpc.ClientConn
	Broker *plugin.GRPCBroker
}

// GRPCClient returns a *HostClient for the host.
func (p *GRPCPlugin) GRPCClient(_ context.Context, broker *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &HostClient{StageClient: pb.NewStageClient(c), Conn: c, Broker: broker}, nil
}

// VersionedPlugins is the plugin set for each supported protocol version.
func VersionedPlugins(impl Stage, desc Description) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl, Desc: desc}},
	}
}

// Transport tuning shared by host and plugin: larger HTTP/2 windows and
// buffers make a long-lived stream cheaper than unary calls (measured in
// docs/benchmarks.md); gRPC's defaults make it slower.
const (
	InitialWindowSize     = 1 << 20
	InitialConnWindowSize = 1 << 20
	BufferSize            = 256 << 10
	MaxMessageSize        = 64 << 20
)

// ServerOptions are the gRPC server options a plugin serves with.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.InitialWindowSize(InitialWindowSize),
		grpc.InitialConnWindowSize(InitialConnWindowSize),
		grpc.ReadBufferSize(BufferSize),
		grpc.WriteBufferSize(BufferSize),
		grpc.MaxRecvMsgSize(MaxMessageSize),
		grpc.MaxSendMsgSize(MaxMessageSize),
	}
}

// DialOptions are the matching gRPC client options for hosts.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{
		grpc.WithInitialWindowSize(InitialWindowSize),
		grpc.WithInitialConnWindowSize(InitialConnWindowSize),
		grpc.WithReadBufferSize(BufferSize),
		grpc.WithWriteBufferSize(BufferSize),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageSize), grpc.MaxCallSendMsgSize(MaxMessageSize)),
	}
}
