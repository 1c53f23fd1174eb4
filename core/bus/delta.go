package bus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// Deltas are streaming partial output (a commentary line as it is being
// written) on its way from the pipeline node that makes it to every
// broadcast node. They travel on plain NATS subjects <prefix.>delta.<match>,
// outside JetStream: never stored, never redelivered, at most once. A
// delta lost on the way (no broadcast node listening, a reconnect, a slow
// subscriber) changes nothing that lasts; the event's final line replaces
// it in the feed.

// deltaRoot is the subject root of deltas: "delta", or "<prefix>.delta".
func (b *Bus) deltaRoot() string {
	if b.cfg.Prefix != "" {
		return b.cfg.Prefix + ".delta"
	}
	return "delta"
}

// deltaSubject is the subject of one match's deltas; the match ID is one
// token, escaped as for the ingest and feed subjects.
func (b *Bus) deltaSubject(match string) string { return b.deltaRoot() + "." + encodeToken(match) }

// deltaDrops counts deltas PublishDelta could not send, for all buses of
// the process (a delta is best effort; the count is for tests and logs).
var deltaDrops atomic.Int64

// PublishDelta sends the next piece of text of event eventID's provisional
// line to the broadcast nodes of the deployment. It never waits for them:
// the NATS client buffers the message (also while reconnecting) and an
// error only drops this delta. It satisfies pipeline.DeltaSink.
func (b *Bus) PublishDelta(match, eventID, text string) {
	if eventID == "" || text == "" {
		return
	}
	if err := b.nc.Publish(b.deltaSubject(match), encodeDelta(eventID, text)); err != nil {
		if deltaDrops.Add(1) == 1 {
			b.log.Warn().Err(err).Msg("delta not sent (deltas are best effort; further failures are not logged)")
		}
	}
}

// SubscribeDeltas calls fn with every delta published in the deployment
// (its Prefix), per publisher in the order published, until ctx is done. fn
// runs on the subscription's goroutine and must not block; a subscriber
// that falls far behind loses deltas (NATS slow-consumer limits). Messages
// that do not decode are skipped.
func (b *Bus) SubscribeDeltas(ctx context.Context, fn func(match, eventID, text string)) error {
	root := b.deltaRoot() + "."
	sub, err := b.nc.Subscribe(root+"*", func(m *nats.Msg) {
		match, err := decodeToken(strings.TrimPrefix(m.Subject, root))
		if err != nil {
			return
		}
		id, text, err := decodeDelta(m.Data)
		if err != nil {
			return
		}
		fn(match, id, text)
	})
	if err != nil {
		return fmt.Errorf("bus: subscribe deltas: %w", err)
	}
	context.AfterFunc(ctx, func() { _ = sub.Unsubscribe() })
	// The subscription is registered with the server before a delta
	// published after SubscribeDeltas returns can arrive.
	if err := b.nc.FlushTimeout(drainTimeout); err != nil {
		_ = sub.Unsubscribe()
		return fmt.Errorf("bus: subscribe deltas: %w", err)
	}
	return nil
}

// encodeDelta is the payload of a delta message: the event ID's length as
// a uvarint, the event ID, then the text.
func encodeDelta(id, text string) []byte {
	b := make([]byte, 0, binary.MaxVarintLen64+len(id)+len(text))
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	return append(b, text...)
}

var errBadDelta = errors.New("bus: malformed delta")

func decodeDelta(p []byte) (id, text string, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n == 0 || n > uint64(len(p)-k) || len(p)-k-int(n) == 0 {
		return "", "", errBadDelta
	}
	return string(p[k : k+int(n)]), string(p[k+int(n):]), nil
}
