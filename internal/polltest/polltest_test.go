package polltest

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestWithinReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		for range 3 {
			n.Add(1)
		}
	}()
	Within(t, 10*time.Second, "three increments", func() bool { return n.Load() == 3 })
}

// fatalRecorder records a Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestWithinFailsAfterTheLimit(t *testing.T) {
	r := &fatalRecorder{TB: t}
	defer func() {
		if recover() != r || r.msg == "" {
			t.Fatal("a condition that never holds did not fail the test")
		}
	}()
	Within(r, 20*time.Millisecond, "never", func() bool { return false })
}
