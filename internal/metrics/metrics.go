package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every ballcast metric.
const namespace = "ballcast"

// Label names. Every label has a small, configuration-bounded set of values:
// stage and plugin names from the pipeline YAML, source (provider) names,
// and the reload result. Match IDs are never labels.
const (
	labelStage  = "stage"
	labelPlugin = "plugin"
	labelSource = "source"
	labelResult = "result"
)

// durationBuckets are the upper bounds, in seconds, of the latency
// histograms: 50 µs (an in-process stage) to 10 s (a slow LLM call, or a
// plugin call that ends in its timeout).
var durationBuckets = []float64{
	0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// batchBuckets are the upper bounds of the stage batch size histogram: 1
// (a live ball) to 1024 events (a replay or a reconnect backlog).
var batchBuckets = prometheus.ExponentialBuckets(1, 2, 11)

// Metrics owns ballcast's Prometheus registry and every ballcast metric in
// it. Create it with [New]; the zero value is not usable.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	stageDuration *prometheus.HistogramVec
	stageErrors   *prometheus.CounterVec
	stageBatch    *prometheus.HistogramVec
	stageObs      sync.Map // stage name → *stageObservers

	reloads           *prometheus.CounterVec
	reloadOK          prometheus.Counter
	reloadFailed      prometheus.Counter
	lastReloadSuccess prometheus.Gauge

	ingestEvents     *prometheus.CounterVec
	ingestDuplicates *prometheus.CounterVec
	sourceObs        sync.Map // source name → *sourceObservers

	feedPublish prometheus.Histogram

	watch *watchCollector
}

// stageObservers caches one stage's children of the stage vectors, so a
// stage call costs one sync.Map load rather than three label hashes.
type stageObservers struct {
	duration prometheus.Observer
	errors   prometheus.Counter
	batch    prometheus.Observer
}

// sourceObservers caches one source's children of the ingest vectors.
type sourceObservers struct {
	events     prometheus.Counter
	duplicates prometheus.Counter
}

// New returns Metrics with every ballcast metric registered on a fresh
// registry, together with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		stageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "stage_call_duration_seconds",
			Help:      "Time taken by one call of a pipeline stage (one batch), failed calls included.",
			Buckets:   durationBuckets,
		}, []string{labelStage}),
		stageErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "stage_call_errors_total",
			Help:      "Pipeline stage calls that returned an error (crash, timeout, transport failure).",
		}, []string{labelStage}),
		stageBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "stage_batch_events",
			Help:      "Number of events handed to a pipeline stage in one call.",
			Buckets:   batchBuckets,
		}, []string{labelStage}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "pipeline_reloads_total",
			Help:      "Pipeline configuration reloads, by result (ok, failed); a failed reload keeps the old pipeline.",
		}, []string{labelResult}),
		lastReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "pipeline_last_reload_success_timestamp_seconds",
			Help:      "Unix time of the last successful pipeline reload; 0 if none has succeeded yet.",
		}),
		ingestEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "ingest_events_total",
			Help:      "Events appended to the ingest log, by source, duplicates included.",
		}, []string{labelSource}),
		ingestDuplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "ingest_duplicates_total",
			Help:      "Events the ingest log recognised as already appended, by source.",
		}, []string{labelSource}),
		feedPublish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "feed_publish_duration_seconds",
			Help:      "Time taken to publish one event to the broadcast feed.",
			Buckets:   durationBuckets,
		}),
		watch: newWatchCollector(),
	}
	// Both results are exposed from the start, so that rate() and
	// increase() see the first failure.
	m.reloadOK = m.reloads.WithLabelValues("ok")
	m.reloadFailed = m.reloads.WithLabelValues("failed")

	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.stageDuration, m.stageErrors, m.stageBatch,
		m.reloads, m.lastReloadSuccess,
		m.ingestEvents, m.ingestDuplicates,
		m.feedPublish,
		m.watch,
	)
	m.handler = promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	}))
	return m
}

// Registry returns the registry every metric is registered on, for
// registering more collectors or for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats; mount
// it at /metrics. It also counts its own scrapes
// (promhttp_metric_handler_requests_total). A collector that fails is
// reported in the response and the rest is still served.
func (m *Metrics) Handler() http.Handler { return m.handler }

