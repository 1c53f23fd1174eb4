package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/bus"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pluginhost"
)

// This file measures section g: the pipeline with the durable log on, wired
// as cmd/ballcast runs it (run.go): events are appended to the JetStream
// ingest log, ConsumeIngest hands them to Runner.RunDeliveries, the sink
// publishes every result to the feed stream with a synchronous PublishFeed
// and the entry is acknowledged after its results are published; the
// figures are timed to the result's arrival from ConsumeFeed, where the
// broadcast hub reads it. The plugins keep their state in the bus's KV
// bucket, as under ballcast run. Every store is a fresh directory, removed
// afterwards.

// durable measures section g for one round into r.
func (b *bench) durable(ctx context.Context, r round, tag func(string) string) error {
	if err := b.busAlone(ctx, r, tag("bus")); err != nil {
		return fmt.Errorf("ballcast-bench: bus alone: %w", err)
	}
	if err := b.durablePipeline(ctx, r, tag); err != nil {
		return fmt.Errorf("ballcast-bench: durable pipeline: %w", err)
	}
	if err := b.publishModes(ctx, r, tag("pub")); err != nil {
		return fmt.Errorf("ballcast-bench: publish sync vs async: %w", err)
	}
	return nil
}

// openBus opens an embedded bus on a new temporary store; closeBus closes
// it and removes the store.
func openBus(ctx context.Context, cfg bus.Config) (_ *bus.Bus, closeBus func(), err error) {
	dir, err := os.MkdirTemp("", "ballcast-bench-nats-")
	if err != nil {
		return nil, nil, err
	}
	cfg.DataDir = dir
	bs, err := bus.Open(ctx, cfg, zerolog.Nop())
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return bs, func() {
		bs.Close()
		os.RemoveAll(dir)
	}, nil
}

// sequenced copies evs with Seq numbered per match from 1, as the ingest
// loop stamps them before appending.
func sequenced(evs []event.Event) []event.Event {
	out := make([]event.Event, len(evs))
	seq := map[string]uint64{}
	for i, ev := range evs {
		seq[ev.Match]++
		ev.Seq = seq[ev.Match]
		out[i] = ev
	}
	return out
}

// busAlone is core/bus's BenchmarkRoundTrip plus the feed read, without
// plugins: Append a ball, take it from ConsumeIngest, PublishFeed it, Ack,
// and wait for it on ConsumeFeed, one ball at a time. It also times each
// step, and a state Put like the ones stats makes per ball.
func (b *bench) busAlone(ctx context.Context, r round, match string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bs, closeBus, err := openBus(ctx, bus.Config{})
	if err != nil {
		return err
	}
	defer closeBus()
	deliveries, err := bs.ConsumeIngest(ctx)
	if err != nil {
		return err
	}
	feed, err := bs.ConsumeFeed(ctx)
	if err != nil {
		return err
	}
	evs := sequenced(b.liveEvents(match))
	var total, appends, delivers, publishes, feeds, puts []time.Duration
	timer := time.NewTimer(callLimit)
	defer timer.Stop()
	state := make([]byte, 3<<10) // a stats chunk half full: 32 entries of ~100 B
	var cpu0 time.Duration
	for i, ev := range evs {
		if i == warmup {
			cpu0 = cpuTime(nil)
		}
		timer.Reset(callLimit)
		t0 := time.Now()
		if _, err := bs.Append(ctx, ev); err != nil {
			return err
		}
		t1 := time.Now()
		var d bus.Delivery
		select {
		case d = <-deliveries:
		case <-timer.C:
			return fmt.Errorf("%s not delivered within %v", ev.ID, callLimit)
		}
		if d.Event.ID != ev.ID {
			return fmt.Errorf("delivered %s, want %s", d.Event.ID, ev.ID)
		}
		t2 := time.Now()
		if err := bs.PublishFeed(ctx, d.Event); err != nil {
			return err
		}
		d.Ack()
		t3 := time.Now()
		var out event.Event
		select {
		case out = <-feed:
		case <-timer.C:
			return fmt.Errorf("%s not on the feed within %v", ev.ID, callLimit)
		}
		if out.ID != ev.ID {
			return fmt.Errorf("feed delivered %s, want %s", out.ID, ev.ID)
		}
		t4 := time.Now()
		if err := bs.State().Put(ctx, fmt.Sprintf("%s/%d", match, i%8), state); err != nil {
			return err
		}
		t5 := time.Now()
		if i >= warmup {
			total = append(total, t4.Sub(t0))
			appends = append(appends, t1.Sub(t0))
			delivers = append(delivers, t2.Sub(t1))
			publishes = append(publishes, t3.Sub(t2))
			feeds = append(feeds, t4.Sub(t3))
			puts = append(puts, t5.Sub(t4))
		}
	}
	r["cpu.bus"] = us((cpuTime(nil) - cpu0) / time.Duration(len(total)))
	putLatency(r, "bus.round_trip", total)
	r["bus.append.p50"] = us(percentile(appends, 0.5))
	r["bus.deliver.p50"] = us(percentile(delivers, 0.5))
	r["bus.publish.p50"] = us(percentile(publishes, 0.5))
	r["bus.feed.p50"] = us(percentile(feeds, 0.5))
	r["bus.put.p50"] = us(percentile(puts, 0.5))
	return nil
}

