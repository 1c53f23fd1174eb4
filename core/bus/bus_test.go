package bus

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/internal/polltest"
)

// TestIngestResume is the life of the ingest log across a restart: appends
// of two matches, a duplicate, LastSeq, in-order delivery, acks out of
// order across matches, then a new process on the same store that resumes
// right after the ack floor without waiting for AckWait.
func TestIngestResume(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, AckWait: time.Hour}
	b := open(t, cfg)

	// Log order (stream seq 1..8): a1 b1 a2 b2 a3 b3 a4 a5.
	// "m a" is not a plain token, so the encoded subject form is exercised.
	a, m2 := "m a", "m2"
	appendAll(t, b, ball(a, 1), ball(m2, 1), ball(a, 2), ball(m2, 2), ball(a, 3), ball(m2, 3), ball(a, 4), ball(a, 5))
	dup, err := b.Append(t.Context(), ball(a, 2))
	if err != nil || !dup {
		t.Fatalf("Append duplicate: got dup=%v err=%v, want dup=true", dup, err)
	}
	for match, want := range map[string]uint64{a: 5, m2: 3, "none": 0} {
		if got, err := b.LastSeq(t.Context(), match); err != nil || got != want {
			t.Fatalf("LastSeq(%q) = %d, %v; want %d", match, got, err, want)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	ch, err := b.ConsumeIngest(ctx)
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	var got []Delivery
	for range 8 {
		got = append(got, recv(t, ch))
	}
	wantIDs := []string{"m a/1", "m2/1", "m a/2", "m2/2", "m a/3", "m2/3", "m a/4", "m a/5"}
	if g := deliveryIDs(got); !slices.Equal(g, wantIDs) {
		t.Fatalf("delivered %v, want %v", g, wantIDs)
	}
	if got[0].Event.Ball == nil || got[0].Event.Match != a || got[0].StreamSeq != 1 {
		t.Fatalf("first delivery %+v: want the full event of %q at stream seq 1", got[0], a)
	}
	// m2 first, then "m a": out of order across matches, in order within
	// each; Ack twice is harmless. m a/5 is acked above the floor, m a/4 never.
	for _, i := range []int{1, 3, 5, 0, 2, 4, 7, 7} {
		got[i].Ack()
	}
	polltest.Within(t, wait, "ack floor 6", func() bool { return ackFloor(t, b) == 6 })
	cancel()
	waitClosed(t, ch)
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// A new process on the same store.
	b = open(t, cfg)
	if got, err := b.LastSeq(t.Context(), a); err != nil || got != 5 {
		t.Fatalf("LastSeq after reopen = %d, %v; want 5", got, err)
	}
	// A few seconds, far below AckWait (1h): the unacked entry must come now.
	ctx, cancel = context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	ch, err = b.ConsumeIngest(ctx)
	if err != nil {
		t.Fatalf("ConsumeIngest after reopen: %v", err)
	}
	d4, d5 := recv(t, ch), recv(t, ch)
	if d4.Event.ID != "m a/4" || d5.Event.ID != "m a/5" {
		t.Fatalf("resumed with %s, %s; want m a/4, m a/5 (right after the ack floor)", d4.Event.ID, d5.Event.ID)
	}
	appendAll(t, b, ball(m2, 4))
	if d := recv(t, ch); d.Event.ID != "m2/4" || d.StreamSeq != 9 {
		t.Fatalf("live delivery %s at %d, want m2/4 at 9", d.Event.ID, d.StreamSeq)
	}
	d4.Ack()
	d5.Ack()
	polltest.Within(t, wait, "ack floor 8", func() bool { return ackFloor(t, b) == 8 })
	if n := consumerCount(t, b); n != 1 {
		t.Fatalf("%d pipeline consumers, want 1 (old generation deleted)", n)
	}
}

// TestIngestRedeliveryFiltered lets AckWait expire inside one process: the
// server redelivers, the bus must not hand the entry out again.
func TestIngestRedeliveryFiltered(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir(), AckWait: time.Second})
	appendAll(t, b, ball("m", 1), ball("m", 2))
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	d1, d2 := recv(t, ch), recv(t, ch)
	d2.Ack() // acked; d1 stays in flight past AckWait
	polltest.Within(t, wait, "server redelivery", func() bool {
		info, err := b.ingest.Consumer(t.Context(), consumerName(t, b))
		return err == nil && info.CachedInfo().NumRedelivered > 0
	})
	appendAll(t, b, ball("m", 3))
	if d := recv(t, ch); d.Event.ID != "m/3" {
		t.Fatalf("after a redelivery got %s, want m/3: an entry was handed out twice", d.Event.ID)
	}
	d1.Ack()
	polltest.Within(t, wait, "ack floor 2", func() bool { return ackFloor(t, b) >= 2 })
}

