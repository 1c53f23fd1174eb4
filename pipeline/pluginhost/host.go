// Package pluginhost runs stage plugins as separate OS processes through
// hashicorp/go-plugin (gRPC, AutoMTLS) and adapts each to pipeline.Stage.
//
// One plugin process serves a stage for every match. Batches travel on one
// long-lived bidirectional gRPC stream per process (or unary calls, by
// config); several lanes may call Process concurrently and each gets its own
// batch's result. When the process crashes, hangs past the stage timeout or
// its stream breaks, the in-flight batches fail with an error naming the
// stage, the plugin and what happened, and a fresh process is started at
// once (with backoff), configured, and carries on; callers wait for it as
// long as their deadline allows. A failure counts once per process towards
// the backoff, however many lanes saw it, and the restart is not bounded by
// any caller's deadline, so a busy stage with short timeouts restarts
// promptly. A process that stops answering go-plugin's gRPC health check
// (stopped, wedged) is killed the same way, even between calls.
//
// A plugin that streams partial output (sdk.StreamStage, announced as
// sdk.CapabilityStream) gets StreamDeltas instead of Stream: the same
// long-lived stream, with each batch's deltas ahead of its result, handed
// to the caller of ProcessStream as they arrive.
//
// The host serves each process the stage's state Store through go-plugin's
// GRPCBroker, so a restarted plugin continues where the old one stopped.
package pluginhost

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/rs/zerolog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Transport selects how batches reach the plugin.
type Transport string

// Transports.
const (
	TransportStream Transport = "stream" // one bidirectional stream per process (default)
	TransportUnary  Transport = "unary"  // one unary call per batch
)

// Config describes one plugin-backed stage.
type Config struct {
	// Stage is the stage's name in the pipeline, for messages and logs.
	Stage string
	// Plugin is the plugin's name or path, for messages and logs.
	Plugin string
	// Command returns a new, unstarted command for the plugin process; it is
	// called for every (re)start.
	Command func() *exec.Cmd
	// Config is the stage config as JSON, sent with Configure.
	Config []byte
	// Transport defaults to TransportStream.
	Transport Transport
	// StartTimeout bounds process start and handshake; default 10 s.
	StartTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between restarts of a
	// failing plugin; defaults 100 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// Checksum, when set, is the SHA-256 the plugin binary must have; it is
	// verified at every (re)start (go-plugin SecureConfig) and a mismatch
	// is refused with an error naming both hashes.
	Checksum []byte
	// HealthInterval is how often each plugin process's gRPC health service
	// is checked; default 5 s, negative disables. A check that fails or
	// takes longer than HealthTimeout (default 2 s) kills the process
	// (SIGKILL), and the next Process restarts it with backoff.
	HealthInterval, HealthTimeout time.Duration
	// Store keeps the plugin's state across restarts of its process; every
	// process of the stage is offered it through go-plugin's broker, with
	// keys prefixed "<Stage>/". Nil means a new in-memory store for this
	// Stage: state then survives plugin restarts but not a ballcast restart.
	Store Store
}

// Stage is a pipeline.Stage backed by a plugin process.
type Stage struct {
	cfg   Config
	log   zerolog.Logger
	store stageStore

	mu         sync.Mutex // guards the fields below; never held while a process starts
	inst       *instance
	desc       sdk.Description
	failures   int // consecutive process deaths and failed starts
	lastFail   time.Time
	restarting *restartOp // the restart in progress, if any
	closed     bool
	closing    chan struct{} // closed by Close: abandons a restart's backoff

	restarts       atomic.Int64
	healthFailures atomic.Int64
	timeouts       atomic.Int64
	crashes        atomic.Int64
	deltas         atomic.Int64
}

// Stats are a stage's supervision counters since Start, for metrics.
type Stats struct {
	// Restarts counts plugin processes started after the first.
	Restarts int64
	// HealthFailures counts processes killed for a failed or timed-out
	// health check.
	HealthFailures int64
	// Timeouts counts processes killed because a call to them ran past
	// its deadline.
	Timeouts int64
	// Crashes counts processes that died, or whose connection broke,
	// without the host killing them.
	Crashes int64
	// Deltas counts partial outputs a streaming plugin sent and the host
	// passed on (ProcessStream).
	Deltas int64
	// Pid is the current plugin process ID, 0 if none is running.
	Pid int
}

