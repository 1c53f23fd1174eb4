package pipeline_test

import (
	"encoding/json"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ballcast/ballcast/pipeline"
)

// The golden error files are rewritten with `go test -run Config -update`.
// The flag is shared with other tests of the package, so it is registered
// only if nobody else has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func configUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// configTestEnv is the environment every config test sees. Values marked
// secret must never appear in an error message.
var configTestEnv = map[string]string{
	"ROANUZ_API_KEY": "rk-live-7f3a9c-SECRET",
	"OPENAI_API_KEY": "sk-proj-SECRET-do-not-print",
	"BATCH":          "32",
	"EMPTY":          "",
}

var configTestSecrets = []string{"rk-live-7f3a9c-SECRET", "sk-proj-SECRET-do-not-print", "SECRET"}

func configTestOptions() *pipeline.LoadOptions {
	return &pipeline.LoadOptions{
		SourceTypes: []string{"replay", "roanuz", "sportrix"},
		Env: func(k string) (string, bool) {
			v, ok := configTestEnv[k]
			return v, ok
		},
	}
}

// configErrorLeaves flattens an errors.Join tree, failing the test if any
// leaf is not a *pipeline.ConfigError.
func configErrorLeaves(t testing.TB, err error) []*pipeline.ConfigError {
	t.Helper()
	var out []*pipeline.ConfigError
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		ce, ok := err.(*pipeline.ConfigError)
		if !ok {
			t.Fatalf("error %q is a %T, want *pipeline.ConfigError", err, err)
		}
		out = append(out, ce)
	}
	walk(err)
	return out
}

func assertNoSecrets(t testing.TB, text string) {
	t.Helper()
	for _, s := range configTestSecrets {
		if strings.Contains(text, s) {
			t.Errorf("error text leaks secret %q:\n%s", s, text)
		}
	}
}

// diffLines reports the first difference between two line lists.
func diffLines(t testing.TB, got, want []string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("line %d:\n got: %s\nwant: %s\n\nall got:\n%s", i+1, g, w, strings.Join(got, "\n"))
			return
		}
	}
}

// configView is a Config with Sections replaced by their JSON, so that it
// can be compared with reflect.DeepEqual.
type configView struct {
	Sources   []sourceView
	Stages    []stageView
	Broadcast string
	Bus       string
	Log       pipeline.LogConfig
	File      string
}

type sourceView struct{ Name, Type, Config string }

type stageView struct {
	Name, Plugin string
	Timeout      time.Duration
	OnError      pipeline.OnError
	Retries      int
	Batch        int
	Config       string
}

func viewConfig(t testing.TB, c *pipeline.Config) configView {
	t.Helper()
	js := func(s pipeline.Section) string {
		b, err := s.JSON()
		if err != nil {
			t.Fatalf("Section.JSON: %v", err)
		}
		if b == nil {
			return "<zero>"
		}
		return string(b)
	}
	v := configView{Broadcast: js(c.Broadcast), Bus: js(c.Bus), Log: c.Log, File: c.File}
	for _, s := range c.Sources {
		v.Sources = append(v.Sources, sourceView{s.Name, s.Type, js(s.Config)})
	}
	for _, s := range c.Stages {
		v.Stages = append(v.Stages, stageView{s.Name, s.Plugin, s.Timeout, s.OnError, s.Retries, s.Batch, js(s.Config)})
	}
	return v
}

func TestParseValidFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		want configView
	}{
		{
			name: "full",
			file: "testdata/config/full.yaml",
			want: configView{
				Sources: []sourceView{
					{"bundled", "replay", `{"speed":"20x","match":"1298179"}`},
					{"roanuz", "roanuz", `{"api_key":"rk-live-7f3a9c-SECRET","project":"demo"}`},
				},
				Stages: []stageView{
					{"dedup", "dedup", 2 * time.Second, pipeline.OnErrorSkip, 0, 128, `{}`},
					{"stats", "stats", 5 * time.Second, pipeline.OnErrorFail, 3, 64, `<zero>`},
					{"commentary", "./bin/ballcast-plugin-commentary", 30 * time.Second, pipeline.OnErrorFallback, 2, 1,
						`{"model":"gpt-4o-mini","api_key":"sk-proj-SECRET-do-not-print","temperature":0.7,"max_tokens":120,` +
							`"personas":["classic","stats"],"price":"$0.01 per call"}`},
				},
				Broadcast: `{"addr":":8080","origins":["*"]}`,
				Bus:       `{"url":"nats://localhost:4222"}`,
				Log:       pipeline.LogConfig{Level: "debug", Format: "json"},
				File:      "testdata/config/full.yaml",
			},
		},
		{
			name: "defaults",
			file: "testdata/config/defaults.yaml",
			want: configView{
				Sources: []sourceView{{"bundled", "replay", "<zero>"}},
				Stages: []stageView{
					{"dedup", "dedup", 5 * time.Second, pipeline.OnErrorRetry, 3, 64, "<zero>"},
					{"stats", "stats", 5 * time.Second, pipeline.OnErrorRetry, 3, 64, "<zero>"},
				},
				Broadcast: "<zero>",
				Bus:       "<zero>",
				Log:       pipeline.LogConfig{Level: "info", Format: "auto"},
				File:      "testdata/config/defaults.yaml",
			},
		},
		{
			name: "anchors and merge keys",
			file: "testdata/config/anchors.yaml",
			want: configView{
				Sources: []sourceView{
					{"first", "replay", `{"speed":"20x","loop":true}`},
					{"second", "replay", `{"speed":"5x","loop":true}`},
				},
				Stages: []stageView{
					{"dedup", "dedup", time.Second, pipeline.OnErrorSkip, 3, 64, "<zero>"},
					{"dedup-again", "dedup", time.Second, pipeline.OnErrorSkip, 3, 8, "<zero>"},
				},
				Broadcast: "<zero>",
				Bus:       "<zero>",
				Log:       pipeline.LogConfig{Level: "info", Format: "auto"},
				File:      "testdata/config/anchors.yaml",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := pipeline.Load(tc.file, configTestOptions())
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			got := viewConfig(t, c)
			if !reflect.DeepEqual(got, tc.want) {
				gj, _ := json.MarshalIndent(got, "", "  ")
				wj, _ := json.MarshalIndent(tc.want, "", "  ")
				diffLines(t, strings.Split(string(gj), "\n"), strings.Split(string(wj), "\n"))
			}
		})
	}
}

// TestParseErrors runs every testdata/config/errors/*.yaml file: YAML, a
// "---- want" line, then the expected error lines. broken.yaml (plain YAML,
// shared with the CLI's tests) keeps its expectation in broken.golden.
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/config/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	files = append(files, "testdata/config/broken.yaml")
	const sep = "---- want\n"
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			wantFile := file
			input, want, found := strings.Cut(string(raw), sep)
			if !found {
				wantFile = strings.TrimSuffix(file, ".yaml") + ".golden"
				w, err := os.ReadFile(wantFile)
				if err != nil && !configUpdateGolden() {
					t.Fatal(err)
				}
				want = string(w)
			}
			_, err = pipeline.Parse(filepath.Base(file), []byte(input), configTestOptions())
			if err == nil {
				t.Fatal("Parse succeeded, want errors")
			}
			leaves := configErrorLeaves(t, err)
			got := err.Error()
			assertNoSecrets(t, got)
			if n := strings.Count(got, "\n") + 1; n != len(leaves) {
				t.Errorf("%d lines for %d errors: an error message spans lines", n, len(leaves))
			}
			if configUpdateGolden() {
				out := got + "\n"
				if found {
					out = input + sep + out
				}
				if err := os.WriteFile(wantFile, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			diffLines(t, strings.Split(got, "\n"), strings.Split(strings.TrimSuffix(want, "\n"), "\n"))
		})
	}
}

func TestParseConfigErrorFields(t *testing.T) {
	_, err := pipeline.Load("testdata/config/broken.yaml", configTestOptions())
	leaves := configErrorLeaves(t, err)
	if len(leaves) < 4 {
		t.Fatalf("broken.yaml has %d problems, want at least 4:\n%v", len(leaves), err)
	}
	want := &pipeline.ConfigError{File: "testdata/config/broken.yaml", Line: 11, Col: 14,
		Path: "stages[0].timeout", Msg: `"fast" is not a duration`}
	var found bool
	for _, e := range leaves {
		if *e == *want {
			found = true
		}
	}
	if !found {
		t.Errorf("no error %+v among:\n%v", want, err)
	}
	if got, w := want.Error(), `testdata/config/broken.yaml:11:14: stages[0].timeout: "fast" is not a duration`; got != w {
		t.Errorf("Error() = %q, want %q", got, w)
	}
	var ce *pipeline.ConfigError
	if !errors.As(err, &ce) {
		t.Errorf("errors.As(*ConfigError) failed on %T", err)
	}
}

