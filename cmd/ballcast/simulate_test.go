package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/internal/cricsheettest"
)

// Every provider's simulator serves the bundled match on the address it
// announces and stops cleanly when its context ends.
func TestEverySimulatorServesAndStops(t *testing.T) {
	for name := range simulators {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				err := run(ctx, []string{"simulate", name, "--listen", "127.0.0.1:0", "--interval", "1h"}, io.Discard, pw)
				pw.CloseWithError(err)
				done <- err
			}()
			addr := announced(t, pr)
			go io.Copy(io.Discard, pr) //nolint:errcheck // keep the logger from blocking
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				t.Fatalf("simulator announced %s but does not accept: %v", addr, err)
			}
			c.Close()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("simulate %s returned %v after its context ended", name, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("simulate %s did not stop after its context ended", name)
			}
		})
	}
}

// announced reads the simulator's log until its "serving" line and returns
// the host:port it names.
func announced(t *testing.T, r io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		if msg, _ := line["message"].(string); !strings.Contains(msg, "serving") {
			continue
		}
		for _, k := range []string{"url", "api_url"} {
			if s, ok := line[k].(string); ok {
				u, err := url.Parse(s)
				if err != nil {
					t.Fatalf("serving line %s: %v", sc.Text(), err)
				}
				if len(asSlice(line["matches"]))+len(asSlice(line["event_ids"])) != 1 {
					t.Errorf("serving line %s: want the bundled match alone", sc.Text())
				}
				return u.Host
			}
		}
		t.Fatalf("serving line names no address: %s", sc.Text())
	}
	t.Fatalf("simulator log ended before it served: %v", sc.Err())
	return ""
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func TestSimMatchesRefusesAMatchTwice(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(cricsheettest.CricsheetDir(t), "1298179.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "1298179.json")
	if err := os.WriteFile(f, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := simMatches([]string{f, f}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Fatalf("simMatches of one file twice: %v, want a 'given twice' error", err)
	}
	m, ids, err := simMatches([]string{f})
	if err != nil || len(ids) != 1 || len(m[ids[0]]) == 0 {
		t.Fatalf("simMatches: %v %v %d events", err, ids, len(m[ids[0]]))
	}
}
