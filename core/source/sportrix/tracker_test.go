package sportrix

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
)

type devMatch struct {
	id  int64
	evs []event.Event
}

func devMatches(t testing.TB) []devMatch {
	t.Helper()
	var out []devMatch
	for _, f := range cricsheettest.CricsheetFiles(t) {
		m, err := replay.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		id, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), ".json"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, devMatch{id, m.Events})
	}
	return out
}

// frames turns generated snapshot data into update frames.
func frames(t testing.TB, id int64, evs []event.Event) []Frame {
	t.Helper()
	data, err := Generate(id, evs)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Frame, len(data))
	for i, d := range data {
		f, err := ParseFrame([]byte(`{"op":"update","data":` + string(d) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = f
	}
	return out
}

// comparable strips what the two sources legitimately disagree on.
func comparable(ev event.Event) event.Event {
	ev.Source, ev.Time, ev.Info = "", time.Time{}, nil
	if ev.Innings != nil {
		in := *ev.Innings
		in.PenaltyRuns, in.Forfeited = 0, false
		ev.Innings = &in
	}
	return ev
}

// TestTrackerReproducesReplay feeds every snapshot of every dev match, in
// order, and wants exactly the replay source's events: same IDs in the
// same order, and the same balls field by field.
func TestTrackerReproducesReplay(t *testing.T) {
	for _, m := range devMatches(t) {
		t.Run(strconv.FormatInt(m.id, 10), func(t *testing.T) {
			tr := NewTracker(strconv.FormatInt(m.id, 10))
			var got []event.Event
			for _, f := range frames(t, m.id, m.evs) {
				evs, err := tr.Apply(f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, evs...)
			}
			want := m.evs
			for i := range min(len(got), len(want)) {
				g, w := comparable(got[i]), comparable(want[i])
				if g.ID != w.ID {
					t.Fatalf("event %d is %s, want %s", i, g.ID, w.ID)
				}
				if !reflect.DeepEqual(g, w) {
					t.Fatalf("event %s differs:\n got %s\nwant %s", g.ID, js(g), js(w))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d events, want %d", len(got), len(want))
			}
			if tr.Gaps() != 0 {
				t.Fatalf("gaps %d, want 0", tr.Gaps())
			}
		})
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

var _ = fmt.Sprint
var _ = os.ReadFile
