package ingest

import (
	"context"
	"strings"

	"github.com/ballcast/ballcast/core/event"
)

// Rename wraps src so that the events of each provider match ID listed in
// matches carry the ballcast match ID it maps to instead, in Match and in
// the match prefix of ID ("<match>/<occurrence>"). Two sources renamed onto
// one match then give the same real-world occurrence the same ID, so the
// log and the dedup stage keep it once whichever provider delivered it
// first. Matches not listed pass unchanged. A nil or empty matches returns
// src itself.
//
// The wrapper passes Resume on to a Resumer src, translating match IDs both
// ways, so a renamed replay still resumes after a restart.
func Rename(src Source, matches map[string]string) Source {
	if len(matches) == 0 {
		return src
	}
	r := &renamed{Source: src, to: matches, from: make(map[string]string, len(matches))}
	for k, v := range matches {
		r.from[v] = k
	}
	if _, ok := src.(Resumer); ok {
		return &renamedResumer{r}
	}
	return r
}

type renamed struct {
	Source
	to   map[string]string // provider → ballcast
	from map[string]string // ballcast → provider
}

// Run forwards src's events to out, renamed. The forwarding goroutine ends
// with src.Run, after handing on everything src sent.
func (r *renamed) Run(ctx context.Context, out chan<- event.Event) error {
	in := make(chan event.Event)
	done := make(chan error, 1)
	go func() { done <- r.Source.Run(ctx, in) }()
	for {
		select {
		case ev := <-in:
			r.rename(&ev)
			select {
			case out <- ev:
			case <-ctx.Done():
				return <-done
			}
		case err := <-done:
			return err
		}
	}
}

func (r *renamed) rename(ev *event.Event) {
	to, ok := r.to[ev.Match]
	if !ok {
		return
	}
	if rest, ok := strings.CutPrefix(ev.ID, ev.Match+"/"); ok {
		ev.ID = to + "/" + rest
	}
	ev.Match = to
}

type renamedResumer struct{ *renamed }

// Resume hands src a last-ID function that asks the log under the
// ballcast match ID and answers in the provider's terms.
func (r *renamedResumer) Resume(last func(ctx context.Context, match string) (string, bool, error)) {
	r.Source.(Resumer).Resume(func(ctx context.Context, match string) (string, bool, error) {
		to, ok := r.to[match]
		if !ok {
			return last(ctx, match)
		}
		id, found, err := last(ctx, to)
		if rest, cut := strings.CutPrefix(id, to+"/"); cut {
			id = match + "/" + rest
		}
		return id, found, err
	})
}