func TestParsePartialConfig(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		partial bool
	}{
		{"schema errors keep the rest", "testdata/config/broken.yaml", true},
		{"empty file", "testdata/config/errors/empty.yaml", true},
		{"syntax error", "testdata/config/errors/syntax.yaml", false},
		{"several documents", "testdata/config/errors/documents.yaml", false},
		{"not a mapping", "testdata/config/errors/not_a_mapping.yaml", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			input, _, _ := strings.Cut(string(data), "---- want\n")
			c, err := pipeline.Parse("p.yaml", []byte(input), configTestOptions())
			if err == nil {
				t.Fatal("no error")
			}
			if got := c != nil; got != tc.partial {
				t.Fatalf("partial config returned: %v, want %v", got, tc.partial)
			}
		})
	}

	// The partial config of broken.yaml still has its entries, with
	// defaults where values were missing and zero where they were wrong.
	c, _ := pipeline.Load("testdata/config/broken.yaml", configTestOptions())
	if len(c.Sources) != 2 || len(c.Stages) != 2 {
		t.Fatalf("got %d sources and %d stages, want 2 and 2", len(c.Sources), len(c.Stages))
	}
	if got := c.Stages[0].Timeout; got != 0 {
		t.Errorf("stages[0].timeout (invalid) = %v, want 0", got)
	}
	if got := c.Stages[1].Timeout; got != 5*time.Second {
		t.Errorf("stages[1].timeout (unset) = %v, want the 5s default", got)
	}
	if err := c.Stages[1].Config.Errorf("model", "unknown model"); !strings.HasPrefix(err.Error(), "testdata/config/broken.yaml:12:5: stages[1].config.model: ") {
		t.Errorf("section error in a partial config: %v", err)
	}
}

func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		err  pipeline.ConfigError
		want string
	}{
		{"full", pipeline.ConfigError{File: "p.yaml", Line: 3, Col: 5, Path: "log.level", Msg: "bad"}, "p.yaml:3:5: log.level: bad"},
		{"no path", pipeline.ConfigError{File: "p.yaml", Line: 1, Col: 1, Msg: "bad"}, "p.yaml:1:1: bad"},
		{"no position", pipeline.ConfigError{File: "p.yaml", Path: "x", Msg: "bad"}, "p.yaml: x: bad"},
		{"nothing", pipeline.ConfigError{Msg: "bad"}, "bad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := pipeline.Load("testdata/config/does-not-exist.yaml", nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want an error wrapping fs.ErrNotExist", err)
	}
}

func TestParseNilOptionsUsesProcessEnv(t *testing.T) {
	t.Setenv("BALLCAST_TEST_SOURCE_TYPE", "anything-goes")
	c, err := pipeline.Parse("p.yaml", []byte("sources: [{name: a, type: '${BALLCAST_TEST_SOURCE_TYPE}'}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sources[0].Type; got != "anything-goes" {
		t.Errorf("type = %q, want %q", got, "anything-goes")
	}
}

func TestParseEnvInterpolation(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any // the value of key "v", as Section.Decode into any gives it
	}{
		{"plain variable", "v: ${OPENAI_API_KEY}", "sk-proj-SECRET-do-not-print"},
		{"inside text", "v: key=${OPENAI_API_KEY};", "key=sk-proj-SECRET-do-not-print;"},
		{"default when unset", "v: ${NOT_SET:-fallback}", "fallback"},
		{"default when empty", "v: ${EMPTY:-fallback}", "fallback"},
		{"set wins over default", "v: ${BATCH:-64}", 32},
		{"empty default", `v: "${NOT_SET:-}"`, ""},
		{"unquoted result is typed", "v: ${BATCH}", 32},
		{"quoted result stays a string", `v: "${BATCH}"`, "32"},
		{"single-quoted too", `v: '${BATCH}'`, "32"},
		{"unquoted empty is null", "v: ${EMPTY}", nil},
		{"typed default", "v: ${NOT_SET:-true}", true},
		{"dollar dollar", "v: $$HOME", "$HOME"},
		{"dollar dollar then variable", "v: $$${BATCH}", "$32"},
		{"lone dollar kept", "v: a$b $ c", "a$b $ c"},
		{"literal block", "v: |\n  key ${BATCH}\n", "key 32\n"},
		{"no structure injected", "v: ${NOT_SET:-[a, b]}", "[a, b]"},
		{"keys are not interpolated", "v:\n  ${BATCH}: x\n", map[string]any{"${BATCH}": "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := pipeline.ParseSection("s.yaml", []byte(tc.yaml), configTestOptions())
			if err != nil {
				t.Fatalf("ParseSection: %v", err)
			}
			var got struct {
				V any `yaml:"v"`
			}
			if err := s.Decode(&got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got.V, tc.want) {
				t.Errorf("got %#v, want %#v", got.V, tc.want)
			}
		})
	}
}

