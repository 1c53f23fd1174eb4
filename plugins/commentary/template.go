package commentary

import (
	"embed"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

//go:embed phrases/*.json
var phraseFiles embed.FS

// slotNames are the slots a phrase may use. Every value comes from facts.
var slotNames = map[string]bool{
	"bowler": true, "batter": true, "non_striker": true, // display names of the ball's players
	"out": true, "fielder": true, "fielders": true, // the dismissed player, the first fielder, all fielders
	"kind":        true, // dismissal in words: "retires hurt", "obstructing the field"
	"runs":        true, // a number of runs: off the ball, the team's (all out) or the batter's/stand's now
	"runs_text":   true, // "1 run", "2 runs"
	"extras":      true, // extra runs on the ball
	"extras_text": true,
	"team":        true,                                   // the batting side
	"score":       true,                                   // "45/1"
	"overs_text":  true,                                   // "4 overs", "3.4 overs"
	"need_text":   true, "balls_text": true, "rate": true, // a chase: "93 runs", "98 balls", "5.69"
	"target": true, "target_overs": true,
	"player": true, "partner": true, "value": true, "balls": true, "figures": true, // milestones
	"ordinal":     true, // "second": the batting side's nth innings
	"toss_winner": true, "toss_choice": true,
	"result":   true,
	"over":     true,                  // "3.4"
	"previous": true,                  // the player a record passes
	"day":      true, "session": true, // a Test's estimated day ("2") and session ("second")
}

// phrase is one parsed variant: lits[0] slots[0] lits[1] ... lits[n].
type phrase struct {
	lits  []string
	slots []string
}

func parsePhrase(s string) (phrase, error) {
	var p phrase
	rest := s
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return phrase{}, fmt.Errorf("commentary: phrase %q: unbalanced }", s)
			}
			p.lits = append(p.lits, rest)
			return p, nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return phrase{}, fmt.Errorf("commentary: phrase %q: unbalanced {", s)
		}
		name := rest[i+1 : i+j]
		if !slotNames[name] {
			return phrase{}, fmt.Errorf("commentary: phrase %q: unknown slot {%s}", s, name)
		}
		if strings.IndexByte(rest[:i], '}') >= 0 {
			return phrase{}, fmt.Errorf("commentary: phrase %q: unbalanced }", s)
		}
		p.lits = append(p.lits, rest[:i])
		p.slots = append(p.slots, name)
		rest = rest[i+j+1:]
	}
}

func (p phrase) usable(v slots) bool {
	for _, s := range p.slots {
		if v[s] == "" {
			return false
		}
	}
	return true
}

// repeats reports whether two different slots of p hold the same value,
// as "{batter} ... {out}" does when the striker is out: such a variant reads
// badly and is used only when no other is left.
func (p phrase) repeats(v slots) bool {
	for i, a := range p.slots {
		for _, b := range p.slots[i+1:] {
			if a != b && v[a] == v[b] {
				return true
			}
		}
	}
	return false
}

func (p phrase) expand(v slots) string {
	var b strings.Builder
	for i, l := range p.lits {
		b.WriteString(l)
		if i < len(p.slots) {
			b.WriteString(v[p.slots[i]])
		}
	}
	return b.String()
}

// engine is the template engine: phrase banks plus the rules that turn
// facts into a line.
type engine struct {
	bank map[string][]phrase
}

