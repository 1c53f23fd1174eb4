package sportsgameodds

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/core/event"
)

var update = flag.Bool("update", false, "rewrite the expected part of testdata/implied/*.txt")

const separator = "\n----\n"

// describe renders events one a line for the golden files.
func describe(evs []event.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%s %s", e.Kind, e.ID)
		switch {
		case e.Status != nil:
			fmt.Fprintf(&b, " state=%s result=%q winner=%q note=%q", e.Status.State, e.Status.Result, e.Status.Winner, e.Status.Note)
		case e.Innings != nil:
			fmt.Fprintf(&b, " innings=%d team=%q end=%v", e.Innings.Number, e.Innings.Team, e.Innings.End)
		case e.Score != nil:
			fmt.Fprintf(&b, " innings=%d team=%q runs=%d wickets=%d balls=%d", e.Score.Innings, e.Score.Team, e.Score.Runs, e.Score.Wickets, e.Score.Balls)
		}
		if e.Info != nil {
			fmt.Fprintf(&b, " info={title=%q teams=%q venue=%q start=%s}", e.Info.Title, e.Info.Teams, e.Info.Venue, e.Info.Start.Format("2006-01-02T15:04Z"))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// TestImplied reads each testdata/implied file: an Event object, a
// separator line, and the events its state implies.
func TestImplied(t *testing.T) {
	files, _ := filepath.Glob("testdata/implied/*.txt")
	if len(files) == 0 {
		t.Fatal("no testdata")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			in, want, _ := strings.Cut(string(raw), separator)
			var ev Event
			if err := json.Unmarshal([]byte(in), &ev); err != nil {
				t.Fatal(err)
			}
			got := describe(Implied(ev.EventID, &ev))
			if *update {
				if err := os.WriteFile(path, []byte(strings.TrimRight(in, "\n")+separator+got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, want)
			}
			// The same state read again implies the same IDs.
			if again := describe(Implied(ev.EventID, &ev)); again != got {
				t.Fatalf("not deterministic:\n%s\nthen\n%s", got, again)
			}
		})
	}
}

// FuzzImplied: any Event object yields events with unique IDs under the
// match prefix, deterministically, without panicking.
func FuzzImplied(f *testing.F) {
	files, _ := filepath.Glob("testdata/implied/*.txt")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		in, _, _ := strings.Cut(string(b), separator)
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev Event
		if json.Unmarshal(b, &ev) != nil {
			return
		}
		evs := Implied("m", &ev)
		seen := map[string]bool{}
		for _, e := range evs {
			if !strings.HasPrefix(e.ID, "m/") || seen[e.ID] {
				t.Fatalf("bad or repeated ID %q in %s", e.ID, describe(evs))
			}
			seen[e.ID] = true
		}
		if describe(Implied("m", &ev)) != describe(evs) {
			t.Fatal("not deterministic")
		}
	})
}
