package pluginhost

import (
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// builtPlugin returns the path of a real plugin binary built once per test
// run with go build: "hello" (examples/plugins/hello), "protov2"
// (testdata/protov2) or "ballcast-plugin-streamtest" (a streaming stage,
// plugins/internal/streamtest).
func builtPlugin(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pluginhost-test-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", buildDir+string(filepath.Separator), "../../examples/plugins/hello", "./testdata/protov2",
			"../../plugins/internal/streamtest/cmd/ballcast-plugin-streamtest")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build: " + err.Error() + ": " + string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build test plugins: %v", buildErr)
	}
	return filepath.Join(buildDir, name)
}

// tampered copies the hello plugin into a temporary directory and returns
// the copy's path, the SHA-256 of the original and that of the copy with
// one byte appended.
func tampered(t *testing.T) (path string, want, got []byte) {
	t.Helper()
	orig := builtPlugin(t, "hello")
	data, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "ballcast-plugin-hello")
	if err := os.WriteFile(path, append(data, 0), 0o755); err != nil {
		t.Fatal(err)
	}
	if want, err = FileSHA256(orig); err != nil {
		t.Fatal(err)
	}
	if got, err = FileSHA256(path); err != nil {
		t.Fatal(err)
	}
	return path, want, got
}

// TestStartErrorsAreClear starts programs that are not usable plugins,
// through Start and Describe, and checks that the error says what is wrong
// and what to do, never go-plugin's raw "Incompatible API version" or
// "Unrecognized remote plugin message".
func TestStartErrorsAreClear(t *testing.T) {
	t.Parallel()
	tamperedPath, wantSum, gotSum := tampered(t)
	cases := []struct {
		name     string
		cmd      func() *exec.Cmd
		checksum []byte
		want     []string
		is       error
	}{
		{
			name: "exits at once",
			cmd:  func() *exec.Cmd { return exec.Command("true") },
			want: []string{"is not a ballcast plugin", "exit status 0"},
			is:   ErrNotPlugin,
		},
		{
			name: "fails at once",
			cmd:  func() *exec.Cmd { return exec.Command("sh", "-c", "echo cannot start >&2; exit 3") },
			want: []string{"is not a ballcast plugin", "exit status 3"},
			is:   ErrNotPlugin,
		},
		{
			name: "prints garbage",
			cmd:  func() *exec.Cmd { return exec.Command("sh", "-c", "echo hello world; exec sleep 30") },
			want: []string{"is not a ballcast plugin", `printed "hello world" instead of the go-plugin handshake`},
			is:   ErrNotPlugin,
		},
		{
			name: "other protocol version",
			cmd:  func() *exec.Cmd { return exec.Command(builtPlugin(t, "protov2")) },
			want: []string{"speaks ballcast plugin protocol 2; this ballcast supports 1: rebuild the plugin against a matching plugins/sdk or upgrade ballcast"},
		},
		{
			name:     "tampered binary",
			cmd:      func() *exec.Cmd { return exec.Command(tamperedPath) },
			checksum: wantSum,
			want:     []string{"refused", "SHA-256 is " + hex.EncodeToString(gotSum), "expected " + hex.EncodeToString(wantSum), tamperedPath},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			check := func(what string, err error, alsoWant ...string) {
				t.Helper()
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				for _, w := range append(tc.want, alsoWant...) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("%s error %q\ndoes not say %q", what, err, w)
					}
				}
				for _, raw := range []string{"ncompatible API version", "Unrecognized remote plugin message"} {
					if strings.Contains(err.Error(), raw) {
						t.Errorf("%s error %q is go-plugin's raw message", what, err)
					}
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s error is not %v", what, tc.is)
				}
			}
			began := time.Now()
			_, err := Start(t.Context(), Config{Stage: "s", Plugin: "p", Command: tc.cmd, Checksum: tc.checksum, StartTimeout: 10 * time.Second}, zerolog.Nop())
			check("Start", err, "stage s (plugin p)")
			t.Logf("Start refused after %v: %v", time.Since(began).Round(time.Millisecond), err)
			_, err = Describe(t.Context(), tc.cmd(), tc.checksum, zerolog.Nop())
			check("Describe", err)
		})
	}
}

// The untouched binary with its checksum starts, and Describe reports it.
func TestChecksumAccepted(t *testing.T) {
	t.Parallel()
	path := builtPlugin(t, "hello")
	sum, err := FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Stage: "hello", Plugin: "hello", Command: func() *exec.Cmd { return exec.Command(path) }, Checksum: sum})
	if d := s.Description(); d.Name != "hello" {
		t.Fatalf("description %+v, want hello", d)
	}
	info, err := Describe(t.Context(), exec.Command(path), sum, zerolog.Nop())
	if err != nil || info.Name != "hello" || info.ProtocolVersion != 1 {
		t.Fatalf("Describe = %+v, %v; want hello, protocol 1", info, err)
	}
}
