// Package sdktest runs an sdk.Stage over a real in-memory gRPC connection, so
// a plugin's tests exercise the same protobuf path as production.
package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Client is a host-side handle on a stage served in memory.
type Client struct {
	pb.StageClient
	// Server is the plugin side, for its counters.
	Server *sdk.Server
	t      testing.TB
}

// Start serves stage on an in-memory listener, configures it with cfg
// (marshalled to JSON; nil for none) and returns a client. The stage's
// state store is a fresh in-memory one, served over gRPC as a host serves
// it. Everything is torn down when the test ends.
func Start(t testing.TB, stage sdk.Stage, cfg any) *Client {
	t.Helper()
	return StartWithStore(t, stage, cfg, sdk.NewMemStore())
}

// StartWithStore is Start with the state store st, served to the stage
// over gRPC as the host serves its store. Starting a new stage on the store
// an earlier one wrote to is how a test restarts a plugin.
func StartWithStore(t testing.TB, stage sdk.Stage, cfg any, st sdk.Store) *Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	dial := func() (*grpc.ClientConn, error) {
		return grpc.NewClient("passthrough:///bufconn",
			append(sdk.DialOptions(),
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
				grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	}
	srv := grpc.NewServer(sdk.ServerOptions()...)
	ss := sdk.NewServer(stage, sdk.Description{Name: "test"})
	var (
		mu         sync.Mutex
		storeConns []*grpc.ClientConn
	)
	ss.SetDialer(func(id uint32) (*grpc.ClientConn, error) {
		if id != storeBrokerID {
			return nil, fmt.Errorf("sdktest: no service with broker id %d", id)
		}
		conn, err := dial()
		if err == nil {
			mu.Lock()
			storeConns = append(storeConns, conn)
			mu.Unlock()
		}
		return conn, err
	})
	pb.RegisterStageServer(srv, ss)
	pb.RegisterStateStoreServer(srv, sdk.NewStoreServer(st))
	go srv.Serve(lis) //nolint:errcheck // returns when stopped
	conn, err := dial()
	if err != nil {
		t.Fatalf("sdktest: dial: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		mu.Lock()
		for _, c := range storeConns {
			c.Close()
		}
		mu.Unlock()
		srv.Stop()
	})
	c := &Client{StageClient: pb.NewStageClient(conn), Server: ss, t: t}
	var raw []byte
	if cfg != nil {
		if raw, err = json.Marshal(cfg); err != nil {
			t.Fatalf("sdktest: config: %v", err)
		}
	}
	if _, err := c.Configure(t.Context(), &pb.ConfigureRequest{StageName: "test", ConfigJson: raw, StateBrokerId: storeBrokerID}); err != nil {
		t.Fatalf("sdktest: configure: %v", err)
	}
	return c
}

// storeBrokerID is the broker ID sdktest announces its state store under.
const storeBrokerID = 1

// Process sends one event and returns its outputs, failing the test on a
// transport error. A stage error is returned.
func (c *Client) Process(ev *sdk.Event) ([]*sdk.Event, error) {
	c.t.Helper()
	res := c.ProcessBatch([]*sdk.Event{ev})
	r := res.GetResults()[0]
	if r.GetError() != "" {
		return r.GetEvents(), fmt.Errorf("%s", r.GetError())
	}
	return r.GetEvents(), nil
}

// ProcessBatch sends a batch and returns the result.
func (c *Client) ProcessBatch(evs []*sdk.Event) *pb.BatchResult {
	c.t.Helper()
	res, err := c.StageClient.Process(c.t.Context(), &pb.Batch{Id: 1, Events: evs})
	if err != nil {
		c.t.Fatalf("sdktest: process: %v", err)
	}
	if res.GetError() != "" {
		c.t.Fatalf("sdktest: batch failed: %s", res.GetError())
	}
	if len(res.GetResults()) != len(evs) {
		c.t.Fatalf("sdktest: got %d results for %d events", len(res.GetResults()), len(evs))
	}
	return res
}

// ProcessStream sends a batch to a StreamStage through ProcessStream and
// returns the deltas it streamed, in arrival order, and the batch result,
// failing the test on a transport error or a call that does not end with
// exactly one result.
func (c *Client) ProcessStream(evs []*sdk.Event) ([]*pb.Delta, *pb.BatchResult) {
	c.t.Helper()
	var deltas []*pb.Delta
	res, err := c.ProcessStreamFunc(c.t.Context(), evs, func(d *pb.Delta) { deltas = append(deltas, d) })
	if err != nil {
		c.t.Fatalf("sdktest: process stream: %v", err)
	}
	return deltas, res
}

// ProcessStreamFunc is ProcessStream calling onDelta for each delta as it
// arrives, so a test can act between deltas.
func (c *Client) ProcessStreamFunc(ctx context.Context, evs []*sdk.Event, onDelta func(*pb.Delta)) (*pb.BatchResult, error) {
	stream, err := c.StageClient.ProcessStream(ctx, &pb.Batch{Id: 1, Events: evs})
	if err != nil {
		return nil, err
	}
	for {
		m, err := stream.Recv()
		if err != nil {
			return nil, fmt.Errorf("sdktest: stream ended without a result: %w", err)
		}
		if d := m.GetDelta(); d != nil {
			onDelta(d)
			continue
		}
		res := m.GetResult()
		if res == nil {
			return nil, fmt.Errorf("sdktest: empty stream message")
		}
		if _, err := stream.Recv(); err != io.EOF {
			return nil, fmt.Errorf("sdktest: stream went on after the result: %v", err)
		}
		return res, nil
	}
}
