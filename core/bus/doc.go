// Package bus is ballcast's durable backbone on NATS JetStream: the ingest
// log that sources append to, the feed stream the pipeline publishes to and
// the broadcast hubs rebuild from, and the key-value bucket plugins keep
// their per-match state in.
//
// By default Open starts an embedded NATS server with JetStream, storing in
// Config.DataDir, and connects to it in-process (Config.Listen also opens it
// to other nodes); Config.URL points ballcast at an external cluster
// instead. Either way a restart with the same store
// resumes where the previous process stopped.
//
// Objects (prefix "" shown; a Prefix p gives p_BALLCAST_INGEST, p.ingest.*,
// and so on):
//
//	stream BALLCAST_INGEST  subjects ingest.<match>   dedup by event ID, max age Retention
//	  consumer pipeline-<n> durable pull, explicit ack (see ConsumeIngest)
//	stream BALLCAST_FEED    subjects feed.<match>     dedup by event ID, max age Retention
//	bucket BALLCAST_STATE   plugin state, latest value only, values up to 8 MiB
//
// <match> and state keys are encoded as one subject token: as they are when
// made of [A-Za-z0-9_-], else "=" and their unpadded base64url bytes.
//
// Concurrency: every Bus and KV method is safe for concurrent use and takes
// a context that bounds its wait for the server. ConsumeIngest and
// ConsumeFeed each start one goroutine that owns the consumer and closes
// the returned channel when ctx is done or the connection closes (Close);
// a reader that stops reading must cancel ctx or Close the Bus. Delivery.Ack
// may be called from any goroutine. An embedded store is locked to one
// process at a time.
package bus
