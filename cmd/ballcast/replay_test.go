package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/internal/cricsheettest"
)

// TestReplayWithThirdPartyPlugin builds examples/plugins/hello as its own
// binary, as a plugin author would, points a pipeline at it, and replays
// two real matches through dedup → stats → commentary → hello.
func TestReplayWithThirdPartyPlugin(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "ballcast-plugin-hello")
	build := exec.Command("go", "build", "-o", bin, "../../examples/plugins/hello")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hello: %v\n%s", err, out)
	}
	pipelineYAML := `
sources:
  - name: unused
    type: replay
stages:
  - name: dedup
    plugin: dedup
  - name: stats
    plugin: stats
  - name: commentary
    plugin: commentary
    config:
      llm:
        enabled: false
  - name: hello
    plugin: ` + bin + `
    config:
      tag: "BOUNDARY! "
log:
  level: warn
`
	cfg := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(cfg, []byte(pipelineYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range cricsheettest.CricsheetFiles(t) {
		if b := filepath.Base(f); b == "1298179.json" || b == "1263472.json" {
			files = append(files, f)
		}
	}
	if len(files) != 2 {
		t.Fatalf("want the two T20I dev matches, found %v", files)
	}
	var out, errb bytes.Buffer
	args := append([]string{"replay", "-c", cfg}, files...)
	if err := run(t.Context(), args, &out, &errb); err != nil {
		t.Fatalf("replay: %v\n%s", err, errb.String())
	}
	got := out.String()
	for _, want := range []string{
		"1298179:  Pakistan 137/8 (20.0)  England 138/5 (19.0)  — England won by 5 wickets",
		"1263472:  Australia 164/6 (20.0)  Sri Lanka 164/8 (20.0)  Sri Lanka 5/1 (1.0)  Australia 9/0 (0.3)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// Every stage saw every event once; hello and commentary passed all on.
	re := regexp.MustCompile(`(?m)^\s+stage (\S+)\s+in\s+(\d+)\s+out\s+(\d+)\s+dropped\s+(\d+)\s+failures (\d+)$`)
	rows := re.FindAllStringSubmatch(got, -1)
	if len(rows) != 4 {
		t.Fatalf("want 4 stage rows:\n%s", got)
	}
	for _, r := range rows {
		if r[2] != r[3] || r[4] != "0" || r[5] != "0" {
			t.Errorf("stage %s: in %s out %s dropped %s failures %s; want everything passed on", r[1], r[2], r[3], r[4], r[5])
		}
	}
	if rows[3][1] != "hello" {
		t.Errorf("last stage is %s, want hello", rows[3][1])
	}
}
