package pipeline

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Config is a parsed and validated pipeline file: where events come from,
// the stages they pass through in order, and the sections owned by other
// packages. The file format, with defaults:
//
//	sources:                 # at least one
//	  - name: bundled        # required, unique among sources, [a-z0-9_-]+
//	    type: replay         # required; one of LoadOptions.SourceTypes
//	    config:              # free-form mapping, decoded by the source
//	      speed: 20x
//	stages:                  # run in this order; may be empty
//	  - name: dedup          # required, unique among stages, [a-z0-9_-]+
//	    plugin: dedup        # built-in or installed plugin name, or a path containing "/"
//	    timeout: 2s          # per batch, a Go duration > 0; default 5s
//	    on_error: skip       # retry|skip|fallback|fail; default retry
//	    retries: 3           # further attempts before on_error applies, >= 0; default 3
//	    batch: 64            # max events per call, 1..4096; default 64
//	    config: {}           # free-form mapping, passed to the plugin as JSON
//	broadcast: {}            # free-form mapping, decoded by the broadcast package
//	bus: {}                  # free-form mapping, reserved for NATS settings
//	log:
//	  level: info            # debug|info|warn|error; default info
//	  format: auto           # auto|json|console; default auto
//
// Any scalar value may use ${VAR} or ${VAR:-default} (the default applies
// when VAR is unset or empty) to read the environment, and $$ for a literal
// $. Secrets belong there, never literally in the file. An unquoted value is
// typed after interpolation, so "batch: ${BATCH:-64}" is an integer; a
// quoted one stays a string. Keys are never interpolated. Anchors, aliases
// and merge keys (<<: *base) are supported.
//
// Parse and Load report every problem at once: unknown keys (with a
// suggestion), wrong types, bad durations and enum values, out-of-range
// numbers, missing or duplicate names, unknown source types and unset
// variables, each as a *ConfigError with its file, line and column.
type Config struct {
	// Sources are the feeds events come from. At least one is required; all
	// run concurrently and their events are merged per match.
	Sources []SourceConfig `yaml:"sources"`
	// Stages are the steps every event passes through, in order. Empty means
	// events go from the sources straight to the broadcast.
	Stages []StageConfig `yaml:"stages"`
	// Broadcast configures the WebSocket/SSE/REST server. It is decoded by
	// the broadcast package; zero means its defaults.
	Broadcast Section `yaml:"broadcast"`
	// Bus is reserved for NATS settings (embedded server or cluster URL);
	// zero means the embedded server.
	Bus Section `yaml:"bus"`
	// Log configures the process logger.
	Log LogConfig `yaml:"log"`
	// File is the name the configuration was read from, as used in error
	// messages. It is set by Parse and Load, not read from YAML.
	File string `yaml:"-"`

	doc Section // the whole document, for Errorf
}

// Errorf returns a *ConfigError positioned at the node at path in the
// file (e.g. "stages[1].plugin"), or at the top of the file when there is
// no such node. Callers that check a config further (the CLI resolving
// plugins) use it to report problems in the same form.
func (c *Config) Errorf(path, format string, args ...any) error {
	return c.doc.Errorf(path, format, args...)
}

// SourceConfig is one entry of "sources".
type SourceConfig struct {
	// Name identifies the source in logs, metrics and Event.Source. Required,
	// unique among sources, lower-case letters, digits, "_" and "-".
	Name string `yaml:"name"`
	// Type selects the source implementation ("replay", "roanuz", ...).
	// Required; when LoadOptions.SourceTypes is set it must be one of them.
	Type string `yaml:"type"`
	// Config is the source's own settings, which the source decodes with
	// Section.Decode. Zero means the source's defaults.
	Config Section `yaml:"config"`
	// Matches maps this provider's match IDs to ballcast match IDs, so that
	// two providers covering one match feed one stream: their events get
	// the same IDs and the ingest log and the dedup stage keep each
	// occurrence once. IDs not listed pass unchanged.
	Matches map[string]string `yaml:"matches"`
}

