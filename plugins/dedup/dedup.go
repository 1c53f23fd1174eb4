// Package dedup is the de-duplication stage: it drops any event whose ID it
// has already passed for that match, so a ball delivered twice (a provider
// re-send, a reconnect, two providers feeding one match) reaches later stages
// once.
package dedup

import (
	"context"

	"github.com/ballcast/ballcast/plugins/sdk"
)

// Config is the stage's YAML config.
type Config struct {
	// MaxMatches bounds memory: when more matches than this are tracked, the
	// one least recently seen is forgotten. Default 1000.
	MaxMatches int `json:"max_matches"`
}

// Stage drops repeated event IDs per match.
type Stage struct {
	cfg   Config
	seen  map[string]map[string]struct{}
	order []string // matches, least recently seen first
}

var (
	_ sdk.Stage     = (*Stage)(nil)
	_ sdk.Describer = (*Stage)(nil)
)

// New returns a dedup stage.
func New() *Stage {
	return &Stage{cfg: Config{MaxMatches: 1000}, seen: map[string]map[string]struct{}{}}
}

// Describe implements sdk.Describer.
func (s *Stage) Describe() sdk.Description {
	return sdk.Description{
		Name: "dedup", Version: "0.1.0",
		Description:  "drops events whose ID was already passed for the match",
		ConfigSchema: `{"type":"object","properties":{"max_matches":{"type":"integer","minimum":1}},"additionalProperties":false}`,
	}
}

// Configure implements sdk.Stage.
func (s *Stage) Configure(_ context.Context, cfg sdk.Config) error {
	c := Config{MaxMatches: 1000}
	if err := cfg.Decode(&c); err != nil {
		return err
	}
	if c.MaxMatches < 1 {
		c.MaxMatches = 1000
	}
	s.cfg = c
	return nil
}

// Process implements sdk.Stage: it passes an event the first time its ID is
// seen for its match and drops it after that.
func (s *Stage) Process(_ context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	ids := s.match(ev.GetMatch())
	if _, dup := ids[ev.GetId()]; dup {
		return nil, nil
	}
	ids[ev.GetId()] = struct{}{}
	return []*sdk.Event{ev}, nil
}

func (s *Stage) match(m string) map[string]struct{} {
	ids, ok := s.seen[m]
	if ok {
		if s.order[len(s.order)-1] != m {
			for i, o := range s.order {
				if o == m {
					s.order = append(append(s.order[:i:i], s.order[i+1:]...), m)
					break
				}
			}
		}
		return ids
	}
	if len(s.order) >= s.cfg.MaxMatches {
		delete(s.seen, s.order[0])
		s.order = s.order[1:]
	}
	ids = map[string]struct{}{}
	s.seen[m] = ids
	s.order = append(s.order, m)
	return ids
}
