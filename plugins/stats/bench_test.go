package stats_test

import (
	"path/filepath"
	"testing"

	"github.com/ballcast/ballcast/internal/cricsheettest"
	"github.com/ballcast/ballcast/plugins/stats"
)

// BenchmarkStatsProcess measures the in-process cost of one event, scorecard
// included, over a real match: a T20 and a five-day Test (whose scorecards
// are the largest).
func BenchmarkStatsProcess(b *testing.B) {
	for _, name := range []string{"1298179.json", "1336043.json"} {
		b.Run(name, func(b *testing.B) {
			_, _, evs := matchEvents(b, filepath.Join(cricsheettest.CricsheetDir(b), name))
			s := stats.New()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if i%len(evs) == 0 {
					s = stats.New() // replay the match from the start
				}
				if _, err := s.Process(b.Context(), evs[i%len(evs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