// Stats returns the stage's counters and current pid.
func (s *Stage) Stats() Stats {
	return Stats{
		Restarts:       s.restarts.Load(),
		HealthFailures: s.healthFailures.Load(),
		Timeouts:       s.timeouts.Load(),
		Crashes:        s.crashes.Load(),
		Deltas:         s.deltas.Load(),
		Pid:            s.Pid(),
	}
}

var (
	_ pipeline.Stage       = (*Stage)(nil)
	_ pipeline.StreamStage = (*Stage)(nil)
)

// ErrClosed is returned by Process after Close.
var ErrClosed = errors.New("pluginhost: stage closed")

// Start launches the plugin, checks its handshake, describes and configures
// it. The returned Stage restarts the process on its own when it fails.
func Start(ctx context.Context, cfg Config, log zerolog.Logger) (*Stage, error) {
	if cfg.Transport == "" {
		cfg.Transport = TransportStream
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Store == nil {
		cfg.Store = NewMemStore()
	}
	if cfg.HealthInterval == 0 {
		cfg.HealthInterval = 5 * time.Second
	}
	if cfg.HealthTimeout <= 0 {
		cfg.HealthTimeout = 2 * time.Second
	}
	log = log.With().Str("stage", cfg.Stage).Str("plugin", cfg.Plugin).Logger()
	s := &Stage{cfg: cfg, log: log, store: newStageStore(cfg.Store, cfg.Stage), closing: make(chan struct{})}
	inst, desc, err := s.start(ctx)
	if err != nil {
		return nil, err
	}
	s.inst, s.desc = inst, desc
	return s, nil
}

// Description is what the plugin said about itself.
func (s *Stage) Description() sdk.Description {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.desc
}

// Restarts counts how often the plugin process was restarted.
func (s *Stage) Restarts() int64 { return s.restarts.Load() }

// Pid is the current plugin process ID, 0 if none is running.
func (s *Stage) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inst == nil || s.inst.dead() {
		return 0
	}
	return s.inst.pid
}

// Process implements pipeline.Stage.
func (s *Stage) Process(ctx context.Context, batch []event.Event) ([]pipeline.Result, error) {
	return s.process(ctx, batch, nil)
}

// ProcessStream implements pipeline.StreamStage. When the plugin streams
// (its Description has sdk.CapabilityStream) emit gets each delta of the
// batch as it arrives, only for events of the batch and with the input
// event's match, never after ProcessStream returned; otherwise it is
// Process and emit is never called. With TransportStream the batch and its
// deltas travel on the process's long-lived StreamDeltas stream (opened
// instead of Stream for a streaming plugin), with TransportUnary through a
// ProcessStream call. Timeouts, restarts and errors are those of Process.
// A retried batch streams again.
func (s *Stage) ProcessStream(ctx context.Context, batch []event.Event, emit func(pipeline.Delta)) ([]pipeline.Result, error) {
	return s.process(ctx, batch, emit)
}

func (s *Stage) process(ctx context.Context, batch []event.Event, emit func(pipeline.Delta)) ([]pipeline.Result, error) {
	inst, err := s.instance(ctx)
	if err != nil {
		return nil, err
	}
	req := &pb.Batch{Events: make([]*pb.Event, len(batch))}
	for i := range batch {
		req.Events[i] = eventpb.ToProto(&batch[i])
	}
	var onDelta func(*pb.Delta)
	if emit != nil && inst.streams {
		onDelta = s.deltaFunc(batch, emit)
	}
	var res *pb.BatchResult
	if onDelta != nil && inst.stream == nil {
		res, err = inst.callStream(ctx, req, onDelta) // unary transport: a call per batch
	} else {
		res, err = inst.call(ctx, req, onDelta)
	}
	if err != nil {
		err = s.fail(inst, err)
		return nil, err
	}
	if res.GetError() != "" {
		return nil, fmt.Errorf("pluginhost: stage %s (plugin %s): batch failed: %s", s.cfg.Stage, s.cfg.Plugin, res.GetError())
	}
	if len(res.GetResults()) != len(batch) {
		return nil, fmt.Errorf("pluginhost: stage %s (plugin %s): %d results for %d events", s.cfg.Stage, s.cfg.Plugin, len(res.GetResults()), len(batch))
	}
	s.mu.Lock()
	s.failures = 0
	s.mu.Unlock()
	out := make([]pipeline.Result, len(batch))
	for i, r := range res.GetResults() {
		if r.GetError() != "" {
			out[i].Err = fmt.Errorf("pluginhost: stage %s (plugin %s): event %s: %s", s.cfg.Stage, s.cfg.Plugin, batch[i].ID, r.GetError())
		}
		for _, pe := range r.GetEvents() {
			ev, err := eventpb.FromProto(pe)
			if err != nil {
				out[i].Err = fmt.Errorf("pluginhost: stage %s (plugin %s): %w", s.cfg.Stage, s.cfg.Plugin, err)
				break
			}
			out[i].Events = append(out[i].Events, ev)
		}
	}
	return out, nil
}

