package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rs/zerolog"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/pipeline"
)

// cmdValidate checks a pipeline file without running it: syntax, schema,
// values, sources' and broadcast's sections, that every plugin can be
// found, that an installed plugin's binary still has the SHA-256 recorded
// in plugins.lock (hashed, not started), and that every stage's config
// matches its plugin's config schema. Every problem is printed as
// file:line:col: message.
func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("validate", stderr)
	pluginDir := fs.String("plugin-dir", defaultPluginDir(), "directory of installed plugin binaries")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"validate: want a pipeline file"}
	}
	failed := false
	for _, f := range files {
		if err := validateFile(f, *pluginDir); err != nil {
			fmt.Fprintln(stderr, err)
			failed = true
			continue
		}
		fmt.Fprintf(stdout, "%s: ok\n", f)
	}
	if failed {
		return errQuiet
	}
	return nil
}

func validateFile(path, pluginDir string) error {
	cfg, err := loadConfig(path)
	if cfg == nil {
		return err // not YAML, or not a mapping: nothing more to check
	}
	// A partial config comes with its schema errors; keep checking the
	// rest so every problem is reported at once.
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := buildSources(cfg, zerolog.Nop()); err != nil {
		errs = append(errs, err)
	}
	var b broadcast.Config
	if err := cfg.Broadcast.Decode(&b); err != nil {
		errs = append(errs, err)
	} else if err := b.Validate(); err != nil {
		errs = append(errs, cfg.Broadcast.Errorf("", "%v", err))
	}
	src, _ := os.ReadFile(path) // for positioning unknown keys; best effort
	errs = append(errs, checkStages(cfg, pluginDir, src)...)
	return sortByPosition(errs)
}

// sortByPosition flattens joined errors and orders them by file position,
// so the report reads top to bottom.
func sortByPosition(errs []error) error {
	var flat []error
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		flat = append(flat, err)
	}
	for _, err := range errs {
		walk(err)
	}
	pos := func(err error) (int, int) {
		var ce *pipeline.ConfigError
		if errors.As(err, &ce) {
			return ce.Line, ce.Col
		}
		return 1 << 30, 0
	}
	sort.SliceStable(flat, func(i, j int) bool {
		li, ci := pos(flat[i])
		lj, cj := pos(flat[j])
		return li < lj || li == lj && ci < cj
	})
	return errors.Join(flat...)
}

// checkStages checks every stage's plugin without starting it: that it
// resolves, that an installed one's binary has the SHA-256 in plugins.lock,
// and that the stage's config matches the plugin's config schema. The
// schema of a built-in comes from its in-process Describe, that of an
// installed plugin from plugins.lock; a plugin named by path is trusted as
// it is and not started, so its config is checked only by the plugin
// itself, when the stage starts.
func checkStages(cfg *pipeline.Config, pluginDir string, src []byte) []error {
	var errs []error
	plugins := &pluginResolver{dir: pluginDir}
	schemas := map[string]*jsonschema.Schema{}
	for i, sc := range cfg.Stages {
		at := fmt.Sprintf("stages[%d]", i)
		if sc.Plugin == "" {
			continue // reported by the config loader
		}
		p, err := plugins.resolve(sc.Plugin)
		if err != nil {
			errs = append(errs, cfg.Errorf(at+".plugin", "%v", err))
			continue
		}
		var schema string
		switch p.kind {
		case pluginPath:
			continue
		case pluginBuiltin:
			schema = builtinDescription(sc.Plugin).ConfigSchema
		case pluginInstalled:
			if err := verifyInstalled(pluginDir, p.entry); err != nil {
				errs = append(errs, cfg.Errorf(at+".plugin", "plugin %s: %v", sc.Plugin, err))
			}
			schema = string(p.entry.ConfigSchema)
		}
		if schema == "" {
			continue
		}
		sch, ok := schemas[sc.Plugin]
		if !ok {
			sch, err = compileSchema(sc.Plugin, schema)
			if err != nil {
				errs = append(errs, cfg.Errorf(at+".plugin", "%v", err))
			}
			schemas[sc.Plugin] = sch
		}
		if sch != nil {
			errs = append(errs, checkConfigSchema(cfg, at+".config", sc, sch, src)...)
		}
	}
	return errs
}

// schemaURL names a plugin's config schema inside the compiler; it is
// never fetched.
func schemaURL(plugin string) string {
	return "https://plugins.ballcast.invalid/" + plugin + "/config.schema.json"
}

// noLoader refuses to load any schema: a plugin's config schema must be
// self-contained (a $ref may point inside it, or at a standard
// metaschema), so validation reads no file and no URL.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s: only references inside the schema are allowed", url)
}

