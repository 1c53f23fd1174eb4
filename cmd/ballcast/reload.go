package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/ballcast/ballcast/internal/metrics"
	"github.com/ballcast/ballcast/pipeline"
)

// Reload re-reads the pipeline file and, if it is valid and its plugins
// start, swaps the running stages for the new ones: the old pipeline
// drains first, so nothing is lost or duplicated. A broken file or a
// plugin that does not start leaves the running pipeline untouched; the
// error says why. Reloads and failures are counted in metrics.
func (s *server) Reload(ctx context.Context) error {
	if s.opts.role == roleBroadcast {
		return errors.New("reload: a broadcast node runs no pipeline")
	}
	reply := make(chan error, 1)
	select {
	case s.reloads <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reloader serialises reloads on one goroutine.
func (s *server) reloader(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case reply := <-s.reloads:
			err := s.reload(ctx)
			s.metrics.Reload(err)
			if err != nil {
				s.log.Error().Err(err).Msg("reload refused; the running pipeline is unchanged")
			}
			reply <- err
		}
	}
}

func (s *server) reload(ctx context.Context) error {
	name := s.opts.file
	if name == "" {
		name = defaultPipelineName
	}
	cfg, err := loadConfig(s.opts.file)
	if err != nil {
		return fmt.Errorf("reload %s:\n%w", name, err)
	}
	s.mu.Lock()
	old := s.cfg
	s.mu.Unlock()
	for _, what := range unreloadable(old, cfg) {
		s.log.Warn().Str("section", what).Msg("changed, but only stages are reloaded: restart ballcast to apply it")
	}
	st, err := startStages(ctx, cfg, s.opts.pluginDir, s.bus.State(), s.log)
	if err != nil {
		return fmt.Errorf("reload %s: %w", name, err)
	}
	start := time.Now()
	if err := s.pipe.Swap(ctx, st.specs); err != nil {
		st.Close()
		return fmt.Errorf("reload %s: swap: %w", name, err)
	}
	s.mu.Lock()
	prev := s.stages
	s.stages, s.cfg = st, cfg
	s.mu.Unlock()
	s.watchMetrics(s.pipe.Runner(), st)
	prev.Close()
	s.log.Info().Int("stages", len(st.specs)).Dur("drain", time.Since(start)).Msg("pipeline reloaded")
	return nil
}

// unreloadable names the sections that differ between two configs but are
// only read at start.
func unreloadable(a, b *pipeline.Config) []string {
	var out []string
	js := func(s pipeline.Section) string {
		j, _ := s.JSON()
		return string(j)
	}
	if len(a.Sources) != len(b.Sources) {
		out = append(out, "sources")
	} else {
		for i := range a.Sources {
			if a.Sources[i].Name != b.Sources[i].Name || a.Sources[i].Type != b.Sources[i].Type || js(a.Sources[i].Config) != js(b.Sources[i].Config) {
				out = append(out, "sources")
				break
			}
		}
	}
	if js(a.Broadcast) != js(b.Broadcast) {
		out = append(out, "broadcast")
	}
	if js(a.Bus) != js(b.Bus) {
		out = append(out, "bus")
	}
	if !reflect.DeepEqual(a.Log, b.Log) {
		out = append(out, "log")
	}
	return out
}

// watch reloads when the pipeline file changes. It watches the directory,
// because editors replace files by renaming, and waits for writes to
// settle before reloading.
func (s *server) watch(ctx context.Context, file string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return err
	}
	const settle = 200 * time.Millisecond
	s.group.Go(func() error {
		defer w.Close()
		var timer *time.Timer
		var fire <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return nil
			case ev, ok := <-w.Events:
				if !ok {
					return nil
				}
				if filepath.Clean(ev.Name) != abs || ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) == 0 {
					continue
				}
				if timer == nil {
					timer = time.NewTimer(settle)
				} else {
					timer.Reset(settle)
				}
				fire = timer.C
			case <-fire:
				fire = nil
				s.log.Info().Str("file", file).Msg("pipeline file changed: reloading")
				if err := s.Reload(ctx); err != nil && !errors.Is(err, context.Canceled) {
					continue // logged and counted by the reloader
				}
			case err, ok := <-w.Errors:
				if !ok {
					return nil
				}
				s.log.Warn().Err(err).Msg("watching the pipeline file")
			}
		}
	})
	return nil
}

// counters reads the plugin hosts' counters for metrics.
func (s *stages) counters() []metrics.PluginCounters {
	out := make([]metrics.PluginCounters, 0, len(s.hosts))
	for i, h := range s.hosts {
		st := h.Stats()
		out = append(out, metrics.PluginCounters{
			Stage: s.specs[i].Name, Plugin: s.plugins[i],
			Restarts: st.Restarts, HealthFailures: st.HealthFailures, Timeouts: st.Timeouts, Pid: st.Pid,
		})
	}
	return out
}
