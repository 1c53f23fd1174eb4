package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/access"
	"github.com/ballcast/ballcast/core/bus"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/internal/metrics"
	"github.com/ballcast/ballcast/internal/retry"
	"github.com/ballcast/ballcast/pipeline"
)

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	file := fs.String("c", "", "pipeline `file` (default: the embedded default pipeline)")
	listen := fs.String("listen", "", "override broadcast.listen, e.g. :8080")
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries")
	dataDir := fs.String("data-dir", "", "override bus.data_dir, where the embedded NATS server keeps the durable log")
	role := fs.String("role", roleAll, "what this node runs: all, pipeline (sources and stages) or broadcast (frontends, from the feed of bus.url)")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errQuiet
	}
	log := newLogger(cfg.Log, stderr)
	// SIGHUP reloads; registered first, so an early one cannot kill us.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv, err := startServer(ctx, cfg, serverOptions{listen: *listen, pluginDir: *pluginDir, file: *file, dataDir: *dataDir, watch: *file != "", role: *role}, log)
	if err != nil {
		return err
	}
	log.Info().Str("url", "http://"+srv.Addr()).Msg("serving the live page")
	if srv.adminAddr != nil {
		log.Info().Str("url", "http://"+srv.adminAddr.String()).Msg("serving /healthz, /readyz and /metrics")
	}
	go func() {
		for range hup {
			log.Info().Msg("SIGHUP: reloading the pipeline and the access keys")
			if srv.guard != nil {
				if err := srv.guard.Reload(); err != nil {
					log.Error().Err(err).Msg("access keys not reloaded; the old ones stay in force")
				}
			}
			if srv.opts.role != roleBroadcast {
				srv.Reload(ctx) //nolint:errcheck // logged and counted by Reload
			}
		}
	}()
	return srv.Wait()
}

type serverOptions struct {
	listen    string // overrides broadcast.listen
	pluginDir string
	file      string // the pipeline file, re-read on reload; "" is the embedded default
	dataDir   string // overrides bus.data_dir
	watch     bool   // reload when file changes
	role      string // roleAll (default), rolePipeline or roleBroadcast
}

// server is a running ballcast: sources → ingest log → pipeline → feed →
// broadcast, plus HTTP. The durable log sits between every step, so a
// restarted server continues where the last one stopped.
type server struct {
	addr      net.Addr
	adminAddr net.Addr      // nil when operator endpoints share addr
	guard     *access.Guard // nil on a pipeline-only node
	hub       *broadcast.Hub
	bus       *bus.Bus
	pipe      *pipeline.Pipeline
	metrics   *metrics.Metrics
	health    *metrics.Health
	log       zerolog.Logger
	opts      serverOptions

	mu     sync.Mutex // guards stages and cfg
	stages *stages
	cfg    *pipeline.Config

	reloads  chan chan error
	fed      chan struct{} // closed when every source has finished and the pipeline drained
	group    *errgroup.Group
	closeBus sync.Once
}

// Roles split the work of a deployment across nodes sharing one NATS
// cluster (bus.url): pipeline nodes run sources and stages and write the
// feed, broadcast nodes serve frontends from the feed. One node may do
// both (the default).
const (
	roleAll       = "all"
	rolePipeline  = "pipeline"
	roleBroadcast = "broadcast"
)

var roles = []string{roleAll, rolePipeline, roleBroadcast}

