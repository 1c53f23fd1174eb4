package scorelytics

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/internal/retry"
)

type frameCase struct{ name, want, frame string }

func frameCases(t testing.TB) []frameCase {
	t.Helper()
	f, err := os.Open("testdata/frames.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []frameCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			t.Fatalf("testdata/frames.txt: bad line %q", line)
		}
		cases = append(cases, frameCase{parts[0], parts[1], parts[2]})
	}
	return cases
}

func TestParseFrame(t *testing.T) {
	for _, tc := range frameCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFrame([]byte(tc.frame))
			got := "malformed"
			switch {
			case errors.Is(err, ErrUnknownType):
				got = "unknown"
			case err != nil && !errors.Is(err, ErrMalformed):
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrUnknownType", err)
			case err == nil && f.Score != nil:
				got = "score"
			case err == nil && f.Status != nil:
				got = "status"
			}
			if got != tc.want {
				t.Fatalf("got %s (%v), want %s", got, err, tc.want)
			}
		})
	}
}

// FuzzParseFrame: any input parses or fails with a wrapped sentinel, never
// panics, and a parsed score update applies to a tracker without panicking.
func FuzzParseFrame(f *testing.F) {
	for _, tc := range frameCases(f) {
		f.Add([]byte(tc.frame))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownType) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		if (fr.Score == nil) == (fr.Status == nil) || fr.MatchID == "" {
			t.Fatalf("parsed frame %+v: want exactly one of score and status, and a match", fr)
		}
		tr := NewTracker("m")
		tr.ApplySnapshot(&Snapshot{ID: "m", HomeTeam: "A", AwayTeam: "B", StatusCode: StatusLive, Cricket: &Cricket{}})
		evs, _ := tr.ApplyFrame(fr)
		for _, ev := range evs {
			if !strings.HasPrefix(ev.ID, "m/") {
				t.Fatalf("event ID %q outside the match", ev.ID)
			}
		}
	})
}

func TestBackoffCappedAt30s(t *testing.T) {
	b := retry.Backoff{Min: Config{}.withDefaults().BackoffMin, Max: Config{}.withDefaults().BackoffMax}
	prev := b.Min / 2
	for n := 1; n <= 100; n++ {
		for _, r := range []float64{0, 0.5, 0.999999} {
			b.Rand = func() float64 { return r }
			d := b.Delay(n)
			if d > 30*1e9 || d <= 0 {
				t.Fatalf("delay(%d) = %v, want in (0, 30s]", n, d)
			}
		}
		b.Rand = func() float64 { return 0 }
		if d := b.Delay(n); d < prev {
			t.Fatalf("delay(%d) = %v shrank from %v", n, d, prev)
		} else {
			prev = d
		}
	}
	b.Rand = func() float64 { return 0 }
	for n, want := range map[int]string{1: "500ms", 2: "1s", 3: "2s", 5: "8s", 6: "15s", 50: "15s"} {
		if got := b.Delay(n).String(); got != want {
			t.Errorf("delay(%d) without jitter = %s, want %s", n, got, want)
		}
	}
}

// FuzzParseSnapshot: any REST body parses or fails with ErrMalformed, and
// a parsed snapshot applies to a tracker (twice, the second time adding
// nothing) without panicking.
func FuzzParseSnapshot(f *testing.F) {
	evs := devMatches(f)[0].Events
	g, err := NewGenerator("m", evs)
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range []int{0, 1, 40, g.Len()} {
		b, _ := json.Marshal(g.Snapshot(n, true))
		f.Add(b)
	}
	f.Add([]byte(`{"data":{"id":"x","home_team":"A","away_team":"B","status_code":2}}`))
	f.Add([]byte(`{"id":"x","cricket":{"balls":[{"innings":1,"over":0,"ball":1}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSnapshot(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unwrapped error %v", err)
			}
			return
		}
		tr := NewTracker("m")
		tr.ApplySnapshot(s)
		if again := tr.ApplySnapshot(s); len(again) != 0 {
			t.Fatalf("the same snapshot twice added %d events: %v", len(again), ids(again))
		}
	})
}
