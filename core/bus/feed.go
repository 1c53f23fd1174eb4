package bus

import (
	"context"
	"errors"
	"fmt"

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
	cons, err := b.feed.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consume feed: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(feedBuffer))
	if err != nil {
		return nil, fmt.Errorf("bus: consume feed: %w", err)
	}
	out := make(chan event.Event, feedBuffer)
	stop := context.AfterFunc(ctx, it.Stop)
	go func() {
		defer close(out)
		defer stop()
		defer it.Stop()
		for {
			msg, err := it.Next(jetstream.NextMaxWait(nextWait))
			if errors.Is(err, nats.ErrTimeout) {
				continue
			}
			if err != nil {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
					return
				}
				b.log.Warn().Err(err).Msg("feed consumer")
				continue
			}
			ev, err := decodeEvent(msg.Data())
			if err != nil {
				b.log.Error().Err(err).Str("subject", msg.Subject()).Msg("undecodable feed entry skipped")
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			case <-b.closed:
				return
			}
		}
	}()
	return out, nil
}
