package sdk_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/ballcast/ballcast/plugins/sdk"
	"github.com/ballcast/ballcast/plugins/sdk/sdktest"
)

func TestMemStore(t *testing.T) {
	ctx := t.Context()
	st := sdk.NewMemStore()
	v := []byte("one")
	if err := st.Put(ctx, "k", v); err != nil {
		t.Fatal(err)
	}
	v[0] = 'X' // the store keeps its own copy
	got, ok, err := st.Get(ctx, "k")
	if err != nil || !ok || string(got) != "one" {
		t.Fatalf("get = %q, %v, %v; want one", got, ok, err)
	}
	got[0] = 'Y'
	if again, _, _ := st.Get(ctx, "k"); string(again) != "one" {
		t.Fatalf("get after changing a returned value = %q, want one", again)
	}
	if err := st.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Get(ctx, "k"); ok {
		t.Fatal("found after delete")
	}
	if err := st.Delete(ctx, "missing"); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
}

func TestConfigStoreIsNeverNil(t *testing.T) {
	cases := []struct {
		name string
		cfg  sdk.Config
	}{
		{"zero config", sdk.Config{}},
		{"NewConfig", sdk.NewConfig("s", nil)},
		{"WithStore", sdk.NewConfig("s", nil).WithStore(sdk.NewMemStore())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Store().Put(t.Context(), "k", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	cfg := sdk.NewConfig("s", nil)
	if err := cfg.Store().Put(t.Context(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := cfg.Store().Get(t.Context(), "k"); !ok {
		t.Fatal("NewConfig's store forgot a value between calls")
	}
}

// storeStage records what it reads and writes through the store it was
// configured with.
type storeStage struct{ st sdk.Store }

func (s *storeStage) Configure(_ context.Context, cfg sdk.Config) error {
	s.st = cfg.Store()
	return nil
}

func (s *storeStage) Process(ctx context.Context, ev *sdk.Event) ([]*sdk.Event, error) {
	old, found, err := s.st.Get(ctx, ev.GetMatch())
	if err != nil {
		return nil, err
	}
	if found {
		ev.Source = string(old)
	}
	if ev.GetKind() == "delete" {
		return []*sdk.Event{ev}, s.st.Delete(ctx, ev.GetMatch())
	}
	return []*sdk.Event{ev}, s.st.Put(ctx, ev.GetMatch(), []byte(ev.GetId()))
}

// The stage's store reaches the store given to sdktest over gRPC: a new
// stage on the same store sees what the first wrote.
func TestStoreOverGRPC(t *testing.T) {
	st := sdk.NewMemStore()
	c := sdktest.StartWithStore(t, &storeStage{}, nil, st)
	if _, err := c.Process(&sdk.Event{Id: "first", Match: "m"}); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := st.Get(t.Context(), "m"); !ok || !bytes.Equal(v, []byte("first")) {
		t.Fatalf("store has %q, %v; want first", v, ok)
	}
	c2 := sdktest.StartWithStore(t, &storeStage{}, nil, st)
	out, err := c2.Process(&sdk.Event{Id: "second", Match: "m", Kind: "delete"})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].GetSource() != "first" {
		t.Fatalf("new stage read %q, want first", out[0].GetSource())
	}
	if _, ok, _ := st.Get(t.Context(), "m"); ok {
		t.Fatal("delete did not reach the store")
	}
}