// durablePipeline runs dedup → stats → commentary over the stream
// transport behind the durable log: live latency first, then replay
// throughput, on the same bus and plugin processes. As for the in-memory
// figures, the live runner has batch 1 and the replay runner batch 64.
func (b *bench) durablePipeline(ctx context.Context, r round, tag func(string) string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bs, closeBus, err := openBus(ctx, bus.Config{})
	if err != nil {
		return err
	}
	defer closeBus()
	store := &timedStore{Store: bs.State()}
	stages, err := b.startPipeline(ctx, realStages, pluginhost.TransportStream, store)
	if err != nil {
		return err
	}
	defer closeAll(stages)
	sp := specs(realStages, stages)
	sink := &feedSink{bus: bs}
	feed, err := bs.ConsumeFeed(ctx)
	if err != nil {
		return err
	}
	live, err := consume(ctx, bs, sp, sink)
	if err != nil {
		return err
	}
	defer live.stop()

	// Live: one ball at a time, from its Append to its result on the feed.
	evs := sequenced(b.liveEvents(tag("durable-live")))
	var samples, appends []time.Duration
	timer := time.NewTimer(callLimit)
	defer timer.Stop()
	var cpu0 time.Duration
	for i, ev := range evs {
		if i == warmup {
			cpu0 = cpuTime(sp)
			sink.publishes.take()
			store.puts.take()
		}
		timer.Reset(callLimit)
		t0 := time.Now()
		if _, err := bs.Append(ctx, ev); err != nil {
			return err
		}
		t1 := time.Now()
	wait:
		for {
			select {
			case out := <-feed:
				if out.ID == ev.ID {
					break wait
				}
			case <-live.done:
				return runnerStopped(live.err)
			case <-timer.C:
				return fmt.Errorf("%s not on the feed within %v", ev.ID, callLimit)
			}
		}
		if i >= warmup {
			samples = append(samples, time.Since(t0))
			appends = append(appends, t1.Sub(t0))
		}
	}
	n := time.Duration(len(samples))
	r["cpu.durable_live"] = us((cpuTime(sp) - cpu0) / n)
	putLatency(r, "durable.live", samples)
	r["durable.live_append.p50"] = us(percentile(appends, 0.5))
	pubs, puts := sink.publishes.take(), store.puts.take()
	r["durable.live_publish.p50"] = us(percentile(pubs, 0.5))
	r["durable.live_put.p50"] = us(percentile(puts, 0.5))
	r["durable.live_puts"] = float64(len(puts)) / float64(n)

	// Replay: the throughput matches, interleaved, appended by the ingest
	// loop (one appender, as under ballcast run) as fast as the log takes
	// them; timed until the last result is on the feed. A new runner with
	// batch 64 takes over the log (ConsumeIngest starts its next
	// generation after the live entries).
	if err := live.stop(); err != nil {
		return runnerStopped(err)
	}
	replay, err := consume(ctx, bs, withBatch(sp, batchSize), sink)
	if err != nil {
		return err
	}
	defer replay.stop()
	prefix := tag("durable-tput")
	matches := make([][]event.Event, len(b.tput))
	for i, m := range b.tput {
		matches[i] = relabel(m, fmt.Sprintf("%s-%d", prefix, i))
	}
	all := interleave(matches)
	ilog := &timedLog{bus: bs}
	loop := ingest.New(zerolog.Nop(), &sliceSource{evs: all})
	appended := make(chan error, 1)
	cpu0 = cpuTime(sp)
	t0 := time.Now()
	go func() { appended <- loop.Append(ctx, ilog) }()
	for seen := 0; seen < len(all); {
		timer.Reset(callLimit)
		select {
		case out := <-feed:
			if strings.HasPrefix(out.Match, prefix) {
				seen++
			}
		case err := <-appended:
			if err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			appended = nil
		case <-replay.done:
			return runnerStopped(replay.err)
		case <-timer.C:
			return fmt.Errorf("no result on the feed for %v, %d of %d seen", callLimit, seen, len(all))
		}
	}
	elapsed := time.Since(t0)
	if appended != nil {
		if err := <-appended; err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
	}
	r["durable.tput"] = float64(len(all)) / elapsed.Seconds()
	r["cpu.durable_tput"] = us((cpuTime(sp) - cpu0) / time.Duration(len(all)))
	// How busy the single appender and the feed publishers were: the sum of
	// their waits over the wall time (1 = one call in flight all along).
	r["durable.tput_append_busy"] = float64(sum(ilog.appends.take())) / float64(elapsed)
	r["durable.tput_publish_busy"] = float64(sum(sink.publishes.take())) / float64(elapsed)
	r["durable.tput_put_busy"] = float64(sum(store.puts.take())) / float64(elapsed)
	return nil
}

