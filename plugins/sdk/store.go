package sdk

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/grpc"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Store is the state store a plugin keeps its per-match state in, so that a
// restarted plugin process continues where the old one stopped. Get it from
// Config.Store.
//
// The host serves the store and namespaces keys by stage name, so a key
// only has to be unique within one stage (a match ID, say). Values may be
// up to a few MB; keep them compact, since a stage usually rewrites a
// match's value after every batch that changed it.
//
// Calls are blocking gRPC calls to the host; pass the Process context so a
// stage timeout bounds them. A Store is safe for concurrent use.
type Store interface {
	// Get returns the value stored under key; found is false when there is
	// none.
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	// Put stores value under key, replacing any earlier value.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// NewMemStore returns an empty in-memory Store, safe for concurrent use.
// Values are copied in and out. The SDK uses one when the host serves no
// store (sdktest without one, older hosts); hosts use one by default.
func NewMemStore() Store { return &memStore{m: make(map[string][]byte)} }

type memStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *memStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, false, nil
	}
	return append([]byte{}, v...), true, nil
}

func (s *memStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte{}, value...)
	return nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// NewStoreClient returns a Store that calls the StateStore service on conn.
// The SDK uses it on the connection the host offers through go-plugin's
// broker; plugin authors do not need it.
func NewStoreClient(conn grpc.ClientConnInterface) Store {
	return storeClient{c: pb.NewStateStoreClient(conn)}
}

type storeClient struct{ c pb.StateStoreClient }

func (s storeClient) Get(ctx context.Context, key string) ([]byte, bool, error) {
	res, err := s.c.Get(ctx, &pb.GetRequest{Key: key})
	if err != nil {
		return nil, false, fmt.Errorf("sdk: state get %q: %w", key, err)
	}
	return res.GetValue(), res.GetFound(), nil
}

func (s storeClient) Put(ctx context.Context, key string, value []byte) error {
	if _, err := s.c.Put(ctx, &pb.PutRequest{Key: key, Value: value}); err != nil {
		return fmt.Errorf("sdk: state put %q: %w", key, err)
	}
	return nil
}

func (s storeClient) Delete(ctx context.Context, key string) error {
	if _, err := s.c.Delete(ctx, &pb.DeleteRequest{Key: key}); err != nil {
		return fmt.Errorf("sdk: state delete %q: %w", key, err)
	}
	return nil
}

// NewStoreServer serves st as the StateStore gRPC service. Hosts register
// it on the server they offer a plugin through go-plugin's broker; sdktest
// registers it in memory.
func NewStoreServer(st Store) pb.StateStoreServer { return &storeServer{st: st} }

type storeServer struct {
	pb.UnimplementedStateStoreServer
	st Store
}

func (s *storeServer) Get(ctx context.Context, req *pb.GetRequest) (*pb.GetResponse, error) {
	v, ok, err := s.st.Get(ctx, req.GetKey())
	if err != nil {
		return nil, err
	}
	return &pb.GetResponse{Found: ok, Value: v}, nil
}

func (s *storeServer) Put(ctx context.Context, req *pb.PutRequest) (*pb.PutResponse, error) {
	if err := s.st.Put(ctx, req.GetKey(), req.GetValue()); err != nil {
		return nil, err
	}
	return &pb.PutResponse{}, nil
}

func (s *storeServer) Delete(ctx context.Context, req *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	if err := s.st.Delete(ctx, req.GetKey()); err != nil {
		return nil, err
	}
	return &pb.DeleteResponse{}, nil
}
