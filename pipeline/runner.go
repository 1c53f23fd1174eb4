package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// Spec is a stage ready to run: a Stage plus the policy the runner applies
// around it.
type Spec struct {
	Name    string
	Stage   Stage
	Timeout time.Duration // per call; 0 means no limit
	OnError OnError       // what to do once Retries are used up
	Retries int           // further attempts after a failed call
	Batch   int           // most events per call; <= 0 means 1
}

// Runner moves events through the stages, one lane per match: a match's
// events pass every stage strictly in order, matches run concurrently, and
// the stages of a lane are pipelined (each stage of each lane has its own
// goroutine). A lane with a backlog hands a stage up to Spec.Batch events
// per call.
type Runner struct {
	specs   []Spec
	sink    Sink
	log     zerolog.Logger
	obs     Observer
	deltas  DeltaSink
	stats   []*StageStats
	lanes   atomic.Int64
	backlog atomic.Int64
}

// Observer is told about every stage call; metrics implement it. It is
// called from lane goroutines and must be safe for concurrent use.
type Observer interface {
	StageCall(stage string, events int, d time.Duration, err error)
}

// Delivery is an input event together with its acknowledgement: Ack (if
// not nil) is called exactly once, after every event the stages made of it
// has been published to the sink, or at once if a stage dropped it. The
// durable ingest log uses it to advance only past events whose results are
// safely published.
type Delivery struct {
	Event event.Event
	Ack   func()
}

// item is an event moving through a lane, with the input it came from.
type item struct {
	ev event.Event
	tr *tracker
}

// tracker counts the events derived from one input that are still in
// flight; the input is acknowledged when the count reaches zero.
type tracker struct {
	pending atomic.Int64
	ack     func()
	backlog *atomic.Int64
}

// add records n more derived events in flight.
func (t *tracker) add(n int) { t.pending.Add(int64(n)) }

// done records that one derived event was published or dropped.
func (t *tracker) done() {
	if t.pending.Add(-1) == 0 {
		t.backlog.Add(-1)
		if t.ack != nil {
			t.ack()
		}
	}
}

// StageStats counts what a stage did. Fields are read with atomic loads.
type StageStats struct {
	Name     string
	In       atomic.Int64 // events handed to the stage
	Out      atomic.Int64 // events it passed on
	Dropped  atomic.Int64 // events it returned nothing for
	Failures atomic.Int64 // failed calls and failed events
	Skipped  atomic.Int64 // events passed on or dropped by the on_error policy
	Deltas   atomic.Int64 // deltas it streamed to the DeltaSink
}

// NewRunner returns a runner over specs, publishing results to sink.
func NewRunner(specs []Spec, sink Sink, log zerolog.Logger) *Runner {
	r := &Runner{specs: specs, sink: sink, log: log}
	for _, s := range specs {
		r.stats = append(r.stats, &StageStats{Name: s.Name})
	}
	return r
}

// Stats returns per-stage counters, in stage order.
func (r *Runner) Stats() []*StageStats { return r.stats }

// Lanes is the number of match lanes started so far.
func (r *Runner) Lanes() int { return int(r.lanes.Load()) }

// Backlog is the number of input events routed into lanes whose results
// are not yet all published (or which were not yet dropped).
func (r *Runner) Backlog() int { return int(r.backlog.Load()) }

// SetObserver installs o; call it before Run.
func (r *Runner) SetObserver(o Observer) { r.obs = o }

// SetDeltaSink makes streaming stages (StreamStage) send their deltas to d
// as they make them; call it before Run. Without one, stages are called
// through Process and stream nothing.
func (r *Runner) SetDeltaSink(d DeltaSink) { r.deltas = d }

// ErrStageFailed wraps the error that stopped the pipeline under on_error: fail.
var ErrStageFailed = errors.New("pipeline: stage failed")

// Run routes events from in to their match's lane until in is closed and
// every lane has drained (nil), a stage fails under on_error: fail, or ctx
// is done.
func (r *Runner) Run(ctx context.Context, in <-chan event.Event) error {
	ds := make(chan Delivery)
	errc := make(chan error, 1)
	go func() { errc <- r.RunDeliveries(ctx, ds) }()
	for {
		select {
		case ev, ok := <-in:
			if !ok {
				close(ds)
				return <-errc
			}
			select {
			case ds <- Delivery{Event: ev}:
			case err := <-errc:
				return err
			}
		case err := <-errc:
			return err
		}
	}
}