// startServer starts everything the node's role needs and returns once the
// HTTP listener is up and every plugin has started.
func startServer(ctx context.Context, cfg *pipeline.Config, opts serverOptions, log zerolog.Logger) (_ *server, err error) {
	if opts.role == "" {
		opts.role = roleAll
	}
	if !slices.Contains(roles, opts.role) {
		return nil, usageError{fmt.Sprintf("run: role %q: want one of %s", opts.role, strings.Join(roles, ", "))}
	}
	runPipeline, runBroadcast := opts.role != roleBroadcast, opts.role != rolePipeline
	var bcfg broadcast.Config
	if err := cfg.Broadcast.Decode(&bcfg); err != nil {
		return nil, err
	}
	if opts.listen != "" {
		bcfg.Listen = opts.listen
	}
	if bcfg.Listen == "" {
		bcfg.Listen = ":8080"
	}
	var buscfg bus.Config
	if err := cfg.Bus.Decode(&buscfg); err != nil {
		return nil, err
	}
	if opts.dataDir != "" {
		buscfg.DataDir = opts.dataDir
	}
	var sources []ingest.Source
	if runPipeline {
		if sources, err = buildSources(cfg, log); err != nil {
			return nil, err
		}
	}
	hub, err := broadcast.NewHub(bcfg, log)
	if err != nil {
		return nil, err
	}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	ln, err := net.Listen("tcp", bcfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", bcfg.Listen, err)
	}
	cleanup = append(cleanup, func() { ln.Close() })
	b, err := bus.Open(ctx, buscfg, log.With().Str("component", "bus").Logger())
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { b.Close() })
	m := metrics.New()
	var gd *access.Guard
	if runBroadcast {
		// Frames are numbered by the feed, so their epoch is the feed's.
		epoch, err := b.FeedEpoch(ctx)
		if err != nil {
			return nil, err
		}
		if err := hub.SetEpoch(epoch); err != nil {
			return nil, err
		}
		if gd, err = newGuard(bcfg.Access, log); err != nil {
			return nil, err
		}
		hub.SetGuard(guard{gd})
		m.Registry().MustRegister(gd.Collector(), hubCollector(hub))
	}
	st := &stages{}
	if runPipeline {
		if st, err = startStages(ctx, cfg, opts.pluginDir, b.State(), log); err != nil {
			return nil, err
		}
	}
	s := &server{
		addr: ln.Addr(), hub: hub, bus: b, metrics: m, health: metrics.NewHealth(), log: log, opts: opts, guard: gd,
		stages: st, cfg: cfg, reloads: make(chan chan error), fed: make(chan struct{}),
	}
	s.pipe = pipeline.NewPipeline(st.specs, &feedSink{bus: b, metrics: m, log: log}, log)
	s.pipe.SetObserver(m)
	// Streaming stages' deltas skip the feed: to this node's hub at once,
	// and over plain NATS to the broadcast nodes (startBroadcast).
	deltas := pipeline.DeltaSinks{b}
	if runBroadcast {
		deltas = pipeline.DeltaSinks{hub, b}
	}
	s.pipe.SetDeltaSink(deltas)
	s.health.Check("bus", b.Ready)

	// Operator endpoints go on their own listener when admin_listen is
	// set, so they can stay off the public network.
	admin := http.NewServeMux()
	admin.Handle("GET /healthz", s.health.Healthz())
	admin.Handle("GET /readyz", s.health.Readyz())
	admin.Handle("GET /metrics", m.Handler())
	public := admin
	var adminLn net.Listener
	if bcfg.AdminListen != "" {
		if adminLn, err = net.Listen("tcp", bcfg.AdminListen); err != nil {
			return nil, fmt.Errorf("listen %s (admin): %w", bcfg.AdminListen, err)
		}
		cleanup = append(cleanup, func() { adminLn.Close() })
		s.adminAddr = adminLn.Addr()
		public = http.NewServeMux()
	}
	if runBroadcast {
		public.Handle("/", hub.Handler())
	}

	g, gctx := errgroup.WithContext(ctx)
	s.group = g
	serve(gctx, g, ln, public)
	if adminLn != nil {
		serve(gctx, g, adminLn, admin)
	}
	if runBroadcast {
		s.startBroadcast(gctx, g)
	}
	if runPipeline {
		s.startPipeline(gctx, g, sources)
	} else {
		close(s.fed)
	}
	return s, nil
}

// serve runs an HTTP server on ln until ctx is done.
func serve(ctx context.Context, g *errgroup.Group, ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	g.Go(func() error {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck // best effort on the way out
		return nil
	})
}

// startBroadcast serves frontends from the feed. The feed is the
// broadcast's source of truth: after a restart the hub rebuilds every
// match's history from it, numbering frames as before, and every broadcast
// node of a deployment numbers them alike.
func (s *server) startBroadcast(ctx context.Context, g *errgroup.Group) {
	s.health.Set("broadcast", errors.New("starting"))
	g.Go(func() error { return s.hub.Run(ctx) })
	if s.opts.role == roleBroadcast {
		// Deltas of the pipeline nodes; a node that runs both gets its
		// own straight from its pipeline (startServer).
		if err := s.bus.SubscribeDeltas(ctx, s.hub.PublishDelta); err != nil {
			s.log.Warn().Err(err).Msg("streaming commentary (deltas) will not be shown")
		}
	}
	g.Go(func() error {
		feed, err := s.bus.ConsumeFeed(ctx)
		if err != nil {
			s.health.Set("broadcast", err)
			return err
		}
		s.health.Set("broadcast", nil)
		for ev := range feed {
			if err := s.hub.Publish(ctx, ev); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("broadcast %s: %w", ev.ID, err)
			}
		}
		return nil
	})
}

