package broadcast_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/broadcast"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  broadcast.Config
		want []string // substrings of the error, all reported at once; none: valid
	}{
		{name: "zero is valid", cfg: broadcast.Config{}},
		{name: "full", cfg: broadcast.Config{
			Listen: "127.0.0.1:9000", AdminListen: "127.0.0.1:9090", QueueSize: 10, History: 5, RecentCommentary: 3,
			PingInterval: time.Second, AllowedOrigins: []string{"*.example.com", "localhost:3000"},
		}},
		{name: "every problem", cfg: broadcast.Config{
			Listen: "nonsense", AdminListen: "nonsense", QueueSize: -1, History: -2, RecentCommentary: -3,
			PingInterval: -time.Second, AllowedOrigins: []string{"", "[bad"},
		}, want: []string{
			"broadcast: listen:", "broadcast: admin_listen:", "broadcast: queue_size:", "broadcast: history:", "broadcast: recent_commentary:",
			"broadcast: ping_interval:", "broadcast: allowed_origins[0]:", "broadcast: allowed_origins[1]:",
		}},
		{name: "tiny ping interval", cfg: broadcast.Config{PingInterval: time.Millisecond}, want: []string{"ping_interval: must be at least 10ms"}},
		{name: "admin on the public listener", cfg: broadcast.Config{Listen: ":8081", AdminListen: ":8081"}, want: []string{"admin_listen: must differ from listen"}},
		{name: "admin on the default listener", cfg: broadcast.Config{AdminListen: ":8080"}, want: []string{"admin_listen: must differ from listen"}},
		{name: "listen without port", cfg: broadcast.Config{Listen: "localhost:"}, want: []string{"listen: missing port"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("got nil, want errors %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("got %q, want it to contain %q", err, w)
				}
			}
			if _, err := broadcast.NewHub(tc.cfg, zerologNop); err == nil {
				t.Fatalf("NewHub: got nil, want the validation error")
			}
		})
	}
}
