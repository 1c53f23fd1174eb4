package pluginhost

import (
	"context"

	"google.golang.org/grpc"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Store is the host-side state store plugins read and write through
// GRPCBroker. Implementations must be safe for concurrent use; keys are
// arbitrary strings and values may be a few MB. A JetStream KV bucket
// (core/bus) is one; NewMemStore is the in-memory default.
type Store interface {
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

// NewMemStore returns an empty in-memory Store, safe for concurrent use. It
// keeps state across plugin restarts within one ballcast process.
func NewMemStore() Store { return sdk.NewMemStore() }

// stageStore prefixes every key of one stage with "<stage>/", so two
// stages sharing a Store never collide.
type stageStore struct {
	st     Store
	prefix string
}

func newStageStore(st Store, stage string) stageStore {
	return stageStore{st: st, prefix: stage + "/"}
}

func (s stageStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.st.Get(ctx, s.prefix+key)
}

func (s stageStore) Put(ctx context.Context, key string, value []byte) error {
	return s.st.Put(ctx, s.prefix+key, value)
}

func (s stageStore) Delete(ctx context.Context, key string) error {
	return s.st.Delete(ctx, s.prefix+key)
}

// serveStore offers the stage's store to one plugin process through its
// broker and returns the broker ID to announce in Configure. The server
// stops when the process's broker closes (the client is killed).
func serveStore(hc *sdk.HostClient, st stageStore) uint32 {
	id := hc.Broker.NextId()
	go hc.Broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		srv := grpc.NewServer(append(opts, sdk.ServerOptions()...)...)
		pb.RegisterStateStoreServer(srv, sdk.NewStoreServer(st))
		return srv
	})
	return id
}
