package dedup

import (
	"testing"

	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

func TestDedup(t *testing.T) {
	c := sdktest.Start(t, New(), map[string]any{"max_matches": 2})
	cases := []struct {
		name, match, id string
		pass            bool
	}{
		{"first ball passes", "m1", "m1/1.0.1.0", true},
		{"same ball again is dropped", "m1", "m1/1.0.1.0", false},
		{"next ball passes", "m1", "m1/1.0.2.0", true},
		{"same id in another match passes", "m2", "m1/1.0.1.0", true},
		{"still dropped in m1", "m1", "m1/1.0.2.0", false},
		{"a third match evicts the least recent (m2)", "m3", "x", true},
		{"m1 was kept: it was used more recently than m2", "m1", "m1/1.0.1.0", false},
		{"m2 was forgotten", "m2", "m1/1.0.1.0", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Process(&sdk.Event{Id: tc.id, Match: tc.match, Kind: "ball"})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(out) == 1; got != tc.pass {
				t.Fatalf("passed = %v, want %v", got, tc.pass)
			}
			if tc.pass && out[0].GetId() != tc.id {
				t.Fatalf("got id %q, want %q", out[0].GetId(), tc.id)
			}
		})
	}
}

func TestDedupRejectsUnknownConfig(t *testing.T) {
	s := New()
	if err := s.Configure(t.Context(), sdk.NewConfig("dedup", []byte(`{"max_match":3}`))); err == nil {
		t.Fatal("want error for unknown key max_match")
	}
}
