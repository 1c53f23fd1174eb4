package metrics_test

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ballcast/ballcast/internal/metrics"
)

// Metrics is a pipeline.Observer; the interface is restated here so this
// package's tests do not depend on pipeline.
var _ interface {
	StageCall(stage string, events int, d time.Duration, err error)
} = (*metrics.Metrics)(nil)

// scrape GETs /metrics from h and parses the text exposition.
func scrape(t testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, body %q", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q, want text/plain", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return mfs
}

// labels is a label set written "k=v,k=v" ("" for none), for readable tests.
func labelsOf(m *dto.Metric) string {
	var kv []string
	for _, l := range m.GetLabel() {
		kv = append(kv, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// find returns the sample of family name with exactly the label set want.
func find(t testing.TB, mfs map[string]*dto.MetricFamily, name, want string) *dto.Metric {
	t.Helper()
	m, ok := lookup(mfs, name, want)
	if !ok {
		t.Fatalf("%s{%s}: not exposed; have %v", name, want, labelSets(mfs, name))
	}
	return m
}

func lookup(mfs map[string]*dto.MetricFamily, name, want string) (*dto.Metric, bool) {
	for _, m := range mfs[name].GetMetric() {
		if labelsOf(m) == want {
			return m, true
		}
	}
	return nil, false
}

// labelSets lists the label sets family name is exposed with, sorted.
func labelSets(mfs map[string]*dto.MetricFamily, name string) []string {
	var sets []string
	for _, m := range mfs[name].GetMetric() {
		sets = append(sets, labelsOf(m))
	}
	slices.Sort(sets)
	return sets
}

// value returns the value of a counter or gauge sample.
func value(t testing.TB, mfs map[string]*dto.MetricFamily, name, labels string) float64 {
	t.Helper()
	m := find(t, mfs, name, labels)
	switch mfs[name].GetType() {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s: type %v is neither counter nor gauge", name, mfs[name].GetType())
	return 0
}

func wantType(t testing.TB, mfs map[string]*dto.MetricFamily, name string, typ dto.MetricType) {
	t.Helper()
	if got := mfs[name].GetType(); got != typ {
		t.Errorf("%s: type %v, want %v", name, got, typ)
	}
}

func wantValue(t testing.TB, mfs map[string]*dto.MetricFamily, name, labels string, want float64) {
	t.Helper()
	if got := value(t, mfs, name, labels); got != want {
		t.Errorf("%s{%s} = %v, want %v", name, labels, got, want)
	}
}

func wantLabelSets(t testing.TB, mfs map[string]*dto.MetricFamily, name string, want ...string) {
	t.Helper()
	if got := labelSets(mfs, name); !slices.Equal(got, want) {
		t.Errorf("%s label sets = %q, want %q", name, got, want)
	}
}

// cumulative returns a histogram's cumulative count at upper bound le.
func cumulative(t testing.TB, h *dto.Histogram, le float64) uint64 {
	t.Helper()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return b.GetCumulativeCount()
		}
	}
	t.Fatalf("no bucket le=%v", le)
	return 0
}

func TestRegistryHasRuntimeAndProcessCollectors(t *testing.T) {
	m := metrics.New()
	mfs := scrape(t, m.Handler())
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if mfs[name] == nil {
			t.Errorf("%s not exposed", name)
		}
	}
	if m.Registry() == nil {
		t.Fatal("Registry() = nil")
	}
	if _, err := m.Registry().Gather(); err != nil {
		t.Fatalf("Gather: %v", err)
	}
}

func TestStageCall(t *testing.T) {
	m := metrics.New()
	boom := errors.New("pluginhost: stage commentary: plugin exited: signal: killed")
	m.StageCall("dedup", 1, 40*time.Microsecond, nil)
	m.StageCall("dedup", 64, 3*time.Millisecond, nil)
	m.StageCall("commentary", 1, 1500*time.Millisecond, boom)
	m.StageCall("commentary", 1, 20*time.Second, nil) // above the last bucket
	mfs := scrape(t, m.Handler())

	const dur = "ballcast_stage_call_duration_seconds"
	wantType(t, mfs, dur, dto.MetricType_HISTOGRAM)
	wantLabelSets(t, mfs, dur, "stage=commentary", "stage=dedup")
	h := find(t, mfs, dur, "stage=dedup").GetHistogram()
	if h.GetSampleCount() != 2 {
		t.Errorf("dedup duration count = %d, want 2", h.GetSampleCount())
	}
	if got, want := h.GetSampleSum(), 0.00304; math.Abs(got-want) > 1e-9 {
		t.Errorf("dedup duration sum = %v, want %v", got, want)
	}
	if got := cumulative(t, h, 0.00005); got != 1 {
		t.Errorf("dedup calls ≤ 50µs = %d, want 1", got)
	}
	if got := cumulative(t, h, 0.005); got != 2 {
		t.Errorf("dedup calls ≤ 5ms = %d, want 2", got)
	}
	h = find(t, mfs, dur, "stage=commentary").GetHistogram()
	if got := cumulative(t, h, 10); got != 1 || h.GetSampleCount() != 2 {
		t.Errorf("commentary calls ≤ 10s = %d of %d, want 1 of 2", got, h.GetSampleCount())
	}

	const errs = "ballcast_stage_call_errors_total"
	wantType(t, mfs, errs, dto.MetricType_COUNTER)
	wantValue(t, mfs, errs, "stage=dedup", 0) // exposed from the first call
	wantValue(t, mfs, errs, "stage=commentary", 1)

	const batch = "ballcast_stage_batch_events"
	wantType(t, mfs, batch, dto.MetricType_HISTOGRAM)
	h = find(t, mfs, batch, "stage=dedup").GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 65 {
		t.Errorf("dedup batch count, sum = %d, %v, want 2, 65", h.GetSampleCount(), h.GetSampleSum())
	}
	if got := cumulative(t, h, 1); got != 1 {
		t.Errorf("dedup batches of 1 = %d, want 1", got)
	}
	if got := cumulative(t, h, 64); got != 2 {
		t.Errorf("dedup batches ≤ 64 = %d, want 2", got)
	}
}

// runner is a fake of pipeline.Runner's counters: it keeps real state, and
// a new one (a hot reload) starts from zero.
type runner struct {
	mu     sync.Mutex
	stages []metrics.StageCounters
}

func newRunner(names ...string) *runner {
	r := &runner{}
	for _, n := range names {
		r.stages = append(r.stages, metrics.StageCounters{Stage: n})
	}
	return r
}

// add counts n events in, n-dropped out and dropped dropped at stage.
func (r *runner) add(stage string, n, dropped int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.stages {
		if r.stages[i].Stage == stage {
			r.stages[i].In += n
			r.stages[i].Out += n - dropped
			r.stages[i].Dropped += dropped
			r.stages[i].Failures++
			r.stages[i].Skipped++
			r.stages[i].Deltas += 3
			return
		}
	}
	panic("no stage " + stage)
}

func (r *runner) counters() []metrics.StageCounters {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.stages)
}

