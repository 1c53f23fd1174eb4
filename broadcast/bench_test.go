package broadcast_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/broadcasttest"
	"github.com/ballcast/ballcast/core/event"
)

// BenchmarkFanout publishes events of one match to N WebSocket clients on
// loopback, each reading in its own goroutine, and reports events/s
// published-and-delivered and frames/s written. The publisher stays less
// than a queue ahead of the slowest client (as a paced live feed would), so
// nobody is dropped as a slow consumer. Clients and server share the
// machine, so frames/s is a lower bound for the server alone.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, clients int) {
	const queue = 256
	hub, err := broadcast.NewHub(broadcast.Config{QueueSize: queue, History: 1000}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- hub.Run(ctx) }()
	srv := httptest.NewServer(hub.Handler())
	b.Cleanup(func() {
		cancel()
		<-runDone
		srv.Close()
	})

	// Connect and subscribe everyone before timing.
	total := b.N
	bar := newPacer(total, clients)
	var wg sync.WaitGroup
	conns := make([]*broadcasttest.Client, clients)
	for i := range conns {
		conns[i] = broadcasttest.Dial(b, broadcasttest.URL(srv.URL))
		conns[i].Subscribe("m1", broadcasttest.Fresh)
		conns[i].NextOp(b.Context(), broadcast.OpSnapshot)
	}
	for i, c := range conns {
		wg.Go(func() {
			conn := c.Conn()
			for k := 1; k <= total; k++ {
				_, msg, err := conn.Read(context.Background())
				if err != nil {
					b.Errorf("client %d: %v", i, err)
					return
				}
				if got := frameSeq(msg); got != uint64(k) {
					b.Errorf("client %d: got seq %d, want %d", i, got, k)
					return
				}
				bar.received(k, total)
			}
		})
	}
	ev := ball("m1", 1)
	ev.Commentary.Text = "Anderson to Smith, full and wide, driven through cover for four."
	frame := len(mustFrame(b, ev)) - len(`{"match":"m1","seq":1,"first_seq":1,"events":[]}`)

	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		if ch := bar.wait(i); ch != nil {
			select {
			case <-ch:
			case <-time.After(60 * time.Second):
				b.Fatalf("clients stalled before event %d", i)
			}
		}
		ev.ID = "m1/" + strconv.Itoa(i)
		ev.Seq = uint64(i + 1)
		if err := hub.Publish(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N)*float64(clients)/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(frame), "B/frame")
	for _, c := range conns {
		_ = c.Conn().Close(websocket.StatusNormalClosure, "")
	}
}

// pacer paces the publisher like a live feed: events go out in batches of
// pacerBatch, and batch j+2 waits until every client has received batch j,
// so fewer than a queue's worth of frames are ever in flight per client.
type pacer struct {
	clients int32
	counts  []atomic.Int32
	done    []chan struct{}
}

const pacerBatch = 64

func newPacer(events, clients int) *pacer {
	n := (events + pacerBatch - 1) / pacerBatch
	p := &pacer{clients: int32(clients), counts: make([]atomic.Int32, n), done: make([]chan struct{}, n)}
	for i := range p.done {
		p.done[i] = make(chan struct{})
	}
	return p
}

// received is called by each client for its k-th event (1-based) of total.
func (p *pacer) received(k, total int) {
	if k%pacerBatch != 0 && k != total {
		return
	}
	i := (k - 1) / pacerBatch
	if p.counts[i].Add(1) == p.clients {
		close(p.done[i])
	}
}

// wait returns what the publisher waits on before its i-th event (0-based),
// or nil.
func (p *pacer) wait(i int) <-chan struct{} {
	if i%pacerBatch != 0 || i/pacerBatch < 2 {
		return nil
	}
	return p.done[i/pacerBatch-2]
}

// frameSeq extracts "seq" from an event frame without decoding the rest.
func frameSeq(msg []byte) uint64 {
	i := bytes.Index(msg, []byte(`"seq":`))
	if i < 0 {
		return 0
	}
	rest := msg[i+len(`"seq":`):]
	j := bytes.IndexByte(rest, ',')
	if j < 0 {
		return 0
	}
	n, _ := strconv.ParseUint(string(rest[:j]), 10, 64)
	return n
}

// mustFrame returns the encoded frame of ev, through a throwaway hub.
func mustFrame(b *testing.B, ev event.Event) []byte {
	hub, err := broadcast.NewHub(broadcast.Config{}, zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	if err := hub.Publish(ctx, ev); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/v1/matches/" + ev.Match + "/events?since=0&limit=1")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	cancel()
	<-done
	return buf.Bytes()
}
