package pipeline

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// Pipeline runs a Runner over deliveries and lets its stages be replaced
// while it runs (hot reload) without losing, duplicating or reordering an
// event: Swap stops taking input, lets every lane drain (each in-flight
// event published and acknowledged), then carries on with the new stages
// from the next delivery. Events that arrive meanwhile wait in the input
// channel.
type Pipeline struct {
	sink   Sink
	log    zerolog.Logger
	obs    Observer
	deltas DeltaSink
	swaps  chan swap
	cur    atomic.Pointer[Runner]
	done   chan struct{} // closed when Run returns
}

type swap struct {
	specs []Spec
	done  chan error
}

// NewPipeline returns a pipeline over specs publishing to sink.
func NewPipeline(specs []Spec, sink Sink, log zerolog.Logger) *Pipeline {
	p := &Pipeline{sink: sink, log: log, swaps: make(chan swap), done: make(chan struct{})}
	p.cur.Store(NewRunner(specs, sink, log))
	return p
}

// SetObserver installs o on this and every later runner; call it before Run.
func (p *Pipeline) SetObserver(o Observer) {
	p.obs = o
	p.cur.Load().SetObserver(o)
}

// SetDeltaSink installs d on this and every later runner (see
// Runner.SetDeltaSink); call it before Run.
func (p *Pipeline) SetDeltaSink(d DeltaSink) {
	p.deltas = d
	p.cur.Load().SetDeltaSink(d)
}

// Runner is the runner currently in use, for its counters.
func (p *Pipeline) Runner() *Runner { return p.cur.Load() }

// ErrNotRunning is returned by Swap when Run has returned.
var ErrNotRunning = errors.New("pipeline: not running")

// Swap replaces the stages. It returns once the old runner has drained and
// the new one is taking input; the caller then closes the old stages. If
// ctx ends before the pipeline takes the request, nothing changes; once
// taken, the drain completes regardless of ctx. A drain that fails (a
// stage under on_error: fail) stops the pipeline and Swap returns the error.
func (p *Pipeline) Swap(ctx context.Context, specs []Spec) error {
	req := swap{specs: specs, done: make(chan error, 1)}
	select {
	case p.swaps <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.done:
		return ErrNotRunning
	}
	return <-req.done
}

// Run feeds deliveries from in to the current runner until in is closed
// and every lane has drained, a stage fails under on_error: fail, or ctx is
// done.
func (p *Pipeline) Run(ctx context.Context, in <-chan Delivery) error {
	defer close(p.done)
	for {
		r := p.cur.Load()
		feed := make(chan Delivery)
		errc := make(chan error, 1)
		go func() { errc <- r.RunDeliveries(ctx, feed) }()
		req, err := p.forward(ctx, in, feed, errc)
		if req == nil {
			return err
		}
		// Drain: the runner returns once every lane is empty.
		close(feed)
		if err := <-errc; err != nil {
			req.done <- err
			return err
		}
		next := NewRunner(req.specs, p.sink, p.log)
		if p.obs != nil {
			next.SetObserver(p.obs)
		}
		if p.deltas != nil {
			next.SetDeltaSink(p.deltas)
		}
		p.cur.Store(next)
		p.log.Info().Int("stages", len(req.specs)).Msg("pipeline swapped")
		req.done <- nil
	}
}

// forward copies in to feed until in closes (returns nil, runner's error),
// the runner fails, or a swap is requested (returns the request).
func (p *Pipeline) forward(ctx context.Context, in <-chan Delivery, feed chan<- Delivery, errc <-chan error) (*swap, error) {
	for {
		select {
		case d, ok := <-in:
			if !ok {
				close(feed)
				return nil, <-errc
			}
			select {
			case feed <- d:
			case err := <-errc:
				return nil, err
			}
		case req := <-p.swaps:
			return &req, nil
		case err := <-errc:
			return nil, err
		}
	}
}
