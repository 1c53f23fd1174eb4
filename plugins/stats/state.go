package stats

import (
	"context"
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// chunkSize is how many entries one stored value holds. A batch rewrites
// only the last, partly filled chunk, so a store write costs the same early
// and late in a five-day Test.
const chunkSize = 64

// eventLog is a match's append-only log of entries in the store: values
// "<key>/0", "<key>/1", ..., each a pb.Batch of up to chunkSize events.
// stats logs each applied event stripped to what scoring reads, about 100
// bytes a ball.
type eventLog struct {
	key     string
	chunk   int      // number of the last, partly filled chunk
	buf     []byte   // its stored bytes
	n       int      // its entries
	pending [][]byte // encoded entries not yet stored
}

func (l *eventLog) chunkKey(i int) string { return l.key + "/" + strconv.Itoa(i) }

// append queues ev for the next flush.
func (l *eventLog) append(ev *pb.Event) {
	b, err := proto.Marshal(ev)
	if err != nil {
		panic(err) // a valid message always marshals
	}
	l.pending = append(l.pending, b)
}

// flush stores the pending entries, chunk by chunk in order, so a failure
// leaves a prefix of them stored and the rest pending.
func (l *eventLog) flush(ctx context.Context, st sdk.Store) error {
	for len(l.pending) > 0 {
		take := min(len(l.pending), chunkSize-l.n)
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
		if l.n == chunkSize {
			l.chunk, l.buf, l.n = l.chunk+1, nil, 0
		}
	}
	l.pending = nil
	return nil
}

// load reads the stored log and calls fn for every entry, oldest first.
func (l *eventLog) load(ctx context.Context, st sdk.Store, fn func(*pb.Event)) error {
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
		if len(b.GetEvents()) > chunkSize {
			return fmt.Errorf("decode %s: %d entries, at most %d fit", l.chunkKey(i), len(b.GetEvents()), chunkSize)
		}
		for _, ev := range b.GetEvents() {
			fn(ev)
		}
		l.chunk, l.buf, l.n = i, v, len(b.GetEvents())
		if l.n == chunkSize {
			l.chunk, l.buf, l.n = i+1, nil, 0
		}
	}
}
