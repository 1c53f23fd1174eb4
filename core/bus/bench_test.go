package bus

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// Benchmarks run against the embedded server (in-process connection, file
// store in a temp dir); each op waits for the stream's acknowledgement.

func BenchmarkAppend(b *testing.B) {
	bus := open(b, Config{DataDir: b.TempDir()})
	ev := ball("bench", 0)
	b.ResetTimer()
	for i := range b.N {
		ev.Seq = uint64(i + 1)
		ev.ID = fmt.Sprintf("bench/%d", i)
		if _, err := bus.Append(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublishFeed(b *testing.B) {
	bus := open(b, Config{DataDir: b.TempDir()})
	ev := ball("bench", 0)
	b.ResetTimer()
	for i := range b.N {
		ev.Seq = uint64(i + 1)
		ev.ID = fmt.Sprintf("bench/%d", i)
		if err := bus.PublishFeed(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip is one live ball end to end through the bus: Append,
// its delivery from ConsumeIngest, PublishFeed of the result, Ack.
func BenchmarkRoundTrip(b *testing.B) {
	bus := open(b, Config{DataDir: b.TempDir()})
	ch, err := bus.ConsumeIngest(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	ev := ball("bench", 0)
	b.ResetTimer()
	for i := range b.N {
		ev.Seq = uint64(i + 1)
		ev.ID = fmt.Sprintf("bench/%d", i)
		if _, err := bus.Append(b.Context(), ev); err != nil {
			b.Fatal(err)
		}
		d := <-ch
		if d.Event.ID != ev.ID {
			b.Fatalf("delivered %s, want %s", d.Event.ID, ev.ID)
		}
		if err := bus.PublishFeed(b.Context(), d.Event); err != nil {
			b.Fatal(err)
		}
		d.Ack()
	}
}

// BenchmarkAppendParallel is Append from several goroutines (sources of
// different matches) at once: throughput rather than latency.
func BenchmarkAppendParallel(b *testing.B) {
	bus := open(b, Config{DataDir: b.TempDir()})
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		match := fmt.Sprintf("m%d", n.Add(1))
		ev := ball(match, 0)
		for i := 0; pb.Next(); i++ {
			ev.Seq = uint64(i + 1)
			ev.ID = fmt.Sprintf("%s/%d", match, i)
			if _, err := bus.Append(b.Context(), ev); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
