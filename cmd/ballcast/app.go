package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/ballcast/ballcast/core/ingest"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/core/source/roanuz"
	"github.com/ballcast/ballcast/examples"
	"github.com/ballcast/ballcast/pipeline"
	"github.com/ballcast/ballcast/pipeline/pluginhost"
)

// defaultPipelineName is how the embedded default pipeline is named in
// messages.
const defaultPipelineName = "default.yaml (embedded)"

// sourceFactories builds each source type from its config section. Sources
// defined in other files of this package add themselves from init.
var sourceFactories = map[string]func(pipeline.Section, zerolog.Logger) (ingest.Source, error){
	"replay": func(s pipeline.Section, _ zerolog.Logger) (ingest.Source, error) {
		var c replay.Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		if err := c.Validate(); err != nil {
			return nil, s.Errorf("speed", "%v", err)
		}
		return replay.New(c)
	},
	"roanuz": func(s pipeline.Section, log zerolog.Logger) (ingest.Source, error) {
		var c roanuz.Config
		if err := s.Decode(&c); err != nil {
			return nil, err
		}
		return roanuz.New(c, log)
	},
}

func sourceTypes() []string {
	t := make([]string, 0, len(sourceFactories))
	for k := range sourceFactories {
		t = append(t, k)
	}
	sort.Strings(t)
	return t
}

// loadConfig reads a pipeline file, or the embedded default when path is "".
func loadConfig(path string) (*pipeline.Config, error) {
	opts := &pipeline.LoadOptions{SourceTypes: sourceTypes()}
	if path == "" {
		return pipeline.Parse(defaultPipelineName, examples.DefaultPipeline, opts)
	}
	return pipeline.Load(path, opts)
}

// newLogger builds the one logger the process uses.
func newLogger(cfg pipeline.LogConfig, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(cfg.Level)
	if err != nil || cfg.Level == "" {
		level = zerolog.InfoLevel
	}
	console := cfg.Format == "console"
	if cfg.Format == "" || cfg.Format == "auto" {
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			console = true
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// buildSources constructs every configured source, reporting all problems.
func buildSources(cfg *pipeline.Config, log zerolog.Logger) ([]ingest.Source, error) {
	var (
		out  []ingest.Source
		errs []error
	)
	for i, sc := range cfg.Sources {
		mk, ok := sourceFactories[sc.Type]
		if !ok {
			// pipeline.Parse already reported it (LoadOptions.SourceTypes);
			// only a partial config from a failed Parse gets here.
			continue
		}
		src, err := mk(sc.Config, log.With().Str("source", sc.Name).Logger())
		if err != nil {
			var ce *pipeline.ConfigError
			if !errors.As(err, &ce) {
				err = cfg.Errorf(fmt.Sprintf("sources[%d]", i), "%v", err)
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, ingest.Rename(src, sc.Matches))
	}
	return out, errors.Join(errs...)
}

// stages is a started set of plugin stages.
type stages struct {
	specs   []pipeline.Spec
	hosts   []*pluginhost.Stage
	plugins []string // each stage's plugin, as the YAML names it
}

func (s *stages) Close() {
	for _, h := range s.hosts {
		h.Close(context.Background())
	}
}

// startStages launches every stage's plugin process. An installed
// plugin is started with the SHA-256 its plugins.lock entry records, which
// go-plugin checks before running it (and again at every restart), so a
// binary changed after `ballcast plugin install` is refused.
// store keeps the plugins' per-match state; nil gives each stage its own
// in-memory store.
func startStages(ctx context.Context, cfg *pipeline.Config, pluginDir string, store pluginhost.Store, log zerolog.Logger) (*stages, error) {
	st := &stages{}
	plugins := &pluginResolver{dir: pluginDir}
	for _, sc := range cfg.Stages {
		p, err := plugins.resolve(sc.Plugin)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("stage %s: %w", sc.Name, err)
		}
		raw, err := sc.Config.JSON()
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("stage %s: config: %w", sc.Name, err)
		}
		h, err := pluginhost.Start(ctx, pluginhost.Config{Stage: sc.Name, Plugin: sc.Plugin, Command: p.command, Config: raw, Checksum: p.sum, Store: store}, log)
		if err != nil {
			st.Close()
			return nil, err
		}
		d := h.Description()
		log.Info().Str("stage", sc.Name).Str("plugin", sc.Plugin).Str("version", d.Version).Int("pid", h.Pid()).Msg("stage started")
		st.hosts = append(st.hosts, h)
		st.plugins = append(st.plugins, sc.Plugin)
		st.specs = append(st.specs, pipeline.Spec{
			Name: sc.Name, Stage: h, Timeout: sc.Timeout, OnError: sc.OnError, Retries: sc.Retries, Batch: sc.Batch,
		})
	}
	return st, nil
}

// defaultPluginDir is where installed plugin binaries and their
// plugins.lock live: $BALLCAST_PLUGIN_DIR, else ballcast/plugins in the
// user config directory (~/.config/ballcast/plugins on Linux).
func defaultPluginDir() string {
	if d := os.Getenv("BALLCAST_PLUGIN_DIR"); d != "" {
		return d
	}
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "ballcast", "plugins")
	}
	return "plugins"
}