// StageConfig is one entry of "stages".
type StageConfig struct {
	// Name identifies the stage in logs and metrics. Required, unique among
	// stages, lower-case letters, digits, "_" and "-".
	Name string `yaml:"name"`
	// Plugin is what runs the stage: a built-in plugin ("dedup", "stats",
	// "commentary"), an installed plugin's name, or a path to a plugin
	// binary (any value containing "/"). Required.
	Plugin string `yaml:"plugin"`
	// Timeout bounds one call to the stage (a whole batch). Must be > 0;
	// default 5s. A call that times out has failed: it is retried, then
	// OnError applies.
	Timeout time.Duration `yaml:"timeout"`
	// OnError is what happens once a failed call or event has used up its
	// Retries. Default OnErrorRetry.
	OnError OnError `yaml:"on_error"`
	// Retries is how many further attempts, with backoff, a failed call or
	// a failed event gets before OnError applies. Must be >= 0; default 3;
	// 0 applies OnError at the first failure.
	Retries int `yaml:"retries"`
	// Batch is the maximum number of events of one match sent in one call,
	// in events, 1..4096; default 64. Live play sends batches of one;
	// larger batches amortise the plugin call during replay and backfill.
	Batch int `yaml:"batch"`
	// Config is the stage's own settings, passed to the plugin as JSON
	// (Config.JSON). Zero means the plugin's defaults.
	Config Section `yaml:"config"`
}

// OnError is a stage's failure policy.
type OnError string

// The failure policies, as written in YAML.
const (
	// OnErrorRetry keeps retrying a failed call, with backoff, until it
	// succeeds or the pipeline stops, so no event is lost while a plugin
	// restarts; an event the stage keeps failing on is passed on unchanged
	// after Retries attempts, so that it cannot stall its match. The
	// default.
	OnErrorRetry OnError = "retry"
	// OnErrorSkip drops the failed events after Retries attempts and
	// records the failure.
	OnErrorSkip OnError = "skip"
	// OnErrorFallback passes the failed events on unchanged after Retries
	// attempts, as if the stage were absent, and records the failure.
	OnErrorFallback OnError = "fallback"
	// OnErrorFail stops the pipeline with the error after Retries attempts.
	OnErrorFail OnError = "fail"
)

// LogConfig configures the process logger.
type LogConfig struct {
	// Level is the minimum level logged: debug, info, warn or error.
	// Default info.
	Level string `yaml:"level"`
	// Format is json (one object per line), console (human-readable) or
	// auto (console on a terminal, json otherwise). Default auto.
	Format string `yaml:"format"`
}

// LoadOptions tunes Load and Parse. A nil *LoadOptions means defaults.
type LoadOptions struct {
	// SourceTypes lists the valid values of sources[].type (the CLI passes
	// the names its source registry knows). Empty accepts any non-empty
	// type.
	SourceTypes []string
	// Env looks up environment variables for ${VAR} interpolation. Nil
	// means os.LookupEnv.
	Env func(string) (string, bool)
}

func (o *LoadOptions) lookupEnv() func(string) (string, bool) {
	if o == nil || o.Env == nil {
		return os.LookupEnv
	}
	return o.Env
}

// Defaults and limits of a stage, as documented on StageConfig.
const (
	defaultStageTimeout = 5 * time.Second
	defaultStageRetries = 3
	defaultStageBatch   = 64
	maxStageBatch       = 4096
)

var (
	onErrorValues   = []string{string(OnErrorRetry), string(OnErrorSkip), string(OnErrorFallback), string(OnErrorFail)}
	logLevelValues  = []string{"debug", "info", "warn", "error"}
	logFormatValues = []string{"auto", "json", "console"}
)

// ConfigError is one problem in a configuration file, positioned at the
// offending node.
type ConfigError struct {
	// File is the file name as given to Parse or Load.
	File string
	// Line and Col are 1-based; 0 when unknown.
	Line, Col int
	// Path locates the node in the document: "stages[2].timeout". Empty
	// for problems with the file as a whole.
	Path string
	// Msg says what is wrong, lower-case. It never contains an interpolated
	// value.
	Msg string
}

// Error returns "file:line:col: path: message", leaving out empty parts.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinConfigErrors sorts errs by position and joins them; nil if empty.
func joinConfigErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		ea, _ := a.(*ConfigError)
		eb, _ := b.(*ConfigError)
		if ea == nil || eb == nil {
			return 0
		}
		if ea.Line != eb.Line {
			return ea.Line - eb.Line
		}
		return ea.Col - eb.Col
	})
	return errors.Join(errs...)
}

// Load reads and parses the pipeline file at path. Problems in the file are
// reported as by Parse; a file that cannot be read is an error wrapping the
// *fs.PathError.
func Load(path string, opts *LoadOptions) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pipeline: load config: %w", err)
	}
	return Parse(path, data, opts)
}

