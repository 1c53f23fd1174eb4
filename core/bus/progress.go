package bus

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// LastID returns the ID of the last entry appended for match; ok is false
// when the log holds none. Sources that can resume (a replay) use it to
// continue after a restart where the log stops (ingest.LastIDer).
func (b *Bus) LastID(ctx context.Context, match string) (id string, ok bool, err error) {
	raw, err := b.ingest.GetLastMsgForSubject(ctx, b.names.ingestSubject(match))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("bus: last id %s: %w", match, err)
	}
	ev, err := decodeEvent(raw.Data)
	if err != nil {
		return "", false, fmt.Errorf("bus: last id %s: entry %d: %w", match, raw.Sequence, err)
	}
	return ev.ID, true, nil
}

// IngestPending is how many ingest entries the pipeline has not yet
// acknowledged: not yet delivered plus delivered and unacknowledged, as
// the newest pipeline consumer counts them. Zero means the pipeline has
// caught up with the log. Without a consumer it is the whole log.
func (b *Bus) IngestPending(ctx context.Context) (uint64, error) {
	var (
		newest *jetstream.ConsumerInfo
		gen    int
	)
	lister := b.ingest.ListConsumers(ctx)
	for info := range lister.Info() {
		if g, ok := b.generation(info.Name); ok && g > gen {
			newest, gen = info, g
		}
	}
	if err := lister.Err(); err != nil {
		return 0, fmt.Errorf("bus: ingest pending: %w", err)
	}
	if newest == nil {
		info, err := b.ingest.Info(ctx)
		if err != nil {
			return 0, fmt.Errorf("bus: ingest pending: %w", err)
		}
		return info.State.Msgs, nil
	}
	return newest.NumPending + uint64(newest.NumAckPending), nil
}

// FeedEpoch names the feed stream's numbering: it is derived from the
// stream's creation time, so every broadcast node of a deployment, and the
// same node after a restart, gets the same epoch, and it changes only when
// the feed is recreated (its history, and so every frame number, gone).
func (b *Bus) FeedEpoch(ctx context.Context) (string, error) {
	info, err := b.feed.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("bus: feed epoch: %w", err)
	}
	return "f" + strconv.FormatInt(info.Created.UnixNano(), 36), nil
}
