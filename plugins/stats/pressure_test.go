package stats

import (
	"testing"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

func TestPressure(t *testing.T) {
	const t20, odi = 120, 300 // balls
	tests := []struct {
		name        string
		limit       int
		need, balls int32
		rrr, crr    float64
		wickets     int32
		want        string
	}{
		{"T20 start, a par chase", t20, 160, 120, 8, 0, 10, "low"},
		{"T20 a little behind", t20, 100, 60, 10, 8, 7, "moderate"},
		{"T20 well behind", t20, 110, 60, 11, 7, 7, "high"},
		{"T20 steep in itself", t20, 65, 30, 13, 11, 7, "high"},
		{"T20 beyond reach", t20, 80, 30, 16, 9, 7, "extreme"},
		{"T20 on the rate, two wickets left", t20, 40, 30, 8, 8, 2, "moderate"},
		{"T20 a little behind, four left", t20, 45, 30, 9, 8, 4, "high"},
		{"T20 more than six a ball", t20, 40, 6, 40, 9, 7, "extreme"},
		{"T20 no balls left", t20, 3, 0, 0, 8, 7, "extreme"},
		{"ODI below par", odi, 180, 180, 6, 5, 8, "low"},
		{"ODI steep in itself", odi, 85, 60, 8.5, 6, 8, "high"},
		{"ODI extreme", odi, 110, 60, 11, 6, 8, "extreme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &pb.Chase{RunsNeeded: tc.need, BallsLeft: tc.balls, RequiredRate: tc.rrr, CurrentRate: tc.crr, WicketsLeft: tc.wickets}
			if got := pressure(c, tc.limit, 6); got != tc.want {
				t.Errorf("pressure = %s, want %s", got, tc.want)
			}
		})
	}
	// Without an overs limit: runs needed per wicket in hand.
	for _, tc := range []struct {
		need, wickets int32
		want          string
	}{{100, 8, "low"}, {200, 8, "moderate"}, {200, 5, "high"}, {300, 3, "extreme"}, {20, 1, "high"}} {
		c := &pb.Chase{RunsNeeded: tc.need, WicketsLeft: tc.wickets}
		if got := pressure(c, 0, 6); got != tc.want {
			t.Errorf("unlimited, %d needed, %d wickets: pressure = %s, want %s", tc.need, tc.wickets, got, tc.want)
		}
	}
}