// Parse parses and validates a pipeline file; file is the name used in
// error messages. It applies defaults and returns every problem at once as
// an errors.Join of *ConfigError, sorted by position. Parse does no I/O
// beyond reading the environment through opts.Env.
//
// Like go/parser, Parse returns a partial Config along with the errors when
// the file is a well-formed YAML mapping, so that a caller such as
// "ballcast validate" can go on to decode the sections and report their
// problems too. Fields with errors are left zero; a partial Config must not
// be run. The Config is nil when there is nothing to check: a YAML syntax
// error (reported alone, since nothing after it can be trusted), several
// documents, or a document that is not a mapping.
func Parse(file string, data []byte, opts *LoadOptions) (*Config, error) {
	root, errs, fatal := parseYAMLTree(file, data, opts.lookupEnv())
	if fatal {
		return nil, joinConfigErrors(errs)
	}
	v := &configValidator{
		file:  file,
		root:  root,
		nodes: map[string]*yamlNode{},
		bad:   map[string]bool{},
	}
	var c Config
	switch {
	case root == nil || root.kind == yamlNull:
		// An empty file: only "no sources" to report.
	case root.kind != yamlMap:
		errs = append(errs, &ConfigError{File: file, Line: root.line, Col: root.col,
			Msg: fmt.Sprintf("expected a mapping with sources, stages, broadcast, bus and log, got %s", root.show())})
		return nil, joinConfigErrors(errs)
	default:
		d := &yamlDecoder{file: file, nodes: v.nodes, bad: v.bad}
		d.decode(root, "", reflect.ValueOf(&c).Elem())
		errs = append(errs, d.errs...)
	}
	v.validate(&c, opts)
	errs = append(errs, v.errs...)
	c.File = file
	c.doc = Section{file: file, line: 1, col: 1, root: root}
	return &c, joinConfigErrors(errs)
}

// configValidator checks the rules the types alone cannot express, using
// the nodes recorded while decoding to position each problem.
type configValidator struct {
	file  string
	root  *yamlNode
	nodes map[string]*yamlNode // path → node, from decoding
	bad   map[string]bool      // paths that already failed to decode
	errs  []error
}

// node returns the node at path, or at its nearest recorded ancestor, so
// that a missing key is reported at the mapping that lacks it.
func (v *configValidator) node(path string) *yamlNode {
	for {
		if n := v.nodes[path]; n != nil {
			return n
		}
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			break
		}
		path = path[:i]
	}
	if n := v.nodes[path]; n != nil {
		return n
	}
	if v.root != nil {
		return v.root
	}
	return &yamlNode{line: 1, col: 1}
}

// set reports whether path holds a non-null value that decoded cleanly.
func (v *configValidator) set(path string) bool {
	n := v.nodes[path]
	return n != nil && n.kind != yamlNull
}