// StageCall records one call of a pipeline stage: events is the batch
// size, d how long the call took and err what it returned. It satisfies
// pipeline.Observer and is called from lane goroutines.
func (m *Metrics) StageCall(stage string, events int, d time.Duration, err error) {
	o := m.stageObservers(stage)
	o.duration.Observe(d.Seconds())
	o.batch.Observe(float64(events))
	if err != nil {
		o.errors.Inc()
	}
}

func (m *Metrics) stageObservers(stage string) *stageObservers {
	if o, ok := m.stageObs.Load(stage); ok {
		return o.(*stageObservers)
	}
	o, _ := m.stageObs.LoadOrStore(stage, &stageObservers{
		duration: m.stageDuration.WithLabelValues(stage),
		errors:   m.stageErrors.WithLabelValues(stage), // exposed at 0 from the first call
		batch:    m.stageBatch.WithLabelValues(stage),
	})
	return o.(*stageObservers)
}

// Reload records one attempt to reload the pipeline configuration: err ==
// nil means the new pipeline is running, otherwise the old one was kept.
func (m *Metrics) Reload(err error) {
	if err != nil {
		m.reloadFailed.Inc()
		return
	}
	m.reloadOK.Inc()
	m.lastReloadSuccess.SetToCurrentTime()
}

// IngestAppended records one event offered to the ingest log by source
// (the provider name); duplicate reports that the log already held it.
func (m *Metrics) IngestAppended(source string, duplicate bool) {
	o := m.sourceObservers(source)
	o.events.Inc()
	if duplicate {
		o.duplicates.Inc()
	}
}

func (m *Metrics) sourceObservers(source string) *sourceObservers {
	if o, ok := m.sourceObs.Load(source); ok {
		return o.(*sourceObservers)
	}
	o, _ := m.sourceObs.LoadOrStore(source, &sourceObservers{
		events:     m.ingestEvents.WithLabelValues(source),
		duplicates: m.ingestDuplicates.WithLabelValues(source), // exposed at 0 from the first event
	})
	return o.(*sourceObservers)
}

// FeedPublished records how long publishing one event to the broadcast
// feed took.
func (m *Metrics) FeedPublished(d time.Duration) {
	m.feedPublish.Observe(d.Seconds())
}

// WatchStages makes every scrape read the pipeline's per-stage counters
// from fn. The last fn wins. The counters stay monotonic per stage name:
// the replaced fn is read one last time and its counts carried over, so the
// next fn, whose counts must start from zero (a new runner), continues each
// series. A stage that is no
// longer reported keeps its last value. fn must be cheap and must not call
// back into m; nil stops reading (the counts so far are kept).
//
// Bind fn to one runner (read r.Stats() of a given r, not "whichever runner
// is current") and, after a hot reload has drained the old runner, call
// WatchStages again with a fn bound to the new one: then nothing is lost or
// counted twice. A single fn that follows the current runner also stays
// monotonic (a drop is taken as a reset), but loses what the old runner
// counted after the last scrape, and must then never be replaced.
func (m *Metrics) WatchStages(fn func() []StageCounters) { m.watch.setStages(fn) }

// WatchPlugins makes every scrape read the plugin host's per-plugin
// counters from fn, with the same replacement and monotonic rules as
// [Metrics.WatchStages], keyed by stage and plugin name: bind fn to one
// set of plugin hosts and call WatchPlugins again after a reload.
// ballcast_plugin_up is exposed only for the plugins fn reports.
func (m *Metrics) WatchPlugins(fn func() []PluginCounters) { m.watch.setPlugins(fn) }

// WatchBacklog makes every scrape read the lane backlog (events routed into
// lanes whose results are not yet all published or dropped) from fn. The
// gauge is absent until fn is set; the last fn wins; nil removes it.
func (m *Metrics) WatchBacklog(fn func() int) { m.watch.setGauge(&m.watch.backlog, fn) }

// WatchLanes makes every scrape read the number of match lanes from fn. The
// gauge is absent until fn is set; the last fn wins; nil removes it.
func (m *Metrics) WatchLanes(fn func() int) { m.watch.setGauge(&m.watch.lanes, fn) }
