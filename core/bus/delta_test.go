package bus

import (
	"fmt"
	"testing"
)

type gotDelta struct{ match, id, text string }

// TestDeltas: deltas published by one node (the pipeline) reach every
// other node of the same deployment (broadcast nodes) in order, with match
// IDs of any shape, never those of another prefix, and are not stored in
// JetStream.
func TestDeltas(t *testing.T) {
	url := startExternal(t, "")
	pipe := open(t, Config{URL: url})
	bcast := open(t, Config{URL: url})
	other := open(t, Config{URL: url, Prefix: "blue"})
	got := make(chan gotDelta, 256)
	if err := bcast.SubscribeDeltas(t.Context(), func(m, id, text string) { got <- gotDelta{m, id, text} }); err != nil {
		t.Fatal(err)
	}
	blue := make(chan gotDelta, 1)
	if err := other.SubscribeDeltas(t.Context(), func(m, id, text string) { blue <- gotDelta{m, id, text} }); err != nil {
		t.Fatal(err)
	}
	matches := []string{"1298179", "a.b c", "*", ""}
	for i := range 100 {
		m := matches[i%len(matches)]
		pipe.PublishDelta(m, m+"/1.0.1.0", fmt.Sprintf("word%d ", i))
	}
	for i := range 100 {
		m := matches[i%len(matches)]
		want := gotDelta{m, m + "/1.0.1.0", fmt.Sprintf("word%d ", i)}
		if d := recv(t, got); d != want {
			t.Fatalf("delta %d = %+v, want %+v", i, d, want)
		}
	}
	for _, s := range []string{bcast.names.feedStream, bcast.names.ingestStream} {
		info, err := bcast.js.Stream(t.Context(), s)
		if err != nil {
			t.Fatal(err)
		}
		if n := info.CachedInfo().State.Msgs; n != 0 {
			t.Fatalf("stream %s holds %d messages, want none (deltas are not stored)", s, n)
		}
	}
	// A delta of prefix blue does not reach the unprefixed node: once the
	// server has routed it (both flushes), the next delta that node gets
	// is the unprefixed one published after it.
	other.PublishDelta("m", "m/1", "blue")
	for _, b := range []*Bus{other, bcast} {
		if err := b.nc.FlushTimeout(wait); err != nil {
			t.Fatal(err)
		}
	}
	pipe.PublishDelta("m", "m/2", "after")
	if d := recv(t, got); d != (gotDelta{"m", "m/2", "after"}) {
		t.Fatalf("got %+v, want the unprefixed delta published after prefix blue's", d)
	}
	// Prefix blue got its own delta and none of the 101 unprefixed ones
	// (its channel holds one: a second would block the test).
	if d := recv(t, blue); d != (gotDelta{"m", "m/1", "blue"}) {
		t.Fatalf("prefix blue got %+v, want its own delta", d)
	}
}

func TestDecodeDelta(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		ok   bool
	}{
		{"ok", encodeDelta("id", "text"), true},
		{"empty", nil, false},
		{"no text", encodeDelta("id", ""), false},
		{"no id", encodeDelta("", "text"), false},
		{"length past the end", []byte{9, 'a'}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, text, err := decodeDelta(tc.p)
			if (err == nil) != tc.ok || (tc.ok && (id != "id" || text != "text")) {
				t.Fatalf("decode %q = %q %q %v, want ok=%v", tc.p, id, text, err, tc.ok)
			}
		})
	}
}

func FuzzDeltaPayload(f *testing.F) {
	f.Add("1298179/2.16.4.0", "Driven through cover")
	f.Fuzz(func(t *testing.T, id, text string) {
		gotID, gotText, err := decodeDelta(encodeDelta(id, text))
		if id == "" || text == "" {
			if err == nil {
				t.Fatalf("decoded %q %q from an empty part", gotID, gotText)
			}
			return
		}
		if err != nil || gotID != id || gotText != text {
			t.Fatalf("round trip %q %q = %q %q %v", id, text, gotID, gotText, err)
		}
	})
}