func (v *configValidator) errorf(path, format string, args ...any) {
	n := v.node(path)
	v.errs = append(v.errs, &ConfigError{File: v.file, Line: n.line, Col: n.col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// show renders the value at path for a message, hiding interpolated values.
func (v *configValidator) show(path, value string) string {
	if n := v.nodes[path]; n != nil && n.src != "" {
		return n.show()
	}
	return value
}

func (v *configValidator) validate(c *Config, opts *LoadOptions) {
	if len(c.Sources) == 0 && !v.bad["sources"] {
		v.errorf("sources", "at least one source is required")
	}
	var types []string
	if opts != nil {
		types = opts.SourceTypes
	}
	names := map[string]string{} // name → path of its first use
	for i := range c.Sources {
		s := &c.Sources[i]
		p := yamlIndexPath("sources", i)
		if v.bad[p] {
			continue
		}
		v.name(p+".name", s.Name, "source", names)
		switch {
		case v.bad[p+".type"]:
		case s.Type == "":
			v.errorf(p+".type", "is required")
		case len(types) > 0 && !slices.Contains(types, s.Type):
			v.errorf(p+".type", "unknown source type %s%s", v.show(p+".type", fmt.Sprintf("%q", s.Type)), suggestion(s.Type, types, "known types"))
		}
		v.mapping(p+".config", &s.Config)
		for _, from := range slices.Sorted(maps.Keys(s.Matches)) {
			if to := s.Matches[from]; from == "" || !validMatchID(to) {
				v.errorf(p+".matches."+from, "%q is not a valid match ID: it must not be empty or hold \"/\" or spaces", to)
			}
		}
	}
	names = map[string]string{}
	for i := range c.Stages {
		st := &c.Stages[i]
		p := yamlIndexPath("stages", i)
		if v.bad[p] {
			continue
		}
		v.name(p+".name", st.Name, "stage", names)
		switch {
		case v.bad[p+".plugin"]:
		case st.Plugin == "":
			v.errorf(p+".plugin", "is required")
		case !strings.Contains(st.Plugin, "/") && !validConfigName(st.Plugin):
			v.errorf(p+".plugin", `%s is not a valid plugin name: use a-z, 0-9, "_" and "-", or a path containing "/"`,
				v.show(p+".plugin", fmt.Sprintf("%q", st.Plugin)))
		}
		switch {
		case v.bad[p+".timeout"]:
		case !v.set(p + ".timeout"):
			st.Timeout = defaultStageTimeout
		case st.Timeout <= 0:
			v.errorf(p+".timeout", "must be > 0, got %s", v.show(p+".timeout", st.Timeout.String()))
		}
		switch {
		case v.bad[p+".on_error"]:
		case !v.set(p + ".on_error"):
			st.OnError = OnErrorRetry
		default:
			v.enum(p+".on_error", string(st.OnError), onErrorValues)
		}
		switch {
		case v.bad[p+".retries"]:
		case !v.set(p + ".retries"):
			st.Retries = defaultStageRetries
		case st.Retries < 0:
			v.errorf(p+".retries", "must be >= 0, got %s", v.show(p+".retries", fmt.Sprint(st.Retries)))
		}
		switch {
		case v.bad[p+".batch"]:
		case !v.set(p + ".batch"):
			st.Batch = defaultStageBatch
		case st.Batch < 1 || st.Batch > maxStageBatch:
			v.errorf(p+".batch", "must be between 1 and %d, got %s", maxStageBatch, v.show(p+".batch", fmt.Sprint(st.Batch)))
		}
		v.mapping(p+".config", &st.Config)
	}
	v.mapping("broadcast", &c.Broadcast)
	v.mapping("bus", &c.Bus)
	if !v.set("log.level") {
		c.Log.Level = "info"
	} else if !v.bad["log.level"] {
		v.enum("log.level", c.Log.Level, logLevelValues)
	}
	if !v.set("log.format") {
		c.Log.Format = "auto"
	} else if !v.bad["log.format"] {
		v.enum("log.format", c.Log.Format, logFormatValues)
	}
}

// name checks a source or stage name: present, well-formed and unique
// within seen (name → path of its first use).
func (v *configValidator) name(path, name, what string, seen map[string]string) {
	switch {
	case v.bad[path]:
	case name == "":
		v.errorf(path, "is required")
	case !validConfigName(name):
		v.errorf(path, `%s is not a valid name: use a-z, 0-9, "_" and "-"`, v.show(path, fmt.Sprintf("%q", name)))
	default:
		if first, dup := seen[name]; dup {
			v.errorf(path, "duplicate %s name %s (first at line %d)", what, v.show(path, fmt.Sprintf("%q", name)), v.node(first).line)
			return
		}
		seen[name] = path
	}
}

// enum checks that the value at path is one of allowed.
func (v *configValidator) enum(path, value string, allowed []string) {
	if slices.Contains(allowed, value) {
		return
	}
	v.errorf(path, "%s is not one of %s%s", v.show(path, fmt.Sprintf("%q", value)), strings.Join(allowed, ", "), suggestion(value, allowed, ""))
}

// mapping checks that a section, when present, is a mapping, and empties
// it if not, so that its owner does not report the same problem again
// when decoding a partial Config.
func (v *configValidator) mapping(path string, s *Section) {
	if s.root != nil && s.root.kind != yamlMap && !v.bad[path] {
		v.errorf(path, "expected a mapping, got %s", s.root.show())
		s.root = nil
	}
}

// suggestion returns `; did you mean "x"?` for a likely typo of one of
// candidates, else "; <list>: a, b" when list is set, else "".
func suggestion(s string, candidates []string, list string) string {
	if m := didYouMean(s, candidates); m != "" {
		return fmt.Sprintf("; did you mean %q?", m)
	}
	if list != "" {
		return "; " + list + ": " + strings.Join(candidates, ", ")
	}
	return ""
}

// validMatchID reports whether s can name a match: not empty, and without
// "/" (it ends the match prefix of event IDs), spaces or control characters.
func validMatchID(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

// validConfigName reports whether s matches [a-z0-9_-]+.
func validConfigName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
