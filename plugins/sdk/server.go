package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Server adapts a Stage to the gRPC Stage service. Serve uses it; sdktest
// uses it directly. Calls into the Stage are serialised, unless it is a
// ConcurrentStage: then calls for different matches run at once (at most
// maxConcurrentBatches), and only Configure runs alone.
type Server struct {
	pb.UnimplementedStageServer
	stage      Stage
	desc       Description
	concurrent bool

	// mu is held exclusively by Configure and by every call of a stage
	// that is not concurrent, shared by the calls of one that is; it
	// guards the fields below.
	mu     sync.RWMutex
	dial   Dialer
	local  Store            // used when the host serves no store
	conn   *grpc.ClientConn // to the host's store, if it serves one
	connID uint32

	droppedDeltas atomic.Int64
}

// Dialer connects to a service the host serves for the plugin, given the
// broker ID the host sent (go-plugin's GRPCBroker.Dial is one).
type Dialer func(id uint32) (*grpc.ClientConn, error)

// NewServer wraps stage. desc is used when stage is not a Describer.
func NewServer(stage Stage, desc Description) *Server {
	if d, ok := stage.(Describer); ok {
		desc = d.Describe()
	}
	if _, ok := stage.(StreamStage); ok && !desc.Streams() {
		desc.Capabilities = append(slices.Clip(desc.Capabilities), CapabilityStream)
	}
	cs, ok := stage.(ConcurrentStage)
	return &Server{stage: stage, desc: desc, local: NewMemStore(), concurrent: ok && cs.ConcurrentMatches()}
}

// maxConcurrentBatches bounds the batches a concurrent stage works on at
// once; the host has at most one in flight per match.
const maxConcurrentBatches = 64

// serveBatches receives batches from recv and hands each to handle: one
// after another, or for a concurrent stage each on its own goroutine (at
// most maxConcurrentBatches). It returns when recv ends (nil at io.EOF) or
// handle fails, after every handle it started has returned.
func (s *Server) serveBatches(recv func() (*pb.Batch, error), handle func(*pb.Batch) error) error {
	if !s.concurrent {
		for {
			b, err := recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := handle(b); err != nil {
				return err
			}
		}
	}
	var (
		wg     sync.WaitGroup
		slots  = make(chan struct{}, maxConcurrentBatches)
		failed = make(chan error, 1)
	)
	defer wg.Wait()
	for {
		b, err := recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case slots <- struct{}{}:
		case err := <-failed:
			return err
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := handle(b); err != nil {
				select {
				case failed <- err:
				default:
				}
			}
		})
	}
}

// SetDialer sets how the server reaches the state store the host announces
// in Configure. Serve sets go-plugin's broker; sdktest an in-memory
// connection. Without a dialer, or when the host announces no store, the
// stage gets an in-memory store that lives as long as the Server.
func (s *Server) SetDialer(d Dialer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dial = d
}

// Describe implements pb.StageServer.
func (s *Server) Describe(context.Context, *pb.DescribeRequest) (*pb.Description, error) {
	return &pb.Description{
		Name: s.desc.Name, Version: s.desc.Version, Description: s.desc.Description, ConfigSchema: s.desc.ConfigSchema,
		Capabilities: s.desc.Capabilities,
	}, nil
}

// Configure implements pb.StageServer.
func (s *Server) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.store(req.GetStateBrokerId())
	if err != nil {
		return nil, err
	}
	cfg := NewConfig(req.GetStageName(), req.GetConfigJson()).WithStore(st)
	if err := s.stage.Configure(ctx, cfg); err != nil {
		return nil, err
	}
	return &pb.ConfigureResponse{}, nil
}

// store returns the store for a Configure call; s.mu is held.
func (s *Server) store(id uint32) (Store, error) {
	if id == 0 || s.dial == nil {
		return s.local, nil
	}
	if s.conn == nil || s.connID != id {
		conn, err := s.dial(id)
		if err != nil {
			return nil, fmt.Errorf("sdk: connect to the host's state store: %w", err)
		}
		if s.conn != nil {
			_ = s.conn.Close()
		}
		s.conn, s.connID = conn, id
	}
	return NewStoreClient(s.conn), nil
}

// Process implements pb.StageServer.
func (s *Server) Process(ctx context.Context, b *pb.Batch) (*pb.BatchResult, error) {
	return s.process(ctx, b), nil
}

// Stream implements pb.StageServer: batches are handled in arrival order and
// answered in the same order, or, for a concurrent stage, at once and
// answered as they finish (results carry their batch's id).
func (s *Server) Stream(stream pb.Stage_StreamServer) error {
	ctx := stream.Context()
	var sendMu sync.Mutex
	return s.serveBatches(stream.Recv, func(b *pb.Batch) error {
		res := s.process(ctx, b)
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(res)
	})
}

func (s *Server) process(ctx context.Context, b *pb.Batch) *pb.BatchResult {
	if bs, ok := s.stage.(BatchStage); ok {
		return s.run(b, func() ([][]*Event, []error) { return bs.ProcessBatch(ctx, b.GetEvents()) })
	}
	return s.run(b, func() ([][]*Event, []error) {
		outs := make([][]*Event, len(b.GetEvents()))
		errs := make([]error, len(b.GetEvents()))
		for i, ev := range b.GetEvents() {
			outs[i], errs[i] = s.stage.Process(ctx, ev)
		}
		return outs, errs
	})
}

// run calls fn, the stage's work on batch b, under s.mu and turns what it
// returns into the batch's result. A panicking stage fails the batch, not
// the plugin process.
func (s *Server) run(b *pb.Batch, fn func() ([][]*Event, []error)) (res *pb.BatchResult) {
	if s.concurrent {
		s.mu.RLock()
		defer s.mu.RUnlock()
	} else {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	defer func() {
		if r := recover(); r != nil {
			res = &pb.BatchResult{Id: b.GetId(), Error: fmt.Sprintf("stage panicked: %v", r)}
		}
	}()
	n := len(b.GetEvents())
	outs, errs := fn()
	if len(outs) != n || (errs != nil && len(errs) != n) {
		return &pb.BatchResult{Id: b.GetId(), Error: fmt.Sprintf("stage returned %d results and %d errors for %d events", len(outs), len(errs), n)}
	}
	res = &pb.BatchResult{Id: b.GetId(), Results: make([]*pb.Result, n)}
	for i := range outs {
		r := &pb.Result{Events: outs[i]}
		if errs != nil && errs[i] != nil {
			r.Error = errs[i].Error()
		}
		res.Results[i] = r
	}
	return res
}
