package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ballcast/ballcast/core/event/eventpb"
	"github.com/ballcast/ballcast/core/source/replay"
	"github.com/ballcast/ballcast/plugins/commentary"
	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
	"github.com/ballcast/ballcast/plugins/stats"
)

// evalBatch is how many events go to the commentary stage at once, as the
// example pipelines batch them (batch: 8); the LLM requests of a batch run concurrently.
const evalBatch = 8

// cmdCommentaryEval replays Cricsheet matches through the stats and
// commentary stages in process and reports, per match, what a reader of
// the commentary would notice: lines, fallbacks, grounding failures,
// repeats, variety of phrasing and latency.
func cmdCommentaryEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("commentary-eval", stderr)
	persona := fs.String("persona", commentary.PersonaStandard, "persona: standard, analyst, excitable or minimalist")
	language := fs.String("language", "en", "language (BCP 47 tag): en, hi, or another for the LLM")
	baseURL := fs.String("llm-base-url", "", "OpenAI-compatible API root (e.g. http://localhost:11434/v1); enables the LLM")
	model := fs.String("llm-model", "", "model name (default "+commentary.DefaultModel+")")
	keyEnv := fs.String("llm-key-env", commentary.DefaultAPIKeyEnv, "environment `variable` holding the API key")
	streamed := fs.Bool("llm-stream", false, "stream replies, counting the deltas")
	timeout := fs.Duration("llm-timeout", commentary.DefaultTimeout, "deadline of one event's LLM work")
	budget := fs.Int("llm-budget", 0, "token budget per match (0: none)")
	asJSON := fs.Bool("json", false, "print JSON")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{"commentary-eval: want one or more Cricsheet match files"}
	}
	cfg := map[string]any{"persona": *persona, "language": *language, "check_templates": true}
	llm := map[string]any{"enabled": false}
	if *baseURL != "" {
		llm = map[string]any{"enabled": true, "base_url": *baseURL, "api_key_env": *keyEnv, "stream": *streamed,
			"timeout": timeout.String(), "match_token_budget": *budget}
		if *model != "" {
			llm["model"] = *model
		}
	}
	cfg["llm"] = llm
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	// Check the config once, before any match: a bad flag is a usage error.
	if err := commentary.New().Configure(ctx, sdk.NewConfig("commentary", raw)); err != nil {
		return usageError{fmt.Sprintf("commentary-eval: %v", err)}
	}
	rep := evalReport{Persona: *persona, Language: *language, Engine: "template"}
	if *baseURL != "" {
		rep.Engine = "llm"
		rep.Model = *model
		if rep.Model == "" {
			rep.Model = commentary.DefaultModel
		}
	}
	for _, f := range files {
		m, err := evalMatch(ctx, f, raw)
		if err != nil {
			return err
		}
		rep.Matches = append(rep.Matches, m)
	}
	rep.Total = total(rep.Matches)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(stdout)
	return nil
}

// evalReport is the command's output.
type evalReport struct {
	Engine   string      `json:"engine"` // "template" or "llm"
	Model    string      `json:"model,omitempty"`
	Persona  string      `json:"persona"`
	Language string      `json:"language"`
	Matches  []matchEval `json:"matches"`
	Total    matchEval   `json:"total"`
}

// matchEval is one match's figures.
type matchEval struct {
	Match     string `json:"match"`
	Teams     string `json:"teams,omitempty"`
	Events    int    `json:"events"`
	Balls     int    `json:"balls"`
	Lines     int    `json:"lines"`
	NoLine    int    `json:"balls_without_line"` // minimalist's routine dots, or a bug
	LLMLines  int    `json:"llm_lines"`
	Fallbacks int    `json:"fallbacks"`
	// FallbackRate is fallbacks / lines.
	FallbackRate float64          `json:"fallback_rate"`
	Reasons      map[string]int   `json:"fallback_reasons,omitempty"`
	Ungrounded   int              `json:"ungrounded"`          // lines failing the grounding check: LLM lines replaced, template lines
	UngroundedT  int              `json:"ungrounded_template"` // of which template lines
	Repeats      int              `json:"repeats"`             // lines already used in the same innings
	Phrasings    map[string]types `json:"phrasings"`           // by event type
	LatencyP50   time.Duration    `json:"latency_p50_ns"`
	LatencyP99   time.Duration    `json:"latency_p99_ns"`
	Tokens       int64            `json:"tokens,omitempty"`
	Requests     int64            `json:"requests,omitempty"`
	Deltas       int              `json:"deltas,omitempty"`
	lat          []time.Duration
}

// types counts one event type's lines and their distinct phrasings (the
// line with names and numbers masked).
type types struct {
	Lines    int `json:"lines"`
	Distinct int `json:"distinct"`
	seen     map[string]bool
}

