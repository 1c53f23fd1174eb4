package roanuz

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
)

type devMatch struct {
	id  string
	evs []event.Event
}

func devMatches(t testing.TB) []devMatch {
	t.Helper()
	var out []devMatch
	for _, f := range cricsheettest.CricsheetFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		evs, err := replay.Parse(id, data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, devMatch{id, evs})
	}
	return out
}

func ballsOf(evs []event.Event) []event.Event {
	var out []event.Event
	for _, ev := range evs {
		if ev.Kind == event.KindBall {
			out = append(out, ev)
		}
	}
	return out
}

// feed sends docs (indexes into the generator, in the given order) through
// the wire and a Normalizer and returns every event emitted plus the errors.
func feed(t *testing.T, g *Generator, n *Normalizer, order []int, mutate func(i int, env *Envelope)) ([]event.Event, []error) {
	t.Helper()
	var all []event.Event
	var errs []error
	for k, i := range order {
		env := g.Document(i)
		if mutate != nil {
			mutate(i, env)
		}
		// Every eighth document goes through the wire, cycling the
		// encodings; the rest are handed over decoded, to keep the test fast.
		if k%8 == 0 {
			enc := Encoding(k / 8 % int(numEncodings))
			payload, err := Encode(env, enc)
			if err != nil {
				t.Fatalf("encode doc %d: %v", i, err)
			}
			if env, err = DecodeUpdate(payload, 0); err != nil {
				t.Fatalf("decode doc %d (%s): %v", i, enc, err)
			}
		}
		evs, err := n.Normalize(t.Context(), env.Data)
		if err != nil {
			errs = append(errs, err)
		}
		all = append(all, evs...)
	}
	return all, errs
}

