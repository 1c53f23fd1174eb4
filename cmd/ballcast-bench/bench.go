package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pluginhost"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Tuning that is not worth a flag.
const (
	warmup     = 50               // untimed calls before each latency series
	batchSize  = 64               // Spec.Batch for the throughput figures
	callLimit  = 30 * time.Second // Spec.Timeout, and the wait for one event at the sink
	execStarts = 5                // bare execs per round for the start-time reference
)

// realStages is the live pipeline; echoStages the reference pipeline.
var (
	realStages = []string{"dedup", "stats", "commentary"}
	echoStages = []string{"echo", "echo", "echo"}
)

// bench holds what every round needs.
type bench struct {
	opts    options
	log     io.Writer // progress, to stderr
	match   []event.Event
	tput    [][]event.Event // throughput input, one slice per match
	ball    event.Event     // the single event of the reference figures
	inBytes float64         // mean wire size of an input event
	outSum  atomic.Int64    // wire bytes of live-pipeline outputs
	outN    atomic.Int64

	durableTime time.Duration // spent on section g, all rounds
}

// round is one round's raw figures, by figure name.
type round map[string]float64

func measure(ctx context.Context, opts options, progress io.Writer) (*result, error) {
	began, load, pressure := time.Now(), loadAverage(), cpuPressure()
	evs, err := replay.Parse(strings.TrimSuffix(replay.BundledMatch, ".json"), replay.Bundled())
	if err != nil {
		return nil, fmt.Errorf("ballcast-bench: bundled match: %w", err)
	}
	b := &bench{opts: opts, log: progress, match: evs}
	for _, ev := range evs {
		if ev.Kind == event.KindBall {
			b.ball = ev
			break
		}
	}
	var size int
	for i := range evs {
		size += proto.Size(eventpb.ToProto(&evs[i]))
	}
	b.inBytes = float64(size) / float64(len(evs))
	if err := b.loadThroughput(); err != nil {
		return nil, err
	}
	res := &result{}
	if !opts.loadOnly {
		var rounds []round
		for i := range opts.runs {
			t0 := time.Now()
			r, err := b.round(ctx, i)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(b.log, "ballcast-bench: round %d/%d took %.1f s\n", i+1, opts.runs, time.Since(t0).Seconds())
			rounds = append(rounds, r)
		}
		res.Figures = summarise(rounds, sections)
	}
	if opts.clients > 0 || opts.sseClients > 0 {
		t0 := time.Now()
		if opts.sseClients > 0 && !hubHasSSE(ctx, "probe") {
			fmt.Fprintln(progress, "ballcast-bench: broadcast.Hub does not serve /v1/sse/matches/{id}: no SSE figures (section i)")
			opts.sseClients = 0
		}
		lb, err := newLoadBench(ctx, opts, progress, evs)
		if err != nil {
			return nil, err
		}
		var rounds []round
		for i := range opts.rounds {
			t1 := time.Now()
			r := round{}
			if err := lb.loadRound(ctx, i, r); err != nil {
				return nil, err
			}
			fmt.Fprintf(b.log, "ballcast-bench: load round %d/%d took %.1f s\n", i+1, opts.rounds, time.Since(t1).Seconds())
			rounds = append(rounds, r)
		}
		res.Figures = append(res.Figures, summarise(rounds, loadSections(opts))...)
		res.Load = &loadSettings{
			Clients: opts.clients, SSEClients: opts.sseClients, Rounds: opts.rounds,
			Events: len(lb.events), IntervalMS: ms(opts.loadInterval), FrameBytes: lb.meanFrame(),
			Seconds: time.Since(t0).Seconds(),
		}
	}
	res.Machine = describeMachine()
	res.Machine.Load = [2]float64{load, loadAverage()}
	res.Machine.CPUPressure = [2]float64{pressure, cpuPressure()}
	if !opts.loadOnly {
		res.Settings = settings{
			Runs: opts.runs, Events: opts.events, Matches: len(b.tput), ThroughputEvents: count(b.tput),
			Batch: batchSize, Data: opts.data, EventBytesIn: b.inBytes,
			DurableSeconds: b.durableTime.Seconds(),
		}
	}
	if n := b.outN.Load(); n > 0 {
		res.Settings.EventBytesOut = float64(b.outSum.Load()) / float64(n)
	}
	res.ElapsedSeconds = time.Since(began).Seconds()
	return res, nil
}

