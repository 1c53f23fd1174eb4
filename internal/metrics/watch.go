package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// StageCounters is one pipeline stage's counts as its runner keeps them
// (pipeline.StageStats), read at scrape time by [Metrics.WatchStages]. The
// counts only grow while one runner lives.
type StageCounters struct {
	Stage    string // stage name from the pipeline YAML
	In       int64  // events handed to the stage
	Out      int64  // events it passed on (fan-out counts each output)
	Dropped  int64  // events it returned nothing for
	Failures int64  // failed calls plus failed events
	Skipped  int64  // events passed on or dropped by the on_error policy
	Deltas   int64  // partial outputs (streamed commentary) passed to the frontends
}

// PluginCounters is one plugin process's counts as the plugin host keeps
// them, read at scrape time by [Metrics.WatchPlugins].
type PluginCounters struct {
	Stage          string // stage name from the pipeline YAML
	Plugin         string // plugin name (the YAML plugin: value)
	Restarts       int64  // process restarts after a crash, hang or timeout
	HealthFailures int64  // failed health checks
	Timeouts       int64  // calls that exceeded the stage timeout
	Pid            int    // current process ID; 0 when none is running
}

// Per-stage counters, in the order of stageValues.
var stageDescs = []*prometheus.Desc{
	newDesc("stage_events_in_total", "Events handed to a pipeline stage.", labelStage),
	newDesc("stage_events_out_total", "Events a pipeline stage passed on; a fan-out counts every output.", labelStage),
	newDesc("stage_events_dropped_total", "Events a pipeline stage returned nothing for (dropped on purpose, as dedup does).", labelStage),
	newDesc("stage_failures_total", "Failed calls plus failed events of a pipeline stage, before the on_error policy.", labelStage),
	newDesc("stage_events_skipped_total", "Events the on_error policy passed on unchanged or dropped after a pipeline stage failed on them.", labelStage),
	newDesc("stage_deltas_total", "Partial outputs (streamed commentary text) a streaming stage sent on to the frontends.", labelStage),
}

func stageValues(s StageCounters) []int64 {
	return []int64{s.In, s.Out, s.Dropped, s.Failures, s.Skipped, s.Deltas}
}

// Per-plugin counters, in the order of pluginValues.
var pluginDescs = []*prometheus.Desc{
	newDesc("plugin_restarts_total", "Plugin process restarts after a crash, hang or timeout.", labelStage, labelPlugin),
	newDesc("plugin_health_failures_total", "Failed health checks of a plugin process.", labelStage, labelPlugin),
	newDesc("plugin_timeouts_total", "Plugin calls that exceeded the stage timeout.", labelStage, labelPlugin),
}

func pluginValues(p PluginCounters) []int64 {
	return []int64{p.Restarts, p.HealthFailures, p.Timeouts}
}

var (
	pluginUpDesc = newDesc("plugin_up", "Whether the plugin process is running (1) or not (0).", labelStage, labelPlugin)
	backlogDesc  = newDesc("lane_backlog_events", "Events routed into match lanes whose results are not yet all published or dropped.")
	lanesDesc    = newDesc("lanes", "Match lanes started by the current pipeline runner.")
)

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

type pluginKey struct{ stage, plugin string }

// watchCollector is the prometheus.Collector behind the Watch methods: it
// reads the callbacks at scrape time and keeps the counters they feed
// monotonic across callback replacement.
type watchCollector struct {
	mu        sync.Mutex // serialises scrapes and replacements; guards the fields below
	stagesFn  func() []StageCounters
	pluginsFn func() []PluginCounters
	stages    *monotonic[string]
	plugins   *monotonic[pluginKey]

	backlog atomic.Pointer[func() int]
	lanes   atomic.Pointer[func() int]
}

func newWatchCollector() *watchCollector {
	return &watchCollector{
		stages:  newMonotonic[string](len(stageDescs)),
		plugins: newMonotonic[pluginKey](len(pluginDescs)),
	}
}

func (c *watchCollector) setStages(fn func() []StageCounters) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stagesFn != nil {
		c.stages.retire(readStages(c.stagesFn))
	}
	c.stagesFn = fn
}

func (c *watchCollector) setPlugins(fn func() []PluginCounters) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pluginsFn != nil {
		cur, _ := readPlugins(c.pluginsFn)
		c.plugins.retire(cur)
	}
	c.pluginsFn = fn
}

func (c *watchCollector) setGauge(p *atomic.Pointer[func() int], fn func() int) {
	if fn == nil {
		p.Store(nil)
		return
	}
	p.Store(&fn)
}

