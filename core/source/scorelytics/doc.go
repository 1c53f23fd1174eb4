// Package scorelytics is the only place in ballcast that knows the
// Scorelytics wire format: the REST match snapshot and the WebSocket
// messages {type, match_id, data} of /v1/ws/match/{id} and /v1/ws/live
// (PROVIDERS.md §4, docs/providers/scorelytics.md).
//
// It holds the wire types and frame parser (wire.go), a Tracker that
// applies one match's snapshots and deltas and returns the ballcast events
// for what changed (tracker.go), the Source that runs the documented
// client lifecycle (source.go), and a Generator that turns a Cricsheet
// match into the snapshots and deltas a live feed would serve, for the
// simulator (scorelyticssim) and tests (gen.go).
//
// Scorelytics documents football and basketball only. The cricket shape
// (innings as period, batting side, wickets, legal balls, and an optional
// ball-by-ball field in score_update and the snapshot) is ballcast's
// inference, marked [INF] where it is declared; ball events come only from
// that field, never from totals alone.
//
// Concurrency: ParseFrame and ParseSnapshot are safe for concurrent use. A
// Tracker belongs to one goroutine. Source.Run owns every goroutine it
// starts (one per connection, plus a watchdog each) and waits for them; a
// match's events are sent to out in order by the goroutine of its
// connection, which also answers pings, so a blocked out delays the pongs
// (after two unanswered pings the server closes the connection and the
// source reconnects, losing nothing). Stats is safe from any goroutine.
package scorelytics