// loadThroughput builds the throughput input: the files of -data, or copies
// of the bundled match under distinct match IDs.
func (b *bench) loadThroughput() error {
	if b.opts.data == "" {
		for i := range b.opts.matches {
			b.tput = append(b.tput, relabel(b.match, fmt.Sprintf("m%02d", i)))
		}
		return nil
	}
	files, err := filepath.Glob(filepath.Join(b.opts.data, "*.json"))
	if err != nil {
		return fmt.Errorf("ballcast-bench: -data: %w", err)
	}
	sort.Strings(files)
	if len(files) == 0 {
		return fmt.Errorf("ballcast-bench: -data %s: no *.json files", b.opts.data)
	}
	for _, f := range files {
		m, err := replay.Load(f)
		if err != nil {
			return fmt.Errorf("ballcast-bench: -data: %w", err)
		}
		b.tput = append(b.tput, m.Events)
	}
	return nil
}

// round measures every figure once. Match IDs carry the round number so no
// plugin sees a match twice.
func (b *bench) round(ctx context.Context, n int) (round, error) {
	r := round{}
	tag := func(s string) string { return fmt.Sprintf("r%d-%s", n, s) }

	// d. start time first, while nothing else is running.
	bare, err := b.execTime(ctx)
	if err != nil {
		return nil, err
	}
	r["start.exec"] = ms(bare)
	for _, name := range []string{"echo", "dedup", "stats", "commentary"} {
		d, err := b.startTime(ctx, name)
		if err != nil {
			return nil, err
		}
		r["start."+name] = ms(d)
	}
	for _, mtls := range []bool{true, false} {
		var samples []time.Duration
		for range b.opts.starts {
			t0 := time.Now()
			c, _, err := b.bareClient(ctx, mtls)
			if err != nil {
				return nil, err
			}
			samples = append(samples, time.Since(t0))
			c.Kill()
		}
		key := "start.bare_mtls"
		if !mtls {
			key = "start.bare_plain"
		}
		r[key] = ms(percentile(samples, 0.5))
	}

	// a. references: one event, echo plugin.
	lat, err := b.bareUnary(ctx)
	if err != nil {
		return nil, err
	}
	putLatency(r, "ref.bare_unary", lat)
	for _, tr := range []pluginhost.Transport{pluginhost.TransportStream, pluginhost.TransportUnary} {
		lat, err := b.hostEcho(ctx, tr)
		if err != nil {
			return nil, err
		}
		putLatency(r, "ref.host_"+string(tr), lat)
	}

	// b and c. pipelines: live latency, then throughput on the same processes.
	for _, p := range []struct {
		key    string
		stages []string
		tr     pluginhost.Transport // "" = in process
	}{
		{"echo3_stream", echoStages, pluginhost.TransportStream},
		{"echo3_unary", echoStages, pluginhost.TransportUnary},
		{"stream", realStages, pluginhost.TransportStream},
		{"unary", realStages, pluginhost.TransportUnary},
		{"inproc", realStages, ""},
	} {
		var stages []pipeline.Stage
		if p.tr == "" {
			stages, err = inProcess(ctx, p.stages)
		} else {
			stages, err = b.startPipeline(ctx, p.stages, p.tr, nil)
		}
		if err != nil {
			return nil, err
		}
		sp := specs(p.stages, stages)
		lat, cpu, err := b.liveLatency(ctx, sp, tag("live-"+p.key), p.key == "stream")
		if err == nil {
			putLatency(r, "live."+p.key, lat)
			r["cpu.live_"+p.key] = us(cpu)
			var eps float64
			eps, cpu, err = b.throughput(ctx, sp, tag("tput-"+p.key))
			r["tput."+p.key] = eps
			r["cpu.tput_"+p.key] = us(cpu)
		}
		closeAll(stages)
		if err != nil {
			return nil, fmt.Errorf("ballcast-bench: %s pipeline: %w", p.key, err)
		}
	}

	// g. the durable log, right after the in-memory figures it is read against.
	t0 := time.Now()
	if err := b.durable(ctx, r, tag); err != nil {
		return nil, err
	}
	b.durableTime += time.Since(t0)
	return r, nil
}