// deltaFunc passes on a plugin's deltas for the events of batch, with the
// input event's match whatever the plugin said; others are dropped.
func (s *Stage) deltaFunc(batch []event.Event, emit func(pipeline.Delta)) func(*pb.Delta) {
	matches := make(map[string]string, len(batch))
	for i := range batch {
		matches[batch[i].ID] = batch[i].Match
	}
	return func(d *pb.Delta) {
		match, ok := matches[d.GetEventId()]
		if !ok || d.GetText() == "" {
			return
		}
		s.deltas.Add(1)
		emit(pipeline.Delta{Match: match, EventID: d.GetEventId(), Text: d.GetText()})
	}
}

// fail records a failed call and makes the error say what happened to the
// process. A timeout kills the process: it is hung or too slow, and its
// late answer must not be mixed with the retry's.
func (s *Stage) fail(inst *instance, err error) error {
	timedOut := errors.Is(err, context.DeadlineExceeded)
	if timedOut {
		inst.kill(causeTimeout, func() { s.timeouts.Add(1) })
	}
	s.countFailure(inst)
	what := err.Error()
	if inst.dead() {
		if inst.stream != nil {
			<-inst.done
		}
		// The stream breaks a moment before go-plugin reaps the process;
		// wait briefly for the exit status, which says what happened.
		t := time.NewTimer(2 * time.Second)
		select {
		case <-inst.bridge.exited:
		case <-t.C:
		}
		t.Stop()
		if exit := inst.bridge.exit(); exit != "" {
			what = "plugin process exited: " + exit
		} else if ierr := inst.deathErr(); ierr != nil {
			what = "plugin connection lost: " + ierr.Error()
		}
		s.noteDeath(inst)
	}
	switch inst.cause() {
	case causeTimeout:
		what = "timed out, plugin killed: " + what
	case causeHealth:
		what = "plugin failed its health check and was killed: " + what
	}
	s.log.Error().Int("pid", inst.pid).Str("reason", what).Msg("plugin call failed")
	return fmt.Errorf("pluginhost: stage %s (plugin %s, pid %d): %s: %w", s.cfg.Stage, s.cfg.Plugin, inst.pid, what, err)
}

// noteDeath counts a process that died without the host killing it, once.
func (s *Stage) noteDeath(inst *instance) {
	inst.mu.Lock()
	crashed := inst.why == "" && !inst.counted
	inst.counted = true
	inst.mu.Unlock()
	if !crashed {
		return
	}
	s.crashes.Add(1)
	s.log.Warn().Int("pid", inst.pid).Str("reason", inst.bridge.exit()).Msg("plugin process died")
}