// RunDeliveries is Run for acknowledged input: each Delivery's Ack is
// called once its results are published. Run returns when in is closed and
// every lane has drained, a stage fails under on_error: fail, or ctx is
// done; deliveries not acknowledged by then were not fully handled.
func (r *Runner) RunDeliveries(ctx context.Context, in <-chan Delivery) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	lanes := map[string]chan item{}
	closeLanes := func() {
		for _, ch := range lanes {
			close(ch)
		}
		wg.Wait()
	}
	for {
		select {
		case <-ctx.Done():
			closeLanes()
			return context.Cause(ctx)
		case d, ok := <-in:
			if !ok {
				closeLanes()
				if err := context.Cause(ctx); err != nil {
					return err
				}
				return nil
			}
			ev := d.Event
			ch := lanes[ev.Match]
			if ch == nil {
				ch = make(chan item, 1024)
				lanes[ev.Match] = ch
				r.lanes.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := r.lane(ctx, ev.Match, ch); err != nil {
						cancel(err)
					}
				}()
			}
			tr := &tracker{ack: d.Ack, backlog: &r.backlog}
			tr.add(1)
			r.backlog.Add(1)
			select {
			case ch <- item{ev: ev, tr: tr}:
			case <-ctx.Done():
			}
		}
	}
}

