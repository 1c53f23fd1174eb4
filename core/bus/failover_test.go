package bus

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/polltest"
)

// failoverWait bounds recovery from a lost node in these tests: a consumer
// create that is never answered takes feedCreateTimeout, a silent
// consumer two stall checks.
const failoverWait = 30 * time.Second

// TestFeedSurvivesUnanswerableConsumerCreate: when a NATS node dies, the
// cluster may place the feed consumer's replacement on that node before it
// knows the node is dead, and a create under that name is then never
// answered. The proxy reproduces this: it cuts the reader's connection,
// deletes its consumer (gone with its node) and swallows the first
// consumer create that follows, and every later create under the same
// name. The client library's ordered consumer retried that name forever
// inside Next and the feed stalled for good (TestMultiNode, about one run
// in six); the reader must go on with every entry, in order, once each.
func TestFeedSurvivesUnanswerableConsumerCreate(t *testing.T) {
	url := startExternal(t, "")
	pub := open(t, Config{URL: url})
	proxy := newNATSProxy(t, url)
	b := open(t, Config{URL: proxy.url()})
	feed, err := b.ConsumeFeed(t.Context())
	if err != nil {
		t.Fatalf("ConsumeFeed: %v", err)
	}
	next := 1
	publishAndRead := func(n int) {
		t.Helper()
		for range n {
			ev := ball("m", uint64(next))
			if err := pub.PublishFeed(t.Context(), ev); err != nil {
				t.Fatalf("PublishFeed: %v", err)
			}
			next++
		}
		for want := next - n; want < next; want++ {
			select {
			case ev := <-feed:
				if ev.Seq != uint64(want) {
					t.Fatalf("feed delivered %s, want m/%d", ev.ID, want)
				}
			case <-time.After(failoverWait):
				t.Fatalf("feed stalled: m/%d not delivered within %s", want, failoverWait)
			}
		}
	}
	publishAndRead(5)

	var (
		mu       sync.Mutex
		poisoned string // the consumer name the "dead node" holds
	)
	proxy.setUp(func(subject string) bool {
		const create = "$JS.API.CONSUMER.CREATE.BALLCAST_FEED."
		if !strings.HasPrefix(subject, create) {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(subject, create), ".")
		mu.Lock()
		defer mu.Unlock()
		if poisoned == "" {
			poisoned = name
		}
		return name == poisoned
	})
	for name := range pub.feed.ConsumerNames(t.Context()).Name() {
		if err := pub.feed.DeleteConsumer(t.Context(), name); err != nil {
			t.Fatalf("delete consumer %s: %v", name, err)
		}
	}
	proxy.cut()
	publishAndRead(5)
	mu.Lock()
	defer mu.Unlock()
	if poisoned == "" {
		t.Fatalf("the reader never created a consumer after losing its own")
	}
}

// TestIngestRecoversLostDelivery: a delivery in transit through a NATS
// node that dies never arrives, while the consumer counts it as delivered
// and would send it again only after AckWait (30 minutes by default).
// TestMultiNode lost a ball this way: the pipeline went on with the next
// entries and the feed never had it. The proxy loses one delivery; the
// pipeline must still get every entry in order, at once, and acknowledging
// them all must bring the ack floor to the end.
func TestIngestRecoversLostDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		lose uint64 // stream sequence whose first delivery is lost
	}{
		{"middle", 4},
		{"last", 8}, // nothing follows to reveal the gap
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := startExternal(t, "")
			proxy := newNATSProxy(t, url)
			b := open(t, Config{URL: proxy.url(), AckWait: time.Hour})
			var once sync.Once
			lost := false
			proxy.setDown(func(_, reply string) bool {
				stream, sseq, delivered, ok := ackSeqs(reply)
				if !ok || stream != "BALLCAST_INGEST" || sseq != tc.lose || delivered != 1 {
					return false
				}
				drop := false
				once.Do(func() { drop, lost = true, true })
				return drop
			})
			ch, err := b.ConsumeIngest(t.Context())
			if err != nil {
				t.Fatalf("ConsumeIngest: %v", err)
			}
			for i := uint64(1); i <= 8; i++ {
				appendAll(t, b, ball("m", i))
			}
			for want := uint64(1); want <= 8; want++ {
				select {
				case d := <-ch:
					if d.Event.Seq != want {
						t.Fatalf("pipeline got %s, want m/%d", d.Event.ID, want)
					}
					d.Ack()
				case <-time.After(failoverWait):
					t.Fatalf("m/%d not delivered within %s", want, failoverWait)
				}
			}
			if !lost {
				t.Fatalf("the proxy lost no delivery")
			}
			polltest.Within(t, wait, "ack floor at the last entry", func() bool { return ackFloor(t, b) == 8 })
			select {
			case d := <-ch:
				t.Fatalf("extra delivery %s", d.Event.ID)
			default:
			}
		})
	}
}

// TestIngestReplacesSilentConsumer: a consumer that holds entries and
// delivers none (here every pull request to it is lost) is replaced, and
// the pipeline gets every entry in order.
func TestIngestReplacesSilentConsumer(t *testing.T) {
	url := startExternal(t, "")
	proxy := newNATSProxy(t, url)
	b := open(t, Config{URL: proxy.url(), AckWait: time.Hour})
	proxy.setUp(func(subject string) bool {
		return subject == "$JS.API.CONSUMER.MSG.NEXT.BALLCAST_INGEST.pipeline-1"
	})
	for i := uint64(1); i <= 3; i++ {
		appendAll(t, b, ball("m", i))
	}
	ch, err := b.ConsumeIngest(t.Context())
	if err != nil {
		t.Fatalf("ConsumeIngest: %v", err)
	}
	for want := uint64(1); want <= 3; want++ {
		select {
		case d := <-ch:
			if d.Event.Seq != want {
				t.Fatalf("pipeline got %s, want m/%d", d.Event.ID, want)
			}
			d.Ack()
		case <-time.After(failoverWait):
			t.Fatalf("m/%d not delivered within %s", want, failoverWait)
		}
	}
}

// TestOpenWaitsForJetStream: a cluster electing its metadata leader (just
// started, or a node just lost) leaves stream requests unanswered for a
// few seconds. A node starting then must wait, not exit; TestMultiNode saw
// a broadcast node exit at start this way. The proxy loses the first
// stream request.
func TestOpenWaitsForJetStream(t *testing.T) {
	url := startExternal(t, "")
	proxy := newNATSProxy(t, url)
	var once sync.Once
	lost := false
	proxy.setUp(func(subject string) bool {
		if !strings.HasPrefix(subject, "$JS.API.STREAM.") {
			return false
		}
		drop := false
		once.Do(func() { drop, lost = true, true })
		return drop
	})
	ctx, cancel := context.WithTimeout(t.Context(), failoverWait)
	defer cancel()
	b, err := Open(ctx, Config{URL: proxy.url()}, testLog(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if !lost {
		t.Fatalf("the proxy lost no stream request")
	}
	if err := b.Ready(t.Context()); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}
