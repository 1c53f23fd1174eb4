// Package dedup is the de-duplication stage: it drops any event whose ID it
// has already passed for that match, so a ball delivered twice (a provider
// re-send, a reconnect, two providers feeding one match) reaches later stages
// once.
//
// An event with the same ID and the same non-zero Seq as the one passed is
// not a duplicate but a redelivery of the same ingest log entry (the
// pipeline is at-least-once: after a crash, or when a batch's answer was
// lost, it sends the entry again); it is passed again, so a retried batch
// gives the same output. A repeated ID with another Seq, or with Seq 0
// (unknown), is a true duplicate and is dropped.
//
// State, the ID and Seq of every event passed, lives in the store the host
// offers (sdk.Config.Store) as an append-only log per match in chunks of 256
// entries ("match/<id>/<n>"), loaded the first time a match is seen after a
// (re)start and appended to after every batch that passed a new event of
// it; a restarted plugin carries on where the old one stopped.
package dedup

import (
	"context"
	"fmt"
	"slices"

	"github.com/ballcast/ballcast/plugins/internal/eventlog"
	"github.com/ballcast/ballcast/plugins/sdk"
)

// Config is the stage's YAML config.
type Config struct {
	// MaxMatches bounds memory: when more matches than this are held, the
	// one least recently seen is dropped from memory (its state stays in
	// the store and is loaded again when the match comes back). Default 1000.
	MaxMatches int `json:"max_matches"`
}

// Stage drops repeated event IDs per match.
type Stage struct {
	cfg   Config
	store sdk.Store
	seen  map[string]*match
	order []string // matches, least recently seen first
}

// match is the dedup state of one match.
type match struct {
	id   string
	seqs map[string]uint64 // Seq each passed ID was passed with
	log  eventlog.Log      // the passed IDs and Seqs, in the store
}

var (
	_ sdk.Stage      = (*Stage)(nil)
	_ sdk.BatchStage = (*Stage)(nil)
	_ sdk.Describer  = (*Stage)(nil)
)

// New returns a dedup stage.
func New() *Stage {
	return &Stage{cfg: Config{MaxMatches: 1000}, store: sdk.NewMemStore(), seen: map[string]*match{}}
}

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name: "dedup", Version: "0.2.0",
		Description:  "drops events whose ID was already passed for the match",
		ConfigSchema: `{"type":"object","properties":{"max_matches":{"type":"integer","minimum":1}},"additionalProperties":false}`,
	}
}

// Configure implements sdk.Stage. It forgets what it holds in memory: the
// store is the truth, and a new store may come with the new config.
func (s *Stage) Configure(_ context.Context, cfg sdk.Config) error {
	c := Config{MaxMatches: 1000}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.MaxMatches < 1 {
		c.MaxMatches = 1000
	}
	s.cfg = c
	s.store = cfg.Store()
	s.seen, s.order = map[string]*match{}, nil
	return nil
}

// Process implements sdk.Stage: it passes an event the first time its ID is
// seen for its match, and again when the same log entry is redelivered, and
// drops it after that.
func (s *Stage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	outs, errs := s.ProcessBatch(ctx, []*sdk.Event{ev})
	return outs[0], errs[0]
}

// ProcessBatch implements sdk.BatchStage: the state of every match the
// batch changed is stored once, at the end. When a match's state cannot be
// loaded or stored, its events in the batch fail and the host retries them;
// the retry is recognised as a redelivery.
func (s *Stage) ProcessBatch(ctx context.Context, batch []*sdk.Event) ([][]*sdk.Event, []error) {
	outs := make([][]*sdk.Event, len(batch))
	errs := make([]error, len(batch))
	var touched []*match
	for i, ev := range batch {
		m, err := s.match(ctx, ev.GetMatch())
		if err != nil {
			errs[i] = err
			continue
		}
		if m.pass(ev) {
			outs[i] = []*sdk.Event{ev}
		}
		if m.log.Pending() && !slices.Contains(touched, m) {
			touched = append(touched, m)
		}
	}
	for _, m := range touched {
		err := s.save(ctx, m)
		if err == nil {
			continue
		}
		for i, ev := range batch {
			if ev.GetMatch() == m.id && errs[i] == nil {
				outs[i], errs[i] = nil, err
			}
		}
	}
	return outs, errs
}

// pass reports whether ev is passed on, recording it if it is new.
func (m *match) pass(ev *sdk.Event) bool {
	seq, seen := m.seqs[ev.GetId()]
	if !seen {
		m.seqs[ev.GetId()] = ev.GetSeq()
		m.log.Append(&sdk.Event{Id: ev.GetId(), Seq: ev.GetSeq()})
		return true
	}
	return seq != 0 && seq == ev.GetSeq()
}

func (s *Stage) save(ctx context.Context, m *match) error {
	if err := m.log.Flush(ctx, s.store); err != nil {
		return fmt.Errorf("dedup: store match %s: %w", m.id, err)
	}
	return nil
}

// match returns the state of match id, loading it from the store the first
// time it is seen since the start or since it was evicted.
func (s *Stage) match(ctx context.Context, id string) (*match, error) {
	if m, ok := s.seen[id]; ok {
		if s.order[len(s.order)-1] != id {
			for i, o := range s.order {
				if o == id {
					s.order = append(append(s.order[:i:i], s.order[i+1:]...), id)
					break
				}
			}
		}
		return m, nil
	}
	m := &match{id: id, seqs: map[string]uint64{}, log: eventlog.New("match/"+id, chunkSize)}
	err := m.log.Load(ctx, s.store, func(ev *sdk.Event) {
		if _, ok := m.seqs[ev.GetId()]; !ok {
			m.seqs[ev.GetId()] = ev.GetSeq()
		}
	})
	if err != nil {
		return nil, fmt.Errorf("dedup: load match %s: %w", id, err)
	}
	if len(s.order) >= s.cfg.MaxMatches {
		old := s.seen[s.order[0]]
		if old.log.Pending() {
			// Its last store failed; try once more. If this fails too, the
			// IDs of the failed batch are forgotten, and their retry passes.
			_ = s.save(ctx, old)
		}
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	s.seen[id] = m
	s.order = append(s.order, id)
	return m, nil
}
