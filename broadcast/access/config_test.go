package access

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings, one per expected problem; none = valid
	}{
		{name: "zero is open access", cfg: Config{}},
		{name: "full", cfg: Config{
			APIKeys: APIKeysConfig{File: "keys.txt", Env: "BALLCAST_KEYS"},
			JWT:     JWTConfig{HS256SecretEnv: "JWT_SECRET", RS256PublicKeyFile: "pub.pem", Issuer: "i", Audience: "a", Leeway: 30 * time.Second},
			Limits:  LimitsConfig{PerKey: 5, PerNode: 100, ConnectRate: 0.5, ConnectBurst: 3, TrustedProxies: []string{"10.0.0.0/8", "::1", "fd00::/8"}},
		}},
		{name: "every problem at once", cfg: Config{
			APIKeys: APIKeysConfig{Env: "$KEYS"},
			JWT:     JWTConfig{HS256SecretEnv: "A B", HS256SecretFile: "s", Leeway: time.Hour},
			Limits:  LimitsConfig{PerKey: -1, PerNode: -2, ConnectRate: -1, ConnectBurst: -1, TrustedProxies: []string{"nonsense", "10.0.0.0/33"}},
		}, want: []string{
			"api_keys.env: want the name",
			"jwt.hs256_secret_env: want the name",
			"jwt: set hs256_secret_env or hs256_secret_file, not both",
			"jwt.leeway: must be between 0 and 5m",
			"limits.per_key: must not be negative",
			"limits.per_node: must not be negative",
			"limits.connect_rate: must be a non-negative number",
			"limits.connect_burst: must not be negative",
			"limits.trusted_proxies[0]",
			"limits.trusted_proxies[1]",
		}},
		{name: "jwt options without a key", cfg: Config{JWT: JWTConfig{Issuer: "i"}}, want: []string{"jwt: issuer, audience or leeway set but no hs256_secret_env"}},
		{name: "negative leeway", cfg: Config{JWT: JWTConfig{HS256SecretFile: "s", Leeway: -time.Second}}, want: []string{"jwt.leeway"}},
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
				t.Fatalf("got nil, want %d problems", len(tc.want))
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), "access: "+w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
		})
	}
}

func TestLimitsDefaults(t *testing.T) {
	got := LimitsConfig{}.withDefaults()
	want := LimitsConfig{PerKey: DefaultPerKey, PerNode: DefaultPerNode, ConnectRate: DefaultConnectRate, ConnectBurst: DefaultConnectBurst}
	if got.PerKey != want.PerKey || got.PerNode != want.PerNode || got.ConnectRate != want.ConnectRate || got.ConnectBurst != want.ConnectBurst {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
