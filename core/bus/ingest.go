package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// deliveryBuffer is the capacity of ConsumeIngest's channel.
const deliveryBuffer = 64

// nextWait bounds each wait of a consumer loop for the next message. The
// client library decides whether to ask the server for more only when a
// wait starts, and can skip that while its previous request is still being
// sent (seen under CPU load): a wait that never ended would then stall
// delivery until the missed-heartbeat check, about 30s later. Waking up
// every second makes it ask again. It also disarms that check (the library
// arms it per wait, for twice the heartbeat), so a pull request lost on
// its way is never noticed by the library: both consumer loops watch the
// server's side instead (stallCheck).
const nextWait = time.Second

// LastSeq returns the Seq of the last entry appended for match, or 0 when
// the log holds none (never appended, or expired by Retention).
func (b *Bus) LastSeq(ctx context.Context, match string) (uint64, error) {
	raw, err := b.ingest.GetLastMsgForSubject(ctx, b.names.ingestSubject(match))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bus: last seq %s: %w", match, err)
	}
	ev, err := decodeEvent(raw.Data)
	if err != nil {
		return 0, fmt.Errorf("bus: last seq %s: entry %d: %w", match, raw.Sequence, err)
	}
	return ev.Seq, nil
}

// Append writes ev to the ingest log (subject ingest.<match>) with ev.ID as
// its message ID and waits until the stream has stored it. duplicate
// reports that an entry with the same ID was appended within DedupWindow:
// nothing was written, and the caller should not consume the Seq it gave
// ev. Safe for concurrent use; the log keeps the order in which appends
// complete, so appends of one match must not overlap (wait for each before
// the next) or the consumer sees its Seqs out of order.
func (b *Bus) Append(ctx context.Context, ev event.Event) (duplicate bool, err error) {
	ack, err := b.publish(ctx, b.names.ingestStream, b.names.ingestSubject(ev.Match), &ev)
	if err != nil {
		return false, fmt.Errorf("bus: append %s: %w", ev.ID, err)
	}
	return ack.Duplicate, nil
}

// Delivery is one ingest entry handed to the pipeline.
type Delivery struct {
	Event event.Event
	// StreamSeq is the entry's position in the ingest stream.
	StreamSeq uint64

	ack *ackState
}

// ackState is shared by the copies of one Delivery.
type ackState struct {
	once sync.Once
	done func() // drops the entry from the in-flight set

	mu  sync.Mutex
	msg jetstream.Msg // the latest delivery of the entry: acks go to its consumer
}

// Ack acknowledges the entry: its results are durably published. It is
// idempotent, does not wait for the server and is safe from any goroutine.
// An acknowledgement lost on the way (a crash right after Ack) means the
// entry is delivered again after a restart.
func (d Delivery) Ack() {
	if d.ack == nil {
		return
	}
	d.ack.once.Do(func() {
		d.ack.mu.Lock()
		msg := d.ack.msg
		d.ack.mu.Unlock()
		_ = msg.Ack() // fails only when the connection is closed: redelivered after restart
		d.ack.done()
	})
}

// ConsumeIngest delivers the ingest log to the pipeline, in log order,
// until ctx is done; then the channel closes. It also closes when the
// connection closes or the consumer is deleted (another ConsumeIngest on
// the same streams took over); call it again to resume.
//
// Resuming: one durable pull consumer (pipeline-<generation>) tracks the
// acknowledgements. Each call reads its ack floor (every entry at or below
// it is acknowledged), replaces it by a new generation starting at
// floor+1 and deletes the old one. Entries handed out before a crash but
// never acknowledged therefore come again at once, not after AckWait, and
// entries above the floor that were acknowledged out of order come again
// too: the pipeline is idempotent on Event.ID. The new consumer is created
// before the old one is deleted, so a crash in between loses nothing: the
// highest ack floor among leftover generations wins.
//
// Within one process every entry is handed out at most once: a
// redelivery by the server (AckWait expired) is dropped, or acknowledged
// again if this process already acknowledged it, so per-match order is
// never broken. An entry whose Seq is not above the highest Seq already
// handed out for its match is dropped, acknowledged and logged, except
// Seq 1, which starts a new numbering (the match's earlier entries expired,
// so LastSeq returned 0). An entry that does not decode is terminated and
// logged.
//
// Lost deliveries: a message the server delivered but that never arrived
// (it was in transit through a NATS node that died) would otherwise wait
// for AckWait, and everything after it would be handed out first. So a gap
// in the consumer's delivery sequence, or silence (two checks 2s apart)
// while the consumer says it delivered more than arrived or holds entries
// it could deliver, rotates the consumer as above: the entries from the
// ack floor come again, in order, and those already handed out are
// dropped (their acknowledgements go to the new consumer).
//
// Flow control: at most MaxAckPending entries are unacknowledged at a
// time, and the channel holds 64. Only one ConsumeIngest should run per
// deployment at a time.
func (b *Bus) ConsumeIngest(ctx context.Context) (<-chan Delivery, error) {
	out := make(chan Delivery, deliveryBuffer)
	c := &ingestLoop{
		b:        b,
		log:      b.log,
		out:      out,
		closed:   b.closed,
		high:     make(map[string]uint64),
		inflight: make(map[uint64]*ackState),
	}
	if err := c.openRetrying(ctx); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, c.stop)
	go func() {
		defer close(out)
		defer stop()
		defer c.stop()
		c.run(ctx)
	}()
	return out, nil
}

