package cricsheettest

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"
)

// CricsheetEnv names the environment variable that, when set, points at the
// directory of Cricsheet dev match files.
const CricsheetEnv = "BALLCAST_CRICSHEET_DIR"

// cricsheetRel is where the dev match files sit relative to the directory
// holding both the repository and shared/.
var cricsheetRel = filepath.Join("shared", "data", "cricsheet", "dev")

// CricsheetDir returns the directory of Cricsheet dev match files: the value
// of BALLCAST_CRICSHEET_DIR if set, else shared/data/cricsheet/dev found by
// walking up from the working directory (a test's package directory) and
// then from this source file. It fails the test, never skips it, when the
// directory cannot be found.
func CricsheetDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv(CricsheetEnv); dir != "" {
		if !isDir(dir) {
			t.Fatalf("cricsheettest: %s=%s: not a directory", CricsheetEnv, dir)
		}
		return dir
	}
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	for _, start := range starts {
		for dir := start; ; {
			if cand := filepath.Join(dir, cricsheetRel); isDir(cand) {
				return cand
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	t.Fatalf("cricsheettest: %s not found above %v; set %s", cricsheetRel, starts, CricsheetEnv)
	return ""
}

// CricsheetFiles returns the paths of the *.json match files in
// CricsheetDir, sorted. It fails the test when there are none.
func CricsheetFiles(t testing.TB) []string {
	t.Helper()
	dir := CricsheetDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatalf("cricsheettest: list %s: %v", dir, err)
	}
	if len(files) == 0 {
		t.Fatalf("cricsheettest: no *.json match files in %s", dir)
	}
	sort.Strings(files)
	return files
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