// watch checks inst's health every HealthInterval until it is gone (ctx is
// done when it is killed or closed), and kills it when a check fails or
// times out.
func (s *Stage) watch(ctx context.Context, inst *instance) {
	if s.cfg.HealthInterval < 0 {
		return
	}
	hc := healthpb.NewHealthClient(inst.conn)
	t := time.NewTicker(s.cfg.HealthInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if inst.dead() {
			return // the next Process notices and restarts it
		}
		cctx, cancel := context.WithTimeout(ctx, s.cfg.HealthTimeout)
		res, err := hc.Check(cctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
		cancel()
		var reason string
		switch {
		case ctx.Err() != nil:
			return // killed or closed meanwhile
		case errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded:
			reason = fmt.Sprintf("no answer within %s", s.cfg.HealthTimeout)
		case err != nil:
			// A broken connection usually means the process is dying on
			// its own: give go-plugin a moment to reap it, so a crash is
			// counted as one.
			if inst.exitsWithin(time.Second) {
				return
			}
			reason = err.Error()
		case res.GetStatus() != healthpb.HealthCheckResponse_SERVING:
			reason = "status " + res.GetStatus().String()
		default:
			continue
		}
		inst.kill(causeHealth, func() {
			s.countFailure(inst) // a plugin that keeps hanging is restarted with backoff
			n := s.healthFailures.Add(1)
			s.log.Error().Int("pid", inst.pid).Str("reason", reason).Int64("health_failures", n).
				Msg("plugin failed its health check, killed")
		})
		return
	}
}

// countFailure adds inst's failure to the backoff count, once per process:
// every lane whose call was in flight on a dying process reports it, and a
// busy stage has many lanes.
func (s *Stage) countFailure(inst *instance) {
	inst.mu.Lock()
	first := !inst.failed
	inst.failed = true
	inst.mu.Unlock()
	if !first {
		return
	}
	s.mu.Lock()
	s.failures++
	s.lastFail = time.Now()
	s.mu.Unlock()
}

// restartWhenGone restarts the plugin as soon as inst's stream breaks
// (the process crashed, was killed, or failed its health check), so the
// next batch does not wait for a process to start. Instances the host
// replaces or closes on purpose are left alone.
func (s *Stage) restartWhenGone(inst *instance) {
	<-inst.done
	if c := inst.cause(); c == causeRestart || c == causeClosed {
		return
	}
	// Let go-plugin reap it first, so a crash is logged with its status.
	inst.exitsWithin(time.Second)
	s.countFailure(inst)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.inst != inst || s.restarting != nil {
		return
	}
	s.noteDeath(inst)
	inst.kill(causeRestart, nil)
	s.inst = nil
	s.restarting = &restartOp{done: make(chan struct{})}
	go s.restart(s.restarting)
}

// restartOp is one restart in progress; callers needing the plugin wait
// for done.
type restartOp struct {
	done chan struct{}
	err  error // set before done is closed
}

// instance returns a live plugin instance. When the last one died it
// starts a restart (with backoff) on its own goroutine, bounded by
// StartTimeout rather than by the caller's deadline, and waits for it as
// long as ctx allows: concurrent callers share one restart, and a short
// call timeout can neither starve nor repeat it.
func (s *Stage) instance(ctx context.Context) (*instance, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	if s.inst != nil && !s.inst.dead() {
		inst := s.inst
		s.mu.Unlock()
		return inst, nil
	}
	op := s.restarting
	if op == nil {
		if s.inst != nil {
			s.noteDeath(s.inst)
			s.inst.kill(causeRestart, nil)
			s.inst = nil
		}
		op = &restartOp{done: make(chan struct{})}
		s.restarting = op
		go s.restart(op)
	}
	s.mu.Unlock()
	select {
	case <-op.done:
		if op.err != nil {
			return nil, op.err
		}
		return s.instance(ctx)
	case <-ctx.Done():
		return nil, fmt.Errorf("pluginhost: stage %s (plugin %s): waiting for the plugin to restart: %w", s.cfg.Stage, s.cfg.Plugin, ctx.Err())
	}
}

// restart waits out the backoff, starts a process and installs it.
func (s *Stage) restart(op *restartOp) {
	defer close(op.done)
	s.mu.Lock()
	wait := s.backoff() - time.Since(s.lastFail)
	s.mu.Unlock()
	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-s.closing:
			t.Stop()
		case <-t.C:
		}
	}
	var (
		inst *instance
		desc sdk.Description
	)
	select {
	case <-s.closing:
		op.err = ErrClosed
	default:
		inst, desc, op.err = s.start(context.Background())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restarting = nil
	switch {
	case op.err != nil:
		s.failures++
		s.lastFail = time.Now()
		s.log.Error().Err(op.err).Int("failures", s.failures).Dur("next_attempt", s.backoff()).Msg("plugin restart failed")
		if !s.closed {
			// Keep trying in the background; callers waiting on this
			// attempt get its error, later ones wait for the next.
			next := &restartOp{done: make(chan struct{})}
			s.restarting = next
			go s.restart(next)
		}
	case s.closed:
		inst.close()
		op.err = ErrClosed
	default:
		s.inst, s.desc = inst, desc
		n := s.restarts.Add(1)
		s.log.Warn().Int("pid", inst.pid).Int64("restarts", n).Msg("plugin restarted")
	}
}