func compareBalls(t *testing.T, got, want []event.Event) {
	t.Helper()
	for i := 0; i < len(got) && i < len(want); i++ {
		g, w := got[i], want[i]
		if g.ID != w.ID || !reflect.DeepEqual(*g.Ball, *w.Ball) {
			t.Fatalf("ball %d: got %s %+v\nwant %s %+v", i, g.ID, *g.Ball, w.ID, *w.Ball)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("got %d balls, want %d", len(got), len(want))
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range devMatches(t) {
		want := ballsOf(m.evs)
		g, err := NewGenerator("rz_"+m.id, m.evs)
		if err != nil {
			t.Fatal(err)
		}
		total := g.Len()
		firstOf2 := 0 // document index of the first ball of innings 2
		for i, b := range want {
			if b.Ball.Innings == 2 {
				firstOf2 = i + 1
				break
			}
		}
		cases := []struct {
			name  string
			order []int
			bf    bool
		}{
			{"in order", seq(0, total), true},
			{"gaps", dropIdx(seq(0, total), func(i int) bool {
				return i%5 == 3 || i > total/3 && i < total/3+45 || i > firstOf2-30 && i < firstOf2+3
			}), true},
			{"dups and swaps", dupSwap(seq(0, total)), true},
		}
		for _, tc := range cases {
			t.Run(m.id+"/"+tc.name, func(t *testing.T) {
				var bf Backfiller
				if tc.bf {
					bf = g
				}
				n := NewNormalizer(m.id, bf)
				evs, errs := feed(t, g, n, tc.order, nil)
				if len(errs) > 0 {
					t.Fatalf("errors: %v", errors.Join(errs...))
				}
				compareBalls(t, ballsOf(evs), want)
				checkFrame(t, evs, m.evs[len(m.evs)-1].Status.State)
			})
		}
	}
}

// checkFrame checks innings start/end bracket the balls and completion is last.
func checkFrame(t *testing.T, evs []event.Event, final string) {
	t.Helper()
	ids := map[string]int{}
	for _, ev := range evs {
		ids[ev.ID]++
		if ids[ev.ID] > 1 {
			t.Fatalf("event %s emitted twice", ev.ID)
		}
	}
	last := evs[len(evs)-1]
	if last.Kind != event.KindStatus || last.Status.State != final {
		t.Fatalf("last event %s, want status %s", last.ID, final)
	}
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func dropIdx(in []int, drop func(int) bool) []int {
	var out []int
	for _, i := range in {
		if !drop(i) || i == len(in)-1 {
			out = append(out, i)
		}
	}
	return out
}

func dupSwap(in []int) []int {
	out := append([]int(nil), in...)
	for i := 5; i+1 < len(out)-1; i += 11 {
		out[i], out[i+1] = out[i+1], out[i]
	}
	var res []int
	for i, v := range out {
		res = append(res, v)
		if i%7 == 0 {
			res = append(res, v)
		}
	}
	return res
}

func TestRoundTripCorrection(t *testing.T) {
	m := devMatches(t)[0]
	want := ballsOf(m.evs)
	g, err := NewGenerator("rz_"+m.id, m.evs)
	if err != nil {
		t.Fatal(err)
	}
	const j = 100 // document j shows delivery j-1 wrongly scored
	key := g.Ball(j - 1).Key
	n := NewNormalizer(m.id, g)
	evs, errs := feed(t, g, n, seq(0, g.Len()), func(i int, env *Envelope) {
		b, ok := env.Data.Play.RelatedBalls[key]
		if !ok {
			return
		}
		switch {
		case i == j:
			b.Batsman.Runs++
			b.TeamScore.Runs++
		case i > j:
			b.UpdatedTime += 5
		}
		env.Data.Play.RelatedBalls[key] = b
	})
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	var base, fixes []event.Event
	for _, ev := range ballsOf(evs) {
		if ev.Ball.Revision == 0 {
			base = append(base, ev)
		} else {
			fixes = append(fixes, ev)
		}
	}
	if len(fixes) != 1 {
		t.Fatalf("got %d corrections, want 1", len(fixes))
	}
	fix := fixes[0]
	if fix.ID != want[j-1].ID+"#r1" || fix.Ball.Revision != 1 {
		t.Fatalf("correction %s rev %d, want %s#r1 rev 1", fix.ID, fix.Ball.Revision, want[j-1].ID)
	}
	if base[j-1].Ball.RunsBat != want[j-1].Ball.RunsBat+1 {
		t.Fatalf("first report runs %d, want the wrong %d", base[j-1].Ball.RunsBat, want[j-1].Ball.RunsBat+1)
	}
	base[j-1] = fix
	base[j-1].ID = want[j-1].ID
	b := *fix.Ball
	b.Revision = 0
	base[j-1].Ball = &b
	compareBalls(t, base, want)
}

func TestRoundTripNoBackfill(t *testing.T) {
	for _, m := range devMatches(t)[:3] {
		t.Run(m.id, func(t *testing.T) {
			want := ballsOf(m.evs)
			g, err := NewGenerator("rz_"+m.id, m.evs)
			if err != nil {
				t.Fatal(err)
			}
			total := g.Len()
			order := dropIdx(seq(0, total), func(i int) bool { return i > total/3 && i < total/3+45 })
			n := NewNormalizer(m.id, nil)
			evs, errs := feed(t, g, n, order, nil)
			if len(errs) == 0 || !errors.Is(errors.Join(errs...), ErrGap) {
				t.Fatalf("errors %v, want a gap", errs)
			}
			got := ballsOf(evs)
			pos := map[string]int{}
			for i, w := range want {
				pos[w.ID] = i
			}
			prev := -1
			for _, ev := range got {
				p, ok := pos[ev.ID]
				if !ok || p <= prev {
					t.Fatalf("ball %s out of order or unknown (prev index %d)", ev.ID, prev)
				}
				if !reflect.DeepEqual(*ev.Ball, *want[p].Ball) {
					t.Fatalf("ball %s: got %+v, want %+v", ev.ID, *ev.Ball, *want[p].Ball)
				}
				prev = p
			}
			if len(got) >= len(want) {
				t.Fatalf("got %d balls with a gap, want fewer than %d", len(got), len(want))
			}
			_ = fmt.Sprint()
		})
	}
}