func putLatency(r round, key string, samples []time.Duration) {
	r[key+".p50"] = us(percentile(samples, 0.50))
	r[key+".p99"] = us(percentile(samples, 0.99))
}

// command re-executes this binary as the named plugin.
func (b *bench) command(name string) func() *exec.Cmd {
	return func() *exec.Cmd { return exec.Command(b.opts.self, "plugin", "serve", name) }
}

// startStage starts the named plugin; a nil store gives it pluginhost's
// in-memory store.
func (b *bench) startStage(ctx context.Context, name string, tr pluginhost.Transport, store pluginhost.Store) (*pluginhost.Stage, error) {
	var cfg []byte
	if c, ok := pluginConfig[name]; ok {
		cfg = []byte(c)
	}
	return pluginhost.Start(ctx, pluginhost.Config{
		Stage: name, Plugin: name, Command: b.command(name), Config: cfg, Transport: tr, Store: store,
	}, zerolog.Nop())
}

func (b *bench) startPipeline(ctx context.Context, names []string, tr pluginhost.Transport, store pluginhost.Store) ([]pipeline.Stage, error) {
	var stages []pipeline.Stage
	for _, n := range names {
		s, err := b.startStage(ctx, n, tr, store)
		if err != nil {
			closeAll(stages)
			return nil, fmt.Errorf("ballcast-bench: %w", err)
		}
		stages = append(stages, s)
	}
	return stages, nil
}

func closeAll(stages []pipeline.Stage) {
	for _, s := range stages {
		_ = s.Close(context.Background())
	}
}

// execTime is the p50 of starting this binary with nothing to do: the
// reference for plugin start time.
func (b *bench) execTime(ctx context.Context) (time.Duration, error) {
	var samples []time.Duration
	for range execStarts {
		t0 := time.Now()
		if err := exec.CommandContext(ctx, b.opts.self, "noop").Run(); err != nil {
			return 0, fmt.Errorf("ballcast-bench: exec reference: %w", err)
		}
		samples = append(samples, time.Since(t0))
	}
	return percentile(samples, 0.5), nil
}

// startTime is the p50 of pluginhost.Start for one plugin: exec, go-plugin
// handshake (AutoMTLS), Describe and Configure.
func (b *bench) startTime(ctx context.Context, name string) (time.Duration, error) {
	var samples []time.Duration
	for range b.opts.starts {
		t0 := time.Now()
		s, err := b.startStage(ctx, name, pluginhost.TransportStream, nil)
		if err != nil {
			return 0, fmt.Errorf("ballcast-bench: %w", err)
		}
		samples = append(samples, time.Since(t0))
		_ = s.Close(ctx)
	}
	return percentile(samples, 0.5), nil
}