func (s *Stage) backoff() time.Duration {
	if s.failures == 0 {
		return 0
	}
	d := s.cfg.MinBackoff << min(s.failures-1, 16)
	return min(d, s.cfg.MaxBackoff)
}

// start launches, describes and configures a process. It touches no
// guarded field, so s.mu is not held while a process starts.
func (s *Stage) start(ctx context.Context) (*instance, sdk.Description, error) {
	bridge, hlog := newLogBridge(s.log)
	cmd := s.cfg.Command()
	client := newClient(cmd, s.cfg.Checksum, hlog, s.cfg.StartTimeout)
	fail := func(op string, err error) (*instance, sdk.Description, error) {
		client.Kill()
		return nil, sdk.Description{}, fmt.Errorf("pluginhost: stage %s (plugin %s): %s: %w", s.cfg.Stage, s.cfg.Plugin, op, err)
	}
	stub, err := dispense(client, cmd.Path, s.cfg.Checksum)
	if err != nil {
		return fail("start", withExit(err, bridge))
	}
	hc, ok := stub.(*sdk.HostClient)
	if !ok {
		return fail("start", fmt.Errorf("dispense: unexpected client type %T", stub))
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.StartTimeout)
	defer cancel()
	d, err := stub.Describe(cctx, &pb.DescribeRequest{})
	if err != nil {
		return fail("describe", err)
	}
	desc := description(d)
	storeID := serveStore(hc, s.store)
	if _, err := stub.Configure(cctx, &pb.ConfigureRequest{StageName: s.cfg.Stage, ConfigJson: s.cfg.Config, StateBrokerId: storeID}); err != nil {
		return fail("configure", err)
	}
	inst := &instance{client: client, stub: stub, conn: hc.Conn, bridge: bridge, done: make(chan struct{}), pending: map[uint64]*pendingCall{},
		streams: desc.Streams()}
	// ictx lives until the instance is killed or closed; the stream and
	// the health checks run under it, not under the caller's ctx.
	ictx, icancel := context.WithCancel(context.Background())
	inst.cancel = icancel
	if rc := client.ReattachConfig(); rc != nil {
		inst.pid = rc.Pid
	}
	if s.cfg.Transport == TransportStream {
		if err := inst.open(ictx); err != nil {
			icancel()
			return fail("open stream", err)
		}
		go inst.receive()
		go s.restartWhenGone(inst)
	}
	go s.watch(ictx, inst)
	s.log.Debug().Int("pid", inst.pid).Str("version", desc.Version).Msg("plugin started")
	return inst, desc, nil
}

// newClient configures go-plugin for one start of a plugin process.
func newClient(cmd *exec.Cmd, checksum []byte, hlog hclog.Logger, startTimeout time.Duration) *plugin.Client {
	cc := &plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(nil, sdk.Description{}),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hlog,
		StartTimeout:     startTimeout,
		GRPCDialOptions:  sdk.DialOptions(),
	}
	if len(checksum) > 0 {
		cc.SecureConfig = &plugin.SecureConfig{Checksum: checksum, Hash: sha256.New()}
	}
	return plugin.NewClient(cc)
}

// dispense starts the process, completes the handshake and returns the
// Stage client, turning go-plugin's errors into ones an operator can act on.
func dispense(client *plugin.Client, path string, checksum []byte) (pb.StageClient, error) {
	rpc, err := client.Client()
	if err != nil {
		if errors.Is(err, plugin.ErrChecksumsDoNotMatch) {
			actual := "unreadable"
			if sum, herr := FileSHA256(path); herr == nil {
				actual = hex.EncodeToString(sum)
			}
			return nil, fmt.Errorf("binary %s refused: SHA-256 is %s, expected %s (plugins.lock); reinstall it with `ballcast plugin install`: %w",
				path, actual, hex.EncodeToString(checksum), err)
		}
		return nil, handshakeError(path, err)
	}
	raw, err := rpc.Dispense(sdk.PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense: %w", err)
	}
	stub, ok := raw.(pb.StageClient)
	if !ok {
		return nil, fmt.Errorf("dispense: unexpected client type %T", raw)
	}
	return stub, nil
}

// ErrNotPlugin is wrapped by the start error of a program that does not
// complete ballcast's go-plugin handshake: it exited, printed something
// else, or serves another kind of go-plugin.
var ErrNotPlugin = errors.New("not a ballcast plugin")

