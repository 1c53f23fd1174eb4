package cricsheettest

import (
	"path/filepath"
	"testing"
)

func TestCricsheetFiles(t *testing.T) {
	files := CricsheetFiles(t)
	if len(files) == 0 {
		t.Fatalf("got no files, want some")
	}
	for _, f := range files {
		if filepath.Ext(f) != ".json" {
			t.Fatalf("got %s, want *.json", f)
		}
	}
}

func TestCricsheetDirFromEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(CricsheetEnv, dir)
	if got := CricsheetDir(t); got != dir {
		t.Fatalf("got %s, want %s", got, dir)
	}
}