// bareClient starts the echo plugin with go-plugin alone (no pluginhost,
// go-plugin's default gRPC dial options) and configures it.
func (b *bench) bareClient(ctx context.Context, mtls bool) (*plugin.Client, pb.StageClient, error) {
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil, sdk.Description{}),
		Cmd:              b.command("echo")(),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         mtls,
		Logger:           hclog.NewNullLogger(),
	})
	fail := func(op string, err error) (*plugin.Client, pb.StageClient, error) {
		client.Kill()
		return nil, nil, fmt.Errorf("ballcast-bench: bare echo: %s: %w", op, err)
	}
	rpc, err := client.Client()
	if err != nil {
		return fail("start", err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return fail("dispense", err)
	}
	stub, ok := raw.(pb.StageClient)
	if !ok {
		return fail("dispense", fmt.Errorf("unexpected client type %T", raw))
	}
	if _, err := stub.Describe(ctx, &pb.DescribeRequest{}); err != nil {
		return fail("describe", err)
	}
	if _, err := stub.Configure(ctx, &pb.ConfigureRequest{StageName: "echo"}); err != nil {
		return fail("configure", err)
	}
	return client, stub, nil
}

// bareUnary times one-event unary Process calls on the echo plugin through
// go-plugin alone: no pluginhost, no event conversion, go-plugin's default
// gRPC dial options, AutoMTLS on as the host has it.
func (b *bench) bareUnary(ctx context.Context) ([]time.Duration, error) {
	client, stub, err := b.bareClient(ctx, true)
	if err != nil {
		return nil, err
	}
	defer client.Kill()
	ev := eventpb.ToProto(&b.ball)
	return timeCalls(warmup, b.opts.events, func(i int) error {
		res, err := stub.Process(ctx, &pb.Batch{Id: uint64(i), Events: []*pb.Event{ev}})
		if err == nil && len(res.GetResults()) != 1 {
			err = fmt.Errorf("%d results for 1 event", len(res.GetResults()))
		}
		if err != nil {
			return fmt.Errorf("ballcast-bench: bare echo: process: %w", err)
		}
		return nil
	})
}

// hostEcho times one-event pluginhost.Stage.Process calls on the echo plugin.
func (b *bench) hostEcho(ctx context.Context, tr pluginhost.Transport) ([]time.Duration, error) {
	s, err := b.startStage(ctx, "echo", tr, nil)
	if err != nil {
		return nil, fmt.Errorf("ballcast-bench: %w", err)
	}
	defer s.Close(context.Background())
	batch := []event.Event{b.ball}
	return timeCalls(warmup, b.opts.events, func(int) error {
		res, err := s.Process(ctx, batch)
		if err == nil && len(res) != 1 {
			err = fmt.Errorf("%d results for 1 event", len(res))
		}
		if err != nil {
			return fmt.Errorf("ballcast-bench: echo over %s: %w", tr, err)
		}
		return nil
	})
}

func timeCalls(warm, n int, call func(i int) error) ([]time.Duration, error) {
	for i := range warm {
		if err := call(i); err != nil {
			return nil, err
		}
	}
	samples := make([]time.Duration, n)
	for i := range n {
		t0 := time.Now()
		if err := call(warm + i); err != nil {
			return nil, err
		}
		samples[i] = time.Since(t0)
	}
	return samples, nil
}

// specs wraps started stages for the runner, with batch 1. Any failure
// stops the run: a benchmark must not quietly measure a degraded pipeline.
func specs(names []string, stages []pipeline.Stage) []pipeline.Spec {
	out := make([]pipeline.Spec, len(stages))
	for i, s := range stages {
		out[i] = pipeline.Spec{Name: fmt.Sprintf("%d-%s", i, names[i]), Stage: s, Timeout: callLimit, OnError: pipeline.OnErrorFail, Batch: 1}
	}
	return out
}

// withBatch returns a copy of specs handing each stage up to n events.
func withBatch(specs []pipeline.Spec, n int) []pipeline.Spec {
	out := append([]pipeline.Spec(nil), specs...)
	for i := range out {
		out[i].Batch = n
	}
	return out
}

// inProcess builds the named stages in this process, with the host's
// event conversions but no process boundary and no gRPC: what the pipeline
// would cost without the wire.
func inProcess(ctx context.Context, names []string) ([]pipeline.Stage, error) {
	var stages []pipeline.Stage
	for _, n := range names {
		st := plugins[n]()
		if err := st.Configure(ctx, sdk.NewConfig(n, []byte(pluginConfig[n]))); err != nil {
			return nil, fmt.Errorf("ballcast-bench: configure %s in process: %w", n, err)
		}
		stages = append(stages, &localStage{stage: st})
	}
	return stages, nil
}