// rotateConsumer creates the next generation of the durable pipeline
// consumer, starting right after the ack floor of the previous ones, and
// deletes those.
func (b *Bus) rotateConsumer(ctx context.Context) (jetstream.Consumer, error) {
	var (
		floor uint64
		gen   int
		old   []string
	)
	lister := b.ingest.ListConsumers(ctx)
	for info := range lister.Info() {
		g, ok := b.generation(info.Name)
		if !ok {
			continue
		}
		old = append(old, info.Name)
		floor = max(floor, info.AckFloor.Stream)
		gen = max(gen, g)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("bus: consume ingest: list consumers: %w", err)
	}
	name := b.names.consumer + "-" + strconv.Itoa(gen+1)
	cons, err := b.ingest.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "ballcast pipeline",
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   floor + 1,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: b.cfg.MaxAckPending,
		Replicas:      b.cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("bus: consume ingest: create consumer %s: %w", name, err)
	}
	for _, o := range old {
		if err := b.ingest.DeleteConsumer(ctx, o); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			b.log.Warn().Err(err).Str("consumer", o).Msg("old pipeline consumer not deleted")
		}
	}
	b.log.Info().Str("consumer", name).Uint64("ack_floor", floor).Int("replaced", len(old)).
		Msg("ingest consumer resumes after ack floor")
	return cons, nil
}

// generation parses "pipeline-<n>".
func (b *Bus) generation(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, b.names.consumer+"-")
	if !ok {
		return 0, false
	}
	g, err := strconv.Atoi(rest)
	return g, err == nil && g > 0
}

// ingestLoop is the goroutine behind one ConsumeIngest. It alone touches
// cons, high, last and dseq; inflight is shared with Ack under mu, and it
// with ctx's AfterFunc.
type ingestLoop struct {
	b      *Bus
	log    zerolog.Logger
	cons   jetstream.Consumer
	out    chan<- Delivery
	closed <-chan struct{}   // the connection closed: nobody can ack any more
	high   map[string]uint64 // match → highest Seq handed out
	last   uint64            // highest stream sequence handed out
	dseq   uint64            // delivery sequence of the current consumer's last message

	mu       sync.Mutex
	it       jetstream.MessagesContext
	inflight map[uint64]*ackState // stream seq → handed out, not yet acked
}

// open rotates the durable consumer (see ConsumeIngest) and pulls from the
// new generation.
func (c *ingestLoop) open(ctx context.Context) error {
	cons, err := c.b.rotateConsumer(ctx)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(min(256, c.b.cfg.MaxAckPending)))
	if err != nil {
		return fmt.Errorf("bus: consume ingest: %w", err)
	}
	c.cons, c.dseq = cons, 0
	c.log = c.b.log.With().Str("consumer", cons.CachedInfo().Name).Logger()
	c.mu.Lock()
	c.it = it
	c.mu.Unlock()
	return nil
}

// openRetrying is open, tried again while the cluster does not answer,
// for up to provisionFor.
func (c *ingestLoop) openRetrying(ctx context.Context) error {
	octx, cancel := context.WithTimeout(ctx, provisionFor)
	defer cancel()
	for {
		err := c.open(octx)
		if err == nil || !transient(err) || octx.Err() != nil {
			return err
		}
		c.log.Warn().Err(err).Msg("ingest consumer not created; trying again")
		select {
		case <-octx.Done():
			return err
		case <-time.After(nextWait):
		}
	}
}

func (c *ingestLoop) stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.it != nil {
		c.it.Stop()
	}
}

func (c *ingestLoop) iter() jetstream.MessagesContext {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.it
}

// reopen replaces the consumer by a new generation after a lost delivery,
// retrying until it succeeds or ctx is done.
func (c *ingestLoop) reopen(ctx context.Context, why string) bool {
	c.stop()
	for {
		err := c.open(ctx)
		if err == nil {
			c.log.Warn().Str("reason", why).Uint64("last_handed_out", c.last).Msg("ingest consumer replaced")
			return true
		}
		c.log.Warn().Err(err).Str("reason", why).Msg("ingest consumer not replaced; trying again")
		select {
		case <-time.After(nextWait):
		case <-ctx.Done():
			return false
		case <-c.closed:
			return false
		}
	}
}

