// Package roanuz is the only place in ballcast that knows the Roanuz Cricket
// API v5 wire format.
//
// It holds the wire types (wire.go), a decoder that accepts every encoding an
// `on_match_update` payload may arrive in (decode.go), a Normalizer that turns
// successive match documents into ordered, de-duplicated ballcast events and
// backfills gaps from the REST ball-by-ball endpoint (normalize.go), and a
// Generator that turns a Cricsheet match into the documents a live Roanuz
// feed would push, for the simulator and tests (gen.go).
//
// Concurrency: DecodeUpdate and Encode are safe for concurrent use. A
// Normalizer belongs to one goroutine (one per match) and is not safe for
// concurrent use; its Backfiller is called synchronously from Normalize, so a
// slow backfill blocks that match only. A Generator is likewise owned by one
// goroutine.
//
// Evidence: PROVIDERS.md §1 and the real excerpt in
// shared/data/providers/roanuz. Where the evidence is silent the choices are
// documented where they are made (ball_type spellings, the optional per-ball
// extras split, super-over innings keys, 0-based over numbers in over keys).
package roanuz
