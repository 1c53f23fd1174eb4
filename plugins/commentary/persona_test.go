package commentary

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ballcast/ballcast/plugins/sdk"
	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// bankSlots reads a phrase bank's categories and, for each variant, its
// slots.
func bankSlots(t *testing.T, path string) map[string][][]string {
	t.Helper()
	data, err := phraseFiles.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][][]string{}
	for k, v := range raw {
		if strings.HasPrefix(k, "_") {
			continue
		}
		var variants []string
		if err := json.Unmarshal(v, &variants); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		for _, s := range variants {
			p, err := parsePhrase(s)
			if err != nil {
				t.Fatalf("%s: %s: %v", path, k, err)
			}
			out[k] = append(out[k], p.slots)
		}
	}
	return out
}

// The Hindi bank has exactly the English bank's categories, and its
// variants use only slots the English ones use in the same category, with
// at least one variant usable whenever the English category's least
// demanding variant is.
func TestHindiBankParity(t *testing.T) {
	en, hi := bankSlots(t, "phrases/en.json"), bankSlots(t, "phrases/hi.json")
	var missing, extra []string
	for k := range en {
		if _, ok := hi[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range hi {
		if _, ok := en[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("hi.json: missing keys %v, keys not in en.json %v", missing, extra)
	}
	for k, envs := range en {
		union := map[string]bool{}
		var least []string
		for i, v := range envs {
			for _, s := range v {
				union[s] = true
			}
			if i == 0 || len(v) < len(least) {
				least = v
			}
		}
		usable, enUsable := 0, 0
		for _, v := range envs {
			if subset(v, least) {
				enUsable++
			}
		}
		for _, v := range hi[k] {
			for _, s := range v {
				if !union[s] {
					t.Errorf("hi.json %s: slot {%s} is in no English variant of the category", k, s)
				}
			}
			if subset(v, least) {
				usable++
			}
		}
		// As many variants as English when only the least demanding
		// variant's slots are set, up to 2, so a line does not repeat.
		if usable < min(enUsable, 2) {
			t.Errorf("hi.json %s: %d variants with only the slots %v, English has %d", k, usable, least, enUsable)
		}
	}
}

func subset(a, b []string) bool {
	in := map[string]bool{}
	for _, s := range b {
		in[s] = true
	}
	for _, s := range a {
		if !in[s] {
			return false
		}
	}
	return true
}

// Every language and persona builds, and the Hindi persona variants cover
// the same categories as the English ones.
func TestVoices(t *testing.T) {
	for lang := range languageNames {
		for _, p := range personaNames() {
			if _, err := newVoice(lang, p); err != nil {
				t.Errorf("voice %s/%s: %v", lang, p, err)
			}
		}
	}
	read := func(lang string) voiceFile {
		data, err := voiceFiles.ReadFile("phrases/voice/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var vf voiceFile
		if err := json.Unmarshal(data, &vf); err != nil {
			t.Fatal(err)
		}
		return vf
	}
	en, hi := read("en"), read("hi")
	for name, p := range en.Personas {
		for cat := range p.Categories {
			if _, ok := hi.Personas[name].Categories[cat]; !ok {
				t.Errorf("voice/hi.json %s lacks category %s", name, cat)
			}
		}
	}
	if _, err := newVoice("en", "shouty"); err == nil {
		t.Error("unknown persona accepted")
	}
}

func TestBankLanguage(t *testing.T) {
	for tag, want := range map[string]string{"hi": "hi", "hi-IN": "hi", "HI_in": "hi", "en-GB": "en", "fr": "en", "": "en"} {
		if got := bankLanguage(tag); got != want {
			t.Errorf("bankLanguage(%q) = %q, want %q", tag, got, want)
		}
	}
}

func personaStage(t *testing.T, persona, lang string) *Stage {
	t.Helper()
	st := New()
	cfg := fmt.Sprintf(`{"persona":%q,"language":%q,"check_templates":true,"llm":{"enabled":false}}`, persona, lang)
	if err := st.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
		t.Fatal(err)
	}
	return st
}

// over6 sends six legal balls of one over through st, scored by s, and
// returns their commentary (nil for no line).
func over6(t *testing.T, s *sim, st *Stage, over int, balls [6]*pb.Ball) []*pb.Commentary {
	t.Helper()
	var out []*pb.Commentary
	for i, b := range balls {
		b.Innings, b.Over, b.Ball, b.Legal, b.BattingTeam, b.BowlingTeam = 1, int32(over), int32(i+1), true, "England", "Pakistan"
		ev := &pb.Event{Id: fmt.Sprintf("%s/1.%d.%d.0", s.match, over, i+1), Match: s.match, Kind: "ball", Ball: b}
		s.sc.apply(ev)
		res, err := st.Process(context.Background(), ev)
		if err != nil || len(res) != 1 {
			t.Fatalf("Process: %v, %v", res, err)
		}
		out = append(out, res[0].GetCommentary())
	}
	return out
}

// The minimalist says nothing on routine dot balls, and speaks on runs, on
// wickets and at the end of the over; the other personas speak on every
// ball.
func TestPersonaMinimalistQuiet(t *testing.T) {
	for _, p := range personaNames() {
		t.Run(p, func(t *testing.T) {
			st := personaStage(t, p, "en")
			s := newSim(t, st, "m")
			cs := over6(t, s, st, 0, [6]*pb.Ball{dot("JC Buttler", "Haris Rauf"), dot("JC Buttler", "Haris Rauf"),
				runs("JC Buttler", "Haris Rauf", 4), dot("JC Buttler", "Haris Rauf"), runs("JC Buttler", "Haris Rauf", 1), dot("AD Hales", "Haris Rauf")})
			for i, c := range cs {
				routineDot := i == 0 || i == 1 || i == 3
				quiet := p == PersonaMinimalist && routineDot
				if (c == nil) != quiet {
					t.Errorf("ball %d: commentary %v, want none: %v", i+1, c, quiet)
				}
				if c != nil && c.GetPersona() != p {
					t.Errorf("ball %d: persona %q, want %q", i+1, c.GetPersona(), p)
				}
			}
			if got := st.Counters().Quiet; (got == 3) != (p == PersonaMinimalist) {
				t.Errorf("quiet counter %d", got)
			}
		})
	}
}

// Personas choose their own phrases: the analyst never exclaims, the
// excitable commentator always does on a boundary, the minimalist is
// short.
func TestPersonaVoice(t *testing.T) {
	lines := map[string][]string{}
	for _, p := range personaNames() {
		st := personaStage(t, p, "en")
		s := newSim(t, st, "m")
		for over := range 4 {
			for _, c := range over6(t, s, st, over, [6]*pb.Ball{runs("JC Buttler", "Haris Rauf", 4), runs("JC Buttler", "Haris Rauf", 6),
				runs("JC Buttler", "Haris Rauf", 4), runs("JC Buttler", "Haris Rauf", 1), runs("AD Hales", "Haris Rauf", 4), runs("AD Hales", "Haris Rauf", 1)}) {
				lines[p] = append(lines[p], c.GetText())
			}
		}
		if n := st.Counters().TemplateUngrounded; n != 0 {
			t.Errorf("%s: %d template lines fail the grounding check", p, n)
		}
	}
	for _, l := range lines[PersonaAnalyst] {
		if strings.Contains(l, "!") {
			t.Errorf("analyst exclaims: %q", l)
		}
	}
	for i, l := range lines[PersonaExcitable] {
		if i%6 != 3 && i%6 != 5 && !strings.Contains(l, "!") { // boundaries
			t.Errorf("excitable boundary without an exclamation: %q", l)
		}
	}
	avg := func(ls []string) float64 {
		n := 0
		for _, l := range ls {
			n += len(strings.Fields(l))
		}
		return float64(n) / float64(len(ls))
	}
	if m, s := avg(lines[PersonaMinimalist]), avg(lines[PersonaStandard]); m >= s {
		t.Errorf("minimalist lines average %.1f words, standard %.1f: want shorter", m, s)
	}
	same := 0
	for i := range lines[PersonaStandard] {
		if lines[PersonaStandard][i] == lines[PersonaExcitable][i] {
			same++
		}
	}
	if same > len(lines[PersonaStandard])/3 {
		t.Errorf("excitable and standard share %d of %d lines", same, len(lines[PersonaStandard]))
	}
}

// Hindi template lines: Devanagari with names as given, the engine's
// English units and dismissal kinds rewritten, and marked "hi".
func TestHindiLines(t *testing.T) {
	st := personaStage(t, PersonaStandard, "hi-IN")
	s := newSim(t, st, "m")
	b := dot("JC Buttler", "Haris Rauf")
	b.Wickets = []*pb.Wicket{{Kind: "caught", PlayerOut: "JC Buttler", Fielders: []string{"Shadab Khan"}}}
	cs := over6(t, s, st, 0, [6]*pb.Ball{runs("JC Buttler", "Haris Rauf", 5), runs("JC Buttler", "Haris Rauf", 4), b,
		dot("BA Stokes", "Haris Rauf"), runs("BA Stokes", "Haris Rauf", 2), dot("BA Stokes", "Haris Rauf")})
	for i, c := range cs {
		if c.GetLanguage() != "hi" || !strings.ContainsAny(c.GetText(), "कखगघचछजटडतदनपबमयरलवशसह") {
			t.Errorf("ball %d: %v, want a Hindi line", i+1, c)
		}
		for _, w := range strings.Fields(c.GetText()) {
			if strings.ContainsAny(w, "abcdefghijklmnopqrstuvwxyz") && !containsAny(w, "Buttler", "Rauf", "Haris", "Stokes", "Shadab", "Khan", "England", "Pakistan") && w != "c" && w != "b" {
				t.Errorf("ball %d: English word %q left in %q", i+1, w, c.GetText())
			}
		}
	}
	mustContain(t, cs[0].GetText(), "5 रन")
	mustContain(t, cs[2].GetText(), "Buttler", "Shadab Khan")
	mustContain(t, cs[5].GetText(), "England", "11/1")
}

func TestLocalizeResults(t *testing.T) {
	v, err := newVoice("hi", PersonaStandard)
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"Australia win by 71 runs":                  "Australia ने 71 रन से मैच जीता",
		"England win by 5 wickets":                  "England ने 5 विकेट से मैच जीता",
		"Lucknow Super Giants win by 1 run":         "Lucknow Super Giants ने 1 रन से मैच जीता",
		"Pakistan win by 21 runs (D/L method)":      "Pakistan ने 21 रन से मैच जीता (D/L पद्धति से)",
		"India win by an innings and 12 runs":       "India ने पारी और 12 रन से मैच जीता",
		"Match tied (Australia won the super over)": "मैच टाई रहा, सुपर ओवर Australia के नाम",
		"No result":       "कोई नतीजा नहीं",
		"Match drawn":     "मैच ड्रॉ रहा",
		"West Indies win": "West Indies ने मैच जीता",
		"Need 93 runs from 98 balls in 3.4 overs, lbw": "Need 93 रन from 98 गेंद in 3.4 ओवर, एलबीडब्ल्यू",
		"Trinidad and Tobago win by 3 runs":            "Trinidad and Tobago ने 3 रन से मैच जीता",
		"de Kock and Naveen-ul-Haq":                    "de Kock और Naveen-ul-Haq",
	} {
		if got := v.localize(in, "Trinidad and Tobago", "de Kock", "Kock", "Naveen-ul-Haq"); got != want {
			t.Errorf("localize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGuardWord(t *testing.T) {
	for pat, want := range map[string]string{
		`\b(\d+) runs?\b`:        "run",
		` win by (\d+) wickets?`: "win",
		`Match tied`:             "atch",
		`\bbat\b`:                "bat",
		`a|b`:                    "",
		` and `:                  "and",
		`\b(\d+) [Rr]uns`:        "",
	} {
		if got := guardWord(pat); got != want {
			t.Errorf("guardWord(%q) = %q, want %q", pat, got, want)
		}
	}
}

// FuzzLocalize: the Hindi rewrites never panic, leave valid UTF-8 and no
// placeholder behind, and keep a protected name that was in the line.
func FuzzLocalize(f *testing.F) {
	v, err := newVoice("hi", PersonaStandard)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("de Kock and Naveen-ul-Haq win by 3 runs", "de Kock")
	f.Add("Trinidad and Tobago need 12 runs from 7 balls, caught and bowled", "Trinidad and Tobago")
	f.Add("\uE000\uE100\uE000 and 1 runs", "a b")
	f.Fuzz(func(t *testing.T, line, name string) {
		out := v.localize(line, name)
		if !utf8.ValidString(out) && utf8.ValidString(line) {
			t.Fatalf("localize(%q) = %q: invalid UTF-8", line, out)
		}
		if strings.ContainsRune(out, 0xE000) && !strings.ContainsRune(line, 0xE000) && !strings.ContainsRune(name, 0xE000) {
			t.Fatalf("localize(%q, %q) = %q: placeholder left", line, name, out)
		}
		if hasLowerWord(name) && !strings.ContainsAny(name, "\uE000") && strings.Contains(line, name) && !strings.Contains(out, name) {
			t.Fatalf("localize(%q, %q) = %q: the name is gone", line, name, out)
		}
	})
}

// FuzzVoices: every persona and language writes a line for any ball (but a
// minimalist's routine dot), without panicking, in the language it claims.
func FuzzVoices(f *testing.F) {
	f.Add(uint8(0), "JC Buttler", "Haris Rauf", "de Kock", int8(4), uint8(0), uint8(0), uint8(2))
	f.Add(uint8(5), "", "", "", int8(0), uint8(1), uint8(0), uint8(0))
	f.Add(uint8(7), "a and b", "second", "bat", int8(-3), uint8(0), uint8(3), uint8(6))
	stages := map[uint8]*Stage{}
	f.Fuzz(func(t *testing.T, which uint8, batter, bowler, fielder string, runsBat int8, wides, noballs, wicket uint8) {
		which %= 8
		persona, lang := personaNames()[which%4], []string{"en", "hi"}[which/4]
		st := stages[which]
		if st == nil {
			st = New()
			cfg := fmt.Sprintf(`{"persona":%q,"language":%q,"llm":{"enabled":false}}`, persona, lang)
			if err := st.Configure(context.Background(), sdk.NewConfig("commentary", []byte(cfg))); err != nil {
				t.Fatal(err)
			}
			stages[which] = st
		}
		b := &pb.Ball{Innings: 1, Over: 2, Ball: 3, Batter: batter, NonStriker: fielder, Bowler: bowler, BattingTeam: "A", BowlingTeam: "B",
			RunsBat: int32(runsBat), Legal: wides == 0 && noballs == 0, Extras: &pb.Extras{Wides: int32(wides), Noballs: int32(noballs)}}
		if k := fuzzWicketKinds[int(wicket)%len(fuzzWicketKinds)]; k != "" {
			b.Wickets = []*pb.Wicket{{Kind: k, PlayerOut: batter, Fielders: []string{fielder}}}
		}
		ev := &pb.Event{Id: fmt.Sprintf("f/%d/%s/%s/%d", which, batter, bowler, runsBat), Match: "f", Kind: "ball", Ball: b}
		out, err := st.Process(context.Background(), ev)
		if err != nil || len(out) != 1 {
			t.Fatalf("Process = %d events, %v", len(out), err)
		}
		c := out[0].GetCommentary()
		dot := runsBat == 0 && wides == 0 && noballs == 0 && len(b.Wickets) == 0
		if c.GetText() == "" && !(persona == PersonaMinimalist && dot) {
			t.Fatalf("%s/%s: no line for %v", persona, lang, b)
		}
		if c != nil && (c.GetLanguage() != lang || c.GetPersona() != persona) {
			t.Fatalf("%s/%s: commentary %v", persona, lang, c)
		}
	})
}
