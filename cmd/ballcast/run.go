package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/pipeline"
)

func cmdRun(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := newFlags("run", stderr)
	file := fs.String("c", "", "pipeline `file` (default: the embedded default pipeline)")
	listen := fs.String("listen", "", "override broadcast.listen, e.g. :8080")
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return errQuiet
	}
	log := newLogger(cfg.Log, stderr)
	srv, err := startServer(ctx, cfg, serverOptions{listen: *listen, pluginDir: *pluginDir}, log)
	if err != nil {
		return err
	}
	log.Info().Str("url", "http://"+srv.Addr()).Msg("serving the live page")
	return srv.Wait()
}

type serverOptions struct {
	listen    string // overrides broadcast.listen
	pluginDir string
}

// server is a running ballcast: sources → pipeline → broadcast, plus HTTP.
type server struct {
	addr   net.Addr
	hub    *broadcast.Hub
	runner *pipeline.Runner
	stages *stages
	ready  atomic.Bool
	fed    chan struct{} // closed when every source has finished and the pipeline drained
	group  *errgroup.Group
}

// startServer starts everything and returns once the HTTP listener is up
// and every plugin has started.
func startServer(ctx context.Context, cfg *pipeline.Config, opts serverOptions, log zerolog.Logger) (*server, error) {
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
	sources, err := buildSources(cfg, log)
	if err != nil {
		return nil, err
	}
	hub, err := broadcast.NewHub(bcfg, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", bcfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", bcfg.Listen, err)
	}
	st, err := startStages(ctx, cfg, opts.pluginDir, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &server{addr: ln.Addr(), hub: hub, stages: st, fed: make(chan struct{})}
	s.runner = pipeline.NewRunner(st.specs, hub, log)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready: pipeline", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("/", hub.Handler())
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	s.group = g
	g.Go(func() error { return hub.Run(gctx) })
	g.Go(func() error {
		err := httpSrv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		httpSrv.Shutdown(sctx) //nolint:errcheck // best effort on the way out
		st.Close()
		return nil
	})
	g.Go(func() error {
		events := make(chan event.Event, 1024)
		loop := ingest.New(log, sources...)
		ingestErr := make(chan error, 1)
		go func() { ingestErr <- loop.Run(gctx, events) }()
		s.ready.Store(true)
		if err := s.runner.Run(gctx, events); err != nil {
			if gctx.Err() != nil {
				return nil
			}
			return err
		}
		if err := <-ingestErr; err != nil && gctx.Err() == nil {
			log.Error().Err(err).Msg("ingest finished with errors")
		}
		close(s.fed)
		log.Info().Msg("all sources finished; still serving")
		return nil
	})
	return s, nil
}

// Addr is the HTTP listen address.
func (s *server) Addr() string { return s.addr.String() }

// Fed is closed when every source has finished and the pipeline has drained.
func (s *server) Fed() <-chan struct{} { return s.fed }

// Wait blocks until the server stops (its context is cancelled or a part
// fails) and returns the first failure.
func (s *server) Wait() error { return s.group.Wait() }