func TestWatchStagesExposesEveryCounter(t *testing.T) {
	m := metrics.New()
	mfs := scrape(t, m.Handler())
	if mfs["ballcast_stage_events_in_total"] != nil {
		t.Fatal("stage counters exposed before WatchStages")
	}
	r := newRunner("dedup", "stats")
	r.add("dedup", 10, 2)
	m.WatchStages(r.counters)
	mfs = scrape(t, m.Handler())
	for _, tc := range []struct {
		name string
		want float64
	}{
		{"ballcast_stage_events_in_total", 10},
		{"ballcast_stage_events_out_total", 8},
		{"ballcast_stage_events_dropped_total", 2},
		{"ballcast_stage_failures_total", 1},
		{"ballcast_stage_events_skipped_total", 1},
		{"ballcast_stage_deltas_total", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantType(t, mfs, tc.name, dto.MetricType_COUNTER)
			wantLabelSets(t, mfs, tc.name, "stage=dedup", "stage=stats")
			wantValue(t, mfs, tc.name, "stage=dedup", tc.want)
			wantValue(t, mfs, tc.name, "stage=stats", 0)
		})
	}
}

func TestWatchStagesMonotonicAcrossReload(t *testing.T) {
	const in = "ballcast_stage_events_in_total"
	m := metrics.New()
	old := newRunner("dedup", "stats")
	m.WatchStages(old.counters)
	old.add("dedup", 10, 0)
	old.add("stats", 4, 0)
	mfs := scrape(t, m.Handler())
	wantValue(t, mfs, in, "stage=dedup", 10)

	// Counted after the last scrape but before the reload: not lost.
	old.add("dedup", 5, 0)
	// Hot reload: stats is gone, commentary is new, every count restarts.
	next := newRunner("dedup", "commentary")
	m.WatchStages(next.counters)
	old.add("dedup", 100, 0) // the old runner is drained; nothing it says now counts
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, in, "stage=dedup", 15)
	wantValue(t, mfs, in, "stage=stats", 4) // kept, not reset
	wantValue(t, mfs, in, "stage=commentary", 0)

	next.add("dedup", 3, 0)
	next.add("commentary", 2, 0)
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, in, "stage=dedup", 18)
	wantValue(t, mfs, in, "stage=commentary", 2)

	// A second reload brings stats back: its series continues.
	third := newRunner("stats")
	third.add("stats", 1, 0)
	m.WatchStages(third.counters)
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, in, "stage=stats", 5)
	wantValue(t, mfs, in, "stage=dedup", 18)

	// nil stops reading, keeping the totals.
	m.WatchStages(nil)
	third.add("stats", 1, 0)
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, in, "stage=stats", 5)
	wantValue(t, mfs, in, "stage=dedup", 18)
}

