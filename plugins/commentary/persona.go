package commentary

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// persona is a commentator's voice: how the LLM is told to speak, which
// template phrases it prefers, and whether it stays quiet on routine balls.
type persona struct {
	name   string
	prompt string // the LLM's "You are <prompt>"
	// quiet: no line at all for a routine dot ball (see routine).
	quiet bool
}

// Persona names, the values of the config's persona key.
const (
	PersonaStandard   = "standard"
	PersonaAnalyst    = "analyst"
	PersonaExcitable  = "excitable"
	PersonaMinimalist = "minimalist"
)

var personas = map[string]persona{
	PersonaStandard: {name: PersonaStandard, prompt: "a lively, concise TV cricket commentator"},
	PersonaAnalyst: {name: PersonaAnalyst, prompt: "a calm, measured analyst in the commentary box: you say what the " +
		"numbers and the situation mean, in an even tone, never shouting and with no exclamation marks"},
	PersonaExcitable: {name: PersonaExcitable, prompt: "an excitable, high-energy commentator who lives for big moments: " +
		"short punchy sentences, exclamations for boundaries, wickets and milestones, calmer on quiet balls"},
	PersonaMinimalist: {name: PersonaMinimalist, prompt: "a minimalist commentator who uses as few words as possible: " +
		"names and what happened, at most 12 words, no adjectives", quiet: true},
}

// personaNames lists the personas, sorted, for errors and docs.
func personaNames() []string {
	out := make([]string, 0, len(personas))
	for n := range personas {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// routine reports a ball a minimalist lets pass without a word: no run, no
// extra, no wicket, no milestone, not the end of an over, and not in the
// last 18 balls or 12 runs of a chase.
func routine(f *facts) bool {
	if f.kind != kindBall || f.totalRuns() != 0 || len(f.wickets) > 0 || len(f.milestones) > 0 || f.endOfOver {
		return false
	}
	if c := f.chase; c != nil && (c.ballsLeft > 0 && c.ballsLeft <= 18 || c.need <= 12) {
		return false
	}
	return true
}

// Languages with a template phrase bank, and the names the LLM prompt uses.
var languageNames = map[string]string{
	"en": "English",
	"hi": "Hindi, in Devanagari script",
}

// bankLanguage maps a BCP 47 tag to the phrase bank that writes it ("hi-IN"
// → "hi"), or "en" when there is none.
func bankLanguage(tag string) string {
	base := strings.ToLower(strings.SplitN(strings.ReplaceAll(tag, "_", "-"), "-", 2)[0])
	if _, ok := languageNames[base]; ok {
		return base
	}
	return DefaultLanguage
}

// languageName is how the LLM prompt names tag: "Hindi, in Devanagari
// script" for "hi", the tag itself for languages without a name here.
func languageName(tag string) string {
	base := strings.ToLower(strings.SplitN(strings.ReplaceAll(tag, "_", "-"), "-", 2)[0])
	if n, ok := languageNames[base]; ok {
		return fmt.Sprintf("%s (BCP 47 tag %q)", n, tag)
	}
	return fmt.Sprintf("the language with BCP 47 tag %q", tag)
}

//go:embed phrases/voice/*.json
var voiceFiles embed.FS

// voice is the template engine in one language and persona: the phrase
// bank with the persona's variants in place of the base ones, and the
// rewrites that put the engine's English slot values (units, dismissal
// kinds, results) into the bank's language.
type voice struct {
	lang    string
	persona persona
	eng     *engine
	rewrite []rewrite
}

type rewrite struct {
	re   *regexp.Regexp
	with string
	word string // a word every match contains, a cheap test before the regexp; "" for none
}

var (
	escapes  = regexp.MustCompile(`\\[a-zA-Z]|[a-zA-Z][?*]`) // escapes, and letters that may be missing
	literals = regexp.MustCompile(`[a-z]{3,}`)
)

// guardWord is a lower-case word of a rewrite's pattern that every match
// contains: the first run of three letters or more outside escapes and
// optional letters. Patterns with alternation or classes get none.
func guardWord(pattern string) string {
	if strings.ContainsAny(pattern, "|[") {
		return ""
	}
	return literals.FindString(escapes.ReplaceAllString(pattern, " "))
}

// line writes the template line for f: the engine's pick, which the caller
// commits to the line state, and the text to publish. teams are the
// match's teams, kept as given like the players' names.
func (v *voice) line(st *lineState, nm *names, teams []string, f *facts) (pick, string) {
	p := v.eng.line(st, nm, f)
	if len(v.rewrite) == 0 {
		return p, p.text
	}
	var keep []string
	for full := range nm.known {
		if hasLowerWord(full) { // the short form is a part of it
			keep = append(keep, full, nm.display(full))
		}
	}
	return p, v.localize(p.text, append(keep, teams...)...)
}

// localize applies the bank's slot-value rewrites to a line, leaving the
// names in keep as they are ("Trinidad and Tobago", "de Kock").
func (v *voice) localize(s string, keep ...string) string {
	var held []string
	keep = slices.DeleteFunc(keep, func(k string) bool { return !hasLowerWord(k) || !strings.Contains(s, k) })
	sort.Slice(keep, func(a, b int) bool { return len(keep[a]) > len(keep[b]) }) // longest first
	for _, k := range keep {
		if !strings.Contains(s, k) {
			continue
		}
		mark := string(rune(0xE000)) + string(rune(0xE100+len(held))) + string(rune(0xE000))
		s = strings.ReplaceAll(s, k, mark)
		held = append(held, k)
	}
	for _, r := range v.rewrite {
		if r.word == "" || strings.Contains(s, r.word) {
			s = r.re.ReplaceAllString(s, r.with)
		}
	}
	for i, k := range held {
		s = strings.ReplaceAll(s, string(rune(0xE000))+string(rune(0xE100+i))+string(rune(0xE000)), k)
	}
	return s
}

// hasLowerWord reports whether a name has a word starting in lower case,
// which a rewrite could touch.
func hasLowerWord(name string) bool {
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == ' ' || r == '-' }) {
		if w != "" && w[0] >= 'a' && w[0] <= 'z' {
			return true
		}
	}
	return false
}