// VersionError is the start error of a plugin built for another version of
// the ballcast plugin protocol.
type VersionError struct {
	Plugin    string // the plugin binary
	Version   int    // the protocol version the plugin speaks
	Supported []int  // the versions this ballcast speaks
}

func (e *VersionError) Error() string {
	supported := make([]string, len(e.Supported))
	for i, v := range e.Supported {
		supported[i] = strconv.Itoa(v)
	}
	return fmt.Sprintf("plugin %s speaks ballcast plugin protocol %d; this ballcast supports %s: rebuild the plugin against a matching plugins/sdk or upgrade ballcast",
		e.Plugin, e.Version, strings.Join(supported, ", "))
}

var apiVersion = regexp.MustCompile(`^incompatible API version with plugin\. Plugin version: (\d+)`)

// handshakeError turns go-plugin's handshake failures (client.go, which
// returns them as plain strings) into errors that say what to do.
func handshakeError(path string, err error) error {
	msg := err.Error()
	switch {
	case apiVersion.MatchString(msg):
		v, _ := strconv.Atoi(apiVersion.FindStringSubmatch(msg)[1])
		return &VersionError{Plugin: path, Version: v, Supported: []int{sdk.ProtocolVersion}}
	case strings.HasPrefix(msg, "incompatible core API version"):
		return fmt.Errorf("plugin %s is %w: it speaks another go-plugin core protocol (%s)", path, ErrNotPlugin, firstLine(msg))
	case strings.HasPrefix(msg, "Unrecognized remote plugin message: "):
		line := firstLine(strings.TrimPrefix(msg, "Unrecognized remote plugin message: "))
		if line == "" || strings.Contains(msg, "Failed to read any lines") {
			return exitedError{fmt.Errorf("plugin %s is %w: it printed no go-plugin handshake on stdout", path, ErrNotPlugin)}
		}
		return fmt.Errorf("plugin %s is %w: it printed %q instead of the go-plugin handshake", path, ErrNotPlugin, truncate(line, 80))
	case msg == "plugin exited before we could connect":
		return exitedError{fmt.Errorf("plugin %s is %w: it exited before the go-plugin handshake", path, ErrNotPlugin)}
	case strings.HasPrefix(msg, "unsupported plugin protocol"):
		return fmt.Errorf("plugin %s is %w: it serves go-plugin net/rpc; ballcast plugins serve gRPC (sdk.Serve)", path, ErrNotPlugin)
	case msg == "timeout while waiting for plugin to start":
		return fmt.Errorf("plugin %s did not complete the go-plugin handshake within its start timeout (is it a ballcast plugin?): %w", path, err)
	}
	return err
}

// exitedError marks a handshake error of a process that ended on its own.
type exitedError struct{ error }

func (e exitedError) Unwrap() error { return e.error }

// withExit adds the exit status to the handshake error of a process that
// ended on its own (waiting up to 3 s for go-plugin to reap it), since that
// is often the reason ("exit status 2", a panic).
func withExit(err error, bridge *logBridge) error {
	var exited exitedError
	if !errors.As(err, &exited) {
		return err
	}
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case <-bridge.exited:
		return fmt.Errorf("%w (%s)", err, bridge.exit())
	case <-t.C:
		return err
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// FileSHA256 is the SHA-256 of the file at path, as plugins.lock records it.
func FileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// Info is what a plugin binary says about itself at install time.
type Info struct {
	sdk.Description
	// ProtocolVersion is the plugin wire protocol version negotiated in the
	// handshake.
	ProtocolVersion int
}

// Describe starts the plugin command once, completes the handshake, asks
// the plugin to describe itself and stops it. checksum, if set, is
// verified as at every start.
func Describe(ctx context.Context, cmd *exec.Cmd, checksum []byte, log zerolog.Logger) (Info, error) {
	bridge, hlog := newLogBridge(log)
	client := newClient(cmd, checksum, hlog, 10*time.Second)
	defer client.Kill()
	stub, err := dispense(client, cmd.Path, checksum)
	if err != nil {
		return Info{}, fmt.Errorf("pluginhost: %s: start: %w", cmd.Path, withExit(err, bridge))
	}
	d, err := stub.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Info{}, fmt.Errorf("pluginhost: %s: describe: %w", cmd.Path, err)
	}
	return Info{
		Description:     description(d),
		ProtocolVersion: client.NegotiatedVersion(),
	}, nil
}

