package sdk

import (
	"context"
	"encoding/json"
	"fmt"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Event is the wire form of a normalized ballcast event. Kinds are the
// strings "ball", "over", "innings", "status", "score", "milestone" and
// "commentary"; the payload field of that kind is set.
type Event = pb.Event

// Stage is the per-event plugin interface.
type Stage interface {
	// Configure receives the stage's config before any event. It is called
	// again after a restart.
	Configure(ctx context.Context, cfg Config) error
	// Process handles one event: zero results drop it, one passes or
	// replaces it, several fan out.
	Process(ctx context.Context, ev *Event) ([]*Event, error)
}

// BatchStage is implemented by stages that want whole batches, for example
// to make one request for many events. results[i] are the outputs of
// batch[i]; errs, if not nil, has one entry per input.
type BatchStage interface {
	Stage
	ProcessBatch(ctx context.Context, batch []*Event) (results [][]*Event, errs []error)
}

// ConcurrentStage is implemented by stages whose Process, ProcessBatch and
// ProcessStream may run concurrently for different matches; the host never
// has two batches of one match in flight. When ConcurrentMatches reports
// true, the server handles the batches of different matches at the same
// time instead of one after another, so a slow call for one match (a
// language model writing a line) does not hold back the others. Configure
// still runs alone.
type ConcurrentStage interface {
	Stage
	ConcurrentMatches() bool
}

// Describer is implemented by stages that describe themselves; ballcast
// shows this at install time and validates stage config against the schema.
type Describer interface {
	Describe() Description
}

// Description tells the host what a plugin is.
type Description struct {
	Name         string
	Version      string
	Description  string
	ConfigSchema string // JSON Schema of the config, optional
	// Capabilities are what the plugin does beyond Process, e.g.
	// CapabilityStream. The SDK adds CapabilityStream itself for a
	// StreamStage.
	Capabilities []string
}

// CapabilityStream says a plugin serves ProcessStream (it is a
// StreamStage): the host then sends it batches through ProcessStream and
// forwards its deltas. A host that does not know it, or a plugin without
// it, uses the plain Process path.
const CapabilityStream = "stream"

// Streams reports whether d lists CapabilityStream.
func (d Description) Streams() bool {
	for _, c := range d.Capabilities {
		if c == CapabilityStream {
			return true
		}
	}
	return false
}

// Config is a stage's YAML config subtree and the state store the host
// offers it.
type Config struct {
	// StageName is the stage's name in the pipeline YAML.
	StageName string
	raw       []byte
	store     Store
}

// NewConfig builds a Config from JSON with a fresh in-memory store; tests
// and in-process users use it to configure stages.
func NewConfig(stage string, raw []byte) Config {
	return Config{StageName: stage, raw: raw, store: NewMemStore()}
}

// WithStore returns a copy of c whose Store is st, for example to hand a
// new stage instance the store an earlier one wrote to.
func (c Config) WithStore(st Store) Config {
	c.store = st
	return c
}

// Store is where the stage keeps state that must survive a restart of the
// plugin process: the store the host serves, or an in-memory one when the
// host serves none, so it is never nil. A zero Config, not made by NewConfig
// or the SDK, gets a new empty in-memory store on every call.
func (c Config) Store() Store {
	if c.store == nil {
		return NewMemStore()
	}
	return c.store
}

// Decode unmarshals the config into v. Unknown fields are an error, so an
// operator's typo is reported rather than ignored. An empty config leaves v
// untouched.
func (c Config) Decode(v any) error {
	if len(c.raw) == 0 || string(c.raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytesReader(c.raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("sdk: stage %s config: %w", c.StageName, err)
	}
	return nil
}

// Raw returns the config as JSON.
func (c Config) Raw() []byte { return c.raw }
