package bus_test

import (
	"context"
	"os"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/bus"
	"github.com/ballcast/ballcast/core/event"
)

// The whole path through the bus on one node: a source appends, the
// pipeline consumes, publishes its result to the feed and only then
// acknowledges, and the broadcast hub reads the feed.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dir, _ := os.MkdirTemp("", "ballcast-bus-example")
	defer os.RemoveAll(dir)

	b, err := bus.Open(ctx, bus.Config{DataDir: dir}, zerolog.Nop())
	if err != nil {
		panic(err)
	}
	defer b.Close()

	// Source side (core/ingest): number the match's events after the log.
	last, _ := b.LastSeq(ctx, "eng-v-aus-1")
	ev := event.Event{ID: "eng-v-aus-1/1.0.1", Match: "eng-v-aus-1", Seq: last + 1, Kind: event.KindBall}
	if dup, err := b.Append(ctx, ev); err != nil || dup {
		panic(err)
	}

	// Pipeline side.
	in, _ := b.ConsumeIngest(ctx)
	feed, _ := b.ConsumeFeed(ctx)
	d := <-in
	out := d.Event // the stages' result
	if err := b.PublishFeed(ctx, out); err != nil {
		panic(err)
	}
	d.Ack()

	// Broadcast side.
	got := <-feed
	_ = got

	// Plugin state.
	_ = b.State().Put(ctx, "stats/eng-v-aus-1", []byte(`{"runs":4}`))
	// Output:
}
