// Package sportrix is the only place in ballcast that knows the Sportrix
// Data WebSocket stream (wss://scores.sportrixdata.com/v1/stream).
//
// It holds the wire types and the frame parser (wire.go), a Tracker per
// match that turns successive full snapshots into ordered, de-duplicated
// ballcast events (cricket.go: balls derived by diffing consecutive states;
// soccer.go: score and status pass-through), the Source that keeps one
// WebSocket connection per API key and multiplexes every configured match
// on it (source.go), and a Generator that turns a Cricsheet match into the
// snapshots a live Sportrix feed would push, for the simulator and tests
// (gen.go).
//
// Concurrency: ParseFrame is safe for concurrent use. A Tracker is not: the
// Source owns one per match on its single reader goroutine. Run owns every
// goroutine it starts (the reader, a keepalive watchdog, resubscribe
// timers) and waits for them; Stats is safe from any goroutine.
//
// Evidence: PROVIDERS.md §2 (the documented protocol: auth, subscribe,
// snapshot/update/error frames, 30 s pings, the soccer snapshot and the
// confirmed cricket fields batting, score.runs/wickets/overs and
// last_event.label). The rest of the cricket snapshot (the over ticker,
// batsmen, bowler and scorecard sub-fields) is not published; the shape
// used here is documented in docs/providers/sportrix.md and kept to
// plain, optional fields so a differing real feed degrades to gaps that
// are counted, not to wrong balls.
package sportrix
