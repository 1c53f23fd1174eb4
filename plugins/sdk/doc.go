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
// Concurrency: the host sends the events of one match in order, and the SDK
// calls Process (or ProcessBatch) for one batch at a time, so a Stage needs no
// locking of its own. The plugin exits when the host closes the connection or
// when the host process dies.
package sdk