func TestWatchStagesResetWithoutReplacement(t *testing.T) {
	// cmd may hand WatchStages one fn that reads whichever runner is
	// current; a runner swap then shows as counts going down.
	const in = "ballcast_stage_events_in_total"
	m := metrics.New()
	var cur atomic.Pointer[runner]
	cur.Store(newRunner("dedup"))
	m.WatchStages(func() []metrics.StageCounters { return cur.Load().counters() })
	cur.Load().add("dedup", 10, 0)
	wantValue(t, scrape(t, m.Handler()), in, "stage=dedup", 10)

	cur.Store(newRunner("dedup"))
	cur.Load().add("dedup", 3, 0)
	wantValue(t, scrape(t, m.Handler()), in, "stage=dedup", 13)
	cur.Load().add("dedup", 1, 0)
	wantValue(t, scrape(t, m.Handler()), in, "stage=dedup", 14)
}

func TestWatchStagesSumsDuplicateRows(t *testing.T) {
	m := metrics.New()
	m.WatchStages(func() []metrics.StageCounters {
		return []metrics.StageCounters{{Stage: "dedup", In: 2}, {Stage: "dedup", In: 3}}
	})
	wantValue(t, scrape(t, m.Handler()), "ballcast_stage_events_in_total", "stage=dedup", 5)
}

// host is a fake of the plugin host's counters.
type host struct {
	mu      sync.Mutex
	plugins []metrics.PluginCounters
}

func (h *host) set(p metrics.PluginCounters) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range h.plugins {
		if h.plugins[i].Stage == p.Stage && h.plugins[i].Plugin == p.Plugin {
			h.plugins[i] = p
			return
		}
	}
	h.plugins = append(h.plugins, p)
}

func (h *host) counters() []metrics.PluginCounters {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.plugins)
}