// startPipeline runs the sources into the ingest log and the stages from
// the ingest log into the feed.
func (s *server) startPipeline(ctx context.Context, g *errgroup.Group, sources []ingest.Source) {
	s.watchMetrics(s.pipe.Runner(), s.stages)
	s.health.Set("pipeline", errors.New("starting"))
	sourcesDone := make(chan struct{})
	g.Go(func() error {
		loop := ingest.New(s.log, sources...)
		loop.SetCounter(s.metrics)
		if err := loop.Append(ctx, s.bus); err != nil && ctx.Err() == nil {
			s.log.Error().Err(err).Msg("ingest finished with errors")
		}
		close(sourcesDone)
		return nil
	})
	g.Go(func() error {
		deliveries, err := s.bus.ConsumeIngest(ctx)
		if err != nil {
			s.health.Set("pipeline", err)
			return err
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
		s.health.Set("pipeline", nil)
		err = s.pipe.Run(ctx, in)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("pipeline: ingest log consumer stopped")
		}
		s.health.Set("pipeline", err)
		return err
	})
	g.Go(func() error {
		select {
		case <-sourcesDone:
		case <-ctx.Done():
			return nil
		}
		if err := s.waitDrained(ctx); err != nil {
			return nil
		}
		close(s.fed)
		s.log.Info().Msg("all sources finished and the pipeline drained; still serving")
		return nil
	})
	g.Go(func() error { s.reloader(ctx); return nil })
	if s.opts.watch && s.opts.file != "" {
		if err := s.watch(ctx, s.opts.file); err != nil {
			s.log.Warn().Err(err).Msg("cannot watch the pipeline file; reload with SIGHUP")
		}
	}
	g.Go(func() error {
		<-ctx.Done()
		// Stop the plugins; the bus closes in Wait, after every consumer
		// has stopped: its embedded server flushes the store on the way out.
		s.mu.Lock()
		s.stages.Close()
		s.mu.Unlock()
		return nil
	})
}

// waitDrained returns once the ingest log has nothing left that the
// pipeline has not acknowledged.
func (s *server) waitDrained(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		n, err := s.bus.IngestPending(ctx)
		if err == nil && n == 0 && s.pipe.Runner().Backlog() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// feedSink publishes the pipeline's output to the durable feed. A failed
// publish is retried until it succeeds or the server stops: the input is
// acknowledged only after its results are in the feed.
type feedSink struct {
	bus     *bus.Bus
	metrics *metrics.Metrics
	log     zerolog.Logger
}

func (f *feedSink) Publish(ctx context.Context, ev event.Event) error {
	return retry.Do(ctx, f.log.With().Str("event", ev.ID).Logger(), "feed publish", func() error {
		start := time.Now()
		if err := f.bus.PublishFeed(ctx, ev); err != nil {
			return err
		}
		f.metrics.FeedPublished(time.Since(start))
		return nil
	})
}

// watchMetrics points the metrics at a runner's and its stages' counters;
// it is called again after every reload, so counters stay monotonic.
func (s *server) watchMetrics(r *pipeline.Runner, st *stages) {
	s.metrics.WatchStages(func() []metrics.StageCounters {
		var out []metrics.StageCounters
		for _, c := range r.Stats() {
			out = append(out, metrics.StageCounters{
				Stage: c.Name, In: c.In.Load(), Out: c.Out.Load(), Dropped: c.Dropped.Load(),
				Failures: c.Failures.Load(), Skipped: c.Skipped.Load(), Deltas: c.Deltas.Load(),
			})
		}
		return out
	})
	s.metrics.WatchPlugins(st.counters)
	s.metrics.WatchBacklog(func() int { return s.pipe.Runner().Backlog() })
	s.metrics.WatchLanes(func() int { return s.pipe.Runner().Lanes() })
}

// Addr is the HTTP listen address.
func (s *server) Addr() string { return s.addr.String() }

// Fed is closed when every source has finished and the pipeline has drained.
func (s *server) Fed() <-chan struct{} { return s.fed }

// Wait blocks until the server stops (its context is cancelled or a part
// fails), closes the bus, and returns the first failure.
func (s *server) Wait() error {
	err := s.group.Wait()
	// The bus closes last, once nothing uses it: the embedded server
	// flushes its store on the way out.
	s.closeBus.Do(func() {
		if cerr := s.bus.Close(); cerr != nil && err == nil {
			err = cerr
		}
	})
	return err
}
