// Package stats is ballcast's scorecard stage: it keeps a live scorecard per
// match, updated on every ball, and attaches the whole current scorecard and
// the situation (phase, chase pressure, momentum, milestones reached and
// near, hat-trick, records within the match, over, innings and match
// summaries: see README.md) to every event it passes on.
//
// The rules are Cricsheet's (shared/data/cricsheet/SOURCES.md, "Deriving the
// scorecard"): wides are not balls faced but no-balls are; byes, leg-byes and
// penalty runs are not charged to the bowler; only bowled, caught, caught and
// bowled, lbw, stumped and hit wicket are credited to him; retired hurt and
// retired not out are not wickets, and a retired batter who comes back is not
// out again; a maiden is an over bowled wholly by one bowler, with exactly one
// over's worth of legal balls and nothing charged to him, decided when the
// over ends (its over event, the first ball of a later over, or the end of
// the innings).
//
// Delivery: every stage must be idempotent. An event with the ID and
// non-zero Seq of one already applied is a redelivery of the same ingest log
// entry: it is not applied again and is passed on with the current
// scorecard. A ball whose event ID or ball key (innings, over, ball, sub)
// was already applied is passed on unchanged with the current scorecard. A
// ball with a higher revision than the stored one for its key is a
// correction: it replaces the stored ball and the innings is recomputed from
// its stored balls.
//
// State: each match's applied events, stripped to what scoring reads, are
// appended to a log in the host's state store (sdk.Config.Store) after
// every batch, in chunks of 64 events. A restarted plugin reads a match's
// log the first time it sees the match and applies the events again through
// the same code, so it resumes with exactly the scorecard the old process
// had.
//
// Concurrency: Process may be called from any goroutine; calls are serialised
// by a mutex (the SDK already sends one batch at a time). Process blocks on
// the store (a gRPC call to the host) when it first sees a match and once
// per batch to append; it takes the Process context. State also lives in
// memory for the life of the process, about 100 bytes per delivery, so a
// five-day Test costs well under 1 MB.
package stats
