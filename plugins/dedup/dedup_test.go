package dedup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

type step struct {
	name, match, id string
	seq             uint64
	pass            bool
}

func runSteps(t *testing.T, c *sdktest.Client, steps []step) {
	t.Helper()
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.Process(&sdk.Event{Id: tc.id, Match: tc.match, Seq: tc.seq, Kind: "ball"})
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

func TestDedup(t *testing.T) {
	c := sdktest.Start(t, New(), map[string]any{"max_matches": 2})
	runSteps(t, c, []step{
		{"first ball passes", "m1", "m1/1.0.1.0", 0, true},
		{"same ball again is dropped", "m1", "m1/1.0.1.0", 0, false},
		{"next ball passes", "m1", "m1/1.0.2.0", 0, true},
		{"same id in another match passes", "m2", "m1/1.0.1.0", 0, true},
		{"still dropped in m1", "m1", "m1/1.0.2.0", 0, false},
		{"a third match evicts the least recent (m2) from memory", "m3", "x", 0, true},
		{"m1 was kept: it was used more recently than m2", "m1", "m1/1.0.1.0", 0, false},
		{"m2 is loaded back from the store: still dropped", "m2", "m1/1.0.1.0", 0, false},
	})
}

// A redelivery (same ID, same Seq) is the same log entry sent again and
// gets the same answer; a repeat with another Seq is a duplicate.
func TestDedupRedelivery(t *testing.T) {
	c := sdktest.Start(t, New(), nil)
	runSteps(t, c, []step{
		{"first delivery passes", "m", "m/1.0.1", 1, true},
		{"redelivery of the same entry passes again", "m", "m/1.0.1", 1, true},
		{"same id under a new seq is a duplicate", "m", "m/1.0.1", 2, false},
		{"redelivery of that duplicate is dropped again", "m", "m/1.0.1", 2, false},
		{"an earlier seq with the id is a duplicate too", "m", "m/1.0.1", 0, false},
		{"next ball passes", "m", "m/1.0.2", 3, true},
		{"and passes again when redelivered", "m", "m/1.0.2", 3, true},
	})
}

// A batch the plugin processed but whose answer was lost is sent again: the
// retry gives exactly the first answer, also when the plugin was restarted
// in between.
func TestDedupRetriedBatch(t *testing.T) {
	batch := func() []*sdk.Event {
		return []*sdk.Event{
			{Id: "m/1", Match: "m", Seq: 1},
			{Id: "m/2", Match: "m", Seq: 2},
			{Id: "m/1", Match: "m", Seq: 3}, // a provider re-send
			{Id: "n/1", Match: "n", Seq: 1},
		}
	}
	want := []bool{true, true, false, true}
	check := func(t *testing.T, c *sdktest.Client) {
		t.Helper()
		for i, r := range c.ProcessBatch(batch()).GetResults() {
			if got := len(r.GetEvents()) == 1; got != want[i] {
				t.Fatalf("event %d passed = %v, want %v", i, got, want[i])
			}
		}
	}
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			st := sdk.NewMemStore()
			c := sdktest.StartWithStore(t, New(), nil, st)
			check(t, c) // answer lost
			if restart {
				c = sdktest.StartWithStore(t, New(), nil, st)
			}
			check(t, c)
		})
	}
}

// A restarted plugin continues exactly: IDs passed before are still
// duplicates, redeliveries still pass.
func TestDedupRestart(t *testing.T) {
	st := sdk.NewMemStore()
	before := sdktest.StartWithStore(t, New(), nil, st)
	runSteps(t, before, []step{
		{"m ball 1", "m", "m/1", 1, true},
		{"m ball 2", "m", "m/2", 2, true},
		{"n ball 1", "n", "n/1", 1, true},
	})
	after := sdktest.StartWithStore(t, New(), nil, st)
	runSteps(t, after, []step{
		{"redelivery after restart passes", "m", "m/2", 2, true},
		{"re-send after restart is dropped", "m", "m/1", 5, false},
		{"other match re-send is dropped", "n", "n/1", 9, false},
		{"new ball passes", "m", "m/3", 6, true},
	})
	third := sdktest.StartWithStore(t, New(), nil, st)
	runSteps(t, third, []step{{"what the second process passed is remembered", "m", "m/3", 7, false}})
}

// flakyStore fails every call while down is set.
type flakyStore struct {
	sdk.Store
	down atomic.Bool
}

var errDown = errors.New("store down")

func (f *flakyStore) Get(ctx context.Context, k string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errDown
	}
	return f.Store.Get(ctx, k)
}

