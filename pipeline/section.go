package pipeline

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// This file holds the YAML machinery shared by Config and Section: goccy's
// AST is converted once into a small positioned tree (yamlNode) with
// anchors, aliases, merge keys and tags resolved and ${VAR} interpolated;
// a reflection walker (yamlDecoder) then checks that tree against a Go type,
// collecting every problem with its position before giving up.

// Section is a free-form YAML subtree that remembers where it came from: the
// file, its path in the document (for example "sources[0].config") and its
// line and column. The package that owns the subtree decodes it later with
// Decode, or hands it to a plugin as JSON.
//
// Values have already been interpolated (${VAR}, ${VAR:-default}, $$) when
// the file was parsed. A Section is immutable and safe for concurrent use.
// The zero Section is empty: the key was absent or null.
type Section struct {
	file      string
	path      string
	line, col int
	root      *yamlNode // nil when absent or null
}

// ParseSection parses data as a stand-alone Section, for tests and for
// callers that keep a component's configuration in a file of its own. file
// is the name used in error messages; opts supplies Env (SourceTypes is
// ignored) and may be nil. Errors are an errors.Join of *ConfigError.
func ParseSection(file string, data []byte, opts *LoadOptions) (Section, error) {
	root, errs, _ := parseYAMLTree(file, data, opts.lookupEnv())
	if len(errs) > 0 {
		return Section{}, joinConfigErrors(errs)
	}
	s := Section{file: file, line: 1, col: 1, root: root}
	if root != nil {
		s.line, s.col = root.line, root.col
		if root.kind == yamlNull {
			s.root = nil
		}
	}
	return s, nil
}

// IsZero reports whether the section is empty: its key was absent or null.
// An explicit empty mapping ({}) is not zero.
func (s Section) IsZero() bool { return s.root == nil }

// Decode decodes the section into v, which must be a non-nil pointer. It is
// strict: an unknown key, a type mismatch, a bad duration or an integer out
// of range is an error positioned at "file:line:col: path", and every
// problem in the section is reported at once as an errors.Join of
// *ConfigError. Fields that the section does not mention keep their values,
// so v may be pre-filled with defaults; an empty section leaves v unchanged.
//
// Struct fields are matched by their yaml tag (`yaml:"name"`, `yaml:"-"`
// to skip, `yaml:",inline"` to flatten an embedded struct), or by the
// lower-cased field name when untagged. Supported targets: string, bool,
// ints, uints, floats, time.Duration (from strings such as "2s"), slices,
// arrays, maps, structs, pointers, any (maps become map[string]any, lists
// []any), Section (kept raw for a later Decode) and any type implementing
// encoding.TextUnmarshaler (from a scalar).
func (s Section) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("pipeline: decode %s: target must be a non-nil pointer, got %T", s.displayPath(), v)
	}
	if s.root == nil {
		return nil
	}
	d := &yamlDecoder{file: s.file}
	d.decode(s.root, s.path, rv.Elem())
	return joinConfigErrors(d.errs)
}

// JSON returns the section as JSON, keys in document order, for plugins
// that receive their configuration on the wire. An empty section returns
// nil. .inf and .nan have no JSON form and are reported as *ConfigError.
func (s Section) JSON() ([]byte, error) {
	if s.root == nil {
		return nil, nil
	}
	var errs []error
	b := s.root.appendJSON(nil, s.file, s.path, &errs)
	if len(errs) > 0 {
		return nil, joinConfigErrors(errs)
	}
	return b, nil
}

// Errorf returns a *ConfigError positioned at the node at path inside the
// section, for problems only the section's owner can detect (a model name
// the provider does not offer, a file that does not exist). path uses the
// same syntax as error messages: "speed", "llm.timeout", "files[1]",
// `headers["X-Key"]`; "" means the section itself. When path does not exist
// in the section, the error is positioned at the section itself. The error
// reads "file:line:col: <section path>.<path>: message".
func (s Section) Errorf(path string, format string, args ...any) error {
	line, col := s.line, s.col
	if n := s.root.lookup(path); n != nil {
		line, col = n.line, n.col
	}
	return &ConfigError{
		File: s.file,
		Line: line,
		Col:  col,
		Path: joinYAMLPath(s.path, path),
		Msg:  fmt.Sprintf(format, args...),
	}
}

func (s Section) displayPath() string {
	if s.path == "" {
		return "section"
	}
	return s.path
}

// Limits that keep a hostile or broken file from exhausting the stack or
// memory (an alias bomb expands exponentially).
const (
	yamlMaxDepth = 200
	yamlMaxNodes = 1 << 20
)

