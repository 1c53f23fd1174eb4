// Package broadcast serves ballcast's live stream to frontends: a WebSocket
// protocol (docs/protocol.md), REST snapshot and history endpoints, and an
// embedded live page.
//
// A Hub receives events through Publish (it satisfies pipeline.Sink, without
// importing pipeline), numbers each match's events 1, 2, 3... in the order
// published, drops event IDs it has already published for that match, and
// fans each event out to the match's subscribers. It keeps, per match, a
// snapshot (match info, latest scorecard, state, recent commentary) and the
// last Config.History encoded events for resume.
//
// # Concurrency contract
//
//   - One goroutine, Run, owns all per-match state and every subscription.
//     Publish, the WebSocket read loops and the REST handlers talk to it
//     over one command channel, so requests from one goroutine are handled
//     in order: an event published before a GET is visible to that GET.
//   - Publish may be called from any goroutine; events of one match must be
//     published in order. Publish encodes the event in the caller's
//     goroutine and waits only for room in the command channel (1024 deep);
//     it never waits for a client. It blocks until Run is started.
//   - Each event frame is encoded once; every subscriber's queue holds the
//     same bytes. Each connection has one writer goroutine draining a
//     bounded queue (Config.QueueSize frames) and one reader (the HTTP
//     handler goroutine). The hub never blocks on a queue: when a client's
//     queue is full it is unsubscribed and closed with code 4008 "slow
//     consumer"; it may reconnect and resume from the last seq it received.
//   - A subscribe is answered in one step of the hub goroutine: the snapshot
//     (or, for a resume, the missed events) is queued and the client joins
//     the match's subscribers, so no event is lost or duplicated between
//     snapshot and stream.
//   - When Run's context ends, every connection is closed with 1001 and Run
//     returns once their goroutines are done. The Hub cannot be restarted.
package broadcast