// asyncWindow is the most publishes in flight in the async variant of
// publishModes.
const asyncWindow = 256

// publishModes measures what asynchronous publishing could save. Append
// and PublishFeed each wait for the stream's acknowledgement before
// returning, so one goroutine has one publish in flight. Here the
// throughput events, encoded as the bus encodes them, are published to the
// feed stream over a second connection (TCP to the embedded server, since
// the bus's own connection is in-process and not exported): once one at a
// time, as PublishFeed does, and once with up to asyncWindow in flight
// (jetstream PublishMsgAsync), every acknowledgement checked in order.
func (b *bench) publishModes(ctx context.Context, r round, prefix string) error {
	bs, closeBus, err := openBus(ctx, bus.Config{Listen: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	defer closeBus()
	nc, err := nats.Connect(bs.ClientURL(), nats.Name("ballcast-bench"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(asyncWindow))
	if err != nil {
		return err
	}
	msgs := func(mode string) ([]*nats.Msg, error) {
		matches := make([][]event.Event, len(b.tput))
		for i, m := range b.tput {
			matches[i] = relabel(m, fmt.Sprintf("%s-%s-%d", prefix, mode, i))
		}
		var out []*nats.Msg
		for _, ev := range sequenced(interleave(matches)) {
			data, err := proto.Marshal(eventpb.ToProto(&ev))
			if err != nil {
				return nil, err
			}
			// Match IDs here are plain subject tokens, as the bus encodes them.
			out = append(out, &nats.Msg{Subject: "feed." + ev.Match, Data: data,
				Header: nats.Header{jetstream.MsgIDHeader: []string{ev.ID}}})
		}
		return out, nil
	}
	stream := jetstream.WithExpectStream("BALLCAST_FEED")

	one, err := msgs("sync")
	if err != nil {
		return err
	}
	cpu0, t0 := cpuTime(nil), time.Now()
	for _, m := range one {
		if _, err := js.PublishMsg(ctx, m, stream); err != nil {
			return err
		}
	}
	r["pub.sync"] = float64(len(one)) / time.Since(t0).Seconds()
	r["cpu.pub_sync"] = us((cpuTime(nil) - cpu0) / time.Duration(len(one)))

	async, err := msgs("async")
	if err != nil {
		return err
	}
	cpu0, t0 = cpuTime(nil), time.Now()
	futures := make([]jetstream.PubAckFuture, 0, len(async))
	for _, m := range async {
		f, err := js.PublishMsgAsync(m, stream)
		if err != nil {
			return err
		}
		futures = append(futures, f)
	}
	timer := time.NewTimer(callLimit)
	defer timer.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-timer.C:
			return fmt.Errorf("no acknowledgement within %v", callLimit)
		}
	}
	r["pub.async"] = float64(len(async)) / time.Since(t0).Seconds()
	r["cpu.pub_async"] = us((cpuTime(nil) - cpu0) / time.Duration(len(async)))
	return nil
}

// runner is a pipeline.Runner fed from the ingest log, as in cmd/ballcast:
// ConsumeIngest → pipeline.Delivery → RunDeliveries, each entry
// acknowledged once its results are on the feed.
type runner struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when RunDeliveries has returned
	err    error         // its error, once done is closed
}