func newEngine(lang string) (*engine, error) {
	data, err := phraseFiles.ReadFile("phrases/" + lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("commentary: phrase bank %s: %w", lang, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("commentary: phrase bank %s: %w", lang, err)
	}
	e := &engine{bank: map[string][]phrase{}}
	for cat, msg := range raw {
		if strings.HasPrefix(cat, "_") {
			continue
		}
		var variants []string
		if err := json.Unmarshal(msg, &variants); err != nil {
			return nil, fmt.Errorf("commentary: phrase bank %s: %s: %w", lang, cat, err)
		}
		for _, v := range variants {
			p, err := parsePhrase(v)
			if err != nil {
				return nil, fmt.Errorf("commentary: phrase bank %s: %s: %w", lang, cat, err)
			}
			e.bank[cat] = append(e.bank[cat], p)
		}
	}
	return e, nil
}

// slots are the values a part's phrases may use.
type slots map[string]string

// part is one sentence of a line: the first usable category in cats, or
// plain when none is usable (degenerate input such as a ball without names).
type part struct {
	cats  []string
	vals  slots
	plain string
}

func newPart(base slots, cats ...string) part {
	v := make(slots, len(base)+4)
	for k, s := range base {
		v[k] = s
	}
	return part{cats: cats, vals: v}
}

// set sets slot k to s (ignored when empty) and returns p.
func (p part) set(k, s string) part {
	if s != "" {
		p.vals[k] = s
	}
	return p
}

// setName sets a name slot to the display names of players.
func (p part) setName(nm *names, k string, players ...string) part {
	var shown []string
	for _, pl := range players {
		if pl != "" {
			shown = append(shown, nm.display(pl))
		}
	}
	if len(shown) == 0 {
		return p
	}
	p.vals[k] = strings.Join(shown, " and ")
	return p
}

// candidate is a rendered variant of a part.
type candidate struct {
	cat  string
	idx  int // -1: the part's plain text
	n    int // variants in cat
	text string
}

// rank orders the variants of a category for one event: a hash of the
// event's identity, so the choice is stable for a given input and varies
// from ball to ball.
func rank(seed, cat string, i int) uint64 {
	h := fnv.New64a()
	h.Write([]byte(seed))
	h.Write([]byte{0})
	h.Write([]byte(cat))
	h.Write([]byte{0})
	h.Write([]byte(strconv.Itoa(i)))
	return h.Sum64()
}

// candidates returns p's usable variants in order of preference: seeded
// order, with variants that would print one value twice (the striker as
// both {batter} and {out}) last, and before them the category's recently
// used variants.
func (e *engine) candidates(st *lineState, seed string, p part) []candidate {
	for _, cat := range p.cats {
		phs := e.bank[cat]
		type ranked struct {
			idx         int
			dup, recent bool
			r           uint64
		}
		var rs []ranked
		for i, ph := range phs {
			if ph.usable(p.vals) {
				rs = append(rs, ranked{idx: i, dup: ph.repeats(p.vals), recent: st.isRecent(cat, i), r: rank(seed, cat, i)})
			}
		}
		if len(rs) == 0 {
			continue
		}
		sort.Slice(rs, func(a, b int) bool {
			if rs[a].dup != rs[b].dup {
				return !rs[a].dup
			}
			if rs[a].recent != rs[b].recent {
				return !rs[a].recent
			}
			return rs[a].r < rs[b].r
		})
		out := make([]candidate, len(rs))
		for i, r := range rs {
			out[i] = candidate{cat: cat, idx: r.idx, n: len(phs), text: phs[r.idx].expand(p.vals)}
		}
		return out
	}
	if p.plain != "" {
		return []candidate{{idx: -1, text: p.plain}}
	}
	return nil
}

// pick is a chosen line, not yet committed to the line state.
type pick struct {
	text string
	uses []candidate // the variants in it, for the line state
}

// line writes the template line for f. It never returns a line already
// used in st (the innings so far); the caller commits the line it uses.
func (e *engine) line(st *lineState, nm *names, f *facts) pick {
	parts := e.plan(nm, f)
	var rest []candidate
	for _, p := range parts[1:] {
		if cs := e.candidates(st, f.seed, p); len(cs) > 0 {
			rest = append(rest, cs[0])
		}
	}
	mains := e.candidates(st, f.seed, parts[0])
	if len(mains) == 0 {
		mains = []candidate{{idx: -1, text: "Play continues."}}
	}
	build := func(prefix string, m candidate, suffix string) pick {
		texts := []string{prefix + m.text}
		p := pick{uses: append([]candidate{m}, rest...)}
		for _, r := range rest {
			texts = append(texts, r.text)
		}
		p.text = strings.Join(texts, " ") + suffix
		return p
	}
	prefixes := []string{""}
	if f.over != "" {
		prefixes = append(prefixes, f.over+": ")
	}
	for _, prefix := range prefixes {
		for _, m := range mains {
			if p := build(prefix, m, ""); !st.used[p.text] {
				return p
			}
		}
	}
	for n := 2; ; n++ { // identical event at the same position: number it
		if p := build(prefixes[len(prefixes)-1], mains[0], fmt.Sprintf(" (%d)", n)); !st.used[p.text] {
			return p
		}
	}
}

// lineState is the engine's memory for one innings: lines used, and the
// variants each category used last.
type lineState struct {
	used   map[string]bool
	recent map[string][]int
}

func newLineState() *lineState {
	return &lineState{used: map[string]bool{}, recent: map[string][]int{}}
}

func (st *lineState) isRecent(cat string, idx int) bool {
	for _, i := range st.recent[cat] {
		if i == idx {
			return true
		}
	}
	return false
}

// commit records a template line as used.
func (st *lineState) commit(p pick) {
	st.used[p.text] = true
	for _, u := range p.uses {
		if u.idx < 0 {
			continue
		}
		keep := min(u.n/2, 5)
		r := append(st.recent[u.cat], u.idx)
		if len(r) > keep {
			r = r[len(r)-keep:]
		}
		st.recent[u.cat] = r
	}
}

// commitText records a line from elsewhere (the LLM) as used.
func (st *lineState) commitText(text string) { st.used[text] = true }

// plan turns facts into parts: the main sentence first, then notes,
// milestones and the score.
func (e *engine) plan(nm *names, f *facts) []part {
	switch f.kind {
	case kindInningsStart:
		return []part{inningsStartPart(f)}
	case kindInningsEnd:
		return inningsEndParts(nm, f)
	case kindResult:
		cat := "result_other"
		if strings.Contains(f.result, " win") {
			cat = "result_win"
		}
		p := newPart(nil, cat).set("result", f.result)
		p.plain = "The match is over."
		return []part{p}
	}
	return ballParts(nm, f)
}

func ballParts(nm *names, f *facts) []part {
	base := slots{"team": f.team, "over": f.over}
	ball := func(cats ...string) part {
		return newPart(base, cats...).setName(nm, "bowler", f.bowler).setName(nm, "batter", f.batter).setName(nm, "non_striker", f.nonStriker)
	}
	var parts []part
	note := func(cat string, extras int) {
		parts = append(parts, newPart(base, cat).set("extras_text", plural(extras, "run")))
	}
	switch {
	case len(f.wickets) > 0:
		parts = append(parts, wicketPart(ball, nm, f.wickets[0]))
		for _, w := range f.wickets[1:] {
			parts = append(parts, newPart(base, "wicket_also").setName(nm, "out", w.out).set("kind", w.kind))
		}
		if f.wides > 0 {
			note("note_wide", f.wides)
		}
		if f.noballs > 0 {
			note("note_noball", f.noballs)
		}
		if f.runsBat > 0 {
			parts = append(parts, newPart(base, "note_bat_runs").set("runs_text", plural(f.runsBat, "run")))
		}
		if f.byes > 0 {
			note("note_byes", f.byes)
		}
		if f.legbyes > 0 {
			note("note_legbyes", f.legbyes)
		}
	case f.noballs > 0:
		switch {
		case f.runsBat == 0:
			parts = append(parts, ball("noball"))
		case f.runsBat == 4 && !f.nonBoundary:
			parts = append(parts, ball("noball_four", "noball_runs").set("runs_text", plural(f.runsBat, "run")))
		case f.runsBat == 6 && !f.nonBoundary:
			parts = append(parts, ball("noball_six", "noball_runs").set("runs_text", plural(f.runsBat, "run")))
		default:
			parts = append(parts, ball("noball_runs").set("runs_text", plural(f.runsBat, "run")))
		}
		if f.byes > 0 {
			note("note_byes", f.byes)
		}
		if f.legbyes > 0 {
			note("note_legbyes", f.legbyes)
		}
	case f.wides > 0:
		if f.wides == 1 {
			parts = append(parts, ball("wide"))
		} else {
			parts = append(parts, ball("wides").set("extras", strconv.Itoa(f.wides)))
		}
	case f.runsBat > 0:
		cat := "runs"
		switch {
		case f.runsBat == 1:
			cat = "single"
		case f.runsBat == 2:
			cat = "two"
		case f.runsBat == 3:
			cat = "three"
		case (f.runsBat == 4 || f.runsBat == 6) && f.nonBoundary:
			cat = "runs_no_boundary"
		case f.runsBat == 4:
			cat = "four"
		case f.runsBat == 6:
			cat = "six"
		}
		parts = append(parts, ball(cat, "runs").set("runs_text", plural(f.runsBat, "run")))
		if f.byes > 0 {
			note("note_byes", f.byes)
		}
		if f.legbyes > 0 {
			note("note_legbyes", f.legbyes)
		}
	case f.byes > 0:
		if f.byes == 1 {
			parts = append(parts, ball("bye"))
		} else {
			parts = append(parts, ball("byes").set("extras", strconv.Itoa(f.byes)))
		}
		if f.legbyes > 0 {
			note("note_legbyes", f.legbyes)
		}
	case f.legbyes > 0:
		if f.legbyes == 1 {
			parts = append(parts, ball("legbye"))
		} else {
			parts = append(parts, ball("legbyes").set("extras", strconv.Itoa(f.legbyes)))
		}
	case f.penalty > 0:
		parts = append(parts, ball("penalty_only").set("extras_text", plural(f.penalty, "run")))
	default:
		parts = append(parts, ball("dot"))
	}
	if f.penalty > 0 && parts[0].cats[0] != "penalty_only" {
		note("note_penalty", f.penalty)
	}
	parts[0].plain = plainBall(f)

	reached := false
	for _, m := range f.milestones {
		parts = append(parts, milestonePart(base, nm, f, m))
		reached = reached || m.kind == msTarget
	}
	full := len(f.milestones) > 0 // the line has more to say than the ball
	if p, ok := colourPart(base, nm, f); ok {
		parts = append(parts, p)
		full = true
	}
	if !f.hasScore {
		return parts
	}
	score := newPart(base).set("score", fmt.Sprintf("%d/%d", f.runs, f.wkts)).set("overs_text", oversWords(f.overs))
	n := len(parts)
	switch {
	case f.wkts >= 10 && f.teamWicket():
		score.cats = []string{"score_allout"}
		parts = append(parts, score.set("runs", strconv.Itoa(f.runs)))
	case reached:
	case f.endOfOver && f.overSum != nil && !full:
		o := f.overSum
		score.cats = []string{"end_over_summary", "end_over", "score"}
		if o.maiden {
			score.cats = append([]string{"end_over_maiden"}, score.cats...)
		}
		parts = append(parts, score.setName(nm, "bowler", o.bowler).set("runs_text", plural(o.runs, "run")).set("figures", bowlingFigures(o)))
	case f.endOfOver:
		score.cats = []string{"end_over", "score"}
		parts = append(parts, score)
	case f.notable():
		score.cats = []string{"score"}
		parts = append(parts, score)
	}
	if c := f.chase; c != nil && !reached && f.wkts < 10 {
		limited := c.ballsLeft > 0
		tight := limited && c.ballsLeft <= 18 || c.need <= 12
		if f.notable() || tight {
			p := newPart(base).set("need_text", plural(c.need, "run"))
			if len(parts) > n { // the score part names the team already
				delete(p.vals, "team")
			}
			switch {
			case limited && f.endOfOver && c.rate > 0:
				p.cats = []string{"chase_rate", "chase"}
				if c.pressure != "" && c.pressure != "moderate" {
					p.cats = append([]string{"chase_pressure_" + c.pressure}, p.cats...)
				}
				p = p.set("balls_text", plural(c.ballsLeft, "ball")).set("rate", fmt.Sprintf("%.2f", c.rate))
			case limited:
				p.cats = []string{"chase"}
				p = p.set("balls_text", plural(c.ballsLeft, "ball"))
			default:
				p.cats = []string{"chase_unlimited"}
			}
			parts = append(parts, p)
		}
	}
	return parts
}

func wicketPart(ball func(...string) part, nm *names, w wicketFact) part {
	var p part
	switch w.kind {
	case "bowled":
		p = ball("bowled", "wicket_other")
	case "caught":
		p = ball("caught", "wicket_other").setName(nm, "fielder", first(w.fielders))
	case "caught and bowled":
		p = ball("caught_and_bowled", "wicket_other")
	case "lbw":
		p = ball("lbw", "wicket_other")
	case "stumped":
		p = ball("stumped", "wicket_other").setName(nm, "fielder", first(w.fielders))
	case "run out":
		p = ball("run_out", "run_out_nofielder").setName(nm, "fielders", w.fielders...)
	case "hit wicket":
		p = ball("hit_wicket", "wicket_other")
	case "retired hurt", "retired out", "retired not out":
		p = ball("retired")
	default:
		p = ball("wicket_other")
	}
	return p.setName(nm, "out", w.out).set("kind", wicketWords(w.kind))
}

func milestonePart(base slots, nm *names, f *facts, m milestone) part {
	var p part
	switch m.kind {
	case msBatter:
		cat := "batter_more"
		if m.value == 50 || m.value == 100 {
			cat = "batter_" + strconv.Itoa(m.value)
		}
		p = newPart(base, cat).setName(nm, "player", m.player).set("balls", strconv.Itoa(m.balls))
	case msBowler:
		cat := "bowler_more"
		if m.value >= 3 && m.value <= 5 {
			cat = "bowler_" + strconv.Itoa(m.value)
		}
		p = newPart(base, cat).setName(nm, "player", m.player).set("figures", m.figures)
	case msPartnership:
		cat := "partnership_more"
		if m.value == 50 || m.value == 100 {
			cat = "partnership_" + strconv.Itoa(m.value)
		}
		p = newPart(base, cat).setName(nm, "player", m.player).setName(nm, "partner", m.partner)
	case msHatTrick:
		p = newPart(base, "hat_trick").setName(nm, "player", m.player).set("figures", m.figures)
	case msTeam:
		p = newPart(base, "team").set("team", m.player)
	case msTarget:
		p = newPart(base, "target").set("team", m.player).set("target", strconv.Itoa(m.value)).
			set("score", fmt.Sprintf("%d/%d", f.runs, f.wkts)).set("overs_text", oversWords(f.overs))
	}
	return p.set("value", strconv.Itoa(m.value)).set("runs", strconv.Itoa(m.runs))
}

// colourPart is the one thing beyond the ball, its milestones and the
// score that a commentator would add, if any, in order of weight: a
// hat-trick in the making, a match record, a new phase, a milestone
// coming close, a run of dot balls, the last three overs.
func colourPart(base slots, nm *names, f *facts) (part, bool) {
	took := false // a wicket credited to the bowler on this ball
	for _, w := range f.wickets {
		took = took || w.bowler
	}
	hatTrick := false
	for _, m := range f.milestones {
		hatTrick = hatTrick || m.kind == msHatTrick
	}
	switch {
	case hatTrick:
		return part{}, false
	case f.onHatTrick != "" && f.onHatTrick == f.bowler && took:
		return newPart(base, "hat_trick_on").setName(nm, "player", f.bowler), true
	case f.hatTrickBall && !took:
		return newPart(base, "hat_trick_missed").setName(nm, "player", f.bowler).setName(nm, "batter", f.batter), true
	case len(f.milestones) > 1:
		return part{}, false // the line is full
	}
	if len(f.records) > 0 {
		r := f.records[0]
		p := newPart(base, "record_"+r.kind).setName(nm, "player", r.player).setName(nm, "partner", r.partner).
			set("value", strconv.Itoa(r.value)).set("figures", figures(r.value, r.runs))
		if r.previous != "" && r.previousValue > 0 && r.kind != "biggest_partnership" {
			p.cats = append([]string{"record_" + r.kind + "_passing"}, p.cats...)
			p = p.setName(nm, "previous", r.previous).set("runs", strconv.Itoa(r.previousValue))
		}
		return p, true
	}
	if ph := f.phase; ph.changed && ph.name != "" {
		return newPart(base, "phase_"+ph.name).set("session", ordinal(ph.session)).set("day", strconv.Itoa(ph.day)), true
	}
	for _, m := range f.near {
		if !m.fresh {
			continue
		}
		p := newPart(base, "near_"+m.kind).setName(nm, "player", m.player).setName(nm, "partner", m.partner).
			set("value", strconv.Itoa(m.value)).set("runs", strconv.Itoa(m.runs)).set("need_text", plural(m.need, "run"))
		if m.kind == msTeam {
			p = p.set("team", m.player)
		}
		return p, true
	}
	mo := f.momentum
	if mo.dotStreak >= 6 && mo.dotStreak%3 == 0 && f.totalRuns() == 0 && !f.endOfOver { // an over's end has its summary
		return newPart(base, "dot_streak").set("balls", strconv.Itoa(mo.dotStreak)), true
	}
	// The last three overs, every third over (so no two mentions share an
	// over), after a big or a quiet over that makes them so, and not in a
	// chase, whose line has the equation to give.
	limited := f.phase.name == "powerplay" || f.phase.name == "middle" || f.phase.name == "death"
	if o := f.overSum; o != nil && f.endOfOver && limited && mo.last3.overs == 3 && o.number%3 == 0 && f.chase == nil {
		switch {
		case mo.last3.runs >= 33 && o.runs >= 12:
			return newPart(base, "momentum_surge").set("runs", strconv.Itoa(mo.last3.runs)), true
		case mo.last3.runs <= 9 && o.runs <= 3:
			return newPart(base, "momentum_quiet").set("runs", strconv.Itoa(mo.last3.runs)), true
		}
	}
	return part{}, false
}

func inningsStartPart(f *facts) part {
	var p part
	switch {
	case f.superOver && f.target > 0:
		p = newPart(nil, "innings_super_chase")
	case f.superOver && f.superFirst:
		p = newPart(nil, "innings_super")
	case f.superOver:
		p = newPart(nil, "innings_super_next")
	case f.target > 0 && f.revised:
		p = newPart(nil, "innings_chase_revised", "innings_chase")
	case f.target > 0 && f.targetOvers != "":
		p = newPart(nil, "innings_chase")
	case f.target > 0:
		p = newPart(nil, "innings_chase_unlimited")
	case f.innings == 1 && f.tossWinner != "" && f.tossWinner == f.team:
		p = newPart(nil, "innings_first_toss_self", "innings_first")
	case f.innings == 1 && f.tossWinner != "":
		p = newPart(nil, "innings_first_toss_other", "innings_first")
	case f.innings == 1:
		p = newPart(nil, "innings_first")
	case f.teamInnings > 1:
		p = newPart(nil, "innings_again", "innings_next")
	default:
		p = newPart(nil, "innings_next")
	}
	choice := f.tossDecision
	if choice != "bat" && choice != "field" {
		choice = ""
	}
	p = p.set("team", f.team).set("target_overs", f.targetOvers).set("ordinal", ordinal(f.teamInnings)).
		set("toss_winner", f.tossWinner).set("toss_choice", choice)
	if f.target > 0 {
		p = p.set("target", strconv.Itoa(f.target))
	}
	p.plain = "A new innings begins."
	return p
}

func inningsEndPart(f *facts) part {
	p := newPart(nil, "innings_end_noscore").set("team", f.team)
	if f.hasScore {
		switch {
		case f.declared:
			p.cats = []string{"innings_end_declared", "innings_end"}
		case f.wkts >= 10:
			p.cats = []string{"innings_end_allout", "innings_end"}
		default:
			p.cats = []string{"innings_end"}
		}
		p.cats = append(p.cats, "innings_end_noscore")
		p = p.set("score", fmt.Sprintf("%d/%d", f.runs, f.wkts)).set("runs", strconv.Itoa(f.runs)).set("overs_text", oversWords(f.overs))
	}
	p.plain = "That's the end of the innings."
	return p
}

// inningsEndParts are the innings' end, its best batter and bowler, and
// the target it sets or the lead it leaves.
func inningsEndParts(nm *names, f *facts) []part {
	parts := []part{inningsEndPart(f)}
	if b := f.topBatter; b != nil && b.runs > 0 {
		parts = append(parts, newPart(nil, "innings_top_batter").setName(nm, "player", b.name).
			set("runs", strconv.Itoa(b.runs)).set("balls", strconv.Itoa(b.balls)))
	}
	if b := f.topBowler; b != nil {
		parts = append(parts, newPart(nil, "innings_top_bowler").setName(nm, "player", b.name).set("figures", figures(b.wickets, b.runs)))
	}
	switch {
	case f.setTarget > 0:
		parts = append(parts, newPart(nil, "innings_target").set("target", strconv.Itoa(f.setTarget)))
	case f.hasLead && f.lead > 0:
		parts = append(parts, newPart(nil, "innings_lead").set("team", f.team).set("runs_text", plural(f.lead, "run")))
	case f.hasLead && f.lead < 0:
		parts = append(parts, newPart(nil, "innings_trail").set("team", f.team).set("runs_text", plural(-f.lead, "run")))
	}
	return parts
}

// plainBall describes a ball without names, for input too sparse for any
// phrase.
func plainBall(f *facts) string {
	var what string
	switch {
	case len(f.wickets) > 0:
		what = "wicket"
	case f.totalRuns() == 0:
		what = "no run"
	default:
		what = plural(f.totalRuns(), "run")
	}
	if f.over == "" {
		return strings.ToUpper(what[:1]) + what[1:] + "."
	}
	return f.over + ": " + what + "."
}

func wicketWords(kind string) string {
	switch kind {
	case "retired hurt":
		return "retires hurt"
	case "retired out":
		return "retires out"
	case "retired not out":
		return "retires, not out"
	}
	return kind
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func oversWords(overs string) string {
	if overs == "" || overs == "0" {
		return ""
	}
	if overs == "1" {
		return "1 over"
	}
	return overs + " overs"
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return ""
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