func TestWatchPlugins(t *testing.T) {
	m := metrics.New()
	old := &host{}
	old.set(metrics.PluginCounters{Stage: "dedup", Plugin: "dedup", Pid: 4242})
	old.set(metrics.PluginCounters{Stage: "commentary", Plugin: "commentary", Restarts: 2, HealthFailures: 1, Timeouts: 3})
	m.WatchPlugins(old.counters)
	mfs := scrape(t, m.Handler())

	for _, name := range []string{"ballcast_plugin_restarts_total", "ballcast_plugin_health_failures_total", "ballcast_plugin_timeouts_total"} {
		wantType(t, mfs, name, dto.MetricType_COUNTER)
		wantLabelSets(t, mfs, name, "plugin=commentary,stage=commentary", "plugin=dedup,stage=dedup")
	}
	wantValue(t, mfs, "ballcast_plugin_restarts_total", "plugin=commentary,stage=commentary", 2)
	wantValue(t, mfs, "ballcast_plugin_health_failures_total", "plugin=commentary,stage=commentary", 1)
	wantValue(t, mfs, "ballcast_plugin_timeouts_total", "plugin=commentary,stage=commentary", 3)
	wantValue(t, mfs, "ballcast_plugin_restarts_total", "plugin=dedup,stage=dedup", 0)
	wantType(t, mfs, "ballcast_plugin_up", dto.MetricType_GAUGE)
	wantValue(t, mfs, "ballcast_plugin_up", "plugin=dedup,stage=dedup", 1)
	wantValue(t, mfs, "ballcast_plugin_up", "plugin=commentary,stage=commentary", 0)

	// Hot reload: new plugin host, commentary only, counts from zero.
	old.set(metrics.PluginCounters{Stage: "commentary", Plugin: "commentary", Restarts: 3, HealthFailures: 1, Timeouts: 3})
	next := &host{}
	next.set(metrics.PluginCounters{Stage: "commentary", Plugin: "commentary", Restarts: 1, Pid: 77})
	m.WatchPlugins(next.counters)
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, "ballcast_plugin_restarts_total", "plugin=commentary,stage=commentary", 4)
	wantValue(t, mfs, "ballcast_plugin_timeouts_total", "plugin=commentary,stage=commentary", 3)
	wantValue(t, mfs, "ballcast_plugin_up", "plugin=commentary,stage=commentary", 1)
	wantLabelSets(t, mfs, "ballcast_plugin_up", "plugin=commentary,stage=commentary") // dedup is gone
	wantLabelSets(t, mfs, "ballcast_plugin_restarts_total", "plugin=commentary,stage=commentary", "plugin=dedup,stage=dedup")
}

func TestWatchGauges(t *testing.T) {
	m := metrics.New()
	mfs := scrape(t, m.Handler())
	for _, name := range []string{"ballcast_lane_backlog_events", "ballcast_lanes"} {
		if mfs[name] != nil {
			t.Errorf("%s exposed before it is watched", name)
		}
	}
	var backlog, lanes atomic.Int64
	backlog.Store(7)
	lanes.Store(2)
	m.WatchBacklog(func() int { return int(backlog.Load()) })
	m.WatchLanes(func() int { return int(lanes.Load()) })
	mfs = scrape(t, m.Handler())
	wantType(t, mfs, "ballcast_lane_backlog_events", dto.MetricType_GAUGE)
	wantType(t, mfs, "ballcast_lanes", dto.MetricType_GAUGE)
	wantValue(t, mfs, "ballcast_lane_backlog_events", "", 7)
	wantValue(t, mfs, "ballcast_lanes", "", 2)

	backlog.Store(0)
	m.WatchLanes(func() int { return 5 }) // the last fn wins
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, "ballcast_lane_backlog_events", "", 0)
	wantValue(t, mfs, "ballcast_lanes", "", 5)

	m.WatchLanes(nil)
	if scrape(t, m.Handler())["ballcast_lanes"] != nil {
		t.Error("ballcast_lanes exposed after WatchLanes(nil)")
	}
}

