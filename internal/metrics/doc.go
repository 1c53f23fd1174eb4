// Package metrics exposes ballcast's Prometheus metrics and its liveness
// and readiness endpoints.
//
// [Metrics] owns its own prometheus.Registry (never the global default),
// with the Go runtime and process collectors, and serves it with
// [Metrics.Handler]. Three kinds of input feed it:
//
//   - Events pushed by the code that sees them: [Metrics.StageCall] (it
//     satisfies pipeline.Observer), [Metrics.Reload],
//     [Metrics.IngestAppended] and [Metrics.FeedPublished].
//   - Counters kept elsewhere (the runner's per-stage counts, the plugin
//     host's restarts), read through callbacks at scrape time:
//     [Metrics.WatchStages], [Metrics.WatchPlugins], [Metrics.WatchBacklog],
//     [Metrics.WatchLanes]. Nothing is copied or polled between scrapes,
//     so nothing is counted twice.
//   - Nothing else: the package starts no goroutines.
//
// Counters read through callbacks stay monotonic when the pipeline is
// reloaded. Replacing a callback reads the old one a last time and keeps
// what it reported as a base offset per stage (and plugin), so a new runner
// whose counts start from zero continues the series rather than resetting
// it. A callback whose value goes down without being replaced is treated
// as a counter reset the same way.
//
// [Health] tracks named readiness checks and serves /healthz (liveness) and
// /readyz (readiness, naming every check that is not ready and why).
//
// # Concurrency
//
// Every method of Metrics and Health is safe for concurrent use. The
// push methods are cheap (a map lookup and an atomic add after a
// stage, source or result is first seen) and never block on a scrape.
// Callbacks passed to the Watch methods are called from the scraping
// goroutine, one scrape at a time; they must be cheap, must not block and
// must not call back into Metrics. Health check functions run in their own
// goroutine, must honour their context, and are evaluated at most once at a
// time per check: concurrent /readyz requests share an evaluation in
// flight.
package metrics
