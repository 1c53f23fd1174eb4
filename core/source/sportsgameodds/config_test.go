package sportsgameodds_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
	sgo "github.com/ballcast/ballcast/core/source/sportsgameodds"
	"github.com/ballcast/ballcast/core/source/sportsgameodds/sgosim"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  sgo.Config
		want []string
	}{
		{"defaults are valid", sgo.Config{}, nil},
		{"every problem", sgo.Config{
			APIKeyEnv: "A", APIKeyFile: "/k", APIURL: "ftp://x", Feed: "events:all",
			BackoffMin: time.Second, BackoffMax: time.Millisecond, MaxAttempts: -1, HTTPTimeout: -time.Second,
		}, []string{"api_key_file:", "api_url:", "feed: \"events:all\"", "backoff_max:", "max_attempts:", "http_timeout:"}},
		{"upcoming needs a league", sgo.Config{Feed: sgo.FeedUpcoming}, []string{"league_id: required"}},
		{"byid needs an event", sgo.Config{Feed: sgo.FeedByID}, []string{"event_id: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestAPIKeySources(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SGO_TEST_UNSET", "")
	if _, err := sgo.New(sgo.Config{APIKeyFile: key}, zerolog.Nop()); err != nil {
		t.Fatalf("key file: %v", err)
	}
	for _, c := range []sgo.Config{{APIKeyFile: empty}, {APIKeyFile: filepath.Join(dir, "missing")}, {APIKeyEnv: "SGO_TEST_UNSET"}} {
		if _, err := sgo.New(c, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "api key") {
			t.Errorf("New(%+v) = %v, want an api key error", c, err)
		}
	}
}

// TestRejectedKey: HTTP 401 from the stream endpoint ends Run at once with
// ErrRejected, and the key appears neither in the error nor in the logs.
func TestRejectedKey(t *testing.T) {
	evs, err := replay.Parse("m1", replay.Bundled())
	if err != nil {
		t.Fatal(err)
	}
	sim, err := sgosim.New(sgosim.Config{APIKey: "right"}, map[string][]event.Event{"m1": evs}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(sim.Handler())
	defer api.Close()
	const secret = "wrong-but-secret-key-value"
	t.Setenv("SGO_TEST_KEY", secret)
	var logs bytes.Buffer
	src, err := sgo.New(sgo.Config{APIKeyEnv: "SGO_TEST_KEY", APIURL: api.URL + "/v2", BackoffMin: time.Millisecond, BackoffMax: time.Millisecond},
		zerolog.New(&logs).Level(zerolog.DebugLevel))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err = src.Run(ctx, make(chan event.Event, 8))
	if !errors.Is(err, sgo.ErrRejected) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Run = %v, want ErrRejected naming HTTP 401", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
		t.Fatal("the API key leaked into the error or the logs")
	}
	if st := sim.Stats(); st.Unauthorized != 1 {
		t.Fatalf("stream requested %d times, want once (never retried)", st.Unauthorized)
	}
}