func TestReload(t *testing.T) {
	const total, ts = "ballcast_pipeline_reloads_total", "ballcast_pipeline_last_reload_success_timestamp_seconds"
	m := metrics.New()
	mfs := scrape(t, m.Handler())
	wantType(t, mfs, total, dto.MetricType_COUNTER)
	wantType(t, mfs, ts, dto.MetricType_GAUGE)
	wantLabelSets(t, mfs, total, "result=failed", "result=ok")
	wantValue(t, mfs, total, "result=ok", 0)
	wantValue(t, mfs, ts, "", 0)

	before := float64(time.Now().UnixNano()) / 1e9
	m.Reload(nil)
	after := float64(time.Now().UnixNano()) / 1e9
	mfs = scrape(t, m.Handler())
	stamp := value(t, mfs, ts, "")
	if stamp < before-0.001 || stamp > after+0.001 {
		t.Errorf("%s = %v, want in [%v, %v]", ts, stamp, before, after)
	}

	m.Reload(errors.New("pipeline.yaml:3:5: stages[0].plugin: unknown plugin"))
	m.Reload(errors.New("pipeline.yaml:3:5: stages[0].plugin: unknown plugin"))
	mfs = scrape(t, m.Handler())
	wantValue(t, mfs, total, "result=ok", 1)
	wantValue(t, mfs, total, "result=failed", 2)
	wantValue(t, mfs, ts, "", stamp) // a failed reload leaves it alone
}

func TestIngestAppended(t *testing.T) {
	m := metrics.New()
	m.IngestAppended("roanuz", false)
	m.IngestAppended("roanuz", true)
	m.IngestAppended("roanuz", false)
	m.IngestAppended("replay", false)
	mfs := scrape(t, m.Handler())
	wantType(t, mfs, "ballcast_ingest_events_total", dto.MetricType_COUNTER)
	wantType(t, mfs, "ballcast_ingest_duplicates_total", dto.MetricType_COUNTER)
	wantValue(t, mfs, "ballcast_ingest_events_total", "source=roanuz", 3)
	wantValue(t, mfs, "ballcast_ingest_duplicates_total", "source=roanuz", 1)
	wantValue(t, mfs, "ballcast_ingest_events_total", "source=replay", 1)
	wantValue(t, mfs, "ballcast_ingest_duplicates_total", "source=replay", 0)
}

func TestFeedPublished(t *testing.T) {
	m := metrics.New()
	m.FeedPublished(200 * time.Microsecond)
	m.FeedPublished(2 * time.Millisecond)
	mfs := scrape(t, m.Handler())
	const name = "ballcast_feed_publish_duration_seconds"
	wantType(t, mfs, name, dto.MetricType_HISTOGRAM)
	h := find(t, mfs, name, "").GetHistogram()
	if h.GetSampleCount() != 2 || cumulative(t, h, 0.00025) != 1 {
		t.Errorf("%s: count %d, ≤ 250µs %d; want 2, 1", name, h.GetSampleCount(), cumulative(t, h, 0.00025))
	}
}

// TestNamingConventions runs promlint over every ballcast metric, each
// given a sample first so it is exposed.
func TestNamingConventions(t *testing.T) {
	m := metrics.New()
	m.StageCall("dedup", 1, time.Millisecond, errors.New("x"))
	m.WatchStages(func() []metrics.StageCounters { return []metrics.StageCounters{{Stage: "dedup"}} })
	m.WatchPlugins(func() []metrics.PluginCounters { return []metrics.PluginCounters{{Stage: "dedup", Plugin: "dedup"}} })
	m.WatchBacklog(func() int { return 0 })
	m.WatchLanes(func() int { return 0 })
	m.Reload(nil)
	m.IngestAppended("replay", true)
	m.FeedPublished(time.Millisecond)

	problems, err := testutil.GatherAndLint(m.Registry())
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "ballcast_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}

	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	var names []string
	for _, mf := range mfs {
		name := mf.GetName()
		if !strings.HasPrefix(name, "ballcast_") {
			continue
		}
		names = append(names, name)
		if mf.GetHelp() == "" {
			t.Errorf("%s has no help text", name)
		}
		if (mf.GetType() == dto.MetricType_COUNTER) != strings.HasSuffix(name, "_total") {
			t.Errorf("%s: type %v; counters and only counters end in _total", name, mf.GetType())
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if !slices.Contains([]string{"stage", "plugin", "source", "result"}, l.GetName()) {
					t.Errorf("%s: unexpected label %q", name, l.GetName())
				}
			}
		}
	}
	want := []string{
		"ballcast_feed_publish_duration_seconds",
		"ballcast_ingest_duplicates_total",
		"ballcast_ingest_events_total",
		"ballcast_lane_backlog_events",
		"ballcast_lanes",
		"ballcast_pipeline_last_reload_success_timestamp_seconds",
		"ballcast_pipeline_reloads_total",
		"ballcast_plugin_health_failures_total",
		"ballcast_plugin_restarts_total",
		"ballcast_plugin_timeouts_total",
		"ballcast_plugin_up",
		"ballcast_stage_batch_events",
		"ballcast_stage_call_duration_seconds",
		"ballcast_stage_call_errors_total", "ballcast_stage_deltas_total",
		"ballcast_stage_events_dropped_total",
		"ballcast_stage_events_in_total",
		"ballcast_stage_events_out_total",
		"ballcast_stage_events_skipped_total",
		"ballcast_stage_failures_total",
	}
	if !slices.Equal(names, want) {
		t.Errorf("metric names:\n got %q\nwant %q", names, want)
	}
}