// compileSchema compiles a plugin's config schema (JSON Schema; draft
// 2020-12 unless its $schema says otherwise). "format" is an annotation,
// not an assertion, as the draft specifies.
func compileSchema(plugin, schema string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		return nil, fmt.Errorf("plugin %s: config schema is not valid JSON: %v", plugin, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	url := schemaURL(plugin)
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("plugin %s: config schema: %v", plugin, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("plugin %s: config schema is not valid JSON Schema: %v", plugin, err)
	}
	return sch, nil
}

// checkConfigSchema validates a stage's config against its plugin's
// schema and reports every violation at its YAML node, as
// "file:line:col: stages[i].config.<path>: message". An absent config is
// checked as {}, and a key whose value is null (`key:` or an empty
// `${VAR:-}`) as absent: that is what a plugin decoding its config with
// sdk.Config.Decode sees, its default.
func checkConfigSchema(cfg *pipeline.Config, at string, sc pipeline.StageConfig, sch *jsonschema.Schema, src []byte) []error {
	raw, err := sc.Config.JSON()
	if err != nil {
		return []error{err} // .inf or .nan, already positioned
	}
	var inst any = map[string]any{}
	if raw != nil {
		if inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(raw)); err != nil {
			return []error{cfg.Errorf(at, "%v", err)}
		}
	}
	inst = dropNulls(inst)
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return []error{cfg.Errorf(at, "plugin %s config schema: %v", sc.Plugin, err)}
	}
	var (
		errs []error
		seen = map[string]bool{}
	)
	report := func(path, msg string) error {
		if key := path + "\x00" + msg; !seen[key] {
			seen[key] = true
			err := cfg.Errorf(path, "%s (%s config schema)", msg, sc.Plugin)
			var ce *pipeline.ConfigError
			if sc.Config.IsZero() && errors.As(err, &ce) {
				// No config: point at the stage that lacks one.
				stage := cfg.Errorf(strings.TrimSuffix(at, ".config"), "").(*pipeline.ConfigError)
				ce.Line, ce.Col = stage.Line, stage.Col
			}
			errs = append(errs, err)
			return err
		}
		return nil
	}
	for _, leaf := range schemaLeaves(ve) {
		path := at + yamlPathOf(inst, leaf.InstanceLocation)
		switch k := leaf.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			known := knownKeys(sch, leaf.SchemaURL)
			for _, prop := range k.Properties {
				msg := "unknown key"
				if len(known) > 0 {
					msg += "; known keys: " + strings.Join(known, ", ")
				} else {
					msg += "; this object takes no keys"
				}
				atKey(report(path+yamlKeyPath(prop), msg), src, prop)
			}
		case *kind.Pattern:
			// The value may come from the environment: never echo it.
			report(path, fmt.Sprintf("does not match pattern %q", k.Want))
		case *kind.Format:
			report(path, fmt.Sprintf("is not a valid %s", k.Want))
		default:
			report(path, leaf.BasicOutput().Error.String())
		}
	}
	return errs
}

// atKey moves an unknown key's error from its value to the key itself,
// where the config loader reports unknown keys too, when the key is a
// plain key on the value's line ("key: value", "{key: value}"). pipeline
// positions errors at value nodes only.
func atKey(err error, src []byte, key string) {
	var ce *pipeline.ConfigError
	if !errors.As(err, &ce) || ce.Line < 1 || ce.Col < 1 {
		return
	}
	lines := bytes.SplitN(src, []byte("\n"), ce.Line+1)
	if len(lines) < ce.Line {
		return
	}
	line := string(lines[ce.Line-1])
	if ce.Col-1 > len(line) {
		return
	}
	before := strings.TrimRight(line[:ce.Col-1], " \t")
	if i := len(before) - len(key) - 1; i >= 0 && before[i:] == key+":" && (i == 0 || strings.ContainsRune(" \t{,-", rune(before[i-1]))) {
		ce.Col = i + 1
	}
}

// dropNulls removes null-valued keys from every mapping in v.
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
			} else {
				v[k] = dropNulls(x)
			}
		}
	case []any:
		for i, x := range v {
			v[i] = dropNulls(x)
		}
	}
	return v
}

// schemaLeaves returns the innermost errors of a validation error tree:
// the ones that say what is wrong where.
func schemaLeaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, schemaLeaves(c)...)
	}
	return out
}

// yamlPathOf turns a JSON pointer's tokens into the path syntax of
// pipeline errors (".llm.timeout", "[2]", `["X-Key"]`), walking the
// instance to tell list indexes from mapping keys.
func yamlPathOf(inst any, tokens []string) string {
	var b strings.Builder
	cur := inst
	for _, tok := range tokens {
		switch v := cur.(type) {
		case []any:
			b.WriteString("[" + tok + "]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(v) {
				cur = v[i]
			} else {
				cur = nil
			}
		case map[string]any:
			b.WriteString(yamlKeyPath(tok))
			cur = v[tok]
		default:
			b.WriteString(yamlKeyPath(tok))
			cur = nil
		}
	}
	return b.String()
}

// yamlKeyPath is the relative path of a mapping key: ".key" for a plain
// key, `["odd key"]` otherwise, as pipeline writes it.
func yamlKeyPath(key string) string {
	plain := key != ""
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if !plain {
		return "[" + strconv.Quote(key) + "]"
	}
	return "." + key
}

// knownKeys returns the property names of the (sub)schema at location,
// sorted, for an "unknown key" message.
func knownKeys(root *jsonschema.Schema, location string) []string {
	seen := map[*jsonschema.Schema]bool{}
	var find func(s *jsonschema.Schema) *jsonschema.Schema
	find = func(s *jsonschema.Schema) *jsonschema.Schema {
		if s == nil || seen[s] {
			return nil
		}
		seen[s] = true
		if s.Location == location {
			return s
		}
		kids := []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else, s.Items2020, s.Contains, s.PropertyNames, s.UnevaluatedProperties, s.UnevaluatedItems}
		kids = append(kids, s.AllOf...)
		kids = append(kids, s.AnyOf...)
		kids = append(kids, s.OneOf...)
		kids = append(kids, s.PrefixItems...)
		kids = slices.AppendSeq(kids, maps.Values(s.Properties))
		kids = slices.AppendSeq(kids, maps.Values(s.PatternProperties))
		kids = slices.AppendSeq(kids, maps.Values(s.DependentSchemas))
		if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
			kids = append(kids, ap)
		}
		if it, ok := s.Items.(*jsonschema.Schema); ok {
			kids = append(kids, it)
		}
		for _, k := range kids {
			if f := find(k); f != nil {
				return f
			}
		}
		return nil
	}
	s := find(root)
	if s == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(s.Properties))
}
