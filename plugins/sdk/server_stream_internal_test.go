package sdk

import (
	"sync/atomic"
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// TestDeltaQueueBounded fills a queue of two: a further delta of a queued
// event is appended to that event's last queued delta (no text lost), one
// of an event with nothing queued is dropped and counted.
func TestDeltaQueueBounded(t *testing.T) {
	var dropped atomic.Int64
	q := newDeltaQueue(&pb.Batch{Id: 7, Events: []*Event{{Id: "a", Match: "m"}, {Id: "b", Match: "m"}, {Id: "c", Match: "m"}}}, 2, &dropped)
	for _, d := range []Delta{{"a", "", "A1 "}, {"b", "", "B1 "}, {"a", "", "A2 "}, {"c", "", "C1 "}, {"b", "", "B2 "}, {"a", "", ""}} {
		q.emit(d)
	}
	want := []*pb.Delta{{EventId: "a", Match: "m", Text: "A1 A2 "}, {EventId: "b", Match: "m", Text: "B1 B2 "}}
	if len(q.items) != len(want) {
		t.Fatalf("queued %v, want %v", q.items, want)
	}
	for i := range want {
		if q.items[i].GetEventId() != want[i].GetEventId() || q.items[i].GetText() != want[i].GetText() || q.items[i].GetMatch() != "m" || q.items[i].GetBatchId() != 7 {
			t.Fatalf("queued[%d] = %v, want %v", i, q.items[i], want[i])
		}
	}
	if dropped.Load() != 1 {
		t.Fatalf("dropped %d, want 1 (c, nothing of it queued)", dropped.Load())
	}
}
