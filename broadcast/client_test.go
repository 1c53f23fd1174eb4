package broadcast

import (
	"slices"
	"testing"

	"github.com/rs/zerolog"
)

// TestQueueCoalescing pins down exactly what latest-value mode replaces: an
// unsent event frame of the same match, and nothing across another frame
// of that match.
func TestQueueCoalescing(t *testing.T) {
	ev := func(match string, seq int) item {
		return item{frame: []byte(match + "/" + string(rune('0'+seq))), op: OpEvent, match: match}
	}
	other := func(op, match string) item { return item{frame: []byte(op + "/" + match), op: op, match: match} }
	type push struct {
		it     item
		latest bool
	}
	tests := []struct {
		name          string
		pushes        []push
		want          []string
		wantCoalesced uint64
	}{
		{
			name:   "all mode keeps every event",
			pushes: []push{{other(OpSnapshot, "a"), false}, {ev("a", 1), false}, {ev("a", 2), false}},
			want:   []string{"snapshot/a", "a/1", "a/2"},
		},
		{
			name:          "latest replaces the unsent event in place",
			pushes:        []push{{other(OpSnapshot, "a"), false}, {ev("a", 1), true}, {ev("a", 2), true}, {ev("a", 3), true}},
			want:          []string{"snapshot/a", "a/3"},
			wantCoalesced: 2,
		},
		{
			name:          "per match",
			pushes:        []push{{ev("a", 1), true}, {ev("b", 1), true}, {ev("a", 2), true}, {ev("b", 2), true}},
			want:          []string{"a/2", "b/2"},
			wantCoalesced: 2,
		},
		{
			name:   "another frame of the match is never overtaken",
			pushes: []push{{ev("a", 1), true}, {other(OpSnapshot, "a"), false}, {ev("a", 2), true}, {ev("a", 3), true}},
			want:   []string{"a/1", "snapshot/a", "a/3"}, wantCoalesced: 1,
		},
		{
			name:   "a frame of another match does not stop it",
			pushes: []push{{ev("a", 1), true}, {other(OpUnsubscribed, "b"), false}, {ev("a", 2), true}},
			want:   []string{"a/2", "unsubscribed/b"}, wantCoalesced: 1,
		},
		{
			name:   "an all-mode event is not replaced",
			pushes: []push{{ev("a", 1), false}, {ev("a", 2), true}, {ev("a", 3), true}},
			want:   []string{"a/1", "a/3"}, wantCoalesced: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st hubStats
			c := newClient(TransportWS, 8, zerolog.Nop(), &st)
			for _, p := range tc.pushes {
				if !c.push(p.it, p.latest) {
					t.Fatalf("push: got false, want true")
				}
			}
			var got []string
			for _, it := range c.take() {
				got = append(got, string(it.frame))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("queue: got %q, want %q", got, tc.want)
			}
			if n := st.coalesced.Load(); n != tc.wantCoalesced {
				t.Fatalf("coalesced: got %d, want %d", n, tc.wantCoalesced)
			}
			// Once taken (written), nothing is replaced any more.
			c.push(ev("a", 8), true)
			c.push(ev("a", 9), true)
			if got := c.take(); len(got) != 1 || string(got[0].frame) != "a/9" {
				t.Fatalf("after take: got %d items, want a/9 alone", len(got))
			}
		})
	}
}

func TestQueueFull(t *testing.T) {
	var st hubStats
	c := newClient(TransportWS, 2, zerolog.Nop(), &st)
	a := item{frame: []byte("x"), op: OpEvent, match: "a"}
	for i := range 2 {
		if !c.push(a, false) {
			t.Fatalf("push %d within capacity: got false, want true", i)
		}
	}
	if c.push(a, false) {
		t.Fatalf("push over capacity: got true, want false")
	}
	c.take()
	for i := range 3 {
		if !c.push(a, true) {
			t.Fatalf("latest push %d: got false, want true (they coalesce)", i)
		}
	}
}

func TestParseEventID(t *testing.T) {
	tests := []struct {
		id        string
		wantEpoch string
		wantSeq   uint64
		wantOK    bool
	}{
		{"E:12", "E", 12, true},
		{"feed:2026-11-23T20:00:00Z:412", "feed:2026-11-23T20:00:00Z", 412, true},
		{"E:0", "E", 0, true},
		{"12", "", 0, false},
		{":12", "", 0, false},
		{"E:", "", 0, false},
		{"E:-1", "", 0, false},
		{"E x:1", "", 0, false},
	}
	for _, tc := range tests {
		e, s, ok := parseEventID(tc.id)
		if e != tc.wantEpoch || s != tc.wantSeq || ok != tc.wantOK {
			t.Fatalf("parseEventID(%q): got %q %d %v, want %q %d %v", tc.id, e, s, ok, tc.wantEpoch, tc.wantSeq, tc.wantOK)
		}
	}
}