// description converts a plugin's answer to Describe.
func description(d *pb.Description) sdk.Description {
	return sdk.Description{
		Name: d.GetName(), Version: d.GetVersion(), Description: d.GetDescription(), ConfigSchema: d.GetConfigSchema(),
		Capabilities: d.GetCapabilities(),
	}
}

// Close stops the plugin process.
func (s *Stage) Close(context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	op := s.restarting
	if s.inst != nil {
		s.inst.close()
		s.inst = nil
	}
	s.mu.Unlock()
	if op != nil {
		<-op.done // a process being started is stopped by restart itself
	}
	return nil
}

// instance is one running plugin process.
type instance struct {
	client *plugin.Client
	stub   pb.StageClient
	conn   *grpc.ClientConn
	bridge *logBridge
	pid    int
	// streams: the process serves ProcessStream (sdk.CapabilityStream).
	streams bool

	cancel context.CancelFunc // ends the instance's stream and health checks
	stream batchStream        // nil with TransportUnary
	sendMu sync.Mutex         // serialises stream.Send

	mu      sync.Mutex // guards pending, nextID, err, why, counted, failed
	pending map[uint64]*pendingCall
	nextID  uint64
	err     error
	why     string        // why the host killed it; "" if it did not
	counted bool          // its death was seen (and counted as a crash if why is "")
	failed  bool          // its failure was added to the stage's backoff count
	done    chan struct{} // closed when the stream is gone
	killed  atomic.Bool
}

// Why the host killed a process.
const (
	causeTimeout = "timeout"
	causeHealth  = "health check"
	causeRestart = "restart"
	causeClosed  = "closed"
)

// exitsWithin reports whether the process exits within d.
func (in *instance) exitsWithin(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-in.bridge.exited:
		return true
	case <-t.C:
		return in.client.Exited()
	}
}

func (in *instance) cause() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.why
}

func (in *instance) dead() bool {
	if in.killed.Load() || in.client.Exited() {
		return true
	}
	if in.stream == nil {
		return false
	}
	select {
	case <-in.done:
		return true
	default:
		return false
	}
}

func (in *instance) deathErr() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.err
}

// batchStream is the instance's long-lived stream: Stream, or StreamDeltas
// for a plugin that streams. recv returns a result or a delta.
type batchStream interface {
	Send(*pb.Batch) error
	CloseSend() error
	recv() (*pb.BatchResult, *pb.Delta, error)
}

type plainStream struct{ pb.Stage_StreamClient }

func (s plainStream) recv() (*pb.BatchResult, *pb.Delta, error) {
	res, err := s.Recv()
	return res, nil, err
}

type deltaStream struct{ pb.Stage_StreamDeltasClient }

func (s deltaStream) recv() (*pb.BatchResult, *pb.Delta, error) {
	m, err := s.Recv()
	if err != nil {
		return nil, nil, err
	}
	if d := m.GetDelta(); d != nil {
		return nil, d, nil
	}
	if res := m.GetResult(); res != nil {
		return res, nil, nil
	}
	return nil, nil, errors.New("plugin sent an empty StreamDeltas message")
}

// open opens the instance's long-lived stream: StreamDeltas when the
// plugin streams, else Stream.
func (in *instance) open(ctx context.Context) error {
	if in.streams {
		st, err := in.stub.StreamDeltas(ctx)
		if err != nil {
			return err
		}
		in.stream = deltaStream{st}
		return nil
	}
	st, err := in.stub.Stream(ctx)
	if err != nil {
		return err
	}
	in.stream = plainStream{st}
	return nil
}

// pendingCall is a batch sent on the stream and not yet answered.
type pendingCall struct {
	res chan *pb.BatchResult // receives the result

	mu      sync.Mutex // guards onDelta and done: no delta after the call returned
	onDelta func(*pb.Delta)
	done    bool
}

// delta hands d to the call, unless it has returned.
func (pc *pendingCall) delta(d *pb.Delta) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if !pc.done && pc.onDelta != nil {
		pc.onDelta(d)
	}
}

func (pc *pendingCall) finish() {
	pc.mu.Lock()
	pc.done = true
	pc.mu.Unlock()
}