// yamlKind is the kind of a yamlNode.
type yamlKind uint8

const (
	yamlNull yamlKind = iota
	yamlString
	yamlInt
	yamlFloat
	yamlBool
	yamlMap
	yamlSeq
)

// String describes the kind for messages: "expected a list".
func (k yamlKind) String() string {
	switch k {
	case yamlString:
		return "a string"
	case yamlInt:
		return "an integer"
	case yamlFloat:
		return "a number"
	case yamlBool:
		return "a boolean"
	case yamlMap:
		return "a mapping"
	case yamlSeq:
		return "a list"
	default:
		return "null"
	}
}

// yamlNode is one node of a parsed document, positioned, with aliases and
// merge keys resolved and scalars interpolated. Nodes reached through an
// alias are shared, so the tree is a DAG; size bounds its expansion.
type yamlNode struct {
	kind      yamlKind
	line, col int
	text      string // scalar text, after interpolation
	src       string // scalar text as written, set when interpolation changed it
	plain     bool   // scalar written unquoted
	broken    bool   // already reported (bad tag, unset variable): not decoded
	val       any    // scalar value: nil, string, int64, uint64, float64 or bool
	pairs     []yamlPair
	items     []*yamlNode
	size      int // nodes after alias expansion, saturating above yamlMaxNodes
}

type yamlPair struct{ key, val *yamlNode }

func (n *yamlNode) isScalar() bool { return n.kind != yamlMap && n.kind != yamlSeq }

// show renders a scalar for an error message. An interpolated value is shown
// as written ("${OPENAI_API_KEY}"), never as its value, which may be secret.
func (n *yamlNode) show() string {
	switch {
	case n.src != "":
		return quoteForMessage(n.src)
	case n.kind == yamlString:
		return quoteForMessage(n.text)
	case n.kind == yamlMap, n.kind == yamlSeq:
		return n.kind.String()
	case n.kind == yamlNull:
		return "null"
	default:
		return n.text
	}
}

func quoteForMessage(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-3]) + "..."
	}
	return strconv.Quote(s)
}

// pair returns the value under key in a mapping node, or nil.
func (n *yamlNode) pair(key string) *yamlNode {
	if n == nil || n.kind != yamlMap {
		return nil
	}
	for _, p := range n.pairs {
		if p.key.text == key {
			return p.val
		}
	}
	return nil
}

// lookup finds the node at a relative path such as "llm.timeout",
// "files[1]" or `headers["X-Key"]`; "" is n itself. It returns nil when the
// path does not exist or does not parse.
func (n *yamlNode) lookup(path string) *yamlNode {
	cur := n
	for path != "" && cur != nil {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			rest := path[1:]
			if strings.HasPrefix(rest, `"`) {
				q, err := strconv.QuotedPrefix(rest)
				if err != nil || !strings.HasPrefix(rest[len(q):], "]") {
					return nil
				}
				key, _ := strconv.Unquote(q)
				cur = cur.pair(key)
				path = rest[len(q)+1:]
				continue
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil
			}
			i, err := strconv.Atoi(rest[:end])
			if err != nil || cur.kind != yamlSeq || i < 0 || i >= len(cur.items) {
				return nil
			}
			cur = cur.items[i]
			path = rest[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			cur = cur.pair(path[:end])
			path = path[end:]
		}
	}
	return cur
}

// generic returns the node as plain Go values: map[string]any, []any,
// string, int (or uint64 when too large), float64, bool or nil.
func (n *yamlNode) generic() any {
	switch n.kind {
	case yamlMap:
		m := make(map[string]any, len(n.pairs))
		for _, p := range n.pairs {
			m[p.key.text] = p.val.generic()
		}
		return m
	case yamlSeq:
		s := make([]any, len(n.items))
		for i, it := range n.items {
			s[i] = it.generic()
		}
		return s
	case yamlInt:
		switch v := n.val.(type) {
		case int64:
			if v >= math.MinInt && v <= math.MaxInt {
				return int(v)
			}
			return v
		case uint64:
			if v <= math.MaxInt {
				return int(v)
			}
			return v
		}
		return n.val
	case yamlString:
		return n.text
	default:
		return n.val
	}
}