func consume(ctx context.Context, bs *bus.Bus, sp []pipeline.Spec, sink pipeline.Sink) (*runner, error) {
	ctx, cancel := context.WithCancel(ctx)
	deliveries, err := bs.ConsumeIngest(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	in := make(chan pipeline.Delivery)
	go func() {
		defer close(in)
		for d := range deliveries {
			select {
			case in <- pipeline.Delivery{Event: d.Event, Ack: d.Ack}:
			case <-ctx.Done():
				return
			}
		}
	}()
	r := &runner{cancel: cancel, done: make(chan struct{})}
	pr := pipeline.NewRunner(sp, sink, zerolog.Nop())
	go func() {
		defer close(r.done)
		r.err = pr.RunDeliveries(ctx, in)
	}()
	return r, nil
}

// stop cancels the runner and waits for it. It returns the runner's error
// if it had stopped on its own, and may be called more than once.
func (r *runner) stop() error {
	select {
	case <-r.done:
		return r.err
	default:
	}
	r.cancel()
	<-r.done
	return nil
}

func sum(ds []time.Duration) time.Duration {
	var t time.Duration
	for _, d := range ds {
		t += d
	}
	return t
}

// stopwatch collects durations from any goroutine.
type stopwatch struct {
	mu sync.Mutex
	ds []time.Duration
}

func (s *stopwatch) add(d time.Duration) {
	s.mu.Lock()
	s.ds = append(s.ds, d)
	s.mu.Unlock()
}

// take returns the durations collected since the last take.
func (s *stopwatch) take() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.ds
	s.ds = nil
	return ds
}

// feedSink is cmd/ballcast's sink: every result is published to the feed
// stream, synchronously, in order per match. Unlike ballcast it does not
// retry a failed publish: a benchmark must not quietly measure a degraded
// pipeline.
type feedSink struct {
	bus       *bus.Bus
	publishes stopwatch
}

func (f *feedSink) Publish(ctx context.Context, ev event.Event) error {
	t0 := time.Now()
	err := f.bus.PublishFeed(ctx, ev)
	f.publishes.add(time.Since(t0))
	return err
}

// timedStore is the plugins' state store (the bus's KV bucket), timing
// every Put.
type timedStore struct {
	pluginhost.Store
	puts stopwatch
}

func (s *timedStore) Put(ctx context.Context, key string, value []byte) error {
	t0 := time.Now()
	err := s.Store.Put(ctx, key, value)
	s.puts.add(time.Since(t0))
	return err
}

// timedLog is the ingest log as the ingest loop sees it, timing Append.
type timedLog struct {
	bus     *bus.Bus
	appends stopwatch
}

func (l *timedLog) LastSeq(ctx context.Context, match string) (uint64, error) {
	return l.bus.LastSeq(ctx, match)
}

func (l *timedLog) Append(ctx context.Context, ev event.Event) (bool, error) {
	t0 := time.Now()
	dup, err := l.bus.Append(ctx, ev)
	l.appends.add(time.Since(t0))
	return dup, err
}

// sliceSource is an ingest.Source that delivers a fixed list of events.
type sliceSource struct{ evs []event.Event }

func (s *sliceSource) Name() string { return "bench" }

func (s *sliceSource) Run(ctx context.Context, out chan<- event.Event) error {
	for _, ev := range s.evs {
		select {
		case out <- ev:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var (
	_ pipeline.Sink    = (*feedSink)(nil)
	_ pluginhost.Store = (*timedStore)(nil)
	_ ingest.Log       = (*timedLog)(nil)
	_ ingest.Source    = (*sliceSource)(nil)
)