// lane runs one match through every stage and into the sink.
func (r *Runner) lane(ctx context.Context, match string, in <-chan item) error {
	log := r.log.With().Str("match", match).Logger()
	errc := make(chan error, len(r.specs)+1)
	var wg sync.WaitGroup
	for i, spec := range r.specs {
		out := make(chan item, max(spec.Batch, 1)*2)
		wg.Add(1)
		go func(in <-chan item) {
			defer wg.Done()
			defer close(out)
			if err := r.stage(ctx, log, i, spec, in, out); err != nil {
				errc <- err
				// Keep draining so upstream goroutines can finish.
				for range in {
				}
			}
		}(in)
		in = out
	}
	for it := range in {
		if err := r.sink.Publish(ctx, it.ev); err != nil {
			errc <- fmt.Errorf("pipeline: publish %s seq %d: %w", it.ev.ID, it.ev.Seq, err)
			for range in {
			}
			break
		}
		it.tr.done()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

func (r *Runner) stage(ctx context.Context, log zerolog.Logger, idx int, spec Spec, in <-chan item, out chan<- item) error {
	log = log.With().Str("stage", spec.Name).Logger()
	st := r.stats[idx]
	size := max(spec.Batch, 1)
	items := make([]item, 0, size)
	batch := make([]event.Event, 0, size)
	for {
		it, ok := <-in
		if !ok {
			return nil
		}
		items = append(items[:0], it)
	fill:
		for len(items) < size {
			select {
			case it, ok := <-in:
				if !ok {
					break fill
				}
				items = append(items, it)
			default:
				break fill
			}
		}
		batch = batch[:0]
		for _, it := range items {
			batch = append(batch, it.ev)
		}
		st.In.Add(int64(len(batch)))
		outs, err := r.process(ctx, log, spec, st, batch)
		if err != nil {
			return err
		}
		for i, evs := range outs {
			tr := items[i].tr
			if len(evs) == 0 {
				tr.done()
				continue
			}
			// Count the derived events before any reaches the sink, so the
			// input cannot be acknowledged early.
			tr.add(len(evs) - 1)
			for _, ev := range evs {
				select {
				case out <- item{ev: ev, tr: tr}:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
}

// process calls the stage with retries and applies its on_error policy.
// outs[i] are the events made of batch[i]; none when it was dropped.
func (r *Runner) process(ctx context.Context, log zerolog.Logger, spec Spec, st *StageStats, batch []event.Event) (outs [][]event.Event, err error) {
	outs = make([][]event.Event, len(batch))
	lines := newShownLines()
	results, err := r.call(ctx, log, spec, st, batch, lines)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		st.Skipped.Add(int64(len(batch)))
		switch spec.OnError {
		case OnErrorSkip:
			log.Error().Err(err).Int("events", len(batch)).Msg("stage failed, events dropped (on_error: skip)")
			st.Dropped.Add(int64(len(batch)))
			return outs, nil
		case OnErrorFallback:
			log.Error().Err(err).Int("events", len(batch)).Msg("stage failed, events passed on unchanged (on_error: fallback)")
			for i := range batch {
				outs[i] = batch[i : i+1 : i+1]
			}
			st.Out.Add(int64(len(batch)))
			return outs, nil
		default:
			return nil, fmt.Errorf("%w: %s: %w", ErrStageFailed, spec.Name, err)
		}
	}
	for i, res := range results {
		if res.Err != nil {
			st.Failures.Add(1)
			res = r.retryOne(ctx, log, spec, st, batch[i], res, lines)
			if res.Err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				st.Skipped.Add(1)
				switch spec.OnError {
				case OnErrorSkip:
					log.Error().Err(res.Err).Str("event", batch[i].ID).Msg("stage failed on event, dropped (on_error: skip)")
					continue
				case OnErrorFail:
					return nil, fmt.Errorf("%w: %s: %w", ErrStageFailed, spec.Name, res.Err)
				default:
					// retry and fallback: a deterministic per-event failure
					// would stall the match forever, so pass it on unchanged.
					log.Error().Err(res.Err).Str("event", batch[i].ID).Msg("stage failed on event, passed on unchanged")
					res.Events = []event.Event{batch[i]}
				}
			}
		}
		if len(res.Events) == 0 {
			st.Dropped.Add(1)
		}
		st.Out.Add(int64(len(res.Events)))
		outs[i] = res.Events
	}
	return outs, nil
}

// call sends a batch, retrying whole-batch failures (a crashed or hung
// plugin is restarted by its host) up to spec.Retries times, or for as
// long as ctx allows under on_error: retry.
// lines is what the batch's deltas have shown so far, across attempts.
func (r *Runner) call(ctx context.Context, log zerolog.Logger, spec Spec, st *StageStats, batch []event.Event, lines *shownLines) ([]Result, error) {
	for attempt := 0; ; attempt++ {
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if spec.Timeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, spec.Timeout)
		}
		start := time.Now()
		res, err := r.invoke(cctx, spec, st, batch, lines)
		cancel()
		if r.obs != nil {
			r.obs.StageCall(spec.Name, len(batch), time.Since(start), err)
		}
		if err == nil {
			if len(res) != len(batch) {
				err = fmt.Errorf("pipeline: stage %s returned %d results for %d events", spec.Name, len(res), len(batch))
			} else {
				if attempt > 0 {
					log.Info().Int("attempt", attempt+1).Msg("stage recovered")
				}
				return res, nil
			}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		st.Failures.Add(1)
		log.Error().Err(err).Int("attempt", attempt+1).Int("events", len(batch)).Uint64("first_seq", batch[0].Seq).Msg("stage call failed")
		if attempt >= spec.Retries && spec.OnError != OnErrorRetry {
			return nil, err
		}
		if err := sleep(ctx, retryDelay(attempt)); err != nil {
			return nil, err
		}
	}
}

// invoke calls the stage once: through ProcessStream, with its deltas
// going straight to the DeltaSink, when it streams and there is a sink.
func (r *Runner) invoke(ctx context.Context, spec Spec, st *StageStats, batch []event.Event, lines *shownLines) ([]Result, error) {
	ss, ok := spec.Stage.(StreamStage)
	if !ok || r.deltas == nil {
		return spec.Stage.Process(ctx, batch)
	}
	lines.restart()
	return ss.ProcessStream(ctx, batch, func(d Delta) {
		text, ok := lines.next(d.EventID, d.Text)
		if !ok {
			return
		}
		st.Deltas.Add(1)
		r.deltas.PublishDelta(d.Match, d.EventID, text)
	})
}

// shownLines keeps a retried batch's provisional lines from growing twice.
// A retry streams each line again from its start; while it repeats what
// the failed attempts already showed nothing is passed on, and once it
// goes beyond, only the new part is. A retry that says something else
// (a model is not deterministic) passes nothing more for that event: its
// line stays as shown until the final event replaces it. Deltas append,
// so there is no way to take text back.
type shownLines struct {
	mu    sync.Mutex
	lines map[string]*shownLine
}

type shownLine struct {
	shown  string // what reached the DeltaSink, over all attempts
	now    string // what this attempt has streamed
	differ bool   // this attempt said something else
}

func newShownLines() *shownLines { return &shownLines{lines: map[string]*shownLine{}} }

// restart marks the start of an attempt.
func (s *shownLines) restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		l.now, l.differ = "", false
	}
}

// next records a delta of the current attempt and returns the text to pass
// on, if any.
func (s *shownLines) next(id, text string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lines[id]
	if l == nil {
		l = &shownLine{}
		s.lines[id] = l
	}
	if l.differ {
		return "", false
	}
	l.now += text
	switch {
	case len(l.now) <= len(l.shown):
		l.differ = !strings.HasPrefix(l.shown, l.now)
		return "", false
	case !strings.HasPrefix(l.now, l.shown):
		l.differ = true
		return "", false
	}
	out := l.now[len(l.shown):]
	l.shown = l.now
	return out, true
}

func (r *Runner) retryOne(ctx context.Context, log zerolog.Logger, spec Spec, st *StageStats, ev event.Event, res Result, lines *shownLines) Result {
	for attempt := 0; attempt < spec.Retries; attempt++ {
		if err := sleep(ctx, retryDelay(attempt)); err != nil {
			return Result{Err: err}
		}
		one, err := r.call(ctx, log, Spec{Name: spec.Name, Stage: spec.Stage, Timeout: spec.Timeout, OnError: OnErrorFail, Retries: spec.Retries}, st, []event.Event{ev}, lines)
		if err != nil {
			return Result{Err: err}
		}
		if one[0].Err == nil {
			return one[0]
		}
		res = one[0]
		st.Failures.Add(1)
	}
	return res
}

// retryDelay is 50 ms doubling to 2 s: the plugin host adds its own
// restart backoff on top when the process died.
func retryDelay(attempt int) time.Duration {
	return min(50*time.Millisecond<<min(attempt, 6), 2*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
