package commentary

import (
	"encoding/json"
	"strings"
	"sync"
	"unicode"
)

// The grounding check: every number and every name in a line must come from
// the facts the line was written from (the LLM's fact list and the template
// line given to it as a reference).
//
// Numbers: every number in digits (ASCII or Devanagari), and every English
// number word from two to twelve, fifty and hundred and the ordinals second
// to tenth (and the Hindi words for two to ten, fifty, hundred and the
// ordinals second to fifth), must appear in the facts, as digits or as a
// number word of the same value. Digits
// glued to a letter in front ("T20") are part of a word, not numbers. The idiom "three
// figures" (a hundred) is not a number.
//
// Names: a Latin word written with a capital letter is a name unless it is
// a known word: a word of the template phrase banks, one of commonWords
// below, or a word the facts use in lower case, and then only at the start
// of a sentence (or written all in capitals, for emphasis: "SIX"), or one
// of the few words of anywhere (T20, ODI, DRS, LBW, Powerplay, I). A name
// must be a word of the facts written the same way (player, team, venue), so
// "Jos Buttler" fails when the facts say "Buttler", and an invented fielder
// fails. Names written in another script (Devanagari) are not checked: the
// prompt asks for names exactly as given.

// Grounding fallback reasons.
const (
	reasonUngroundedName   = "ungrounded name"
	reasonUngroundedNumber = "ungrounded number"
)

// commonWords are words that may start a sentence, or be written in
// capitals, without being names: the small list the check allows besides
// the phrase banks' own words. Lower case.
var commonWords = wordSet(`a an the and but so or oh wow well now then just what what's that that's this there there's
these those it it's its he he's she she's they they're his her their i we you our your my who how why when where here
yes no not nor never always still yet only even also too all both every each another other more most less some any
big huge great brilliant superb lovely magnificent beautiful excellent fantastic stunning massive glorious terrific
wonderful splendid classy clean crisp sweet smart good fine nice neat easy simple tidy tight solid quiet calm steady
sharp super top bold brave cool clever crucial vital key important precious early late fast quick slow full long
gone bang boom crack shot delivery ball dot single runs run four six boundary maximum wicket wickets bowled caught
stumped lbw drs review umpire appeal powerplay partnership century fifty hundred half-century target chase innings
over overs maiden extras extra wide no-ball bye leg-bye pressure momentum milestone record score total lead deficit
given taken dropped edged missed beaten out not-out finally meanwhile again back up down off on in at for from with
into onto to of by as if after before while once twice plenty lots one two three five seven eight nine ten eleven twelve
first second third fourth fifth sixth seventh eighth ninth tenth last next final opening new old hat-trick
howzat shot shots sweetly beautifully superbly nicely cleverly gorgeous cracking unbelievable incredible remarkable
extraordinary outstanding majestic sublime delightful elegant powerful crunching timed placed punched lofted smashed
driven pulled cut swept flicked edged dispatched carved guided nudged tucked steered blocked defended beaten yorked
massive monstrous colossal towering enormous deep square behind through past away inside outside nervous composed
patient watchful careful aggressive positive fearless confident comfortable clinical ruthless relentless disciplined
accurate probing hostile pace spin swing seam bounce length line wait look watch surely perhaps maybe certainly
definitely absolutely simply already time moment game match contest battle duel job class quality power timing
placement skill magic drama tension relief disaster trouble danger chance lucky unlucky sadly happily thankfully
luckily importantly crucially interestingly remarkably amazingly incredibly brilliantly wonderfully magnificently
gloriously easily comfortably cleanly crisply firmly softly gently delicately deftly neatly smartly calmly steadily
patiently carefully confidently aggressively boldly bravely quickly slowly badly poorly excellent economical expensive
costly tidy`)

// anywhere are the words allowed with a capital anywhere in a line.
var anywhere = wordSet(`i t20 t20i odi test drs lbw dls powerplay`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// numberWords are the spelled numbers the check verifies, with their value.
var numberWords = map[string]string{
	"two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
	"ten": "10", "eleven": "11", "twelve": "12", "fifty": "50", "hundred": "100",
	"second": "2", "third": "3", "fourth": "4", "fifth": "5", "sixth": "6", "seventh": "7", "eighth": "8",
	"ninth": "9", "tenth": "10",
	// Hindi
	"दो": "2", "तीन": "3", "चार": "4", "पाँच": "5", "पांच": "5", "छह": "6", "छः": "6", "सात": "7", "आठ": "8", "नौ": "9",
	"दस": "10", "पचास": "50", "सौ": "100", "दूसरा": "2", "दूसरी": "2", "तीसरा": "3", "तीसरी": "3", "चौथा": "4", "चौथी": "4",
	"पाँचवाँ": "5", "पाँचवीं": "5",
}

// knownWords are the lower-case words that are never names at the start of
// a sentence: commonWords and every Latin word of the phrase banks.
var knownWords = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for w := range commonWords {
		m[w] = true
	}
	add := func(s string) {
		for _, t := range tokens(s) {
			if !t.num {
				m[strings.ToLower(t.text)] = true
			}
		}
	}
	for lang := range languageNames {
		if e, err := newEngine(lang); err == nil {
			for _, phs := range e.bank {
				for _, p := range phs {
					for _, l := range p.lits {
						add(l)
					}
				}
			}
		}
		if data, err := voiceFiles.ReadFile("phrases/voice/" + lang + ".json"); err == nil {
			var vf voiceFile
			if json.Unmarshal(data, &vf) == nil {
				for _, p := range vf.Personas {
					for _, vs := range p.Categories {
						for _, v := range vs {
							if ph, err := parsePhrase(v); err == nil {
								for _, l := range ph.lits {
									add(l)
								}
							}
						}
					}
				}
			}
		}
	}
	return m
})

