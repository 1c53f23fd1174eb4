package broadcast

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// BenchmarkHubFanout measures the hub alone: Publish (encoding) plus the
// hub goroutine's numbering, history and fan-out to N subscriber queues,
// drained by N goroutines standing in for the socket writers. It is the
// ceiling BenchmarkFanout approaches when sockets cost nothing.
func BenchmarkHubFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchHub(b, n) })
	}
}

func benchHub(b *testing.B, n int) {
	const queue = 256
	h, err := NewHub(Config{QueueSize: queue, History: 1000}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()

	total := b.N
	var wg sync.WaitGroup
	bar := newBatchBarrier(total, n)
	for i := range n {
		c := newClient(TransportWS, queue, zerolog.Nop(), &h.stats)
		if !h.tell(ctx, command{op: cmdSubscribe, c: c, match: "m1"}) {
			b.Fatal("hub stopped")
		}
		wg.Go(func() {
			got := -1 // the snapshot comes first
			for got < total {
				select {
				case <-c.ready:
				case <-c.closing:
					b.Errorf("client %d dropped as a slow consumer", i)
					return
				}
				for _, it := range c.take() {
					for range it.frames() {
						if got++; got > 0 {
							bar.received(got, total)
						}
					}
				}
			}
		})
	}
	ev := event.Event{
		Match: "m1", Kind: event.KindBall, Time: time.Now(), Source: "bench",
		Ball: &event.Ball{Innings: 1, Over: 3, Ball: 2, Legal: true, BattingTeam: "Australia", BowlingTeam: "England",
			Batter: "Smith", NonStriker: "Head", Bowler: "Anderson", RunsBat: 4},
		Commentary: &event.Commentary{Text: "Anderson to Smith, full and wide, driven through cover for four.", Language: "en"},
		Scorecard: &event.Scorecard{State: event.StateLive, Innings: []event.InningsCard{{
			Number: 1, Team: "Australia", Runs: 120, Wickets: 2, LegalBalls: 80, RunRate: 9,
			Batters: []event.BatterCard{{Name: "Warner", Runs: 40, Balls: 30, Out: true, HowOut: "caught", Bowler: "Wood"}, {Name: "Smith", Runs: 50, Balls: 35}, {Name: "Head", Runs: 20, Balls: 12}},
			Bowlers: []event.BowlerCard{{Name: "Anderson", LegalBalls: 24, Runs: 30, Wickets: 1}, {Name: "Wood", LegalBalls: 24, Runs: 40, Wickets: 1}},
		}}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		ev.ID, ev.Seq = "m1/"+strconv.Itoa(i), uint64(i+1)
		if ch := bar.wait(i); ch != nil {
			<-ch
		}
		if err := h.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)*float64(n)/elapsed.Seconds(), "frames/s")
}

// batchBarrier paces a benchmark's publisher like a live feed: events go out
// in batches of batchSize, and batch j+2 waits until every client has
// received batch j, so at most three batches (fewer than a queue) are in
// flight and no client is dropped for being slow.
type batchBarrier struct {
	clients int32
	counts  []atomic.Int32
	done    []chan struct{}
}

const batchSize = 64

func newBatchBarrier(events, clients int) *batchBarrier {
	n := (events + batchSize - 1) / batchSize
	b := &batchBarrier{clients: int32(clients), counts: make([]atomic.Int32, n), done: make([]chan struct{}, n)}
	for i := range b.done {
		b.done[i] = make(chan struct{})
	}
	return b
}

// received is called by each client for its k-th event (1-based) of total.
func (b *batchBarrier) received(k, total int) {
	if k%batchSize != 0 && k != total {
		return
	}
	i := (k - 1) / batchSize
	if b.counts[i].Add(1) == b.clients {
		close(b.done[i])
	}
}

// wait is called by the publisher before its i-th event (0-based).
func (b *batchBarrier) wait(i int) <-chan struct{} {
	if i%batchSize != 0 || i/batchSize < 2 {
		return nil
	}
	return b.done[i/batchSize-2]
}
