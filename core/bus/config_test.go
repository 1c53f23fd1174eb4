package bus

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		fields []string // the FieldError fields, in order; nil = valid
	}{
		{"zero is embedded defaults", Config{}, nil},
		{"external cluster", Config{URL: "nats://a:4222, nats://b:4222", Replicas: 3, CredsFile: "/run/secrets/nats.creds", Prefix: "blue-1"}, nil},
		{"bare host:port", Config{URL: "a:4222"}, nil},
		{"embedded listening", Config{Listen: "0.0.0.0:4222", TokenEnv: "NATS_TOKEN"}, nil},
		{"bad scheme", Config{URL: "http://a:4222"}, []string{"url"}},
		{"empty list entry", Config{URL: "nats://a:4222,"}, []string{"url"}},
		{"embedded-only fields with url", Config{URL: "nats://a", DataDir: "/x", Listen: ":4222"}, []string{"data_dir", "listen"}},
		{"cluster-only fields embedded", Config{Replicas: 3, CredsFile: "/c"}, []string{"replicas", "creds_file"}},
		{"bad listen", Config{Listen: "4222"}, []string{"listen"}},
		{"bad port", Config{Listen: "localhost:99999"}, []string{"listen"}},
		{"negative durations", Config{Retention: -1, DedupWindow: -1, AckWait: -1}, []string{"retention", "dedup_window", "ack_wait"}},
		{"dedup beyond retention", Config{Retention: time.Hour}, []string{"dedup_window"}},
		{"replicas out of range", Config{URL: "nats://a", Replicas: 7}, []string{"replicas"}},
		{"bad env name", Config{URL: "nats://a", TokenEnv: "NATS-TOKEN"}, []string{"token_env"}},
		{"creds and token", Config{URL: "nats://a", CredsFile: "/c", TokenEnv: "T"}, []string{"token_env"}},
		{"bad prefix", Config{Prefix: "blue.green"}, []string{"prefix"}},
		{"overlapping prefix", Config{Prefix: "feed"}, []string{"prefix"}},
		{"short ack wait", Config{AckWait: time.Millisecond}, []string{"ack_wait"}},
		{"negative max ack pending", Config{MaxAckPending: -1}, []string{"max_ack_pending"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			var got []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("%v is not a *FieldError", e)
					}
					got = append(got, fe.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("Validate() = %v; want problems in %v", err, tc.fields)
			}
		})
	}
}

func TestConfigValidateHidesPassword(t *testing.T) {
	err := Config{URL: "http://user:hunter2@a:4222"}.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Validate() = %v: want an error without the password", err)
	}
}

func TestDefaults(t *testing.T) {
	t.Setenv("BALLCAST_DATA_DIR", "/var/lib/ballcast")
	c := Config{}.withDefaults()
	want := Config{
		DataDir:       filepath.Join("/var/lib/ballcast", "nats"),
		Retention:     72 * time.Hour,
		DedupWindow:   2 * time.Hour,
		Replicas:      1,
		AckWait:       30 * time.Minute,
		MaxAckPending: 8192,
	}
	if c != want {
		t.Fatalf("defaults = %+v, want %+v", c, want)
	}
	if d := (Config{URL: "nats://a"}).withDefaults().DataDir; d != "" {
		t.Fatalf("external DataDir = %q, want empty", d)
	}
	t.Setenv("BALLCAST_DATA_DIR", "")
	t.Setenv("XDG_STATE_HOME", "/state")
	if d := DefaultDataDir(); d != filepath.Join("/state", "ballcast", "nats") {
		t.Fatalf("DefaultDataDir with XDG_STATE_HOME = %q", d)
	}
}

func TestRedactURLs(t *testing.T) {
	got := redactURLs("nats://u:p@a:4222, tls://tok@b:4222,c:4222")
	if want := "nats://a:4222,tls://b:4222,nats://c:4222"; got != want {
		t.Fatalf("redactURLs = %q, want %q", got, want)
	}
}
