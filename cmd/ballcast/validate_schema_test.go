package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ballcast/ballcast/pipeline"
)

// Every built-in plugin's config schema must compile, and the config the
// plugin runs with by default ({}) must satisfy it.
func TestBuiltinSchemasCompile(t *testing.T) {
	for _, name := range builtinNames() {
		t.Run(name, func(t *testing.T) {
			d := builtinDescription(name)
			if d.Name != name {
				t.Errorf("Describe().Name = %q, want %q", d.Name, name)
			}
			if d.ConfigSchema == "" {
				t.Logf("%s has no config schema: its config is checked only by the plugin", name)
				return
			}
			sch, err := compileSchema(name, d.ConfigSchema)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(map[string]any{}); err != nil {
				t.Fatalf("the empty config does not satisfy the schema: %v", err)
			}
		})
	}
}

func TestValidateReportsSchemaViolations(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"validate", "--plugin-dir", t.TempDir(), "testdata/schema.yaml"}, &out, &errb)
	if err == nil || exitCode(err) == 0 {
		t.Fatalf("validate accepted a config that breaks the schemas:\n%s", out.String())
	}
	got := strings.Split(strings.TrimSpace(errb.String()), "\n")
	// Unknown keys point at the key, other violations at the value; the
	// loader's own problem (timeout) comes in the same run, in file order.
	want := []string{
		`testdata/schema.yaml:9:14: stages[0].timeout: "soon" is not a duration`,
		`testdata/schema.yaml:11:20: stages[0].config.max_matches: minimum: got 0, want 1 (dedup config schema)`,
		`testdata/schema.yaml:12:7: stages[0].config.maxmatches: unknown key; known keys: max_matches (dedup config schema)`,
		`testdata/schema.yaml:15:14: stages[1].config.window: unknown key; this object takes no keys (stats config schema)`,
		`testdata/schema.yaml:19:16: stages[2].config.persona: got number, want string (commentary config schema)`,
		`testdata/schema.yaml:21:21: stages[2].config.llm.max_tokens: maximum: got 9,000, want 4,096 (commentary config schema)`,
		// The list of keys is the commentary plugin's to grow.
		`testdata/schema.yaml:22:9: stages[2].config.llm.temprature: unknown key; known keys: …`,
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		if w, prefix := strings.CutSuffix(want[i], "…"); prefix {
			ok = strings.HasPrefix(got[i], w) && strings.Contains(got[i], "temperature")
		} else {
			ok = got[i] == want[i]
		}
	}
	if !ok {
		t.Fatalf("validate reported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSchemaPathsAndMessages(t *testing.T) {
	const schema = `{
	  "type": "object",
	  "additionalProperties": false,
	  "properties": {
	    "max": {"type": "integer", "minimum": 1},
	    "labels": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}},
	    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
	    "url": {"type": "string", "format": "uri"}
	  },
	  "required": ["max"]
	}`
	const head = "sources: [{name: s, type: replay}]\nstages:\n  - name: x\n    plugin: ./x\n"
	cases := []struct {
		name   string
		config string // lines 5 and on
		want   []string
	}{
		{"ok", "    config:\n      max: 2\n      labels: [a, b]\n      url: ''\n", nil},
		{"absent config is {}", "", []string{`t.yaml:3:5: stages[0].config: missing property 'max'`}},
		{"missing required", "    config:\n      labels: []\n", []string{`t.yaml:6:7: stages[0].config: missing property 'max'`}},
		{"list item, value not echoed", "    config:\n      max: 1\n      labels: [ok, Secret1]\n",
			[]string{`t.yaml:7:20: stages[0].config.labels[1]: does not match pattern "^[a-z]+$"`}},
		{"odd key", "    config:\n      max: 1\n      headers: {\"X Key\": 1}\n",
			[]string{`t.yaml:7:26: stages[0].config.headers["X Key"]: got number, want string`}},
		{"unknown key in flow map", "    config: {max: 1, mx: 2}\n",
			[]string{`t.yaml:5:22: stages[0].config.mx: unknown key; known keys: headers, labels, max, url`}},
		{"unknown key with a block value", "    config:\n      max: 1\n      extra:\n        a: 1\n",
			[]string{`t.yaml:8:9: stages[0].config.extra: unknown key; known keys: headers, labels, max, url`}},
	}
	sch, err := compileSchema("x", schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y := head + tc.config
			cfg, err := pipeline.Parse("t.yaml", []byte(y), nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range checkConfigSchema(cfg, "stages[0].config", cfg.Stages[0], sch, []byte(y)) {
				got = append(got, strings.TrimSuffix(e.Error(), " (./x config schema)"))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("config:\n%s\ngot:\n%s\nwant:\n%s", y, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestSchemaMustBeSelfContained(t *testing.T) {
	for _, ref := range []string{"https://example.com/s.json", "file:///etc/passwd", "other.json"} {
		s, _ := json.Marshal(map[string]any{"$ref": ref})
		if _, err := compileSchema("x", string(s)); err == nil {
			t.Errorf("schema with $ref %s compiled: it must not load anything", ref)
		}
	}
	if _, err := compileSchema("x", `{"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}`); err != nil {
		t.Errorf("local $ref refused: %v", err)
	}
	if _, err := compileSchema("x", `{"type": "objekt"}`); err == nil {
		t.Error("invalid schema compiled")
	}
}