// appendJSON appends n as JSON, keys in document order.
func (n *yamlNode) appendJSON(b []byte, file, path string, errs *[]error) []byte {
	switch n.kind {
	case yamlMap:
		b = append(b, '{')
		for i, p := range n.pairs {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, p.key.text)
			b = append(b, ':')
			b = p.val.appendJSON(b, file, yamlChildPath(path, p.key.text), errs)
		}
		return append(b, '}')
	case yamlSeq:
		b = append(b, '[')
		for i, it := range n.items {
			if i > 0 {
				b = append(b, ',')
			}
			b = it.appendJSON(b, file, yamlIndexPath(path, i), errs)
		}
		return append(b, ']')
	case yamlString:
		return appendJSONString(b, n.text)
	case yamlInt:
		switch v := n.val.(type) {
		case int64:
			return strconv.AppendInt(b, v, 10)
		case uint64:
			return strconv.AppendUint(b, v, 10)
		}
	case yamlFloat:
		f, _ := n.val.(float64)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			*errs = append(*errs, &ConfigError{File: file, Line: n.line, Col: n.col, Path: path,
				Msg: fmt.Sprintf("%s cannot be represented in json", n.show())})
			return append(b, "null"...)
		}
		enc, _ := json.Marshal(f)
		return append(b, enc...)
	case yamlBool:
		return strconv.AppendBool(b, n.val == true)
	}
	return append(b, "null"...)
}

func appendJSONString(b []byte, s string) []byte {
	enc, _ := json.Marshal(s) // never fails for a string
	return append(b, enc...)
}

// yamlChildPath returns the path of key under path: "sources[0].name", or
// `headers["X Key"]` for a key that is not a plain identifier.
func yamlChildPath(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key) && plain; i++ {
		c := key[i]
		plain = c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	switch {
	case !plain:
		return path + "[" + strconv.Quote(key) + "]"
	case path == "":
		return key
	default:
		return path + "." + key
	}
}

func yamlIndexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// joinYAMLPath appends a relative path ("llm.timeout", "[1]") to a base.
func joinYAMLPath(base, rel string) string {
	switch {
	case rel == "":
		return base
	case base == "":
		return strings.TrimPrefix(rel, ".")
	case rel[0] == '[' || rel[0] == '.':
		return base + rel
	default:
		return base + "." + rel
	}
}

// parseYAMLTree parses data and converts it into a yamlNode tree. The root
// is nil for an empty document. fatal reports a problem that left no tree
// to check (a syntax error, several documents, an oversized expansion);
// otherwise errs holds positioned problems found while converting
// (interpolation, duplicate keys, unknown anchors and tags) and the tree is
// still usable.
func parseYAMLTree(file string, data []byte, env func(string) (string, bool)) (root *yamlNode, errs []error, fatal bool) {
	f, err := parseYAMLFile(data)
	if err != nil {
		return nil, []error{yamlSyntaxError(file, err)}, true
	}
	var body ast.Node
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		if _, ok := doc.Body.(*ast.DirectiveNode); ok {
			continue
		}
		if body != nil {
			line, col := yamlTokenPos(doc.Start)
			if line == 0 {
				line, col = yamlTokenPos(doc.Body.GetToken())
			}
			return nil, []error{&ConfigError{File: file, Line: line, Col: col,
				Msg: "several yaml documents in one file (only one is allowed)"}}, true
		}
		body = doc.Body
	}
	if body == nil {
		return nil, nil, false
	}
	c := &yamlConverter{file: file, env: env, anchors: map[string]*yamlNode{}}
	root = c.convert(body, "", 0, 1, 1)
	if root.size > yamlMaxNodes {
		return nil, []error{&ConfigError{File: file, Line: root.line, Col: root.col,
			Msg: fmt.Sprintf("document too large: more than %d nodes after expanding aliases", yamlMaxNodes)}}, true
	}
	return root, c.errs, false
}