func (f *flakyStore) Put(ctx context.Context, k string, v []byte) error {
	if f.down.Load() {
		return errDown
	}
	return f.Store.Put(ctx, k, v)
}

// When the state cannot be stored, the batch's events fail (the host
// retries them), and the retry, a redelivery, passes them.
func TestDedupStoreFailure(t *testing.T) {
	st := &flakyStore{Store: sdk.NewMemStore()}
	s := New()
	if err := s.Configure(t.Context(), sdk.NewConfig("dedup", nil).WithStore(st)); err != nil {
		t.Fatal(err)
	}
	ev := func() *sdk.Event { return &sdk.Event{Id: "m/1", Match: "m", Seq: 1} }
	st.down.Store(true)
	if _, err := s.Process(t.Context(), ev()); !errors.Is(err, errDown) || !strings.Contains(err.Error(), "dedup: load match m") {
		t.Fatalf("err = %v, want the load failure", err)
	}
	st.down.Store(false)
	if _, err := s.Process(t.Context(), &sdk.Event{Id: "m/0", Match: "m", Seq: 0}); err != nil {
		t.Fatal(err) // loads m
	}
	st.down.Store(true)
	if out, err := s.Process(t.Context(), ev()); !errors.Is(err, errDown) || len(out) != 0 {
		t.Fatalf("got %d events, err %v; want none and the store failure", len(out), err)
	}
	st.down.Store(false)
	out, err := s.Process(t.Context(), ev())
	if err != nil || len(out) != 1 {
		t.Fatalf("retry: got %d events, err %v; want it passed", len(out), err)
	}
	// The retry stored it: a new instance knows it.
	s2 := New()
	if err := s2.Configure(t.Context(), sdk.NewConfig("dedup", nil).WithStore(st)); err != nil {
		t.Fatal(err)
	}
	if out, _ := s2.Process(t.Context(), &sdk.Event{Id: "m/1", Match: "m", Seq: 4}); len(out) != 0 {
		t.Fatal("a re-send after restart passed")
	}
}

func TestDedupRejectsUnknownConfig(t *testing.T) {
	s := New()
	if err := s.Configure(t.Context(), sdk.NewConfig("dedup", []byte(`{"max_match":3}`))); err == nil {
		t.Fatal("want error for unknown key max_match")
	}
}

// sizeStore records the largest value put and the number of puts.
type sizeStore struct {
	sdk.Store
	max, puts atomic.Int64
}

func (s *sizeStore) Put(ctx context.Context, k string, v []byte) error {
	s.puts.Add(1)
	if n := int64(len(v)); n > s.max.Load() {
		s.max.Store(n)
	}
	return s.Store.Put(ctx, k, v)
}

// A whole Test match, one event per batch as when live: every write stays
// small (one chunk), and a new instance knows every event of it.
func TestStateSize(t *testing.T) {
	path := filepath.Join(cricsheettest.CricsheetDir(t), "1336043.json") // an Ashes Test
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := replay.Parse("1336043", data)
	if err != nil {
		t.Fatal(err)
	}
	st := &sizeStore{Store: sdk.NewMemStore()}
	s := New()
	if err := s.Configure(t.Context(), sdk.NewConfig("dedup", nil).WithStore(st)); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		if out, err := s.Process(t.Context(), &sdk.Event{Id: ev.ID, Match: ev.Match, Seq: uint64(i + 1)}); err != nil || len(out) != 1 {
			t.Fatalf("event %d: %d outputs, err %v", i, len(out), err)
		}
	}
	t.Logf("%d events: %d writes, largest value %d bytes", len(evs), st.puts.Load(), st.max.Load())
	if st.max.Load() > 16<<10 {
		t.Fatalf("largest value %d bytes, want under 16 KB", st.max.Load())
	}
	s2 := New()
	if err := s2.Configure(t.Context(), sdk.NewConfig("dedup", nil).WithStore(st)); err != nil {
		t.Fatal(err)
	}
	for i, ev := range evs {
		out, err := s2.Process(t.Context(), &sdk.Event{Id: ev.ID, Match: ev.Match, Seq: uint64(i + 1)})
		if err != nil || len(out) != 1 {
			t.Fatalf("redelivered event %d: %d outputs, err %v; want passed", i, len(out), err)
		}
		if out, _ := s2.Process(t.Context(), &sdk.Event{Id: ev.ID, Match: ev.Match, Seq: uint64(len(evs) + i + 1)}); len(out) != 0 {
			t.Fatalf("re-sent event %d passed after restart", i)
		}
	}
}
