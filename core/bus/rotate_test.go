package bus

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRotateAfterInterruptedRotation: a crash between creating the next
// consumer generation and deleting the old one leaves two; the highest ack
// floor among them wins, foreign consumers are left alone.
func TestRotateAfterInterruptedRotation(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir(), AckWait: time.Hour})
	appendAll(t, b, ball("m", 1), ball("m", 2), ball("m", 3), ball("m", 4))
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := b.ConsumeIngest(ctx)
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	recv(t, ch).Ack()
	recv(t, ch).Ack()
	polltest.Within(t, wait, "ack floor 2", func() bool { return ackFloor(t, b) == 2 })
	cancel()
	waitClosed(t, ch)

	// The interrupted rotation: generation 2 starts at 3 and acks 3.
	next, err := b.ingest.CreateConsumer(t.Context(), jetstream.ConsumerConfig{
		Durable: "pipeline-2", DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: 3,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := next.Fetch(1)
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		if err := m.DoubleAck(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.ingest.CreateConsumer(t.Context(), jetstream.ConsumerConfig{Durable: "audit", AckPolicy: jetstream.AckNonePolicy}); err != nil {
		t.Fatal(err)
	}

	ch, err = b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	if d := recv(t, ch); d.Event.Seq != 4 {
		t.Fatalf("resumed at seq %d, want 4 (floor 3 of generation 2)", d.Event.Seq)
	}
	var names []string
	for n := range b.ingest.ConsumerNames(t.Context()).Name() {
		names = append(names, n)
	}
	if got := strings.Join(slices.Sorted(slices.Values(names)), ","); got != "audit,pipeline-3" {
		t.Fatalf("consumers %s, want audit,pipeline-3", got)
	}
}

// TestConsumeIngestTakeover: a second ConsumeIngest replaces the first,
// whose channel closes.
func TestConsumeIngestTakeover(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	appendAll(t, b, ball("m", 1))
	first, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	recv(t, first) // not acked
	second, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	waitClosed(t, first)
	if d := recv(t, second); d.Event.Seq != 1 {
		t.Fatalf("takeover delivered seq %d, want 1", d.Event.Seq)
	}
}

// TestNoGoroutineLeak: Close ends every goroutine the bus and its
// embedded server started.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	b := open(t, Config{DataDir: t.TempDir()})
	appendAll(t, b, ball("m", 1))
	if _, err := b.ConsumeIngest(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ConsumeFeed(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	polltest.Within(t, wait, "goroutines back to the start", func() bool { return runtime.NumGoroutine() <= before })
}

// TestCloseUnblocksIdleReaders: Close ends the consumers even when nobody
// reads their channels and ctx is never cancelled.
func TestCloseUnblocksIdleReaders(t *testing.T) {
	before := runtime.NumGoroutine()
	b := open(t, Config{DataDir: t.TempDir()})
	for i := uint64(1); i <= deliveryBuffer+5; i++ {
		appendAll(t, b, ball("m", i))
	}
	for i := uint64(1); i <= feedBuffer+5; i++ {
		if err := b.PublishFeed(t.Context(), ball("m", i)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background() // never cancelled
	ingest, err := b.ConsumeIngest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := b.ConsumeFeed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Both loops now block sending to a full channel.
	polltest.Within(t, wait, "channels full", func() bool { return len(ingest) == cap(ingest) && len(feed) == cap(feed) })
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	polltest.Within(t, wait, "goroutines back to the start", func() bool { return runtime.NumGoroutine() <= before })
}

func TestDataDirLocked(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{DataDir: dir})
	_, err := Open(t.Context(), Config{DataDir: dir}, testLog(t))
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open on one data dir: got %v, want an 'in use' error", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	open(t, Config{DataDir: dir}) // free again
}