// TestIngestOutOfOrderDropped: an entry whose Seq does not advance its
// match (a misbehaving second writer) is dropped and acknowledged; Seq 1
// starts a new numbering.
func TestIngestOutOfOrderDropped(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	stale := ball("m", 2)
	stale.ID = "m/2-again"
	// After m/3, numbering restarts at 1 (the match's entries expired).
	restart1, restart2 := ball("m", 1), ball("m", 2)
	restart1.ID, restart2.ID = "m/1-new", "m/2-new"
	appendAll(t, b, ball("m", 1), ball("m", 2), stale, ball("m", 3), restart1, restart2)
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	var got []string
	for range 5 {
		d := recv(t, ch)
		d.Ack()
		got = append(got, d.Event.ID)
	}
	if want := []string{"m/1", "m/2", "m/3", "m/1-new", "m/2-new"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	polltest.Within(t, wait, "ack floor 6", func() bool { return ackFloor(t, b) == 6 })
}

func TestAppendRejectsEventWithoutID(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	ev := ball("m", 1)
	ev.ID = ""
	if _, err := b.Append(t.Context(), ev); !errors.Is(err, ErrNoID) {
		t.Fatalf("Append without ID: got %v, want ErrNoID", err)
	}
	if err := b.PublishFeed(t.Context(), ev); !errors.Is(err, ErrNoID) {
		t.Fatalf("PublishFeed without ID: got %v, want ErrNoID", err)
	}
}

func TestFeed(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{DataDir: dir})
	pub := func(b *Bus, evs ...event.Event) {
		t.Helper()
		for _, ev := range evs {
			if err := b.PublishFeed(t.Context(), ev); err != nil {
				t.Fatalf("PublishFeed %s: %v", ev.ID, err)
			}
		}
	}
	c := ball("m1", 2)
	c.Commentary = &event.Commentary{Text: "Four! Driven through the covers."}
	pub(b, ball("m1", 1), ball("m1", 1), ball("m.2", 1), c, ball("m.2", 1))
	info, err := b.feed.Info(t.Context())
	if err != nil || info.State.Msgs != 3 {
		t.Fatalf("feed stream holds %v entries (err %v), want 3: duplicates must be dropped", info.State.Msgs, err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = open(t, Config{DataDir: dir})
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := b.ConsumeFeed(ctx)
	if err != nil {
		t.Fatalf("ConsumeFeed: %v", err)
	}
	var got []event.Event
	for range 3 {
		got = append(got, recv(t, ch))
	}
	if want := []string{"m1/1", "m.2/1", "m1/2"}; !slices.Equal(ids(got), want) {
		t.Fatalf("history %v, want %v", ids(got), want)
	}
	if got[2].Commentary == nil || got[2].Commentary.Text != c.Commentary.Text {
		t.Fatalf("history lost the commentary: %+v", got[2])
	}
	pub(b, ball("m1", 3))
	if ev := recv(t, ch); ev.ID != "m1/3" {
		t.Fatalf("live entry %s, want m1/3", ev.ID)
	}
	cancel()
	waitClosed(t, ch)
}

func TestState(t *testing.T) {
	dir := t.TempDir()
	b := open(t, Config{DataDir: dir})
	keys := []string{"plain", "", "a.b", "with space", "*", ">", "stats/m1", "ünïcode", "=x", strings.Repeat("k", 300)}
	for i, k := range keys {
		if _, found, err := b.State().Get(t.Context(), k); err != nil || found {
			t.Fatalf("Get(%q) before Put: found=%v err=%v", k, found, err)
		}
		if err := b.State().Put(t.Context(), k, []byte{byte(i)}); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	big := make([]byte, 4<<20) // a long Test match's state
	for i := range big {
		big[i] = byte(i)
	}
	if err := b.State().Put(t.Context(), "big", big); err != nil {
		t.Fatalf("Put 4 MiB: %v", err)
	}
	if err := b.State().Put(t.Context(), "huge", make([]byte, MaxValueSize+1)); !errors.Is(err, ErrValueTooLarge) {
		t.Fatalf("Put above MaxValueSize: got %v, want ErrValueTooLarge", err)
	}
	if err := b.State().Delete(t.Context(), "with space"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := b.State().Delete(t.Context(), "never set"); err != nil {
		t.Fatalf("Delete absent key: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b = open(t, Config{DataDir: dir})
	for i, k := range keys {
		v, found, err := b.State().Get(t.Context(), k)
		if k == "with space" {
			if err != nil || found {
				t.Fatalf("Get(%q) after Delete: found=%v err=%v", k, found, err)
			}
			continue
		}
		if err != nil || !found || !slices.Equal(v, []byte{byte(i)}) {
			t.Fatalf("Get(%q) after reopen = %v, %v, %v; want [%d]", k, v, found, err, i)
		}
	}
	if v, found, err := b.State().Get(t.Context(), "big"); err != nil || !found || !slices.Equal(v, big) {
		t.Fatalf("Get big after reopen: found=%v err=%v len=%d", found, err, len(v))
	}
}

func TestReadyAndClose(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	if err := b.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if u := b.ClientURL(); u != "" {
		t.Fatalf("ClientURL in-process = %q, want empty", u)
	}
	ingest, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	feed, err := b.ConsumeFeed(t.Context())
	if err != nil {
		t.Fatalf("ConsumeFeed: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, ingest)
	waitClosed(t, feed)
	if err := b.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Ready after Close = %v, want a 'closed' error", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestPrefixSeparatesDeployments(t *testing.T) {
	srvURL := startExternal(t, "")
	blue := open(t, Config{URL: srvURL, Prefix: "blue"})
	green := open(t, Config{URL: srvURL, Prefix: "green"})
	appendAll(t, blue, ball("m", 1))
	appendAll(t, green, ball("m", 1)) // same ID, other deployment: not a duplicate
	if err := blue.State().Put(t.Context(), "k", []byte("blue")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if _, found, err := green.State().Get(t.Context(), "k"); err != nil || found {
		t.Fatalf("green sees blue's state: found=%v err=%v", found, err)
	}
	if n, _ := green.LastSeq(t.Context(), "m"); n != 1 {
		t.Fatalf("green LastSeq = %d, want 1", n)
	}
}

func deliveryIDs(ds []Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Event.ID
	}
	return out
}

// consumerName is the one live pipeline consumer.
func consumerName(t testing.TB, b *Bus) string {
	t.Helper()
	var name string
	for n := range b.ingest.ListConsumers(t.Context()).Info() {
		name = n.Name
	}
	return name
}

func consumerCount(t testing.TB, b *Bus) int {
	t.Helper()
	n := 0
	for range b.ingest.ListConsumers(t.Context()).Info() {
		n++
	}
	return n
}

func ackFloor(t testing.TB, b *Bus) uint64 {
	t.Helper()
	c, err := b.ingest.Consumer(t.Context(), consumerName(t, b))
	if err != nil {
		t.Fatalf("consumer: %v", err)
	}
	return c.CachedInfo().AckFloor.Stream
}

// TestIngestFlowControl: no more than MaxAckPending entries are out
// unacknowledged; an Ack lets the next one through.
func TestIngestFlowControl(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir(), MaxAckPending: 3})
	for i := uint64(1); i <= 5; i++ {
		appendAll(t, b, ball("m", i))
	}
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	first := recv(t, ch)
	recv(t, ch)
	recv(t, ch)
	c, err := b.ingest.Consumer(t.Context(), consumerName(t, b))
	if err != nil {
		t.Fatal(err)
	}
	if info := c.CachedInfo(); info.NumAckPending != 3 || info.NumPending != 2 {
		t.Fatalf("ack pending %d, pending %d; want 3 and 2", info.NumAckPending, info.NumPending)
	}
	first.Ack()
	if d := recv(t, ch); d.Event.Seq != 4 {
		t.Fatalf("after an ack got seq %d, want 4", d.Event.Seq)
	}
}

// TestIngestPoisonEntry: an entry that does not decode is terminated and
// the log moves on.
func TestIngestPoisonEntry(t *testing.T) {
	b := open(t, Config{DataDir: t.TempDir()})
	appendAll(t, b, ball("m", 1))
	if _, err := b.js.Publish(t.Context(), b.names.ingestSubject("m"), []byte{0xff, 0xff, 0xff}); err != nil {
		t.Fatal(err)
	}
	appendAll(t, b, ball("m", 2))
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	recv(t, ch).Ack()
	if d := recv(t, ch); d.Event.Seq != 2 {
		t.Fatalf("after a poison entry got seq %d, want 2", d.Event.Seq)
	}
	polltest.Within(t, wait, "ack floor past the poison entry", func() bool { return ackFloor(t, b) == 2 })
}
