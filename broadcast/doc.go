// Package broadcast serves ballcast's live stream to frontends: a WebSocket
// protocol (docs/protocol.md), a single-match WebSocket and Server-Sent
// Events for clients that follow one match, REST snapshot and history
// endpoints, and an embedded live page.
//
// A Hub receives events through Publish (it satisfies pipeline.Sink, without
// importing pipeline), numbers each match's events 1, 2, 3... in the order
// published, drops event IDs it has already published for that match, and
// fans each event out to the match's subscribers. It keeps, per match, a
// snapshot (match info, latest scorecard, state, recent commentary) and the
// last Config.History encoded events for resume. Every seq belongs to the
// hub's epoch (SetEpoch): a resume names both, and one the hub cannot
// honour is answered with a reset frame and a fresh snapshot.
//
// Authentication and limits are not here: the integrator passes a Guard
// (SetGuard) that admits each connection and request and says which matches
// it may follow. Stats exposes counters for metrics.
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
//     same bytes. Each WebSocket has one writer goroutine draining a
//     bounded queue (Config.QueueSize frames) and one reader (the HTTP
//     handler goroutine); an SSE response's handler goroutine is its
//     writer. A writer takes everything queued at once and writes it with
//     one flush (WebSocket: the TCP connection is corked for the batch).
//     The hub never blocks on a queue: when a client's queue is full it is
//     unsubscribed and closed (WebSocket code 4008 "slow consumer", SSE:
//     the response ends); it may reconnect and resume from the last seq it
//     received. In a latest-value subscription an unsent event frame is
//     replaced by the next one of the same match instead of queueing both.
//   - PublishDelta (streaming commentary) never blocks: it encodes the
//     delta frame in the caller's goroutine and offers it to the command
//     channel without waiting, dropping it when the channel is full. The
//     hub goroutine drops a delta whose event it has already published,
//     and queues it only for clients whose queue is less than half full,
//     so deltas never cost a client its connection. Deltas have no seq
//     and are never stored in history or snapshots.
//   - Guard.Admit runs on the HTTP handler goroutine before anything else;
//     Ticket.Allowed runs there (REST, single-match endpoints) or on the
//     connection's read goroutine (subscribe); Ticket.Release runs once,
//     when the connection has closed and left the hub, or when the REST
//     response is written. SetGuard and SetEpoch must be called before Run
//     and before serving.
//   - A subscribe is answered in one step of the hub goroutine: the snapshot
//     (or, for a resume, the missed events) is queued and the client joins
//     the match's subscribers, so no event is lost or duplicated between
//     snapshot and stream.
//   - When Run's context ends, every connection is closed with 1001 and Run
//     returns once their goroutines are done. The Hub cannot be restarted.
package broadcast
