package pluginlock_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ballcast/ballcast/pipeline/pluginlock"
)

func entry(name, version string) pluginlock.Entry {
	return pluginlock.Entry{
		Name:            name,
		Version:         version,
		ProtocolVersion: 1,
		SHA256:          strings.Repeat("ab", 32),
		File:            pluginlock.BinaryPrefix + name,
		InstalledAt:     time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC),
		Description:     "a test plugin",
		ConfigSchema:    json.RawMessage(`{"type":"object","additionalProperties":false}`),
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), pluginlock.FileName)
	f, err := pluginlock.Read(path)
	if err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if len(f.Plugins) != 0 || f.Version != pluginlock.FormatVersion {
		t.Fatalf("missing file read as %+v, want empty", f)
	}
	f.Put(entry("zeta", "1.0.0"))
	f.Put(entry("alpha", "0.1.0"))
	noSchema := entry("mid", "2.0.0")
	noSchema.ConfigSchema = nil
	f.Put(noSchema)
	if err := pluginlock.Write(path, f); err != nil {
		t.Fatal(err)
	}
	got, err := pluginlock.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got.Plugins {
		names = append(names, e.Name)
	}
	if want := []string{"alpha", "mid", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("names %v, want sorted %v", names, want)
	}
	want := entry("zeta", "1.0.0")
	if e, ok := got.Lookup("zeta"); !ok || !reflect.DeepEqual(e, want) {
		t.Fatalf("zeta read back as %+v, want %+v", e, want)
	}
	old, replaced := got.Put(entry("zeta", "1.1.0"))
	if !replaced || old.Version != "1.0.0" {
		t.Fatalf("Put replaced=%v old=%q, want the 1.0.0 entry", replaced, old.Version)
	}
	if _, ok := got.Remove("alpha"); !ok {
		t.Fatal("Remove(alpha) found nothing")
	}
	if _, ok := got.Remove("alpha"); ok {
		t.Fatal("Remove(alpha) twice succeeded")
	}
	if err := pluginlock.Write(path, got); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Human-readable: indented, one key per line, a format version.
	for _, s := range []string{"\"version\": 1,\n", "\n      \"name\": \"mid\",\n", `"sha256": "abab`, `"installed_at": "2026-11-23T18:00:00Z"`} {
		if !strings.Contains(string(data), s) {
			t.Errorf("lock file lacks %q:\n%s", s, data)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("lock file mode %v (%v), want 0644", fi.Mode(), err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestCorruptFile(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"truncated", "{\n  \"version\": 1,\n  \"plugins\": [\n", "not valid JSON"},
		{"syntax error line", "{\n  \"version\": 1,\n  \"plugins\": [}\n", "line 3"},
		{"not an object", `[1, 2]`, "not a plugins.lock file"},
		{"no version", `{"plugins": []}`, `no "version"`},
		{"newer format", `{"version": 99, "plugins": []}`, "newer than this ballcast understands"},
		{"unknown field", `{"version": 1, "plugins": [], "extra": true}`, "unknown field"},
		{"bad sha", `{"version": 1, "plugins": [{"name": "x", "sha256": "zz", "file": "ballcast-plugin-x"}]}`, "not 64 hex digits"},
		{"path as file", `{"version": 1, "plugins": [{"name": "x", "sha256": "` + strings.Repeat("0", 64) + `", "file": "../../bin/sh"}]}`, "not a path"},
		{"duplicate", `{"version": 1, "plugins": [{"name": "x", "sha256": "` + strings.Repeat("0", 64) + `", "file": "a"}, {"name": "x", "sha256": "` + strings.Repeat("0", 64) + `", "file": "b"}]}`, "listed twice"},
		{"trailing data", `{"version": 1, "plugins": []} {}`, "after the JSON object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), pluginlock.FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := pluginlock.Read(path)
			if err == nil {
				t.Fatal("corrupt lock file read without error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %s and say %q", err, path, tc.want)
			}
		})
	}
}

func TestUpdateIsSerialisedAndAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), pluginlock.FileName)
	const writers = 16
	// Readers run alongside: every read sees a complete, valid file.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readErr := make(chan error, 4)
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := pluginlock.Read(path); err != nil {
					readErr <- err
					return
				}
			}
		}()
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pluginlock.Update(path, func(f *pluginlock.File) error {
				f.Put(entry(fmt.Sprintf("p%02d", i), "1.0.0"))
				return nil
			})
		}()
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-readErr:
		t.Fatalf("a concurrent reader saw a broken file: %v", err)
	default:
	}
	f, err := pluginlock.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Plugins) != writers {
		t.Fatalf("%d entries after %d concurrent updates: an update was lost", len(f.Plugins), writers)
	}
}

func TestUpdateErrorWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), pluginlock.FileName)
	err := pluginlock.Update(path, func(f *pluginlock.File) error {
		f.Put(entry("x", "1"))
		return fmt.Errorf("no")
	})
	if err == nil || err.Error() != "no" {
		t.Fatalf("Update returned %v, want the change's error", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("lock file written although the change failed: %v", err)
	}
}

func TestWriteRefusesInvalidEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), pluginlock.FileName)
	bad := entry("x", "1")
	bad.File = "/usr/bin/x"
	if err := pluginlock.Write(path, &pluginlock.File{Plugins: []pluginlock.Entry{bad}}); err == nil {
		t.Fatal("wrote an entry whose file is a path")
	}
}
