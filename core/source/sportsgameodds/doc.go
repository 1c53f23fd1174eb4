// Package sportsgameodds is the only place in ballcast that knows the
// SportsGameOdds v2 streaming API: GET /v2/stream/events returns a snapshot
// of the feed's events plus Pusher connection details; the Pusher channel
// then carries "data" notifications naming changed eventIDs, whose full
// objects are fetched from GET /v2/events?eventIDs=... (PROVIDERS.md §3).
//
// The Source follows one feed (events:live, events:upcoming for a league,
// or events:byid for one event) and turns each event's state into
// ballcast events with IDs derived from the state itself (Implied), so a
// state seen twice, by a duplicate notification, a resync after a
// reconnect or a restart of ballcast, yields the same IDs and is emitted
// once. Cricket results are read per innings period ("1i", "2i", ...): the
// batting side's points (runs), wickets and balls; SportsGameOdds
// documents no ball-by-ball data, so the source emits score, innings and
// status events only, never balls it would have to invent.
//
// Concurrency: Run owns every goroutine it starts. The Pusher client's
// handler only records what changed (a pending set under a mutex) and wakes
// the Run goroutine, which does every REST fetch and sends every event, in
// order, to out. Stats is safe from any goroutine.
package sportsgameodds
