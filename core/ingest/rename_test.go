package ingest

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
)

// Two providers cover one match under their own IDs; renamed onto one
// ballcast match, the log keeps each ball once whichever sent it first.
func TestRenameMergesTwoProvidersIntoOneMatch(t *testing.T) {
	log := &memLog{entries: map[string][]event.Event{}, ids: map[string]bool{}}
	a := Rename(&fakeSource{name: "a", events: evs("901", 6)[:4]}, map[string]string{"901": "final"})
	// b is behind a, then carries on after a stops; its other match passes.
	b := Rename(&fakeSource{name: "b", events: append(evs("x-17", 6)[2:], evs("other", 1)...)},
		map[string]string{"x-17": "final"})
	if err := New(zerolog.Nop(), a, b).Append(t.Context(), log); err != nil {
		t.Fatal(err)
	}
	got := log.entries["final"]
	if len(got) != 6 {
		t.Fatalf("final holds %d entries, want 6: %v", len(got), got)
	}
	seen := map[string]bool{}
	for i, ev := range got {
		if ev.Match != "final" || ev.Seq != uint64(i+1) {
			t.Errorf("entry %d: match %q seq %d", i, ev.Match, ev.Seq)
		}
		seen[ev.ID] = true
	}
	for i := range 6 {
		if id := "final/" + string(rune('0'+i)); !seen[id] {
			t.Errorf("%s missing", id)
		}
	}
	if len(log.entries["other"]) != 1 || log.entries["other"][0].ID != "other/0" {
		t.Errorf("unmapped match changed: %v", log.entries["other"])
	}
}

func TestRenamePassesResumeThrough(t *testing.T) {
	src := &resumingSource{fakeSource: fakeSource{name: "p"}}
	r := Rename(src, map[string]string{"901": "final"})
	if _, ok := r.(Resumer); !ok {
		t.Fatal("renamed Resumer is not a Resumer")
	}
	r.(Resumer).Resume(func(_ context.Context, match string) (string, bool, error) {
		if match != "final" {
			t.Errorf("log asked about %q, want final", match)
		}
		return "final/41", true, nil
	})
	id, ok, err := src.last(t.Context(), "901")
	if err != nil || !ok || id != "901/41" {
		t.Errorf("resume point %q %v %v, want 901/41", id, ok, err)
	}
	if _, ok := Rename(&fakeSource{}, map[string]string{"a": "b"}).(Resumer); ok {
		t.Error("a plain source became a Resumer")
	}
}
