package bus

import (
	"context"
	"crypto/rand"
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
// published, until ctx is done; then the channel closes. Every call (every
// broadcast node) reads the whole feed through its own ephemeral consumer,
// replaced without a gap or a duplicate when it fails (see feedReader).
// Entries that do not decode are logged and skipped. A slow reader slows
// only its own consumer.
func (b *Bus) ConsumeFeed(ctx context.Context) (<-chan event.Event, error) {
	f := &feedReader{b: b}
	if err := f.openRetrying(ctx); err != nil {
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

const (
	// stallCheck is how long the feed reader waits without a message
	// before it asks the stream whether it has missed some.
	stallCheck = 2 * time.Second
	// feedCreateTimeout bounds one attempt to create a feed consumer.
	feedCreateTimeout = 5 * time.Second
	// feedInactive is how long a feed consumer nobody pulls from (its
	// node died) outlives its reader on the server.
	feedInactive = 2 * time.Minute
)

// feedReader is the goroutine behind one ConsumeFeed. It reads through an
// ephemeral pull consumer (memory, one replica, no acks) and replaces it
// with a new one starting right after the last entry delivered whenever
// it fails: an error, a gap in its delivery sequence, or silence while the
// stream holds entries beyond the last one delivered. Every replacement
// has a new name. (The client library's missed-heartbeat check cannot
// help here: it is armed per Next call, and Next waits only nextWait.)
//
// It does not use the client library's ordered consumer, whose recovery
// blocks inside Next and retries the create under the same consumer name
// forever: when a NATS node is killed, the cluster can place that name on
// the dead node before it knows it is dead, and every retry then waits on
// the dead node (seen in TestMultiNode as a broadcast node stalled for
// good). Here each attempt is bounded and a failed one is retried under a
// new name, which the cluster places afresh.
type feedReader struct {
	b    *Bus
	last uint64 // stream sequence of the last entry delivered; reader goroutine only
	dseq uint64 // delivery sequence of the last message of the current consumer

	mu   sync.Mutex // guards it and cons: ctx's AfterFunc stops it from another goroutine
	it   jetstream.MessagesContext
	cons string
}

// stop ends the current pull; the reader goroutine sees its iterator closed.
func (f *feedReader) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.it != nil {
		f.it.Stop()
	}
}

func (f *feedReader) iter() jetstream.MessagesContext {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.it
}

// open creates a consumer starting at stream sequence f.last+1 under a
// new name and starts pulling from it. On failure the reader has no
// consumer (iter is nil).
func (f *feedReader) open(ctx context.Context) error {
	cfg := jetstream.ConsumerConfig{
		Name:              "feed_" + rand.Text(),
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: feedInactive,
	}
	if f.last > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, f.last+1
	}
	cctx, cancel := context.WithTimeout(ctx, feedCreateTimeout)
	defer cancel()
	cons, err := f.b.feed.CreateConsumer(cctx, cfg)
	if err != nil {
		return fmt.Errorf("bus: consume feed: create consumer %s: %w", cfg.Name, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(feedBuffer))
	if err != nil {
		return fmt.Errorf("bus: consume feed: pull from %s: %w", cfg.Name, err)
	}
	f.mu.Lock()
	f.it, f.cons, f.dseq = it, cfg.Name, 0
	f.mu.Unlock()
	return nil
}

// openRetrying is open, tried again under a new name while the cluster
// does not answer, for up to provisionFor.
func (f *feedReader) openRetrying(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, provisionFor)
	defer cancel()
	for {
		err := f.open(ctx)
		if err == nil || !transient(err) || ctx.Err() != nil {
			return err
		}
		f.b.log.Warn().Err(err).Msg("feed consumer not created; trying again")
		select {
		case <-ctx.Done():
			return err
		case <-time.After(nextWait):
		}
	}
}

// replace drops the current consumer (deleting it in the background, best
// effort) and opens a new one after the last entry delivered.
func (f *feedReader) replace(ctx context.Context, why string) {
	f.mu.Lock()
	old, name := f.it, f.cons
	f.it, f.cons = nil, ""
	f.mu.Unlock()
	if old != nil {
		old.Stop()
		go func() {
			dctx, cancel := context.WithTimeout(context.Background(), feedCreateTimeout)
			defer cancel()
			_ = f.b.feed.DeleteConsumer(dctx, name) // its node may be gone; InactiveThreshold removes it then
		}()
	}
	err := f.open(ctx)
	ev := f.b.log.Warn()
	if err != nil {
		ev = ev.Err(err)
	}
	ev.Str("reason", why).Str("old", name).Str("new", f.cons).Uint64("last_delivered", f.last).
		Msg("feed consumer replaced")
}

func (f *feedReader) run(ctx context.Context, out chan<- event.Event) {
	log := f.b.log
	idleSince := time.Now()
	wait := time.NewTimer(0)
	defer wait.Stop()
	for {
		if ctx.Err() != nil {
			return
		}
		it := f.iter()
		if it == nil { // the last replacement failed: try again shortly
			wait.Reset(nextWait)
			select {
			case <-wait.C:
			case <-ctx.Done():
				return
			case <-f.b.closed:
				return
			}
			f.replace(ctx, "no consumer")
			continue
		}
		msg, err := it.Next(jetstream.NextMaxWait(nextWait))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !errors.Is(err, nats.ErrTimeout) {
				if errors.Is(err, jetstream.ErrMsgIteratorClosed) && errors.Is(err, nats.ErrConnectionClosed) {
					return
				}
				f.replace(ctx, err.Error())
				idleSince = time.Now()
				continue
			}
			if time.Since(idleSince) >= stallCheck {
				idleSince = time.Now()
				if f.behind(ctx) {
					f.replace(ctx, "stalled")
				}
			}
			continue
		}
		idleSince = time.Now()
		meta, err := msg.Metadata()
		if err != nil {
			log.Error().Err(err).Str("subject", msg.Subject()).Msg("feed entry without metadata skipped")
			continue
		}
		if meta.Sequence.Consumer != f.dseq+1 {
			// A message went missing between the consumer and us: start
			// again after the last entry delivered.
			f.replace(ctx, fmt.Sprintf("delivery %d after %d", meta.Sequence.Consumer, f.dseq))
			continue
		}
		f.dseq = meta.Sequence.Consumer
		if meta.Sequence.Stream <= f.last {
			continue // cannot happen with a consumer starting after f.last; kept as a guard
		}
		if f.last > 0 && meta.Sequence.Stream != f.last+1 {
			log.Warn().Uint64("last_delivered", f.last).Uint64("seq", meta.Sequence.Stream).
				Msg("feed entries between these are no longer in the stream")
		}
		f.last = meta.Sequence.Stream
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

// behind reports whether the stream holds entries after the last one
// delivered, so a silent consumer has stalled.
func (f *feedReader) behind(ctx context.Context) bool {
	ictx, cancel := context.WithTimeout(ctx, stallCheck)
	defer cancel()
	info, err := f.b.feed.Info(ictx)
	if err != nil {
		f.b.log.Debug().Err(err).Msg("feed consumer idle; stream info unavailable")
		return false // the stream cannot say (failing over); ask again later
	}
	return info.State.LastSeq > f.last
}
