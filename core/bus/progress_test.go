package bus

import (
	"testing"

	"github.com/ballcast/ballcast/internal/polltest"
)

func TestLastID(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	if id, ok, err := b.LastID(t.Context(), "m a"); err != nil || ok || id != "" {
		t.Fatalf("LastID of an empty log = %q, %v, %v; want none", id, ok, err)
	}
	appendAll(t, b, ball("m a", 1), ball("other", 1), ball("m a", 2))
	if id, ok, err := b.LastID(t.Context(), "m a"); err != nil || !ok || id != "m a/2" {
		t.Fatalf("LastID = %q, %v, %v; want m a/2", id, ok, err)
	}
}

func TestIngestPending(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	pending := func() uint64 {
		t.Helper()
		n, err := b.IngestPending(t.Context())
		if err != nil {
			t.Fatalf("IngestPending: %v", err)
		}
		return n
	}
	appendAll(t, b, ball("m", 1), ball("m", 2), ball("m", 3))
	if n := pending(); n != 3 {
		t.Fatalf("pending without a consumer = %d, want 3", n)
	}
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d1, d2 := recv(t, ch), recv(t, ch)
	if n := pending(); n != 3 {
		t.Fatalf("pending with two unacked deliveries = %d, want 3", n)
	}
	d1.Ack()
	d2.Ack()
	recv(t, ch).Ack()
	polltest.Within(t, wait, "pending 0", func() bool { return pending() == 0 })
}

// TestAckConcurrent: Ack from several goroutines at once, on copies of one
// Delivery, acknowledges once (run with -race).
func TestAckConcurrent(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	appendAll(t, b, ball("m", 1))
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d := recv(t, ch)
	done := make(chan struct{})
	for range 4 {
		go func(d Delivery) { d.Ack(); done <- struct{}{} }(d)
	}
	for range 4 {
		recv(t, done)
	}
	polltest.Within(t, wait, "ack floor 1", func() bool { return ackFloor(t, b) == 1 })
	Delivery{}.Ack() // the zero Delivery is inert
}
