package sportrix

import (
	"os"
	"testing"
)

// FuzzParseFrame feeds arbitrary frames to the parser and, when they
// parse, to a Tracker twice: nothing may panic, a parsed snapshot must
// name its match and sport, and no event ID may be emitted twice.
func FuzzParseFrame(f *testing.F) {
	evs := devMatches(f)[3].evs
	data := generated(f, 1298179, evs)
	for _, i := range []int{0, 1, 2, 40, len(data) / 2, len(data) - 1} {
		f.Add([]byte(`{"op":"update","data":` + string(data[i]) + `}`))
	}
	if soc, err := os.ReadFile("testdata/soccer.json"); err == nil {
		f.Add([]byte(`{"op":"snapshot","data":` + string(soc[2:len(soc)/3]) + `}`))
	}
	f.Add([]byte(`{"op":"snapshot","data":{"match_id":41282,"sport":"soccer","status":"live","score":{"home":3,"away":2}}}`))
	f.Add([]byte(`{"op":"error","error":"match not live or not found"}`))
	f.Add([]byte(`{"op":"error","match_id":"7","error":"x"}`))
	f.Add([]byte(`{"op":"update","data":{"match_id":1,"sport":"cricket","innings":1,"over":{"number":0,"balls":["1wd","4","W","6+5p"]}}}`))
	f.Add([]byte(`{"op":"update","data":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err != nil {
			return
		}
		if fr.Op != OpError && (fr.MatchID <= 0 || fr.Sport == "") {
			t.Fatalf("parsed %s frame without match or sport: %+v", fr.Op, fr)
		}
		if fr.Op == OpError {
			return
		}
		tr := NewTracker("m")
		seen := map[string]bool{}
		for range 2 {
			evs, _ := tr.Apply(fr)
			for _, ev := range evs {
				if seen[ev.ID] {
					t.Fatalf("event %s emitted twice", ev.ID)
				}
				seen[ev.ID] = true
			}
		}
	})
}
