package replay

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ballcast/ballcast/core/event"
)

func TestBundledMatch(t *testing.T) {
	evs, err := Parse("1298179", Bundled())
	if err != nil {
		t.Fatal(err)
	}
	var balls, runs int
	ids := map[string]bool{}
	for _, ev := range evs {
		if ids[ev.ID] {
			t.Fatalf("duplicate ID %s", ev.ID)
		}
		ids[ev.ID] = true
		if ev.Kind == event.KindBall {
			balls++
			runs += ev.Ball.Runs()
		}
	}
	// Pakistan 137/8 and England 138/5: 275 runs between them.
	if runs != 275 {
		t.Errorf("runs = %d, want 275", runs)
	}
	first, last := evs[0], evs[len(evs)-1]
	if first.Kind != event.KindStatus || first.Info == nil || first.Info.Teams[0] != "Pakistan" {
		t.Errorf("first event = %+v, want live status with match info", first)
	}
	if last.Status == nil || last.Status.Result != "England won by 5 wickets" {
		t.Errorf("last event status = %+v, want England won by 5 wickets", last.Status)
	}
	if balls < 240 {
		t.Errorf("balls = %d, want at least 234 legal deliveries plus extras", balls)
	}
}

func TestBallPositions(t *testing.T) {
	// A wide before the third legal ball shares position 3 with the re-bowled ball.
	evs, err := Parse("m", []byte(`{"info":{"teams":["A","B"],"outcome":{"result":"no result"}},"innings":[{"team":"A","overs":[{"over":0,"deliveries":[
		{"batter":"a","bowler":"b","non_striker":"c","runs":{"batter":0,"extras":0,"total":0}},
		{"batter":"a","bowler":"b","non_striker":"c","runs":{"batter":0,"extras":0,"total":0}},
		{"batter":"a","bowler":"b","non_striker":"c","runs":{"batter":0,"extras":1,"total":1},"extras":{"wides":1}},
		{"batter":"a","bowler":"b","non_striker":"c","runs":{"batter":4,"extras":0,"total":4}}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, ev := range evs {
		if ev.Kind == event.KindBall {
			keys = append(keys, ev.Ball.Key())
		}
	}
	want := []string{"1.0.1.0", "1.0.2.0", "1.0.3.0", "1.0.3.1"}
	if len(keys) != len(want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("keys = %v, want %v", keys, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, in := range map[string]string{
		"not json":  `{`,
		"no teams":  `{"info":{},"innings":[]}`,
		"wrong doc": `{"hello":"world"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse("x", []byte(in)); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestParseSpeed(t *testing.T) {
	for in, want := range map[string]string{"": "0s", "max": "0s", "realtime": "40s", "20x": "2s", "500ms": "500ms"} {
		d, err := ParseSpeed(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseSpeed(%q) = %v, %v; want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"fast", "0x", "-1s"} {
		if _, err := ParseSpeed(bad); err == nil {
			t.Errorf("ParseSpeed(%q): want error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Bundled())
	if files, _ := filepath.Glob("matches/*.json"); len(files) > 0 {
		if b, err := os.ReadFile(files[0]); err == nil {
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte(`{"info":{"teams":["A","B"]},"innings":[{"team":"A","overs":[{"over":0,"deliveries":[{}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := Parse("f", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, ev := range evs {
			if ev.Kind == event.KindBall && seen[ev.ID] {
				t.Fatalf("duplicate ball id %s", ev.ID)
			}
			seen[ev.ID] = true
		}
	})
}

func TestResumeContinuesAfterTheLastLoggedEvent(t *testing.T) {
	src, err := New(Config{Speed: "max", Loop: false})
	if err != nil {
		t.Fatal(err)
	}
	all := src.Matches()[0].Events
	cases := []struct {
		name   string
		last   string
		ok     bool
		wantN  int
		wantID string
	}{
		{"nothing logged", "", false, len(all), all[0].ID},
		{"half logged", all[100].ID, true, len(all) - 101, all[101].ID},
		{"all logged", all[len(all)-1].ID, true, 0, ""},
		{"unknown id replays all", "other/1.0.1.0", true, len(all), all[0].ID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src.Resume(func(_ context.Context, match string) (string, bool, error) {
				if match != all[0].Match {
					t.Errorf("asked for match %q", match)
				}
				return tc.last, tc.ok, nil
			})
			out := make(chan event.Event, len(all))
			if err := src.Run(t.Context(), out); err != nil {
				t.Fatal(err)
			}
			close(out)
			var got []event.Event
			for ev := range out {
				got = append(got, ev)
			}
			if len(got) != tc.wantN {
				t.Fatalf("emitted %d events, want %d", len(got), tc.wantN)
			}
			if tc.wantN > 0 && got[0].ID != tc.wantID {
				t.Errorf("first event %s, want %s", got[0].ID, tc.wantID)
			}
		})
	}
}