// stalled reports whether a silent consumer has failed us: it delivered
// more than arrived (a delivery lost in transit), or it holds entries it
// could deliver (below MaxAckPending) and has not.
func (c *ingestLoop) stalled(ctx context.Context) bool {
	ictx, cancel := context.WithTimeout(ctx, stallCheck)
	defer cancel()
	info, err := c.cons.Info(ictx)
	if err != nil {
		c.log.Debug().Err(err).Msg("ingest consumer idle; its info is unavailable")
		return false
	}
	c.log.Debug().Uint64("delivered", info.Delivered.Stream).Uint64("last_handed_out", c.last).
		Uint64("pending", info.NumPending).Int("ack_pending", info.NumAckPending).Int("waiting", info.NumWaiting).
		Msg("ingest consumer idle")
	return info.Delivered.Stream > c.last || (info.NumPending > 0 && info.NumAckPending < c.b.cfg.MaxAckPending)
}

func (c *ingestLoop) run(ctx context.Context) {
	idleSince := time.Now()
	suspect := false // the last idle check found the consumer stalled
	for {
		msg, err := c.iter().Next(jetstream.NextMaxWait(nextWait))
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return
			case errors.Is(err, nats.ErrTimeout):
				if time.Since(idleSince) >= stallCheck {
					// Two checks in a row: one can race an entry in transit.
					idleSince = time.Now()
					stalled := c.stalled(ctx)
					if stalled && suspect {
						stalled = false
						if !c.reopen(ctx, "consumer stalled") {
							return
						}
					}
					suspect = stalled
				}
				continue
			case errors.Is(err, jetstream.ErrMsgIteratorClosed):
				return
			case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
				c.log.Error().Err(err).Msg("ingest consumer gone, delivery stopped")
				return
			default:
				c.log.Warn().Err(err).Msg("ingest consumer")
				continue
			}
		}
		idleSince, suspect = time.Now(), false
		if meta, err := msg.Metadata(); err == nil && meta.Sequence.Consumer != c.dseq+1 {
			// A delivery between the last one and this went missing.
			why := fmt.Sprintf("delivery %d after %d", meta.Sequence.Consumer, c.dseq)
			if !c.reopen(ctx, why) {
				return
			}
			continue
		} else if err == nil {
			c.dseq = meta.Sequence.Consumer
		}
		d, ok := c.admit(msg)
		if !ok {
			continue
		}
		select {
		case c.out <- d:
		case <-ctx.Done():
			return
		case <-c.closed:
			return
		}
	}
}

// admit decides whether msg is handed out, and if so builds its Delivery.
func (c *ingestLoop) admit(msg jetstream.Msg) (Delivery, bool) {
	meta, err := msg.Metadata()
	if err != nil {
		c.log.Error().Err(err).Msg("ingest entry without metadata dropped")
		return Delivery{}, false
	}
	sseq := meta.Sequence.Stream
	if sseq <= c.last {
		// The server redelivered an entry this loop handed out: AckWait
		// expired. Still in flight: its Ack will settle it (acks go by
		// stream sequence). Already acknowledged: that ack was lost.
		c.mu.Lock()
		pending := c.inflight[sseq]
		c.mu.Unlock()
		if pending == nil {
			_ = msg.Ack()
			return Delivery{}, false
		}
		pending.mu.Lock()
		pending.msg = msg // a newer consumer's delivery: ack there
		pending.mu.Unlock()
		return Delivery{}, false
	}
	c.last = sseq
	ev, err := decodeEvent(msg.Data())
	if err != nil {
		c.log.Error().Err(err).Uint64("stream_seq", sseq).Str("subject", msg.Subject()).
			Msg("undecodable ingest entry terminated")
		_ = msg.Term()
		return Delivery{}, false
	}
	if h, seen := c.high[ev.Match]; seen && ev.Seq != 0 && ev.Seq <= h {
		if ev.Seq != 1 {
			c.log.Warn().Str("match", ev.Match).Uint64("seq", ev.Seq).Uint64("high", h).Str("id", ev.ID).
				Msg("ingest entry out of order dropped")
			_ = msg.Ack()
			return Delivery{}, false
		}
		// Ingest numbers a match from LastSeq+1, and LastSeq is 0 once the
		// match's entries have all expired (Retention): a new numbering.
		c.log.Warn().Str("match", ev.Match).Uint64("high", h).Str("id", ev.ID).
			Msg("ingest seq restarted at 1")
	}
	if ev.Seq != 0 {
		c.high[ev.Match] = ev.Seq
	}
	ack := &ackState{msg: msg, done: func() {
		c.mu.Lock()
		delete(c.inflight, sseq)
		c.mu.Unlock()
	}}
	c.mu.Lock()
	c.inflight[sseq] = ack
	c.mu.Unlock()
	return Delivery{Event: ev, StreamSeq: sseq, ack: ack}, true
}