// localStage adapts an sdk.Stage to pipeline.Stage in process. Like the
// SDK's gRPC server it lets one batch at a time through the stage.
type localStage struct {
	mu    sync.Mutex
	stage sdk.Stage
}

func (s *localStage) Process(ctx context.Context, batch []event.Event) ([]pipeline.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]pipeline.Result, len(batch))
	for i := range batch {
		pes, err := s.stage.Process(ctx, eventpb.ToProto(&batch[i]))
		if err != nil {
			out[i].Err = err
			continue
		}
		for _, pe := range pes {
			ev, err := eventpb.FromProto(pe)
			if err != nil {
				out[i].Err = err
				break
			}
			out[i].Events = append(out[i].Events, ev)
		}
	}
	return out, nil
}

func (s *localStage) Close(context.Context) error { return nil }

// liveLatency sends the match's events through the runner one at a time,
// each only after the previous one reached the sink, and times each from
// the send to its arrival. When -events exceeds the match, the match is
// replayed under another ID.
func (b *bench) liveLatency(ctx context.Context, specs []pipeline.Spec, match string, sizes bool) ([]time.Duration, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sink := &chanSink{ch: make(chan event.Event, 1)}
	in := make(chan event.Event)
	runner := pipeline.NewRunner(specs, sink, zerolog.Nop())
	errc := make(chan error, 1)
	go func() { errc <- runner.Run(ctx, in) }()

	evs := b.liveEvents(match)
	samples := make([]time.Duration, 0, b.opts.events)
	timer := time.NewTimer(callLimit)
	defer timer.Stop()
	var cpu0 time.Duration
	for i, ev := range evs {
		if i == warmup {
			cpu0 = cpuTime(specs)
		}
		timer.Reset(callLimit)
		t0 := time.Now()
		select {
		case in <- ev:
		case err := <-errc:
			return nil, 0, runnerStopped(err)
		}
	wait:
		for {
			select {
			case out := <-sink.ch:
				if out.ID == ev.ID {
					if sizes {
						b.outSum.Add(int64(proto.Size(eventpb.ToProto(&out))))
						b.outN.Add(1)
					}
					break wait
				}
			case err := <-errc:
				return nil, 0, runnerStopped(err)
			case <-timer.C:
				return nil, 0, fmt.Errorf("event %s did not reach the sink within %v", ev.ID, callLimit)
			}
		}
		if i >= warmup {
			samples = append(samples, time.Since(t0))
		}
	}
	cpu := (cpuTime(specs) - cpu0) / time.Duration(len(samples))
	close(in)
	if err := <-errc; err != nil {
		return nil, 0, runnerStopped(err)
	}
	return samples, cpu, nil
}

// liveEvents is the input of a live-latency series: warmup plus -events
// events of the bundled match in order, replayed under match-pass IDs
// when the match is too short.
func (b *bench) liveEvents(match string) []event.Event {
	var evs []event.Event
	for pass := 0; len(evs) < warmup+b.opts.events; pass++ {
		evs = append(evs, relabel(b.match, fmt.Sprintf("%s-%d", match, pass))...)
	}
	return evs[:warmup+b.opts.events]
}

// runnerStopped explains an early end of Runner.Run; round adds the prefix.
func runnerStopped(err error) error {
	if err == nil {
		err = errors.New("runner returned early")
	}
	return fmt.Errorf("pipeline stopped: %w", err)
}

