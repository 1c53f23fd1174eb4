package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ballcast/ballcast/core/event"
)

// feedBuffer is the capacity of ConsumeFeed's channel.
const feedBuffer = 256

// PublishFeed appends ev to the feed stream (subject feed.<match>) with
// ev.ID as its message ID and waits until the stream has stored it. A
// duplicate (the same ID within DedupWindow) is success: the entry is
// already there. The pipeline calls it in order per match, one goroutine
// per match; it is safe for concurrent use.
func (b *Bus) PublishFeed(ctx context.Context, ev event.Event) error {
	if _, err := b.publish(ctx, b.names.feedStream, b.names.feedSubject(ev.Match), &ev); err != nil {
		return fmt.Errorf("bus: publish feed %s: %w", ev.ID, err)
	}
	return nil
}

// ConsumeFeed delivers every feed entry from the start of the stream (as
// far as Retention keeps it), in stream order, then live ones as they are
// published, until ctx is done; then the channel closes. It uses an
// ephemeral ordered consumer, so every call (every broadcast node) reads
// the whole feed independently, and a lost message or reconnect is
// repaired by the client library without a gap. Entries that do not decode
// are logged and skipped. A slow reader slows only its own consumer.
func (b *Bus) ConsumeFeed(ctx context.Context) (<-chan event.Event, error) {
	f := &feedReader{b: b}
	if err := f.open(ctx, 0); err != nil {
		return nil, err
	}
	out := make(chan event.Event, feedBuffer)
	stop := context.AfterFunc(ctx, f.stop)
	go func() {
		defer close(out)
		defer stop()
		defer f.stop()
		f.run(ctx, out)
	}()
	return out, nil
}

// stallCheck is how long the feed reader waits without a message before
// it asks the stream whether it has missed some.
const stallCheck = 2 * time.Second

// feedReader is the goroutine behind one ConsumeFeed. The client library's
// ordered consumer repairs gaps and reconnects itself, but when the node
// holding it dies (a cluster losing a server) it was seen to stall for
// minutes; so the reader also watches the stream and, when the stream has
// entries beyond the last one it delivered and none arrive, replaces the
// consumer with one starting right after that entry.
type feedReader struct {
	b    *Bus
	last uint64 // stream sequence of the last entry delivered; reader goroutine only

	mu sync.Mutex // guards it: ctx's AfterFunc stops it from another goroutine
	it jetstream.MessagesContext
}

func (f *feedReader) iter() jetstream.MessagesContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.it
}

func (f *feedReader) setIter(it jetstream.MessagesContext) {
	f.mu.Lock()
	f.it = it
	f.mu.Unlock()
}

func (f *feedReader) stop() { f.iter().Stop() }

// open starts an ordered consumer at stream sequence after+1.
func (f *feedReader) open(ctx context.Context, after uint64) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if after > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: after + 1}
	}
	cons, err := f.b.feed.OrderedConsumer(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bus: consume feed: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(feedBuffer))
	if err != nil {
		return fmt.Errorf("bus: consume feed: %w", err)
	}
	f.setIter(it)
	return nil
}

func (f *feedReader) run(ctx context.Context, out chan<- event.Event) {
	log := f.b.log
	idleSince := time.Now()
	for {
		msg, err := f.iter().Next(jetstream.NextMaxWait(nextWait))
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return
			}
			log.Warn().Err(err).Msg("feed consumer")
		}
		if err != nil {
			if time.Since(idleSince) >= stallCheck {
				idleSince = time.Now()
				f.repair(ctx)
			}
			continue
		}
		idleSince = time.Now()
		if meta, err := msg.Metadata(); err == nil {
			if meta.Sequence.Stream <= f.last {
				continue // a repaired consumer overlapping the old one
			}
			f.last = meta.Sequence.Stream
		}
		ev, err := decodeEvent(msg.Data())
		if err != nil {
			log.Error().Err(err).Str("subject", msg.Subject()).Msg("undecodable feed entry skipped")
			continue
		}
		select {
		case out <- ev:
		case <-ctx.Done():
			return
		case <-f.b.closed:
			return
		}
	}
}

// repair replaces a stalled consumer: one that has delivered nothing for a
// while although the stream holds entries after the last one delivered.
func (f *feedReader) repair(ctx context.Context) {
	ictx, cancel := context.WithTimeout(ctx, stallCheck)
	defer cancel()
	info, err := f.b.feed.Info(ictx)
	if err != nil {
		f.b.log.Debug().Err(err).Msg("feed consumer idle; stream info unavailable")
		return // the stream cannot say (failing over); ask again later
	}
	if info.State.LastSeq <= f.last {
		return // nothing missed
	}
	f.b.log.Warn().Uint64("last_delivered", f.last).Uint64("stream_last", info.State.LastSeq).
		Msg("feed consumer stalled; resuming after the last entry delivered")
	f.stop()
	if err := f.open(ctx, f.last); err != nil {
		f.b.log.Warn().Err(err).Msg("feed consumer not replaced; trying again")
		f.setIter(idleIterator{})
	}
}

// idleIterator stands in for a consumer that could not be replaced: Next
// waits a while and reports a timeout, so the reader tries again.
type idleIterator struct{}

func (idleIterator) Next(...jetstream.NextOpt) (jetstream.Msg, error) {
	time.Sleep(nextWait) // nothing to wait on: the consumer is gone
	return nil, nats.ErrTimeout
}

func (idleIterator) Stop()  {}
func (idleIterator) Drain() {}