func evalMatch(ctx context.Context, path string, cfg []byte) (matchEval, error) {
	m, err := replay.Load(path)
	if err != nil {
		return matchEval{}, err
	}
	id := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	st := stats.New()
	c := commentary.New()
	if err := c.Configure(ctx, sdk.NewConfig("commentary", cfg)); err != nil {
		return matchEval{}, err
	}
	r := matchEval{Match: id, Events: len(m.Events), Phrasings: map[string]types{}, Reasons: map[string]int{}}
	mask := newMasker()
	used := map[string]bool{}
	var mu sync.Mutex
	deltas := 0
	emit := func(sdk.Delta) {
		mu.Lock()
		deltas++
		mu.Unlock()
	}
	for start := 0; start < len(m.Events); start += evalBatch {
		var in []*pb.Event
		for i := start; i < min(start+evalBatch, len(m.Events)); i++ {
			p := eventpb.ToProto(&m.Events[i])
			p.Seq = uint64(i + 1)
			mask.add(p)
			out, err := st.Process(ctx, p)
			if err != nil || len(out) != 1 {
				return r, fmt.Errorf("commentary-eval: %s: stats: event %s: %d events, %v", id, p.GetId(), len(out), err)
			}
			in = append(in, out[0])
		}
		res, errs := c.ProcessStream(ctx, in, emit)
		for i, out := range res {
			if errs != nil && errs[i] != nil {
				return r, fmt.Errorf("commentary-eval: %s: event %s: %w", id, in[i].GetId(), errs[i])
			}
			ev := in[i]
			if len(out) == 1 {
				ev = out[0]
			}
			r.add(ev, mask, used)
		}
		if ctx.Err() != nil {
			return r, ctx.Err()
		}
	}
	for _, ev := range m.Events {
		if ev.Info != nil && len(ev.Info.Teams) == 2 {
			r.Teams = ev.Info.Teams[0] + " v " + ev.Info.Teams[1]
			break
		}
	}
	cs := c.Counters()
	r.UngroundedT = int(cs.TemplateUngrounded)
	r.Ungrounded = int(cs.UngroundedName + cs.UngroundedNumber + cs.TemplateUngrounded)
	r.Tokens, r.Requests, r.Deltas = cs.Tokens, cs.Requests, deltas
	r.finish()
	return r, nil
}

// add counts one output event.
func (r *matchEval) add(ev *pb.Event, mask *masker, used map[string]bool) {
	b := ev.GetBall()
	if b != nil {
		r.Balls++
	}
	cm := ev.GetCommentary()
	if cm == nil || cm.GetText() == "" {
		if b != nil {
			r.NoLine++
		}
		return
	}
	r.Lines++
	if cm.GetModel() != "" && !cm.GetFallback() {
		r.LLMLines++
	}
	if cm.GetFallback() {
		r.Fallbacks++
		r.Reasons[cm.GetReason()]++
	}
	r.lat = append(r.lat, time.Duration(cm.GetLatencyNanos()))
	innings := b.GetInnings()
	if in := ev.GetInnings(); in != nil {
		innings = in.GetNumber()
	}
	key := fmt.Sprintf("%d\x00%s", innings, cm.GetText())
	if used[key] {
		r.Repeats++
	}
	used[key] = true
	kind := eventType(ev)
	t := r.Phrasings[kind]
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	t.Lines++
	if p := mask.mask(cm.GetText()); !t.seen[p] {
		t.seen[p] = true
		t.Distinct++
	}
	r.Phrasings[kind] = t
}

func (r *matchEval) finish() {
	if r.Lines > 0 {
		r.FallbackRate = float64(r.Fallbacks) / float64(r.Lines)
	}
	r.LatencyP50, r.LatencyP99 = percentile(r.lat, 0.50), percentile(r.lat, 0.99)
	if len(r.Reasons) == 0 {
		r.Reasons = nil
	}
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	i := int(q*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// total sums the matches; its latency percentiles are over every line.
func total(ms []matchEval) matchEval {
	t := matchEval{Match: "total", Phrasings: map[string]types{}, Reasons: map[string]int{}}
	for _, m := range ms {
		t.Events += m.Events
		t.Balls += m.Balls
		t.Lines += m.Lines
		t.NoLine += m.NoLine
		t.LLMLines += m.LLMLines
		t.Fallbacks += m.Fallbacks
		t.Ungrounded += m.Ungrounded
		t.UngroundedT += m.UngroundedT
		t.Repeats += m.Repeats
		t.Tokens += m.Tokens
		t.Requests += m.Requests
		t.Deltas += m.Deltas
		t.lat = append(t.lat, m.lat...)
		for r, n := range m.Reasons {
			t.Reasons[r] += n
		}
		for k, p := range m.Phrasings {
			tp := t.Phrasings[k]
			if tp.seen == nil {
				tp.seen = map[string]bool{}
			}
			tp.Lines += p.Lines
			for s := range p.seen {
				if !tp.seen[s] {
					tp.seen[s] = true
					tp.Distinct++
				}
			}
			t.Phrasings[k] = tp
		}
	}
	t.finish()
	return t
}

// eventType names what a line is about: the ball's outcome, an innings
// start or end, the result.
func eventType(ev *pb.Event) string {
	switch ev.GetKind() {
	case "innings":
		if ev.GetInnings().GetEnd() {
			return "innings end"
		}
		return "innings start"
	case "status":
		return "result"
	}
	b := ev.GetBall()
	x := b.GetExtras()
	switch {
	case len(b.GetWickets()) > 0:
		return "wicket"
	case x.GetWides() > 0:
		return "wide"
	case x.GetNoballs() > 0:
		return "no-ball"
	case b.GetRunsBat() == 4 && !b.GetNonBoundary():
		return "four"
	case b.GetRunsBat() == 6 && !b.GetNonBoundary():
		return "six"
	case b.GetRunsBat() == 1:
		return "single"
	case b.GetRunsBat() == 2 || b.GetRunsBat() == 3:
		return "two or three"
	case b.GetRunsBat() > 0:
		return "other runs"
	case x.GetByes() > 0 || x.GetLegbyes() > 0:
		return "byes"
	case x.GetPenalty() > 0:
		return "penalty"
	}
	return "dot"
}

// masker turns a line into its phrasing: the words of the match's names
// become "@" and numbers "#", so "Buttler hits Rauf for four, 45/1" and
// "Hales hits Wood for four, 52/2" are one phrasing.
type masker struct{ names map[string]bool }

func newMasker() *masker { return &masker{names: map[string]bool{}} }

// add learns the names an event carries.
func (m *masker) add(ev *pb.Event) {
	words := func(s string) {
		for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '-' }) {
			m.names[w] = true
		}
	}
	for team, ps := range ev.GetInfo().GetPlayers() {
		words(team)
		for _, p := range ps.GetPlayers() {
			words(p)
		}
	}
	for _, t := range ev.GetInfo().GetTeams() {
		words(t)
	}
	if b := ev.GetBall(); b != nil {
		words(b.GetBatter() + " " + b.GetNonStriker() + " " + b.GetBowler() + " " + b.GetBattingTeam() + " " + b.GetBowlingTeam())
		for _, w := range b.GetWickets() {
			words(w.GetPlayerOut() + " " + strings.Join(w.GetFielders(), " "))
		}
	}
	words(ev.GetInnings().GetTeam())
}