// voiceFile is phrases/voice/<lang>.json: per persona, categories whose
// variants replace the base bank's, and literal replacements applied to
// every variant of the persona's bank.
type voiceFile struct {
	Personas map[string]struct {
		Replace    [][2]string         `json:"replace"`
		Categories map[string][]string `json:"categories"`
	} `json:"personas"`
}

var voices sync.Map // lang + "/" + persona → *voice

// voiceFor returns the template voice for a language tag and persona,
// building and caching it on first use.
func voiceFor(tag, personaName string) (*voice, error) {
	lang := bankLanguage(tag)
	key := lang + "/" + personaName
	if v, ok := voices.Load(key); ok {
		return v.(*voice), nil
	}
	v, err := newVoice(lang, personaName)
	if err != nil {
		return nil, err
	}
	actual, _ := voices.LoadOrStore(key, v)
	return actual.(*voice), nil
}

func newVoice(lang, personaName string) (*voice, error) {
	p, ok := personas[personaName]
	if !ok {
		return nil, fmt.Errorf("commentary: persona %q: want one of %s", personaName, strings.Join(personaNames(), ", "))
	}
	eng, err := newEngine(lang)
	if err != nil {
		return nil, err
	}
	rw, err := slotRewrites(lang)
	if err != nil {
		return nil, err
	}
	data, err := voiceFiles.ReadFile("phrases/voice/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("commentary: voice bank %s: %w", lang, err)
	}
	var vf voiceFile
	if err := json.Unmarshal(data, &vf); err != nil {
		return nil, fmt.Errorf("commentary: voice bank %s: %w", lang, err)
	}
	if pv, ok := vf.Personas[personaName]; ok {
		for cat, variants := range pv.Categories {
			if _, known := eng.bank[cat]; !known {
				return nil, fmt.Errorf("commentary: voice bank %s: %s: category %s is not in the phrase bank", lang, personaName, cat)
			}
			var phs []phrase
			for _, s := range variants {
				ph, err := parsePhrase(s)
				if err != nil {
					return nil, fmt.Errorf("commentary: voice bank %s: %s: %s: %w", lang, personaName, cat, err)
				}
				phs = append(phs, ph)
			}
			eng.bank[cat] = phs
		}
		if len(pv.Replace) > 0 {
			for cat, phs := range eng.bank {
				eng.bank[cat] = replaceLiterals(phs, pv.Replace)
			}
		}
	}
	return &voice{lang: lang, persona: p, eng: eng, rewrite: rw}, nil
}

// replaceLiterals applies the replacements to the literal text of every
// variant and drops the variants that become duplicates.
func replaceLiterals(phs []phrase, repl [][2]string) []phrase {
	pairs := make([]string, 0, 2*len(repl))
	for _, r := range repl {
		pairs = append(pairs, r[0], r[1])
	}
	rp := strings.NewReplacer(pairs...)
	seen := map[string]bool{}
	var out []phrase
	for _, ph := range phs {
		n := phrase{slots: ph.slots}
		for _, l := range ph.lits {
			n.lits = append(n.lits, rp.Replace(l))
		}
		k := strings.Join(n.lits, "\x00") + "\x01" + strings.Join(n.slots, "\x00")
		if !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	return out
}

// slotRewrites reads the "_slot_words" list of a phrase bank: regular
// expressions over the finished line that put the engine's English slot
// values ("4 runs", "caught", "England win by 5 wickets") into the bank's
// language. They match lower-case English only, so names (capitalised) are
// left as given.
func slotRewrites(lang string) ([]rewrite, error) {
	data, err := phraseFiles.ReadFile("phrases/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("commentary: phrase bank %s: %w", lang, err)
	}
	var bank struct {
		SlotWords [][2]string `json:"_slot_words"`
	}
	if err := json.Unmarshal(data, &bank); err != nil {
		return nil, fmt.Errorf("commentary: phrase bank %s: %w", lang, err)
	}
	var out []rewrite
	for _, sw := range bank.SlotWords {
		re, err := regexp.Compile(sw[0])
		if err != nil {
			return nil, fmt.Errorf("commentary: phrase bank %s: _slot_words %q: %w", lang, sw[0], err)
		}
		out = append(out, rewrite{re: re, with: sw[1], word: guardWord(sw[0])})
	}
	return out, nil
}