// readStages calls fn and sums its rows per stage name.
func readStages(fn func() []StageCounters) map[string][]int64 {
	cur := make(map[string][]int64)
	for _, s := range fn() {
		cur[s.Stage] = addInto(cur[s.Stage], stageValues(s))
	}
	return cur
}

// readPlugins calls fn and sums its rows per stage and plugin; up holds the
// plugins fn reported, with whether any of their processes runs.
func readPlugins(fn func() []PluginCounters) (cur map[pluginKey][]int64, up map[pluginKey]bool) {
	cur = make(map[pluginKey][]int64)
	up = make(map[pluginKey]bool)
	for _, p := range fn() {
		k := pluginKey{p.Stage, p.Plugin}
		cur[k] = addInto(cur[k], pluginValues(p))
		up[k] = up[k] || p.Pid > 0
	}
	return cur, up
}

func addInto(dst, v []int64) []int64 {
	if dst == nil {
		return v
	}
	for i := range v {
		dst[i] += v[i]
	}
	return dst
}

// Describe sends every descriptor the collector may emit.
func (c *watchCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range stageDescs {
		ch <- d
	}
	for _, d := range pluginDescs {
		ch <- d
	}
	ch <- pluginUpDesc
	ch <- backlogDesc
	ch <- lanesDesc
}

// Collect reads the callbacks and sends the current values.
func (c *watchCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.stagesFn != nil {
		c.stages.observe(readStages(c.stagesFn))
	}
	var up map[pluginKey]bool
	if c.pluginsFn != nil {
		var cur map[pluginKey][]int64
		cur, up = readPlugins(c.pluginsFn)
		c.plugins.observe(cur)
	}
	c.stages.each(func(stage string, totals []int64) {
		for i, d := range stageDescs {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(totals[i]), stage)
		}
	})
	c.plugins.each(func(k pluginKey, totals []int64) {
		for i, d := range pluginDescs {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(totals[i]), k.stage, k.plugin)
		}
	})
	c.mu.Unlock()

	for k, running := range up {
		v := 0.0
		if running {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginUpDesc, prometheus.GaugeValue, v, k.stage, k.plugin)
	}
	if fn := c.backlog.Load(); fn != nil {
		ch <- prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64((*fn)()))
	}
	if fn := c.lanes.Load(); fn != nil {
		ch <- prometheus.MustNewConstMetric(lanesDesc, prometheus.GaugeValue, float64((*fn)()))
	}
}

// monotonic turns counts read from replaceable callbacks into counters that
// never go down: per key, the total is base (everything carried over from
// replaced callbacks and resets) plus last (what the current callback last
// reported).
type monotonic[K comparable] struct {
	n    int
	base map[K][]int64
	last map[K][]int64
}

func newMonotonic[K comparable](n int) *monotonic[K] {
	return &monotonic[K]{n: n, base: make(map[K][]int64), last: make(map[K][]int64)}
}

// observe records the current callback's values. A value lower than the
// one last seen from the same callback is a reset: what was seen so far is
// carried into base. Keys the callback no longer reports keep their value.
func (s *monotonic[K]) observe(cur map[K][]int64) {
	for k, v := range cur {
		last, ok := s.last[k]
		if !ok {
			last = make([]int64, s.n)
			s.last[k] = last
		}
		for i := range v {
			if v[i] < last[i] {
				s.carry(k, i, last[i])
			}
			last[i] = v[i]
		}
	}
}

// retire records the final values of a callback that is being replaced
// and carries everything into base, so the next callback starts from zero.
func (s *monotonic[K]) retire(final map[K][]int64) {
	s.observe(final)
	for k, last := range s.last {
		for i, v := range last {
			s.carry(k, i, v)
		}
	}
	clear(s.last)
}

func (s *monotonic[K]) carry(k K, i int, v int64) {
	b, ok := s.base[k]
	if !ok {
		b = make([]int64, s.n)
		s.base[k] = b
	}
	b[i] += v
}

// each calls fn with the total of every key ever seen.
func (s *monotonic[K]) each(fn func(k K, totals []int64)) {
	totals := make([]int64, s.n)
	visit := func(k K) {
		clear(totals)
		addInto(totals, s.base[k])
		addInto(totals, s.last[k])
		fn(k, totals)
	}
	for k := range s.base {
		visit(k)
	}
	for k := range s.last {
		if _, ok := s.base[k]; !ok {
			visit(k)
		}
	}
}