func (m *masker) mask(line string) string {
	var b strings.Builder
	last := ""
	put := func(s string) {
		if s == "@" && last == "@" || s == "#" && last == "#" {
			return
		}
		b.WriteString(s)
		last = s
	}
	rs := []rune(line)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && (unicode.IsDigit(rs[j]) || rs[j] == '.' || rs[j] == '/') {
				j++
			}
			put("#")
			i = j
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j]) || unicode.Is(unicode.Mc, rs[j]) || rs[j] == '\'') {
				j++
			}
			w := strings.TrimSuffix(string(rs[i:j]), "'s")
			if m.names[w] {
				put("@")
			} else {
				put(string(rs[i:j]))
			}
			i = j
		default:
			if r != ' ' || last != "@" || i+1 >= len(rs) || !m.nameAt(rs[i+1:]) {
				put(string(r))
			}
			i++
		}
	}
	return b.String()
}

// nameAt reports whether rs starts with a name word (to join "Haris Rauf"
// into one "@").
func (m *masker) nameAt(rs []rune) bool {
	j := 0
	for j < len(rs) && (unicode.IsLetter(rs[j]) || rs[j] == '\'') {
		j++
	}
	return j > 0 && m.names[strings.TrimSuffix(string(rs[:j]), "'s")]
}

func (r evalReport) print(w io.Writer) {
	engine := r.Engine
	if r.Model != "" {
		engine += " (" + r.Model + ")"
	}
	fmt.Fprintf(w, "commentary-eval: %s engine, language %s, persona %s\n\n", engine, r.Language, r.Persona)
	for _, m := range append(r.Matches, r.Total) {
		name := m.Match
		if m.Teams != "" {
			name += " (" + m.Teams + ")"
		}
		fmt.Fprintf(w, "%s\n", name)
		fmt.Fprintf(w, "  balls %d, lines %d, balls without a line %d, LLM lines %d\n", m.Balls, m.Lines, m.NoLine, m.LLMLines)
		fmt.Fprintf(w, "  fallbacks %d (%.1f%%)%s\n", m.Fallbacks, 100*m.FallbackRate, reasons(m.Reasons))
		fmt.Fprintf(w, "  failing the grounding check %d (template lines %d), repeated in an innings %d\n", m.Ungrounded, m.UngroundedT, m.Repeats)
		fmt.Fprintf(w, "  latency p50 %s, p99 %s", round(m.LatencyP50), round(m.LatencyP99))
		if m.Requests > 0 {
			fmt.Fprintf(w, "; requests %d, tokens %d", m.Requests, m.Tokens)
		}
		if m.Deltas > 0 {
			fmt.Fprintf(w, ", deltas %d", m.Deltas)
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  distinct phrasings:")
		for _, k := range sortedKeys(m.Phrasings) {
			p := m.Phrasings[k]
			fmt.Fprintf(w, " %s %d/%d,", k, p.Distinct, p.Lines)
		}
		fmt.Fprint(w, "\n\n")
	}
}

func reasons(rs map[string]int) string {
	if len(rs) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(rs) {
		parts = append(parts, fmt.Sprintf("%s %d", k, rs[k]))
	}
	return ": " + strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Nanosecond)
}
