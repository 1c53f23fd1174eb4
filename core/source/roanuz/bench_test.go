package roanuz

import (
	"testing"

	"github.com/ballcast/ballcast/core/event"
)

// BenchmarkDecodeNormalize measures gunzip + JSON parse + normalize of one
// full-size update: a late document of the longest dev match (a Test, so
// related_balls carries every wicket ball of four innings), fed to a
// Normalizer that has seen the previous document.
func BenchmarkDecodeNormalize(b *testing.B) {
	best, g := longestMatch(b)
	i := g.Len() - 3
	cur, err := Encode(g.Document(i), EncodeGzip)
	if err != nil {
		b.Fatal(err)
	}
	// Seed a normalizer with the match so far; each iteration normalizes
	// the next document (one new ball) and then rolls the state back.
	base := NewNormalizer(best.id, g)
	for j := 0; j < i; j++ {
		if _, err := base.Normalize(b.Context(), g.Document(j).Data); err != nil {
			b.Fatal(err)
		}
	}
	raw, err := Encode(g.Document(i), EncodeJSON)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(cur)), "gzip-bytes/op")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		env, err := DecodeUpdate(cur, 0)
		if err != nil {
			b.Fatal(err)
		}
		snap := base.snapshot()
		evs, err := base.Normalize(b.Context(), env.Data)
		if err != nil || len(evs) == 0 {
			b.Fatalf("%d events, %v", len(evs), err)
		}
		base.restore(snap, evs)
	}
}

type normSnapshot struct {
	n    Normalizer
	inns map[string]inningsState
}

// snapshot and restore let every iteration see the document as new.
func (n *Normalizer) snapshot() normSnapshot {
	s := normSnapshot{n: *n, inns: map[string]inningsState{}}
	for k, st := range n.innings {
		s.inns[k] = *st
	}
	return s
}

func (n *Normalizer) restore(s normSnapshot, evs []event.Event) {
	for _, ev := range evs {
		if ev.Ball != nil {
			for k, rec := range n.balls {
				if rec.id == ev.ID {
					delete(n.balls, k)
				}
			}
		}
	}
	balls, innings := n.balls, n.innings
	*n = s.n
	n.balls, n.innings = balls, innings
	for k, st := range s.inns {
		*n.innings[k] = st
	}
}

// longestMatch returns the dev match with the most events (the Test) and
// its generator: the largest updates a feed sends.
func longestMatch(b *testing.B) (devMatch, *Generator) {
	b.Helper()
	var best devMatch
	for _, m := range devMatches(b) {
		if len(m.evs) > len(best.evs) {
			best = m
		}
	}
	g, err := NewGenerator("rz_"+best.id, best.evs)
	if err != nil {
		b.Fatal(err)
	}
	return best, g
}
