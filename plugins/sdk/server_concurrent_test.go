package sdk_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

// rendezvous holds each match's call until every match in want has a call
// in progress: served one call at a time, the first never returns.
type rendezvous struct {
	concurrent bool
	want       int

	mu      sync.Mutex
	started int
	all     chan struct{} // closed when want calls are in progress

	inFlight, maxInFlight atomic.Int64
}

func (*rendezvous) Configure(context.Context, sdk.Config) error { return nil }
func (r *rendezvous) ConcurrentMatches() bool                   { return r.concurrent }

func (r *rendezvous) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for m := r.maxInFlight.Load(); n > m && !r.maxInFlight.CompareAndSwap(m, n); m = r.maxInFlight.Load() {
	}
	r.mu.Lock()
	if r.started++; r.started == r.want {
		close(r.all)
	}
	r.mu.Unlock()
	if r.concurrent {
		select {
		case <-r.all:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []*sdk.Event{ev}, nil
}

// sendAll sends one batch per match on one shared stream and returns the
// ids of the results in the order they came back.
func sendAll(t *testing.T, c *sdktest.Client, matches int) []uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stream, err := c.Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range matches {
		b := &pb.Batch{Id: uint64(i + 1), Events: []*sdk.Event{{Id: "e", Match: string(rune('a' + i))}}}
		if err := stream.Send(b); err != nil {
			t.Fatal(err)
		}
	}
	var ids []uint64
	for range matches {
		res, err := stream.Recv()
		if err != nil {
			t.Fatalf("after %d results: %v (served one at a time, a concurrent stage's calls wait for each other forever)", len(ids), err)
		}
		if res.GetError() != "" || len(res.GetResults()) != 1 {
			t.Fatalf("batch %d: %+v", res.GetId(), res)
		}
		ids = append(ids, res.GetId())
	}
	return ids
}

// A concurrent stage's calls for different matches run at once: each
// match's call waits until all are in progress, which only works when the
// server does not serialise them.
func TestConcurrentStageServesMatchesAtOnce(t *testing.T) {
	t.Parallel()
	const matches = 8
	st := &rendezvous{concurrent: true, want: matches, all: make(chan struct{})}
	c := sdktest.Start(t, st, nil)
	if ids := sendAll(t, c, matches); len(ids) != matches {
		t.Fatalf("%d results, want %d", len(ids), matches)
	}
	if got := st.maxInFlight.Load(); got != matches {
		t.Errorf("at most %d calls at once, want %d", got, matches)
	}
}

// A stage that is not concurrent sees one call at a time, answered in order.
func TestStageIsCalledOneAtATime(t *testing.T) {
	t.Parallel()
	const matches = 8
	st := &rendezvous{want: matches, all: make(chan struct{})}
	c := sdktest.Start(t, st, nil)
	ids := sendAll(t, c, matches)
	for i, id := range ids {
		if id != uint64(i+1) {
			t.Fatalf("results in order %v, want 1..%d", ids, matches)
		}
	}
	if got := st.maxInFlight.Load(); got != 1 {
		t.Errorf("%d calls at once, want 1", got)
	}
}
