package roanuz

import (
	"context"
	"testing"
)

func FuzzDecodeUpdate(f *testing.F) {
	src := excerpt(f)
	env, err := DecodeUpdate(src, 0)
	if err != nil {
		f.Fatal(err)
	}
	for _, enc := range Encodings() {
		p, err := Encode(env, enc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p)
	}
	f.Add([]byte(`{"data":{"key":"m"}}`))
	f.Add([]byte(`"{\"key\":\"m\"}"`))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0})
	f.Add([]byte{0x78, 0x9c})
	f.Fuzz(func(t *testing.T, p []byte) {
		env, err := DecodeUpdate(p, 1<<20)
		if err == nil && (env == nil || env.Data == nil || env.Data.Key == "") {
			t.Fatalf("nil error with no document")
		}
	})
}

// fuzzBackfiller answers every over with the same fuzzed response.
type fuzzBackfiller struct{ bb *BallByBall }

func (f fuzzBackfiller) FetchOver(context.Context, string, string) (*BallByBall, error) {
	if f.bb == nil {
		return nil, ErrNoOver
	}
	return f.bb, nil
}

func FuzzNormalize(f *testing.F) {
	f.Add(excerpt(f), []byte(`{"over":{"index":{"innings":"a_1","over_number":0},"balls":[]}}`))
	m := devMatches(f)[1]
	g, err := NewGenerator("rz_"+m.id, m.evs)
	if err != nil {
		f.Fatal(err)
	}
	g.Document(g.Len() - 1)
	r, err := g.Over("a_1_0")
	if err != nil {
		f.Fatal(err)
	}
	o, err := Encode(r.Data, EncodeJSON)
	if err != nil {
		f.Fatal(err)
	}
	for _, i := range []int{0, 1, 30, g.Len() / 2, g.Len() - 1} {
		p, err := Encode(g.Document(i), EncodeJSON)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p, o)
	}
	f.Fuzz(func(t *testing.T, doc, over []byte) {
		env, err := DecodeUpdate(doc, 1<<20)
		if err != nil {
			return
		}
		bb, _ := DecodeBallByBall(over)
		n := NewNormalizer("", fuzzBackfiller{bb})
		seen := map[string]bool{}
		for range 2 {
			evs, _ := n.Normalize(t.Context(), env.Data)
			for _, ev := range evs {
				if seen[ev.ID] {
					t.Fatalf("event %s emitted twice", ev.ID)
				}
				seen[ev.ID] = true
			}
		}
	})
}