// parseYAMLFile runs goccy's parser, turning a panic on hostile input into
// an error so that Parse never panics.
func parseYAMLFile(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("parser failure: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

// yamlSyntaxError extracts goccy's message and position, leaving out its
// multi-line source excerpt.
func yamlSyntaxError(file string, err error) *ConfigError {
	ce := &ConfigError{File: file}
	var ye yaml.Error
	if errors.As(err, &ye) {
		ce.Line, ce.Col = yamlTokenPos(ye.GetToken())
		ce.Msg = "invalid yaml: " + ye.GetMessage()
		return ce
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	ce.Msg = "invalid yaml: " + msg
	return ce
}

func yamlTokenPos(tk *token.Token) (line, col int) {
	if tk == nil || tk.Position == nil {
		return 0, 0
	}
	return tk.Position.Line, tk.Position.Column
}

// yamlConverter turns goccy's AST into a yamlNode tree.
type yamlConverter struct {
	file    string
	env     func(string) (string, bool)
	anchors map[string]*yamlNode
	errs    []error
	inKey   bool // converting a mapping key: no interpolation
}

func (c *yamlConverter) errorf(line, col int, path, format string, args ...any) {
	c.errs = append(c.errs, &ConfigError{File: c.file, Line: line, Col: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// convert converts n found at path. line and col position a missing node.
func (c *yamlConverter) convert(n ast.Node, path string, depth, line, col int) *yamlNode {
	if n == nil {
		return &yamlNode{kind: yamlNull, line: line, col: col, text: "null", size: 1}
	}
	if l, cl := yamlTokenPos(n.GetToken()); l > 0 {
		line, col = l, cl
	}
	if depth > yamlMaxDepth {
		c.errorf(line, col, path, "nested more than %d levels deep", yamlMaxDepth)
		return &yamlNode{kind: yamlNull, line: line, col: col, text: "null", size: 1}
	}
	out := &yamlNode{line: line, col: col, size: 1}
	switch n := n.(type) {
	case *ast.NullNode:
		out.kind, out.text = yamlNull, n.GetToken().Value
	case *ast.BoolNode:
		out.kind, out.text, out.val = yamlBool, n.GetToken().Value, n.Value
	case *ast.IntegerNode:
		out.kind, out.text, out.val = yamlInt, n.GetToken().Value, n.Value
		if n.Value == nil {
			out.kind, out.val = yamlString, out.text
		}
	case *ast.FloatNode:
		out.kind, out.text, out.val = yamlFloat, n.GetToken().Value, n.Value
	case *ast.InfinityNode:
		out.kind, out.text, out.val = yamlFloat, n.GetToken().Value, n.Value
	case *ast.NanNode:
		out.kind, out.text, out.val = yamlFloat, n.GetToken().Value, math.NaN()
	case *ast.StringNode:
		c.scalarString(out, n.Value, n.GetToken().Type == token.StringType, path)
	case *ast.LiteralNode:
		text := ""
		if n.Value != nil {
			text = n.Value.Value
		}
		c.scalarString(out, text, false, path)
	case *ast.MergeKeyNode:
		out.kind, out.text, out.val = yamlString, n.GetToken().Value, n.GetToken().Value
	case *ast.MappingNode:
		if len(n.Values) > 0 && n.Values[0].Key != nil {
			out.line, out.col = yamlTokenPos(n.Values[0].Key.GetToken())
		}
		c.mapping(out, n.Values, path, depth)
	case *ast.MappingValueNode:
		if n.Key != nil {
			out.line, out.col = yamlTokenPos(n.Key.GetToken())
		}
		c.mapping(out, []*ast.MappingValueNode{n}, path, depth)
	case *ast.SequenceNode:
		out.kind = yamlSeq
		out.items = make([]*yamlNode, len(n.Values))
		for i, v := range n.Values {
			it := c.convert(v, yamlIndexPath(path, i), depth+1, line, col)
			out.items[i] = it
			out.size = addNodeCount(out.size, it.size)
		}
	case *ast.MappingKeyNode:
		return c.convert(n.Value, path, depth+1, line, col)
	case *ast.AnchorNode:
		v := c.convert(n.Value, path, depth+1, line, col)
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = v
		}
		return v
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		v, ok := c.anchors[name]
		if !ok {
			c.errorf(line, col, path, "unknown anchor %q", name)
			out.kind, out.text, out.broken = yamlNull, "null", true
			return out
		}
		if v.isScalar() {
			cp := *v // position a reused scalar at the alias
			cp.line, cp.col = line, col
			return &cp
		}
		return v
	case *ast.TagNode:
		return c.tagged(n, path, depth, line, col)
	default:
		c.errorf(line, col, path, "unsupported yaml node (%s)", n.Type())
		out.kind, out.text = yamlNull, "null"
	}
	return out
}

// scalarString fills out from a string scalar, interpolating ${VAR}. A
// plain (unquoted) scalar whose text changed is re-typed, so that
// "batch: ${BATCH:-64}" is an integer; an interpolated value never adds
// structure.
func (c *yamlConverter) scalarString(out *yamlNode, text string, plain bool, path string) {
	out.kind, out.text, out.val, out.plain = yamlString, text, text, plain
	if c.inKey || c.env == nil || !strings.Contains(text, "$") {
		return
	}
	res, problems := interpolateEnv(text, c.env)
	for _, p := range problems {
		c.errorf(out.line, out.col, path, "%s", p)
		out.broken = true
	}
	if res == text {
		return
	}
	out.src, out.text, out.val = text, res, res
	if plain {
		out.kind, out.val = classifyYAMLScalar(res)
	}
}

// classifyYAMLScalar types plain scalar text as goccy does: null, bool,
// .inf/.nan, integer, float, else string. Empty text is null.
func classifyYAMLScalar(text string) (yamlKind, any) {
	if text == "" {
		return yamlNull, nil
	}
	tk := token.New(text, text, &token.Position{})
	switch tk.Type {
	case token.NullType:
		return yamlNull, nil
	case token.BoolType:
		b, _ := strconv.ParseBool(strings.ToLower(text))
		return yamlBool, b
	case token.InfinityType:
		return yamlFloat, ast.Infinity(tk).Value
	case token.NanType:
		return yamlFloat, math.NaN()
	case token.IntegerType, token.BinaryIntegerType, token.OctetIntegerType, token.HexIntegerType:
		if num := token.ToNumber(text); num != nil {
			return yamlInt, num.Value
		}
	case token.FloatType:
		if num := token.ToNumber(text); num != nil {
			if f, ok := num.Value.(float64); ok {
				return yamlFloat, f
			}
		}
	}
	return yamlString, text
}

// mapping fills out with the pairs of a mapping: duplicate keys are
// reported at the second occurrence, and merge keys (<<: *base) add the
// keys the mapping does not set itself.
func (c *yamlConverter) mapping(out *yamlNode, values []*ast.MappingValueNode, path string, depth int) {
	out.kind = yamlMap
	seen := map[string]*yamlNode{}
	var merges []*yamlNode
	for _, mv := range values {
		if mv == nil {
			continue
		}
		if mv.Key == nil {
			l, cl := yamlTokenPos(mv.GetToken())
			c.errorf(l, cl, path, "mapping entry without a key")
			continue
		}
		if mv.Key.IsMergeKey() {
			kl, kc := yamlTokenPos(mv.Key.GetToken())
			m := c.convert(mv.Value, path, depth+1, kl, kc)
			vl, vc := kl, kc // errors go where the value is written, not to an anchor
			if mv.Value != nil {
				if l, cl := yamlTokenPos(mv.Value.GetToken()); l > 0 {
					vl, vc = l, cl
				}
			}
			switch {
			case m.kind == yamlMap:
				merges = append(merges, m)
			case m.kind == yamlSeq && !slices.ContainsFunc(m.items, func(it *yamlNode) bool { return it.kind != yamlMap }):
				merges = append(merges, m.items...)
			case m.kind == yamlSeq:
				c.errorf(vl, vc, path, "a merge (<<) list must hold only mappings")
			default:
				c.errorf(vl, vc, path, "a merge (<<) value must be a mapping or a list of mappings, got %s", m.show())
			}
			continue
		}
		c.inKey = true
		k := c.convert(mv.Key, path, depth+1, out.line, out.col)
		c.inKey = false
		if !k.isScalar() {
			c.errorf(k.line, k.col, path, "a mapping key must be a scalar, got %s", k.kind)
			continue
		}
		childPath := yamlChildPath(path, k.text)
		v := c.convert(mv.Value, childPath, depth+1, k.line, k.col)
		if first, dup := seen[k.text]; dup {
			c.errorf(k.line, k.col, childPath, "duplicate key (first at line %d)", first.line)
			continue
		}
		seen[k.text] = k
		out.pairs = append(out.pairs, yamlPair{key: k, val: v})
		out.size = addNodeCount(out.size, v.size+1)
	}
	for _, m := range merges {
		for _, p := range m.pairs {
			if _, ok := seen[p.key.text]; ok {
				continue
			}
			seen[p.key.text] = p.key
			out.pairs = append(out.pairs, p)
			out.size = addNodeCount(out.size, p.val.size+1)
		}
	}
}

// tagged resolves a node with an explicit tag. The core schema tags are
// honoured (!!str 5 is a string); any other tag is an error, since an
// unsupported tag (!env, !include) is almost always a misunderstanding.
func (c *yamlConverter) tagged(n *ast.TagNode, path string, depth, line, col int) *yamlNode {
	tag := n.GetToken().Value
	v := c.convert(n.Value, path, depth+1, line, col)
	want := yamlNull
	switch tag {
	case "!!str", "!!binary", "!!timestamp":
		if !v.isScalar() {
			c.errorf(v.line, v.col, path, "%s needs a scalar, got %s", tag, v.kind)
			return brokenCopy(v)
		}
		cp := *v
		if cp.kind == yamlNull && cp.src == "" {
			cp.text = ""
		}
		cp.kind, cp.val = yamlString, cp.text
		return &cp
	case "!!map":
		want = yamlMap
	case "!!seq":
		want = yamlSeq
	case "!!int":
		want = yamlInt
	case "!!float":
		want = yamlFloat
	case "!!bool":
		want = yamlBool
	case "!!null":
		want = yamlNull
	default:
		c.errorf(line, col, path, "unsupported tag %q", tag)
		return brokenCopy(v)
	}
	if v.kind == want || want == yamlFloat && v.kind == yamlInt {
		if want == yamlFloat && v.kind == yamlInt {
			cp := *v
			cp.kind, cp.val = yamlFloat, toFloat64(v.val)
			return &cp
		}
		return v
	}
	if v.isScalar() && v.kind != yamlMap && want != yamlMap && want != yamlSeq {
		if k, val := classifyYAMLScalar(v.text); k == want || want == yamlFloat && k == yamlInt {
			cp := *v
			cp.kind, cp.val = want, val
			if want == yamlFloat {
				cp.val = toFloat64(val)
			}
			return &cp
		}
	}
	c.errorf(v.line, v.col, path, "%s is not a valid %s", v.show(), tag)
	return brokenCopy(v)
}

// brokenCopy returns a copy of v marked as already reported, so that the
// decoder does not pile a second error onto the same value.
func brokenCopy(v *yamlNode) *yamlNode {
	cp := *v
	cp.broken = true
	return &cp
}

// float returns a numeric scalar as a float64. goccy types an unquoted
// exponent without a dot (1e3) as a string; it is accepted here as the
// number YAML 1.2 says it is.
func (n *yamlNode) float() (float64, bool) {
	switch n.kind {
	case yamlInt, yamlFloat:
		return toFloat64(n.val), true
	case yamlString:
		if n.plain && strings.ContainsAny(n.text, "eE") {
			if f, err := strconv.ParseFloat(n.text, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, true
			}
		}
	}
	return 0, false
}

func toFloat64(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case uint64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

func addNodeCount(a, b int) int {
	if a+b > yamlMaxNodes {
		return yamlMaxNodes + 1
	}
	return a + b
}

// interpolateEnv expands ${VAR}, ${VAR:-default} (default when VAR is unset
// or empty) and $$ (a literal $) in s. A $ before anything else is kept as
// is. It returns the expanded text and a message per problem; messages name
// variables but never include their values.
func interpolateEnv(s string, env func(string) (string, bool)) (string, []string) {
	var b strings.Builder
	var problems []string
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch != '$':
			b.WriteByte(ch)
			i++
		case strings.HasPrefix(s[i:], "$$"):
			b.WriteByte('$')
			i += 2
		case !strings.HasPrefix(s[i:], "${"):
			b.WriteByte('$')
			i++
		default:
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				problems = append(problems, `unterminated "${" (write "$$" for a literal "$")`)
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			expr := s[i+2 : i+2+end]
			i += 2 + end + 1
			name, def, hasDef := strings.Cut(expr, ":-")
			if strings.Contains(def, "${") {
				problems = append(problems, "a default cannot contain another ${...} reference")
				i = len(s)
				continue
			}
			if !validEnvName(name) {
				problems = append(problems, fmt.Sprintf("invalid variable reference %s (want ${NAME} or ${NAME:-default})", quoteForMessage("${"+expr+"}")))
				continue
			}
			v, ok := env(name)
			if hasDef && (!ok || v == "") {
				v, ok = def, true
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("environment variable %s is not set", name))
				continue
			}
			b.WriteString(v)
		}
	}
	return b.String(), problems
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var (
	sectionType         = reflect.TypeFor[Section]()
	durationType        = reflect.TypeFor[time.Duration]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// yamlDecoder checks a yamlNode tree against a Go type while filling a value
// of it, collecting every problem instead of stopping at the first.
type yamlDecoder struct {
	file  string
	errs  []error
	nodes map[string]*yamlNode // if non-nil, records the node decoded at each path
	bad   map[string]bool      // if non-nil, records the paths that failed
}

func (d *yamlDecoder) fail(n *yamlNode, path, format string, args ...any) {
	d.errs = append(d.errs, &ConfigError{File: d.file, Line: n.line, Col: n.col, Path: path, Msg: fmt.Sprintf(format, args...)})
	if d.bad != nil {
		d.bad[path] = true
	}
}

func (d *yamlDecoder) mismatch(n *yamlNode, path, want string) {
	d.fail(n, path, "expected %s, got %s", want, n.show())
}

// decode decodes n, found at path, into v (settable).
func (d *yamlDecoder) decode(n *yamlNode, path string, v reflect.Value) {
	if d.nodes != nil {
		d.nodes[path] = n
	}
	if n.broken {
		if d.bad != nil {
			d.bad[path] = true
		}
		return
	}
	t := v.Type()
	if t == sectionType {
		s := Section{file: d.file, path: path, line: n.line, col: n.col, root: n}
		if n.kind == yamlNull {
			s.root = nil
		}
		v.Set(reflect.ValueOf(s))
		return
	}
	if n.kind == yamlNull {
		// Null means "not set": defaults survive, pointers and any become nil.
		if k := v.Kind(); k == reflect.Pointer || k == reflect.Interface {
			v.SetZero()
		}
		return
	}
	if t == durationType {
		d.duration(n, path, v)
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decode(n, path, v.Elem())
		return
	}
	if n.isScalar() && v.CanAddr() && reflect.PointerTo(t).Implements(textUnmarshalerType) {
		u := v.Addr().Interface().(encoding.TextUnmarshaler)
		if err := u.UnmarshalText([]byte(n.text)); err != nil {
			if n.src != "" {
				d.fail(n, path, "%s is not a valid %s", n.show(), t)
			} else {
				d.fail(n, path, "%s is not a valid %s: %v", n.show(), t, err)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if t.NumMethod() != 0 {
			d.fail(n, path, "cannot decode into %s", t)
			return
		}
		if g := n.generic(); g != nil {
			v.Set(reflect.ValueOf(g))
		} else {
			v.SetZero()
		}
	case reflect.String:
		if !n.isScalar() {
			d.mismatch(n, path, "a string")
			return
		}
		v.SetString(n.text)
	case reflect.Bool:
		if n.kind != yamlBool {
			d.mismatch(n, path, "a boolean (true or false)")
			return
		}
		v.SetBool(n.val == true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n.kind != yamlInt {
			d.notInteger(n, path, t)
			return
		}
		switch x := n.val.(type) {
		case int64:
			if v.OverflowInt(x) {
				d.fail(n, path, "%s does not fit in %s", n.show(), t)
				return
			}
			v.SetInt(x)
		case uint64:
			if x > math.MaxInt64 || v.OverflowInt(int64(x)) {
				d.fail(n, path, "%s does not fit in %s", n.show(), t)
				return
			}
			v.SetInt(int64(x))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n.kind != yamlInt {
			d.notInteger(n, path, t)
			return
		}
		switch x := n.val.(type) {
		case int64:
			if x < 0 || v.OverflowUint(uint64(x)) {
				d.fail(n, path, "%s does not fit in %s", n.show(), t)
				return
			}
			v.SetUint(uint64(x))
		case uint64:
			if v.OverflowUint(x) {
				d.fail(n, path, "%s does not fit in %s", n.show(), t)
				return
			}
			v.SetUint(x)
		}
	case reflect.Float32, reflect.Float64:
		f, ok := n.float()
		if !ok {
			d.mismatch(n, path, "a number")
			return
		}
		if v.OverflowFloat(f) && !math.IsInf(f, 0) {
			d.fail(n, path, "%s does not fit in %s", n.show(), t)
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		if n.kind != yamlSeq {
			d.mismatch(n, path, "a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.items), len(n.items))
		for i, it := range n.items {
			d.decode(it, yamlIndexPath(path, i), s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		if n.kind != yamlSeq {
			d.mismatch(n, path, "a list")
			return
		}
		if len(n.items) != v.Len() {
			d.fail(n, path, "expected a list of %d items, got %d", v.Len(), len(n.items))
			return
		}
		for i, it := range n.items {
			d.decode(it, yamlIndexPath(path, i), v.Index(i))
		}
	case reflect.Map:
		if n.kind != yamlMap {
			d.mismatch(n, path, "a mapping")
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMapWithSize(t, len(n.pairs)))
		}
		for _, p := range n.pairs {
			childPath := yamlChildPath(path, p.key.text)
			k := reflect.New(t.Key()).Elem()
			before := len(d.errs)
			d.decode(p.key, childPath, k)
			if len(d.errs) > before {
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			if old := v.MapIndex(k); old.IsValid() {
				e.Set(old)
			}
			d.decode(p.val, childPath, e)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		if n.kind != yamlMap {
			d.mismatch(n, path, "a mapping")
			return
		}
		d.structure(n, path, v)
	default:
		d.fail(n, path, "cannot decode into %s", t)
	}
}

// notInteger reports a non-integer where an integer is expected. An
// unquoted run of digits is an integer too large for 64 bits (goccy keeps
// it as a string), so it is reported as out of range rather than as text.
func (d *yamlDecoder) notInteger(n *yamlNode, path string, t reflect.Type) {
	digits := strings.TrimPrefix(strings.TrimPrefix(n.text, "-"), "+")
	if n.kind == yamlString && n.plain && n.src == "" && digits != "" && strings.Trim(digits, "0123456789") == "" {
		d.fail(n, path, "%s does not fit in %s", n.text, t)
		return
	}
	d.mismatch(n, path, "an integer")
}

func (d *yamlDecoder) duration(n *yamlNode, path string, v reflect.Value) {
	if n.kind != yamlString && n.kind != yamlInt {
		d.mismatch(n, path, `a duration such as "5s"`)
		return
	}
	dur, err := time.ParseDuration(n.text)
	if err != nil {
		if n.kind == yamlInt && n.src == "" {
			d.fail(n, path, "%s is not a duration (add a unit, e.g. %ss)", n.show(), n.text)
			return
		}
		d.fail(n, path, "%s is not a duration", n.show())
		return
	}
	v.SetInt(int64(dur))
}

// structure decodes a mapping into a struct: unknown keys are errors with a
// suggestion, and Section fields the mapping does not mention are still
// positioned (at the mapping) so that their owner can report problems.
func (d *yamlDecoder) structure(n *yamlNode, path string, v reflect.Value) {
	info := yamlStructInfoOf(v.Type())
	seen := make(map[int]bool, len(n.pairs))
	for _, p := range n.pairs {
		childPath := yamlChildPath(path, p.key.text)
		i, ok := info.byName[p.key.text]
		if !ok {
			msg := "unknown key"
			if s := didYouMean(p.key.text, info.names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else if len(info.names) > 0 {
				msg += "; valid keys: " + strings.Join(info.names, ", ")
			}
			d.fail(p.key, childPath, "%s", msg)
			continue
		}
		seen[i] = true
		d.decode(p.val, childPath, v.FieldByIndex(info.fields[i].index))
	}
	for i, f := range info.fields {
		if !seen[i] && f.typ == sectionType {
			v.FieldByIndex(f.index).Set(reflect.ValueOf(Section{
				file: d.file, path: yamlChildPath(path, f.name), line: n.line, col: n.col,
			}))
		}
	}
}

type yamlField struct {
	name  string
	index []int
	typ   reflect.Type
}

type yamlStructInfo struct {
	fields []yamlField
	byName map[string]int
	names  []string // in declaration order, for messages
}

var yamlStructCache sync.Map // reflect.Type → *yamlStructInfo

func yamlStructInfoOf(t reflect.Type) *yamlStructInfo {
	if info, ok := yamlStructCache.Load(t); ok {
		return info.(*yamlStructInfo)
	}
	info := &yamlStructInfo{byName: map[string]int{}}
	collectYAMLFields(info, t, nil)
	actual, _ := yamlStructCache.LoadOrStore(t, info)
	return actual.(*yamlStructInfo)
}

func collectYAMLFields(info *yamlStructInfo, t reflect.Type, index []int) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" && opts == "" {
			continue
		}
		idx := append(slices.Clone(index), i)
		inline := slices.Contains(strings.Split(opts, ","), "inline") || sf.Anonymous && name == ""
		if inline && sf.Type.Kind() == reflect.Struct {
			collectYAMLFields(info, sf.Type, idx)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		if _, dup := info.byName[name]; dup {
			continue // the shallower or earlier field wins
		}
		info.byName[name] = len(info.fields)
		info.fields = append(info.fields, yamlField{name: name, index: idx, typ: sf.Type})
		info.names = append(info.names, name)
	}
}

// didYouMean returns the candidate closest to s, or "" when none is close
// enough to be a likely typo: within edit distance 2 for words of six
// letters or more, 1 for shorter ones (so "skip" does not suggest "ip").
// Case is ignored, so "FAIL" suggests "fail".
func didYouMean(s string, candidates []string) string {
	limit := min(2, max(1, utf8.RuneCountInString(s)/3))
	best, bestDist := "", limit+1
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := editDistance(ls, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b,
// in runes: insertions, deletions, substitutions and transpositions of
// adjacent runes cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
