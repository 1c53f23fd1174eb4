// Package sdk is the one package a ballcast plugin author imports.
//
// A plugin is a program whose main calls Serve with a Stage:
//
//	func main() { sdk.Serve(&upper{}, nil) }
//
// ballcast starts the program as its own OS process (hashicorp/go-plugin over
// gRPC, mutual TLS), calls Configure once with the stage's YAML config, then
// sends events. Process returns zero events to drop one, one to pass or
// replace it, several to fan out; an error marks this event as failed and the
// host applies the stage's on_error policy.
//
// # State
//
// A plugin process may be killed and restarted at any time (a crash, a hung
// call, a failed health check, a host restart). State that must survive goes
// in the store the host serves, cfg.Store() in Configure:
//
//	func (s *counter) Configure(_ context.Context, cfg sdk.Config) error {
//		s.store = cfg.Store()
//		return nil
//	}
//
//	func (s *counter) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
//		v, found, err := s.store.Get(ctx, "match/"+ev.GetMatch())
//		...
//		err = s.store.Put(ctx, "match/"+ev.GetMatch(), next)
//	}
//
// Keys are the plugin's own: the host prefixes them with the stage name, so
// two stages never collide. Values may be up to a few MB; a value rewritten
// per batch is best kept small (append-only chunks, as the built-in dedup
// and stats stages do). Each call is a gRPC round trip to the host; pass the
// Process context. When the host serves no store (sdktest.Start without
// one, an older host), Store is an in-memory one, so a plugin needs no nil
// checks; it then lasts as long as the process.
//
// # Delivery
//
// Delivery is at-least-once: after a crash the host sends again the events
// after the last one it acknowledged, with the same Seq. An event with the
// ID and Seq of one already handled is such a redelivery and should get the
// same answer again (dedup passes it again, stats does not count it twice);
// the same ID with another Seq is a true duplicate. Seq 0 means unknown.
//
// # Streaming partial output
//
// A stage that produces its output gradually (commentary from a streaming
// LLM) implements StreamStage. The SDK then announces CapabilityStream in
// Describe, and the host calls ProcessStream instead of Process: every
// Delta the stage emits goes to the host at once, in the order emitted,
// and on to frontends as a provisional line that the event's final output
// replaces. emit never blocks and may be called from any goroutine until
// ProcessStream returns; later calls are dropped. Deltas are provisional:
// they are not stored, a retried batch streams again, and at most
// MaxPendingDeltas wait per call (beyond that a delta is merged into the
// same event's last queued one, or dropped).
//
// # Concurrency
//
// The host sends the events of one match in order, and the SDK calls
// Configure, Process, ProcessBatch and ProcessStream one at a time, so a
// Stage needs no locking of its own. The plugin exits when the host closes the connection
// or when the host process dies (the parent-death watchdog in Serve). The
// SDK also serves go-plugin's gRPC health service, which the host checks
// periodically; a plugin blocked for longer than the host's health timeout
// is killed and restarted.
package sdk