// call sends one batch and waits for its result. onDelta, if not nil, gets
// the batch's deltas (a streaming plugin's StreamDeltas) as they arrive,
// on the receiving goroutine, never after call returned.
func (in *instance) call(ctx context.Context, req *pb.Batch, onDelta func(*pb.Delta)) (*pb.BatchResult, error) {
	if in.stream == nil {
		return in.stub.Process(ctx, req)
	}
	pc := &pendingCall{res: make(chan *pb.BatchResult, 1), onDelta: onDelta}
	in.mu.Lock()
	if in.err != nil {
		err := in.err
		in.mu.Unlock()
		return nil, err
	}
	in.nextID++
	req.Id = in.nextID
	in.pending[req.Id] = pc
	in.mu.Unlock()
	defer func() {
		pc.finish()
		in.mu.Lock()
		delete(in.pending, req.Id)
		in.mu.Unlock()
	}()
	in.sendMu.Lock()
	err := in.stream.Send(req)
	in.sendMu.Unlock()
	if err != nil {
		if errors.Is(err, io.EOF) {
			<-in.done // the real error comes from Recv
			err = in.deathErr()
		}
		return nil, err
	}
	select {
	case res := <-pc.res:
		return res, nil
	case <-in.done:
		return nil, in.deathErr()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// callStream sends one batch through ProcessStream, handing each delta to
// onDelta as it arrives, and returns the batch's result. When ctx ends
// first it returns ctx's error, so a timeout is recognised as one. When
// the call breaks it waits briefly for the process's fate to be known, so
// the caller can tell a crash from a glitch.
func (in *instance) callStream(ctx context.Context, req *pb.Batch, onDelta func(*pb.Delta)) (*pb.BatchResult, error) {
	stream, err := in.stub.ProcessStream(ctx, req)
	if err != nil {
		return nil, in.streamErr(ctx, err)
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			err = errors.New("plugin ended ProcessStream without a result")
		}
		if err != nil {
			return nil, in.streamErr(ctx, err)
		}
		if d := m.GetDelta(); d != nil {
			onDelta(d)
			continue
		}
		if res := m.GetResult(); res != nil {
			return res, nil
		}
		return nil, errors.New("plugin sent an empty ProcessStream message")
	}
}

func (in *instance) streamErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if status.Code(err) == codes.Unavailable || status.Code(err) == codes.Canceled {
		// The connection broke: usually the process is dying. The shared
		// stream (or go-plugin's reaper) says so a moment later.
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		var done <-chan struct{}
		if in.stream != nil {
			done = in.done
		}
		select {
		case <-done:
		case <-in.bridge.exited:
		case <-t.C:
		}
	}
	return err
}

// receive routes stream results and deltas to their callers until the
// stream breaks.
func (in *instance) receive() {
	defer close(in.done)
	for {
		res, d, err := in.stream.recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("plugin closed the stream")
			}
			in.mu.Lock()
			in.err = err
			in.mu.Unlock()
			return
		}
		id := res.GetId()
		if d != nil {
			id = d.GetBatchId()
		}
		in.mu.Lock()
		pc := in.pending[id]
		in.mu.Unlock()
		switch {
		case pc == nil:
		case d != nil:
			pc.delta(d)
		default:
			pc.res <- res
		}
	}
}

// kill stops a failed process at once: a hung plugin would not honour
// go-plugin's graceful shutdown, which waits two seconds for it. When the
// host had not already killed the process or seen it die, cause is recorded
// and first, if not nil, is called before the process is signalled.
func (in *instance) kill(cause string, first func()) {
	in.mu.Lock()
	decide := in.why == "" && !in.counted
	if in.why == "" {
		in.why = cause
	}
	in.mu.Unlock()
	if decide && first != nil {
		first()
	}
	in.killed.Store(true)
	in.cancel()
	if in.pid > 0 && !in.client.Exited() {
		_ = syscall.Kill(in.pid, syscall.SIGKILL)
	}
	in.client.Kill()
}

func (in *instance) close() {
	in.mu.Lock()
	if in.why == "" {
		in.why = causeClosed
	}
	in.mu.Unlock()
	in.killed.Store(true)
	if in.stream != nil {
		in.sendMu.Lock()
		_ = in.stream.CloseSend()
		in.sendMu.Unlock()
	}
	in.cancel()
	in.client.Kill()
}
