package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast/access"
	"github.com/ballcast/ballcast/pipeline"
)

// TestAccessAndAdminListener runs ballcast with frontend API keys and a
// separate admin listener: the public listener refuses requests without a
// valid key and does not serve /metrics; the admin listener serves health
// and metrics (including the hub's and the guard's counters) and nothing
// else.
func TestAccessAndAdminListener(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.WriteFile(keys, []byte(access.KeyLine("page", "k-0123456789abcdef0123456789abcdef", []string{"1298179"})+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	yml := `sources:
  - {name: bundled, type: replay, config: {speed: max}}
broadcast:
  admin_listen: 127.0.0.1:0
  access:
    api_keys: {file: ` + keys + `}
`
	cfg, err := pipeline.Parse("access.yaml", []byte(yml), &pipeline.LoadOptions{SourceTypes: sourceTypes()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, serverOptions{listen: "127.0.0.1:0", dataDir: filepath.Join(dir, "data")}, zerolog.Nop())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := srv.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	if srv.adminAddr == nil {
		t.Fatal("no admin listener")
	}
	public, admin := "http://"+srv.Addr(), "http://"+srv.adminAddr.String()
	get := func(url, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		url, token string
		want       int
	}{
		{public + "/v1/matches", "", http.StatusUnauthorized},
		{public + "/v1/matches", "k-wrong", http.StatusUnauthorized},
		{public + "/v1/matches", "k-0123456789abcdef0123456789abcdef", http.StatusOK},
		{public + "/v1/matches/other/events", "k-0123456789abcdef0123456789abcdef", http.StatusForbidden},
		{public + "/metrics", "k-0123456789abcdef0123456789abcdef", http.StatusNotFound},
		{admin + "/healthz", "", http.StatusOK},
		{admin + "/v1/matches", "", http.StatusNotFound},
	} {
		if got := get(tc.url, tc.token); got != tc.want {
			t.Errorf("GET %s (token %q): %d, want %d", tc.url, tc.token, got, tc.want)
		}
	}
	m := &metricsURL{base: admin}
	for _, re := range []string{
		`ballcast_access_refused_total\{reason="[a-z_]+"\} [1-9][0-9]*`,
		`ballcast_broadcast_clients\{transport="ws"\} 0`,
	} {
		if err := m.wait(re); err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		resp, err := http.Get(admin + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Logf("metrics:\n%s", b)
		}
	}
}