// token is a word or a number of a line.
type token struct {
	text  string
	num   bool // digits, with a decimal part
	start bool // first word of a sentence
}

// tokens splits s into words (letters, with inner apostrophes) and numbers
// (digits, Devanagari digits as ASCII), marking the first word of each
// sentence. Hyphens and slashes split words.
func tokens(s string) []token {
	s = strings.NewReplacer("’", "'", "‘", "'").Replace(s)
	var out []token
	start := true
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case isDigit(r):
			j := i
			var b strings.Builder
			for j < len(rs) && isDigit(rs[j]) {
				b.WriteRune(asciiDigit(rs[j]))
				j++
			}
			if j+1 < len(rs) && rs[j] == '.' && isDigit(rs[j+1]) {
				b.WriteByte('.')
				j++
				for j < len(rs) && isDigit(rs[j]) {
					b.WriteRune(asciiDigit(rs[j]))
					j++
				}
			}
			glued := i > 0 && unicode.IsLetter(rs[i-1])
			if !glued {
				out = append(out, token{text: b.String(), num: true, start: start})
			}
			start = false
			i = j
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j]) || unicode.Is(unicode.Mc, rs[j]) ||
				rs[j] == '\'' && j+1 < len(rs) && unicode.IsLetter(rs[j+1])) {
				j++
			}
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' { // "T20": one word
				j++
			}
			out = append(out, token{text: string(rs[i:j]), start: start})
			start = false
			i = j
		default:
			switch r {
			case '.', '!', '?', ':', ';', '।', '"', '“', '”', '(', '—', '–':
				start = true
			}
			i++
		}
	}
	return out
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' || r >= '०' && r <= '९' }

func asciiDigit(r rune) rune {
	if r >= '०' && r <= '९' {
		return '0' + (r - '०')
	}
	return r
}

// ground is what a line may mention: the words and numbers of its facts.
type ground struct {
	numbers map[string]bool
	names   map[string]bool // words of the facts as written
	lower   map[string]bool // words of the facts, lower-cased
}

func newGround(factList []string, reference string) *ground {
	g := &ground{numbers: map[string]bool{}, names: map[string]bool{}, lower: map[string]bool{}}
	for _, t := range tokens(strings.Join(factList, "\n") + "\n" + reference) {
		if t.num {
			g.numbers[t.text] = true
			continue
		}
		g.names[stripPossessive(t.text)] = true
		lw := strings.ToLower(stripPossessive(t.text))
		g.lower[lw] = true
		if v, ok := numberWords[lw]; ok { // "second innings" grounds "2" and "दूसरी"
			g.numbers[v] = true
		}
	}
	return g
}

func stripPossessive(w string) string {
	if strings.HasSuffix(w, "'s") && len(w) > 2 {
		return w[:len(w)-2]
	}
	return w
}

// check returns "" when every number and name of line is in the facts, or
// the reason it fails.
func (g *ground) check(line string) string {
	line = strings.ReplaceAll(strings.ReplaceAll(line, "three figures", "figures"), "Three figures", "Figures")
	known := knownWords()
	for _, t := range tokens(line) {
		if t.num {
			if !g.numbers[t.text] {
				return reasonUngroundedNumber
			}
			continue
		}
		w := stripPossessive(t.text)
		lw := strings.ToLower(w)
		if v, ok := numberWords[lw]; ok && !g.numbers[v] {
			return reasonUngroundedNumber
		}
		first := []rune(w)[0]
		if !unicode.Is(unicode.Latin, first) || !unicode.IsUpper(first) {
			continue // lower case, or another script
		}
		if g.names[w] || allCaps(w) && g.hasNameFold(w) || anywhere[lw] {
			continue
		}
		if (t.start || allCaps(w)) && (known[lw] || g.lower[lw]) {
			continue
		}
		return reasonUngroundedName
	}
	return ""
}

// hasNameFold reports whether the facts have w in another case ("BUTTLER").
func (g *ground) hasNameFold(w string) bool {
	for n := range g.names {
		if strings.EqualFold(n, w) {
			return true
		}
	}
	return false
}

func allCaps(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

// grounded reports whether every number written in digits in text appears
// in facts. The stage uses ground.check, which also checks names; this is
// the numbers-only form.
func grounded(text, facts string) bool {
	have := map[string]bool{}
	for _, n := range numbers(facts) {
		have[n] = true
	}
	for _, n := range numbers(text) {
		if !have[n] {
			return false
		}
	}
	return true
}

// numbers returns the numbers written in digits in s: "45/1 after 3.4"
// gives 45, 1 and 3.4.
func numbers(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j+1 < len(s) && s[j] == '.' && s[j+1] >= '0' && s[j+1] <= '9' {
			j++
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
		}
		out = append(out, s[i:j])
		i = j
	}
	return out
}
