// Package eventlog is the per-match state the built-in stateful plugins
// (dedup, stats) keep in the host's store: an append-only log of events in
// chunks, replayed through the plugin's own code after a restart, so the
// restored state equals the old one by construction. It is internal to the
// built-in plugins; third-party plugins use sdk.Store directly.
package eventlog

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// Log is a match's append-only log of entries in the store: values
// "<key>/0", "<key>/1", ..., each a pb.Batch of up to chunkSize events. A
// batch rewrites only the last, partly filled chunk, so a store write costs
// the same early and late in a five-day Test. A Log is used by one
// goroutine.
type Log struct {
	key       string
	chunkSize int
	chunk     int      // number of the last, partly filled chunk
	buf       []byte   // its stored bytes
	n         int      // its entries
	pending   [][]byte // encoded entries not yet stored
}

// New returns the log stored under key, holding chunkSize entries a value:
// bigger chunks mean fewer reads at load and bigger writes per batch.
func New(key string, chunkSize int) Log {
	return Log{key: key, chunkSize: max(chunkSize, 1)}
}

// Pending reports whether entries wait for Flush.
func (l *Log) Pending() bool { return len(l.pending) > 0 }

func (l *Log) chunkKey(i int) string { return l.key + "/" + strconv.Itoa(i) }

// Append queues ev for the next Flush.
func (l *Log) Append(ev *pb.Event) {
	b, err := proto.Marshal(ev)
	if err != nil {
		panic(err) // a valid message always marshals
	}
	l.pending = append(l.pending, b)
}

// Flush stores the pending entries, chunk by chunk in order, so a failure
// leaves a prefix of them stored and the rest pending.
func (l *Log) Flush(ctx context.Context, st sdk.Store) error {
	for len(l.pending) > 0 {
		take := min(len(l.pending), l.chunkSize-l.n)
		buf := l.buf
		for _, b := range l.pending[:take] {
			buf = protowire.AppendTag(buf, 2, protowire.BytesType) // pb.Batch.events
			buf = protowire.AppendBytes(buf, b)
		}
		if err := st.Put(ctx, l.chunkKey(l.chunk), buf); err != nil {
			return err
		}
		l.pending = l.pending[take:]
		l.buf, l.n = buf, l.n+take
		if l.n == l.chunkSize {
			l.chunk, l.buf, l.n = l.chunk+1, nil, 0
		}
	}
	l.pending = nil
	return nil
}

// Load reads the stored log and calls fn for every entry, oldest first.
func (l *Log) Load(ctx context.Context, st sdk.Store, fn func(*pb.Event)) error {
	for i := 0; ; i++ {
		v, found, err := st.Get(ctx, l.chunkKey(i))
		if err != nil {
			return err
		}
		if !found {
			return nil
		}
		var b pb.Batch
		if err := proto.Unmarshal(v, &b); err != nil {
			return fmt.Errorf("decode %s: %w", l.chunkKey(i), err)
		}
		if len(b.GetEvents()) > l.chunkSize {
			return fmt.Errorf("decode %s: %d entries, at most %d fit", l.chunkKey(i), len(b.GetEvents()), l.chunkSize)
		}
		for _, ev := range b.GetEvents() {
			fn(ev)
		}
		l.chunk, l.buf, l.n = i, v, len(b.GetEvents())
		if l.n == l.chunkSize {
			l.chunk, l.buf, l.n = i+1, nil, 0
		}
	}
}
