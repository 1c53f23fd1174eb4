package eventlog

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// failingStore fails every Put after the first ok ones.
type failingStore struct {
	sdk.Store
	ok int
}

func (f *failingStore) Put(ctx context.Context, key string, v []byte) error {
	if f.ok == 0 {
		return errors.New("store down")
	}
	f.ok--
	return f.Store.Put(ctx, key, v)
}

func TestLogRoundTrip(t *testing.T) {
	for _, tc := range []struct{ chunk, batch, n int }{
		{chunk: 64, batch: 1, n: 130},
		{chunk: 64, batch: 64, n: 128},
		{chunk: 4, batch: 7, n: 50},
		{chunk: 1, batch: 3, n: 10},
	} {
		t.Run(fmt.Sprintf("chunk %d batch %d", tc.chunk, tc.batch), func(t *testing.T) {
			st := sdk.NewMemStore()
			l := New("match/m", tc.chunk)
			for i := 0; i < tc.n; i++ {
				l.Append(&pb.Event{Id: fmt.Sprint(i), Seq: uint64(i + 1)})
				if (i+1)%tc.batch == 0 || i == tc.n-1 {
					if err := l.Flush(t.Context(), st); err != nil {
						t.Fatal(err)
					}
				}
			}
			// A new process loads it, then keeps appending where it left off.
			l2 := New("match/m", tc.chunk)
			var got []string
			if err := l2.Load(t.Context(), st, func(ev *pb.Event) { got = append(got, ev.GetId()) }); err != nil {
				t.Fatal(err)
			}
			l2.Append(&pb.Event{Id: "next"})
			if err := l2.Flush(t.Context(), st); err != nil {
				t.Fatal(err)
			}
			var all []string
			l3 := New("match/m", tc.chunk)
			if err := l3.Load(t.Context(), st, func(ev *pb.Event) { all = append(all, ev.GetId()) }); err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.n || len(all) != tc.n+1 || all[tc.n] != "next" {
				t.Fatalf("loaded %d then %d entries (last %q), want %d then %d ending in next", len(got), len(all), all[len(all)-1], tc.n, tc.n+1)
			}
			for i, id := range got {
				if id != fmt.Sprint(i) {
					t.Fatalf("entry %d is %s", i, id)
				}
			}
		})
	}
}

// TestFailedFlushKeepsTheRestPending: a store failure stores a prefix and
// keeps the rest for the next Flush, so nothing is lost or written twice.
func TestFailedFlushKeepsTheRestPending(t *testing.T) {
	mem := sdk.NewMemStore()
	st := &failingStore{Store: mem, ok: 1}
	l := New("k", 2)
	for i := 0; i < 5; i++ {
		l.Append(&pb.Event{Id: fmt.Sprint(i)})
	}
	if err := l.Flush(t.Context(), st); err == nil {
		t.Fatal("flush against a failing store succeeded")
	}
	if !l.Pending() {
		t.Fatal("nothing pending after a failed flush")
	}
	st.ok = 10
	if err := l.Flush(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	var got []string
	fresh := New("k", 2)
	if err := fresh.Load(t.Context(), mem, func(ev *pb.Event) { got = append(got, ev.GetId()) }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[0 1 2 3 4]" {
		t.Fatalf("stored %v, want [0 1 2 3 4]", got)
	}
}
