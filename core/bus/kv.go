package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// MaxValueSize is the largest value KV.Put stores: MaxPayload less room
// for the subject and headers.
const MaxValueSize = MaxPayload - 64<<10

// ErrValueTooLarge is returned by KV.Put for a value above MaxValueSize.
var ErrValueTooLarge = errors.New("bus: state value too large")

// KV is the plugin state bucket, one JetStream key-value bucket per
// deployment. Keys are arbitrary strings, encoded reversibly into valid KV
// keys; values are at most MaxValueSize (8 MiB less 64 KiB). Only the latest value of a key is
// kept. Safe for concurrent use.
type KV struct {
	kv     jetstream.KeyValue
	bucket string
}

// State returns the plugin state bucket.
func (b *Bus) State() *KV { return b.state }

// Get returns the value of key; found is false when the key was never set
// or was deleted.
func (k *KV) Get(ctx context.Context, key string) (value []byte, found bool, err error) {
	e, err := k.kv.Get(ctx, encodeToken(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("bus: state get %q: %w", key, err)
	}
	return e.Value(), true, nil
}

// Put stores value under key, durably, replacing any earlier value.
func (k *KV) Put(ctx context.Context, key string, value []byte) error {
	if len(value) > MaxValueSize {
		return fmt.Errorf("bus: state put %q: %d bytes, at most %d: %w", key, len(value), MaxValueSize, ErrValueTooLarge)
	}
	if _, err := k.kv.Put(ctx, encodeToken(key), value); err != nil {
		return fmt.Errorf("bus: state put %q (%d bytes): %w", key, len(value), err)
	}
	return nil
}

// Delete removes key. Deleting an absent key is not an error.
func (k *KV) Delete(ctx context.Context, key string) error {
	if err := k.kv.Delete(ctx, encodeToken(key)); err != nil {
		return fmt.Errorf("bus: state delete %q: %w", key, err)
	}
	return nil
}