func TestParseEnvErrorsHideValues(t *testing.T) {
	data, err := os.ReadFile("testdata/config/errors/env.yaml")
	if err != nil {
		t.Fatal(err)
	}
	input, _, _ := strings.Cut(string(data), "---- want\n")
	_, err = pipeline.Parse("env.yaml", []byte(input), configTestOptions())
	if err == nil {
		t.Fatal("no error")
	}
	text := err.Error()
	assertNoSecrets(t, text)
	for _, want := range []string{
		`stages[0].timeout: "${OPENAI_API_KEY}" is not a duration`,
		"sources[0].config.token: environment variable NOT_SET is not set",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
}

// sampleSourceConfig stands for a source's own config struct.
type sampleSourceConfig struct {
	Speed   string        `yaml:"speed"`
	Timeout time.Duration `yaml:"timeout"`
	Files   []string      `yaml:"files"`
	LLM     struct {
		Model       string        `yaml:"model"`
		Timeout     time.Duration `yaml:"timeout"`
		Temperature float64       `yaml:"temperature"`
	} `yaml:"llm"`
	Limits  map[string]int `yaml:"limits"`
	Enabled *bool          `yaml:"enabled"`
	Port    uint16         `yaml:"port"`
	Extra   any            `yaml:"extra"`
}

func loadSectionFixture(t *testing.T) *pipeline.Config {
	t.Helper()
	data, err := os.ReadFile("testdata/config/section.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipeline.Parse("section.yaml", data, configTestOptions())
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestSectionDecode(t *testing.T) {
	c := loadSectionFixture(t)
	enabled := true
	tests := []struct {
		name    string
		section pipeline.Section
		want    sampleSourceConfig
		errs    []string
	}{
		{
			name:    "valid",
			section: c.Sources[0].Config,
			want: func() sampleSourceConfig {
				w := sampleSourceConfig{Speed: "20x", Timeout: 2 * time.Second, Files: []string{"a.json", "b.json"},
					Limits: map[string]int{"overs": 20, "wickets": 10}, Enabled: &enabled, Port: 8080,
					Extra: map[string]any{"nested": []any{1, "two", 3.5, nil, map[string]any{"k": "v"}}}}
				w.LLM.Model, w.LLM.Timeout, w.LLM.Temperature = "gpt-4o-mini", 30*time.Second, 0.7
				return w
			}(),
		},
		{
			name:    "every problem at once",
			section: c.Sources[1].Config,
			errs: []string{
				`section.yaml:25:7: sources[1].config.timout: unknown key; did you mean "timeout"?`,
				`section.yaml:26:14: sources[1].config.files: expected a list, got "a.json"`,
				`section.yaml:28:16: sources[1].config.llm.model: expected a string, got a list`,
				`section.yaml:29:18: sources[1].config.llm.timeout: "soon" is not a duration`,
				`section.yaml:30:22: sources[1].config.llm.temperature: expected a number, got "hot"`,
				`section.yaml:32:16: sources[1].config.limits.overs: expected an integer, got "many"`,
				`section.yaml:33:16: sources[1].config.enabled: expected a boolean (true or false), got "yes"`,
				`section.yaml:34:13: sources[1].config.port: 70000 does not fit in uint16`,
			},
		},
		{
			name:    "empty section keeps defaults",
			section: c.Sources[2].Config,
			want:    sampleSourceConfig{Speed: "1x"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sampleSourceConfig{Speed: "1x"}
			err := tc.section.Decode(&got)
			if tc.errs != nil {
				if err == nil {
					t.Fatal("no error")
				}
				configErrorLeaves(t, err)
				diffLines(t, strings.Split(err.Error(), "\n"), tc.errs)
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSectionDecodeRejectsNonPointer(t *testing.T) {
	c := loadSectionFixture(t)
	var v sampleSourceConfig
	if err := c.Sources[0].Config.Decode(v); err == nil {
		t.Error("Decode(non-pointer) succeeded")
	}
	if err := c.Sources[0].Config.Decode((*sampleSourceConfig)(nil)); err == nil {
		t.Error("Decode(nil pointer) succeeded")
	}
}

func TestSectionIsZero(t *testing.T) {
	c := loadSectionFixture(t)
	for i, want := range []bool{false, false, true} {
		if got := c.Sources[i].Config.IsZero(); got != want {
			t.Errorf("sources[%d].config.IsZero() = %v, want %v", i, got, want)
		}
	}
	if !(pipeline.Section{}).IsZero() {
		t.Error("zero Section is not zero")
	}
}

func TestSectionErrorf(t *testing.T) {
	c := loadSectionFixture(t)
	tests := []struct {
		name    string
		section pipeline.Section
		path    string
		want    string
	}{
		{"key", c.Sources[0].Config, "speed", "section.yaml:7:14: sources[0].config.speed: not offered"},
		{"nested key", c.Sources[0].Config, "llm.timeout", "section.yaml:12:18: sources[0].config.llm.timeout: not offered"},
		{"list item", c.Sources[0].Config, "files[1]", "section.yaml:9:23: sources[0].config.files[1]: not offered"},
		{"deep item", c.Sources[0].Config, "extra.nested[4].k", "section.yaml:20:41: sources[0].config.extra.nested[4].k: not offered"},
		{"quoted key", c.Sources[0].Config, `limits["overs"]`, `section.yaml:15:16: sources[0].config.limits["overs"]: not offered`},
		{"section itself", c.Sources[0].Config, "", "section.yaml:7:7: sources[0].config: not offered"},
		{"missing key falls back to section", c.Sources[0].Config, "llm.nope", "section.yaml:7:7: sources[0].config.llm.nope: not offered"},
		{"index out of range", c.Sources[0].Config, "files[7]", "section.yaml:7:7: sources[0].config.files[7]: not offered"},
		{"absent section is at its entry", c.Sources[2].Config, "speed", "section.yaml:35:5: sources[2].config.speed: not offered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.section.Errorf(tc.path, "not %s", "offered")
			var ce *pipeline.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %T, want *pipeline.ConfigError", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestSectionJSON(t *testing.T) {
	c := loadSectionFixture(t)
	s := c.Sources[0].Config
	b, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"speed":"20x","timeout":"2s","files":["a.json","b.json"],` +
		`"llm":{"model":"gpt-4o-mini","timeout":"30s","temperature":0.7},"limits":{"overs":20,"wickets":10},` +
		`"enabled":true,"port":8080,"extra":{"nested":[1,"two",3.5,null,{"k":"v"}]}}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}

	// Round trip: the JSON decodes to what Decode gives, through JSON.
	var viaJSON, viaDecode any
	if err := json.Unmarshal(b, &viaJSON); err != nil {
		t.Fatalf("JSON is not valid: %v", err)
	}
	if err := s.Decode(&viaDecode); err != nil {
		t.Fatal(err)
	}
	rb, err := json.Marshal(viaDecode)
	if err != nil {
		t.Fatal(err)
	}
	var normalized any
	if err := json.Unmarshal(rb, &normalized); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(viaJSON, normalized) {
		t.Errorf("round trip differs:\n JSON   %v\n Decode %v", viaJSON, normalized)
	}

	if b, err := c.Sources[2].Config.JSON(); b != nil || err != nil {
		t.Errorf("empty section JSON = %q, %v; want nil, nil", b, err)
	}
}

func TestSectionJSONRejectsInfinity(t *testing.T) {
	s, err := pipeline.ParseSection("s.yaml", []byte("a:\n  b: .inf\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.JSON()
	if got, want := errString(err), `s.yaml:2:6: a.b: .inf cannot be represented in json`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestParseSectionErrors(t *testing.T) {
	_, err := pipeline.ParseSection("s.yaml", []byte("a: ${NOT_SET}\nb: [1\n"), configTestOptions())
	if got, want := errString(err), "s.yaml:2:4: invalid yaml: sequence end token ']' not found"; got != want {
		t.Errorf("syntax: got %q, want %q", got, want)
	}
	_, err = pipeline.ParseSection("s.yaml", []byte("a: ${NOT_SET}\n"), configTestOptions())
	if got, want := errString(err), "s.yaml:1:4: a: environment variable NOT_SET is not set"; got != want {
		t.Errorf("env: got %q, want %q", got, want)
	}
}