// TestConcurrentUse runs every entry point at once under the race detector
// and checks that each stage counter only ever goes up between scrapes,
// while WatchStages is replaced mid-way.
func TestConcurrentUse(t *testing.T) {
	m := metrics.New()
	const in = "ballcast_stage_events_in_total"
	var wg sync.WaitGroup
	stop := make(chan struct{})
	runners := make(chan *runner, 1)
	first := newRunner("dedup")
	m.WatchStages(first.counters)
	runners <- first

	// Writer: counts events into the current runner; each reload hands it a
	// new runner starting from zero.
	wg.Go(func() {
		r := <-runners
		for {
			select {
			case <-stop:
				return
			case next := <-runners:
				r = next
			default:
			}
			r.add("dedup", 1, 0)
			m.StageCall("dedup", 1, time.Microsecond, nil)
			m.IngestAppended("replay", false)
			m.FeedPublished(time.Microsecond)
		}
	})
	// Reloader.
	wg.Go(func() {
		for range 20 {
			next := newRunner("dedup")
			m.WatchStages(next.counters)
			runners <- next
			m.Reload(nil)
		}
	})

	var last float64
	for i := range 50 {
		got := value(t, scrape(t, m.Handler()), in, "stage=dedup")
		if got < last {
			t.Fatalf("scrape %d: %s went down from %v to %v", i, in, last, got)
		}
		last = got
	}
	close(stop)
	wg.Wait()
	mfs := scrape(t, m.Handler())
	if got := value(t, mfs, in, "stage=dedup"); got < last {
		t.Fatalf("final %s = %v, below %v", in, got, last)
	}
	wantValue(t, mfs, "ballcast_pipeline_reloads_total", "result=ok", 20)
}

func ExampleMetrics() {
	m := metrics.New()

	// cmd/ballcast: the runner reports every stage call ...
	//   pipe.SetObserver(m)
	m.StageCall("dedup", 1, 120*time.Microsecond, nil)
	// ... and its counters are read at scrape time; after a hot reload,
	// WatchStages is called again with the new runner.
	m.WatchStages(func() []metrics.StageCounters {
		return []metrics.StageCounters{{Stage: "dedup", In: 3, Out: 2, Dropped: 1}}
	})
	m.WatchLanes(func() int { return 1 })
	m.Reload(nil)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "ballcast_stage_events_") || strings.HasPrefix(line, "ballcast_lanes ") ||
			strings.HasPrefix(line, "ballcast_pipeline_reloads_total") {
			fmt.Print(line)
		}
	}
	// Output:
	// ballcast_lanes 1
	// ballcast_pipeline_reloads_total{result="failed"} 0
	// ballcast_pipeline_reloads_total{result="ok"} 1
	// ballcast_stage_events_dropped_total{stage="dedup"} 1
	// ballcast_stage_events_in_total{stage="dedup"} 3
	// ballcast_stage_events_out_total{stage="dedup"} 2
	// ballcast_stage_events_skipped_total{stage="dedup"} 0
}