// throughput replays every throughput match concurrently, interleaved as
// live feeds would be, as fast as the pipeline takes them, and returns
// input events per second from the first send until the last lane drained.
func (b *bench) throughput(ctx context.Context, specs []pipeline.Spec, prefix string) (float64, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	matches := make([][]event.Event, len(b.tput))
	for i, m := range b.tput {
		matches[i] = relabel(m, fmt.Sprintf("%s-%d", prefix, i))
	}
	feed := interleave(matches)
	sink := &countSink{}
	in := make(chan event.Event, 1024)
	runner := pipeline.NewRunner(withBatch(specs, batchSize), sink, zerolog.Nop())
	cpu0 := cpuTime(specs)
	t0 := time.Now()
	go func() {
		defer close(in)
		for _, ev := range feed {
			select {
			case in <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := runner.Run(ctx, in); err != nil {
		return 0, 0, runnerStopped(err)
	}
	elapsed := time.Since(t0)
	cpu := (cpuTime(specs) - cpu0) / time.Duration(len(feed))
	if got := sink.n.Load(); got != int64(len(feed)) {
		return 0, 0, fmt.Errorf("%d events reached the sink, want %d", got, len(feed))
	}
	return float64(len(feed)) / elapsed.Seconds(), cpu, nil
}

// interleave takes one event from each match in turn.
func interleave(matches [][]event.Event) []event.Event {
	var out []event.Event
	for i := 0; ; i++ {
		more := false
		for _, m := range matches {
			if i < len(m) {
				out = append(out, m[i])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// relabel copies evs under another match ID; delivery IDs start with the
// match ID, so they are rewritten too. Payloads are shared: nothing on the
// host side writes to them.
func relabel(evs []event.Event, match string) []event.Event {
	out := make([]event.Event, len(evs))
	for i, ev := range evs {
		ev.ID = match + strings.TrimPrefix(ev.ID, ev.Match)
		ev.Match = match
		out[i] = ev
	}
	return out
}

func count(matches [][]event.Event) int {
	n := 0
	for _, m := range matches {
		n += len(m)
	}
	return n
}

// chanSink hands every published event to the latency loop.
type chanSink struct{ ch chan event.Event }

func (s *chanSink) Publish(ctx context.Context, ev event.Event) error {
	select {
	case s.ch <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// countSink counts published events.
type countSink struct{ n atomic.Int64 }

func (s *countSink) Publish(context.Context, event.Event) error {
	s.n.Add(1)
	return nil
}

var (
	_ pipeline.Sink  = (*chanSink)(nil)
	_ pipeline.Sink  = (*countSink)(nil)
	_ pipeline.Stage = (*localStage)(nil)
)

// percentile is the nearest-rank percentile of samples (p in (0, 1]).
func percentile(samples []time.Duration, p float64) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(math.Ceil(float64(len(s))*p)) - 1
	return s[min(max(k, 0), len(s)-1)]
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cpuTime is the CPU time used so far by this process and the plugin
// processes behind specs, from /proc/PID/task/*/schedstat (nanoseconds, all
// threads). Unlike wall time it hardly depends on what else the machine
// is running.
func cpuTime(specs []pipeline.Spec) time.Duration {
	pids := []int{os.Getpid()}
	for _, s := range specs {
		if p, ok := s.Stage.(interface{ Pid() int }); ok && p.Pid() > 0 {
			pids = append(pids, p.Pid())
		}
	}
	var total time.Duration
	for _, pid := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		for _, t := range tasks {
			data, err := os.ReadFile(t)
			if err != nil {
				continue // the thread exited
			}
			f, _, _ := strings.Cut(string(data), " ")
			ns, _ := strconv.ParseInt(f, 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// cpuPressure is the share of the last 60 s in which some runnable task
// waited for a CPU (Linux PSI "some avg60", percent), 0 where unknown.
func cpuPressure() float64 {
	data, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(data)) {
		if v, ok := strings.CutPrefix(f, "avg60="); ok {
			p, _ := strconv.ParseFloat(v, 64)
			return p // the first line is "some"
		}
	}
	return 0
}

// loadAverage is the 1-minute load average, 0 where unknown.
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(data), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}
