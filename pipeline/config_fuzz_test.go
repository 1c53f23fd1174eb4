package pipeline_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/pipeline"
)

// FuzzParse checks that Parse never panics, that every error it returns is a
// *ConfigError (or a join of them) on a single line, that no interpolated
// secret leaks into an error unless the input itself contains it, and that
// the sections of a valid file can be encoded and decoded.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/config/*.yaml")
	more, _ := filepath.Glob("testdata/config/errors/*.yaml")
	for _, file := range append(files, more...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		input, _, _ := strings.Cut(string(data), "---- want\n")
		f.Add([]byte(input))
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nsources: [*c]\n"))
	f.Add([]byte("sources: [{name: a, type: replay, config: {k: ${FUZZ_SECRET}, n: ${FUZZ_SECRET:-1}}}]\n"))

	const secret = "fuzz-s3cr3t-value"
	opts := &pipeline.LoadOptions{
		SourceTypes: []string{"replay", "roanuz"},
		Env: func(k string) (string, bool) {
			switch k {
			case "FUZZ_SECRET":
				return secret, true
			case "FUZZ_NUMBER":
				return "42", true
			}
			return "", false
		},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := pipeline.Parse("fuzz.yaml", data, opts)
		if c != nil {
			checkSections(t, c, err == nil)
		}
		if err != nil {
			leaves := configErrorLeaves(t, err)
			if len(leaves) == 0 {
				t.Fatal("empty error")
			}
			for _, e := range leaves {
				if strings.Contains(e.Error(), "\n") {
					t.Fatalf("multi-line error message: %q", e.Error())
				}
			}
			if !bytes.Contains(data, []byte(secret)) && strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks an interpolated value: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		if len(c.Sources) == 0 {
			t.Fatal("a valid config without sources")
		}
		for _, s := range c.Stages {
			if s.Timeout <= 0 || s.Batch < 1 || s.Batch > 4096 || s.Retries < 0 {
				t.Fatalf("stage %q escaped validation: %+v", s.Name, s)
			}
		}
	})
}

// checkSections exercises every section of c, which may be a partial config
// returned along with errors: nothing may panic, and every error must be a
// *ConfigError. A valid config's sections decode into any without error.
func checkSections(t *testing.T, c *pipeline.Config, valid bool) {
	sections := []pipeline.Section{c.Broadcast, c.Bus}
	for _, s := range c.Sources {
		sections = append(sections, s.Config)
	}
	for _, s := range c.Stages {
		sections = append(sections, s.Config)
	}
	for _, s := range sections {
		if _, err := s.JSON(); err != nil {
			configErrorLeaves(t, err)
		}
		var v any
		if err := s.Decode(&v); err != nil {
			if valid {
				t.Fatalf("Decode into any: %v", err)
			}
			configErrorLeaves(t, err)
		}
		var strict struct {
			Name  string            `yaml:"name"`
			Items []int             `yaml:"items"`
			Map   map[string]string `yaml:"map"`
			Wait  time.Duration     `yaml:"wait"`
		}
		if err := s.Decode(&strict); err != nil {
			configErrorLeaves(t, err)
		}
		configErrorLeaves(t, s.Errorf("a.b[0]", "probe"))
	}
}
