package commentary

import (
	"fmt"
	"sort"
	"strings"

	pb "github.com/ballcast/ballcast/plugins/sdk/proto"
)

// eventKind is what a line is about.
type eventKind int

const (
	kindBall eventKind = iota + 1
	kindInningsStart
	kindInningsEnd
	kindResult
)

// facts are everything a line may say about one event. Both engines work
// from them: the template engine fills phrase slots with them and the LLM
// gets them as its fact list (factList). Each is copied from the event, its
// scorecard and the situation the stats stage attached, nothing else: what
// a commentator knows (phase, pressure, momentum, milestones, records,
// summaries) is the stats stage's to compute, not this stage's.
type facts struct {
	kind eventKind
	seed string // match and event identity: seeds the template choices

	innings   int
	superOver bool

	// A ball.
	over                       string // "3.4": 0-based over, 1-based ball in it
	bowler, batter, nonStriker string
	battingTeam, bowlingTeam   string
	legal                      bool
	runsBat                    int
	nonBoundary                bool
	wides, noballs             int
	byes, legbyes, penalty     int
	wickets                    []wicketFact
	endOfOver                  bool

	// The batting side's position after the event (hasScore: a scorecard
	// was attached and holds this innings).
	hasScore   bool
	team       string
	runs, wkts int
	overs      string // "19.4", or "20" on a completed over
	batterCard *batterFact
	bowlerCard *bowlerFact
	chase      *chaseFact
	milestones []milestone // reached on this ball

	// From the situation (sit: one was attached).
	sit          bool
	phase        phaseFact
	momentum     momentumFact
	stand        standFact
	near         []milestone // close at hand: need > 0
	hatTrickBall bool        // the bowler had wickets with his previous two
	onHatTrick   string      // the bowler whose next ball is a hat-trick ball
	records      []recordFact
	overSum      *overFact

	// An innings starting or ending.
	target       int
	targetOvers  string // "20", "14.3"; "" when unlimited
	revised      bool   // the target's overs differ from the scheduled overs
	declared     bool
	teamInnings  int  // the batting side's 1st, 2nd, ... innings
	superFirst   bool // the first super-over innings of the match
	tossWinner   string
	tossDecision string // "bat" or "field"

	// An innings ending: its best batter and bowler, the target it sets or
	// the side's lead.
	topBatter *batterFact
	topBowler *bowlerFact
	setTarget int
	lead      int
	hasLead   bool

	// The result.
	result string // present tense: "England win by 5 wickets"
	state  string
	winner string
	by     string // how: "runs", "wickets", "innings", "super over", "tie", ...
	margin int
}

type phaseFact struct {
	name         string // "powerplay", "middle", "death", "session", "super over"; "" unknown
	over         int    // 1-based
	changed      bool
	day, session int // estimated, without an overs limit
}

type momentumFact struct {
	last3, last5       spell
	dotStreak          int
	ballsSinceBoundary int
}

type spell struct{ overs, runs, wickets, fours, sixes int }

type standFact struct {
	runs, balls int
	batters     []string
}

type recordFact struct {
	kind            string // "highest_score", "best_bowling", "biggest_partnership", "most_sixes"
	player, partner string
	value, runs     int
	previous        string
	previousValue   int
}

type overFact struct {
	number                             int // 1-based
	bowler                             string
	runs, wickets, extras, boundaries  int
	maiden                             bool
	overs                              string // the bowler's overs, "4"
	maidens, bowlerRuns, bowlerWickets int
}

type wicketFact struct {
	kind     string // Cricsheet vocabulary: "caught", "run out", ...
	out      string
	fielders []string
	team     bool // costs the batting side a wicket
	bowler   bool // credited to the bowler
}

type batterFact struct {
	name        string
	runs, balls int
}

type bowlerFact struct {
	name          string
	wickets, runs int
	overs         string
}

type chaseFact struct {
	target, need, ballsLeft int
	rate                    float64 // required runs per over; 0 when unknown
	current                 float64 // runs per over so far
	wicketsLeft             int
	pressure                string // "low", "moderate", "high", "extreme"
}

// milestone kinds.
const (
	msBatter      = "batter"
	msBowler      = "bowler"
	msTeam        = "team"
	msPartnership = "partnership"
	msTarget      = "target"
	msHatTrick    = "hat_trick"
)

type milestone struct {
	kind    string
	player  string // batter, bowler or first partner; the team for team and target
	partner string
	value   int // the threshold: 50, 100, 3 (wickets), 200 (team runs)
	runs    int // batter's, team's or partnership's runs now
	balls   int // balls the batter has faced
	figures string
	need    int  // near: runs or wickets still needed
	fresh   bool // near: this ball brought it close
}

// notable reports whether the ball deserves the score after it.
func (f *facts) notable() bool {
	return f.runsBat == 4 && !f.nonBoundary || f.runsBat == 6 && !f.nonBoundary ||
		f.teamWicket() || f.endOfOver || len(f.milestones) > 0 || f.extraRuns() >= 4
}

func (f *facts) teamWicket() bool {
	for _, w := range f.wickets {
		if w.team {
			return true
		}
	}
	return false
}

func (f *facts) extraRuns() int { return f.wides + f.noballs + f.byes + f.legbyes + f.penalty }

func (f *facts) totalRuns() int { return f.runsBat + f.extraRuns() }

// facts derives the facts of ev, or reports that ev gets no line.
func (ms *matchState) facts(ev *pb.Event) (facts, bool) {
	switch ev.GetKind() {
	case "ball":
		b := ev.GetBall()
		if b == nil {
			return facts{}, false
		}
		return ms.ballFacts(ev, b), true
	case "innings":
		in := ev.GetInnings()
		if in == nil {
			return facts{}, false
		}
		return ms.inningsFacts(ev, in), true
	case "status":
		st := ev.GetStatus()
		if st.GetState() != "completed" && st.GetState() != "abandoned" {
			return facts{}, false
		}
		f := facts{kind: kindResult, seed: ms.match + "|result", state: st.GetState(), innings: ms.innings}
		f.result = presentTense(st.GetResult(), st.GetWinner())
		if f.result == "" && st.GetState() == "abandoned" {
			f.result = "No result"
		}
		f.setSituation(ev.GetSituation(), ms.ballsPerOver())
		return f, true
	}
	return facts{}, false
}

func (ms *matchState) ballsPerOver() int {
	if n := int(ms.info.GetBallsPerOver()); n > 0 {
		return n
	}
	return 6
}

func (ms *matchState) ballFacts(ev *pb.Event, b *pb.Ball) facts {
	f := facts{
		kind:        kindBall,
		seed:        fmt.Sprintf("%s|ball|%d.%d.%d.%d", ms.match, b.GetInnings(), b.GetOver(), b.GetBall(), b.GetSub()),
		innings:     int(b.GetInnings()),
		superOver:   b.GetSuperOver(),
		over:        fmt.Sprintf("%d.%d", b.GetOver(), b.GetBall()),
		bowler:      b.GetBowler(),
		batter:      b.GetBatter(),
		nonStriker:  b.GetNonStriker(),
		battingTeam: b.GetBattingTeam(),
		bowlingTeam: b.GetBowlingTeam(),
		legal:       b.GetLegal(),
		runsBat:     int(b.GetRunsBat()),
		nonBoundary: b.GetNonBoundary(),
		wides:       int(b.GetExtras().GetWides()),
		noballs:     int(b.GetExtras().GetNoballs()),
		byes:        int(b.GetExtras().GetByes()),
		legbyes:     int(b.GetExtras().GetLegbyes()),
		penalty:     int(b.GetExtras().GetPenalty()),
		team:        b.GetBattingTeam(),
	}
	for _, n := range []string{f.bowler, f.batter, f.nonStriker} {
		ms.names.add(n)
	}
	for _, w := range b.GetWickets() {
		wf := wicketFact{kind: w.GetKind(), out: w.GetPlayerOut(), fielders: nonEmpty(w.GetFielders()),
			team: isTeamWicket(w.GetKind()), bowler: creditsBowler(w.GetKind())}
		ms.names.add(wf.out)
		for _, n := range wf.fielders {
			ms.names.add(n)
		}
		f.wickets = append(f.wickets, wf)
	}
	bpo := ms.ballsPerOver()
	f.endOfOver = f.legal && int(b.GetBall()) == bpo

	f.setSituation(ev.GetSituation(), bpo)
	card := inningsCard(ev.GetScorecard(), f.innings)
	if card == nil {
		return f
	}
	f.setScore(card, bpo)
	for _, bc := range card.GetBatters() {
		if bc.GetName() == f.batter && f.batter != "" {
			f.batterCard = &batterFact{name: bc.GetName(), runs: int(bc.GetRuns()), balls: int(bc.GetBalls())}
		}
	}
	for _, bw := range card.GetBowlers() {
		if bw.GetName() == f.bowler && f.bowler != "" {
			f.bowlerCard = &bowlerFact{name: bw.GetName(), wickets: int(bw.GetWickets()), runs: int(bw.GetRuns()),
				overs: oversText(int(bw.GetLegalBalls()), bpo)}
		}
	}
	return f
}

func (f *facts) setScore(card *pb.InningsCard, bpo int) {
	f.hasScore = true
	if card.GetTeam() != "" {
		f.team = card.GetTeam()
	}
	f.runs, f.wkts = int(card.GetRuns()), int(card.GetWickets())
	f.overs = oversText(int(card.GetLegalBalls()), bpo)
}

func (ms *matchState) inningsFacts(ev *pb.Event, in *pb.Innings) facts {
	n := int(in.GetNumber())
	f := facts{innings: n, superOver: in.GetSuperOver(), team: in.GetTeam(), declared: in.GetDeclared()}
	card := inningsCard(ev.GetScorecard(), n)
	if in.GetEnd() {
		f.setSituation(ev.GetSituation(), ms.ballsPerOver())
		f.kind = kindInningsEnd
		f.seed = fmt.Sprintf("%s|innings|%d|end", ms.match, n)
		if card != nil {
			f.setScore(card, ms.ballsPerOver())
			f.declared = f.declared || card.GetDeclared()
		}
		return f
	}
	f.kind = kindInningsStart
	f.seed = fmt.Sprintf("%s|innings|%d|start", ms.match, n)
	t := in.GetTarget()
	if t == nil && card != nil {
		t = card.GetTarget()
	}
	if t.GetRuns() > 0 {
		f.target = int(t.GetRuns())
		if t.GetOvers() > 0 {
			f.targetOvers = fmt.Sprintf("%g", t.GetOvers())
			f.revised = ms.info.GetOvers() > 0 && !in.GetSuperOver() && t.GetOvers() != float64(ms.info.GetOvers())
		}
	}
	f.teamInnings, f.superFirst = 1, f.superOver
	for _, c := range ev.GetScorecard().GetInnings() {
		if int(c.GetNumber()) >= n {
			continue
		}
		if c.GetTeam() == f.team && c.GetSuperOver() == f.superOver {
			f.teamInnings++
		}
		if c.GetSuperOver() {
			f.superFirst = false
		}
	}
	if n == 1 {
		f.tossWinner, f.tossDecision = ms.info.GetTossWinner(), ms.info.GetTossDecision()
	}
	return f
}

// inningsCard returns innings n of sc, or nil.
func inningsCard(sc *pb.Scorecard, n int) *pb.InningsCard {
	for _, c := range sc.GetInnings() {
		if int(c.GetNumber()) == n {
			return c
		}
	}
	return nil
}

// oversText formats legal balls as "19.4", or "20" for whole overs.
func oversText(legalBalls, bpo int) string {
	if bpo <= 0 {
		bpo = 6
	}
	legalBalls = max(legalBalls, 0)
	if legalBalls%bpo == 0 {
		return fmt.Sprint(legalBalls / bpo)
	}
	return fmt.Sprintf("%d.%d", legalBalls/bpo, legalBalls%bpo)
}

// presentTense turns "England won by 5 wickets" into "England win by 5
// wickets"; other results are kept as they are.
func presentTense(result, winner string) string {
	result = strings.TrimSpace(result)
	if winner != "" && strings.HasPrefix(result, winner+" won ") {
		return winner + " win " + strings.TrimPrefix(result, winner+" won ")
	}
	if result == "" && winner != "" {
		return winner + " win"
	}
	return result
}

func creditsBowler(kind string) bool {
	switch kind {
	case "bowled", "caught", "caught and bowled", "lbw", "stumped", "hit wicket":
		return true
	}
	return false
}

func isTeamWicket(kind string) bool { return kind != "retired hurt" && kind != "retired not out" }

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// names turns players' full names into the names a commentator uses: the
// surname when the full name starts with initials ("JC Buttler" → "Buttler")
// and no other player in the match shares it, the full name otherwise
// ("Babar Azam").
type names struct {
	known map[string]bool
	short map[string]int // short form → players having it
}

func newNames(info *pb.MatchInfo) *names {
	n := &names{known: map[string]bool{}, short: map[string]int{}}
	teams := make([]string, 0, len(info.GetPlayers()))
	for t := range info.GetPlayers() {
		teams = append(teams, t)
	}
	sort.Strings(teams)
	for _, t := range teams {
		for _, p := range info.GetPlayers()[t].GetPlayers() {
			n.add(p)
		}
	}
	return n
}

func (n *names) add(full string) {
	if full == "" || n.known[full] {
		return
	}
	n.known[full] = true
	n.short[shortForm(full)]++
}

// display is the name to use in a line for the player called full.
func (n *names) display(full string) string {
	n.add(full)
	s := shortForm(full)
	if s != full && n.short[s] > 1 {
		return full
	}
	return s
}

func shortForm(full string) string {
	tok := strings.Fields(full)
	if len(tok) < 2 || !isInitials(tok[0]) {
		return strings.Join(tok, " ")
	}
	return strings.Join(tok[1:], " ")
}

func isInitials(s string) bool {
	if len(s) == 0 || len(s) > 4 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// setSituation copies the stats stage's situation into f.
func (f *facts) setSituation(s *pb.Situation, bpo int) {
	if s == nil {
		return
	}
	f.sit = true
	ph := s.GetPhase()
	f.phase = phaseFact{name: ph.GetName(), over: int(ph.GetOver()), changed: ph.GetChanged(), day: int(ph.GetDay()), session: int(ph.GetSession())}
	sp := func(p *pb.Spell) spell {
		return spell{int(p.GetOvers()), int(p.GetRuns()), int(p.GetWickets()), int(p.GetFours()), int(p.GetSixes())}
	}
	mo := s.GetMomentum()
	f.momentum = momentumFact{last3: sp(mo.GetLast3()), last5: sp(mo.GetLast5()), dotStreak: int(mo.GetDotStreak()), ballsSinceBoundary: int(mo.GetBallsSinceBoundary())}
	f.stand = standFact{runs: int(s.GetPartnership().GetRuns()), balls: int(s.GetPartnership().GetBalls()), batters: nonEmpty(s.GetPartnership().GetBatters())}
	if c := s.GetChase(); c != nil {
		f.chase = &chaseFact{target: int(c.GetTarget()), need: int(c.GetRunsNeeded()), ballsLeft: int(c.GetBallsLeft()),
			rate: c.GetRequiredRate(), current: c.GetCurrentRate(), wicketsLeft: int(c.GetWicketsLeft()), pressure: c.GetPressure()}
	}
	for _, m := range s.GetMilestones() {
		if ms, ok := milestoneOf(m); ok {
			f.milestones = append(f.milestones, ms)
		}
	}
	for _, m := range s.GetNear() {
		if ms, ok := milestoneOf(m); ok && ms.need > 0 {
			f.near = append(f.near, ms)
		}
	}
	f.hatTrickBall, f.onHatTrick = s.GetHatTrickBall(), s.GetOnHatTrick()
	for _, r := range s.GetRecords() {
		f.records = append(f.records, recordFact{kind: r.GetKind(), player: r.GetPlayer(), partner: r.GetPartner(), value: int(r.GetValue()),
			runs: int(r.GetRuns()), previous: r.GetPrevious(), previousValue: int(r.GetPreviousValue())})
	}
	if o := s.GetOver(); o != nil {
		fg := o.GetFigures()
		f.overSum = &overFact{number: int(o.GetNumber()) + 1, bowler: o.GetBowler(), runs: int(o.GetRuns()), wickets: int(o.GetWickets()),
			extras: int(o.GetExtras()), boundaries: int(o.GetBoundaries()), maiden: o.GetMaiden(),
			overs: oversText(int(fg.GetLegalBalls()), bpo), maidens: int(fg.GetMaidens()), bowlerRuns: int(fg.GetRuns()), bowlerWickets: int(fg.GetWickets())}
	}
	if in := s.GetInningsEnd(); in != nil {
		if b := in.GetTopBatter(); b != nil && b.GetName() != "" {
			f.topBatter = &batterFact{name: b.GetName(), runs: int(b.GetRuns()), balls: int(b.GetBalls())}
		}
		if b := in.GetTopBowler(); b != nil && b.GetName() != "" {
			f.topBowler = &bowlerFact{name: b.GetName(), wickets: int(b.GetWickets()), runs: int(b.GetRuns()), overs: oversText(int(b.GetLegalBalls()), bpo)}
		}
		f.setTarget = int(in.GetTarget())
		f.lead, f.hasLead = int(in.GetLead()), in.GetTarget() == 0 && in.GetLead() != 0
	}
	if r := s.GetResult(); r != nil {
		f.winner, f.by, f.margin = r.GetWinner(), r.GetBy(), int(r.GetMargin())
	}
}

// milestoneOf reads a situation milestone: "batter_50", "bowler_3w",
// "team_100", "partnership_50", "hat_trick", "target".
func milestoneOf(m *pb.Milestone) (milestone, bool) {
	ms := milestone{player: m.GetPlayer(), partner: m.GetPartner(), value: int(m.GetValue()), runs: int(m.GetRuns()),
		balls: int(m.GetBalls()), need: int(m.GetNeed()), fresh: m.GetNew()}
	kind, _, _ := strings.Cut(m.GetKind(), "_")
	switch {
	case m.GetKind() == msHatTrick:
		ms.kind = msHatTrick
	case kind == msBatter, kind == msTeam, kind == msPartnership, kind == msTarget:
		ms.kind = kind
	case kind == msBowler:
		ms.kind = msBowler
		ms.figures = fmt.Sprintf("%d/%d", m.GetWickets(), m.GetRuns())
	default:
		return milestone{}, false
	}
	if ms.kind == msHatTrick {
		ms.figures = fmt.Sprintf("%d/%d", m.GetWickets(), m.GetRuns())
	}
	return ms, ms.player != ""
}

// factList is f as the LLM's fact list, one fact a line, names as the
// template engine writes them. It carries exactly what the template engine
// may say, so a line either engine writes can be checked against it.
func (f *facts) factList(nm *names) []string {
	name := func(s string) string {
		if s == "" {
			return ""
		}
		return nm.display(s)
	}
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	switch f.kind {
	case kindInningsStart:
		add("event: start of innings %d%s", f.innings, superOverNote(f.superOver))
		add("batting: %s", f.team)
		if f.innings == 1 && f.tossWinner != "" && f.tossDecision != "" {
			add("toss: %s won the toss and chose to %s", f.tossWinner, f.tossDecision)
		}
		if f.teamInnings > 1 {
			add("this is %s's %s innings", f.team, ordinal(f.teamInnings))
		}
		if f.target > 0 {
			if f.targetOvers != "" {
				add("target: %d runs from %s overs%s", f.target, f.targetOvers, map[bool]string{true: " (revised)"}[f.revised])
			} else {
				add("target: %d runs", f.target)
			}
		}
		return out
	case kindInningsEnd:
		add("event: end of innings %d%s", f.innings, superOverNote(f.superOver))
		add("batting side: %s", f.team)
		if f.hasScore {
			add("final score: %s %d/%d after %s", f.team, f.runs, f.wkts, oversWords(f.overs))
			if f.wkts >= 10 {
				add("%s are all out", f.team)
			}
		}
		if f.declared {
			add("%s declared", f.team)
		}
		if b := f.topBatter; b != nil {
			add("top scorer: %s, %d runs off %d balls", name(b.name), b.runs, b.balls)
		}
		if b := f.topBowler; b != nil {
			add("best bowler: %s, %d wickets for %d runs (%s)", name(b.name), b.wickets, b.runs, figures(b.wickets, b.runs))
		}
		if f.setTarget > 0 {
			add("target for the side batting next: %d runs", f.setTarget)
		}
		switch {
		case f.hasLead && f.lead > 0:
			add("%s lead by %s in the match", f.team, plural(f.lead, "run"))
		case f.hasLead && f.lead < 0:
			add("%s trail by %s in the match", f.team, plural(-f.lead, "run"))
		}
		return out
	case kindResult:
		add("event: the match is over")
		if f.result != "" {
			add("result: %s", f.result)
		}
		if f.winner != "" && f.margin > 0 {
			add("winner: %s, by %d %s", f.winner, f.margin, f.by)
		}
		return out
	}
	add("event: ball %s of innings %d%s", f.over, f.innings, superOverNote(f.superOver))
	if f.battingTeam != "" || f.bowlingTeam != "" {
		add("batting: %s; bowling: %s", f.battingTeam, f.bowlingTeam)
	}
	add("bowler: %s", name(f.bowler))
	add("batter on strike: %s", name(f.batter))
	if f.nonStriker != "" {
		add("non-striker: %s", name(f.nonStriker))
	}
	add("this ball: %s", f.ballWords(nm))
	add("runs from this ball: %d", f.totalRuns())
	if f.hasScore {
		add("score after this ball: %s %d/%d after %s", f.team, f.runs, f.wkts, oversWords(f.overs))
	}
	if b := f.batterCard; b != nil {
		add("%s now has %d runs off %d balls", name(b.name), b.runs, b.balls)
	}
	if b := f.bowlerCard; b != nil {
		add("%s's figures: %d wickets for %d runs in %s", name(b.name), b.wickets, b.runs, oversWords(b.overs))
	}
	if f.endOfOver {
		add("this was the last ball of the over")
	}
	if p := f.phase; p.name != "" {
		switch {
		case p.name == "session":
			add("phase: day %d, %s session (session %d; an estimate from the overs bowled, not the clock)", p.day, ordinal(p.session), p.session)
		case p.name == "super over":
			add("phase: super over")
		default:
			add("phase: %s overs, over %d", p.name, p.over)
		}
		if p.changed {
			add("this ball begins a new phase: %s", phaseWords(p))
		}
	}
	if s := f.stand; len(s.batters) == 2 {
		add("partnership: %s and %s, %d runs off %d balls", name(s.batters[0]), name(s.batters[1]), s.runs, s.balls)
	}
	for _, m := range f.milestones {
		switch m.kind {
		case msBatter:
			add("milestone: %s has passed %d (%d runs off %d balls)", name(m.player), m.value, m.runs, m.balls)
		case msBowler:
			add("milestone: %s now has %d wickets (%s)", name(m.player), m.value, m.figures)
		case msHatTrick:
			add("milestone: HAT-TRICK for %s, three wickets in three balls (%s)", name(m.player), m.figures)
		case msPartnership:
			add("milestone: the partnership of %s and %s has passed %d (%d runs)", name(m.player), name(m.partner), m.value, m.runs)
		case msTeam:
			add("milestone: %s have passed %d", m.player, m.value)
		case msTarget:
			add("milestone: %s have reached the target of %d", m.player, m.value)
		}
	}
	for _, m := range f.near {
		switch m.kind {
		case msBatter:
			add("close to a milestone: %s is on %d, %s short of %d", name(m.player), m.runs, plural(m.need, "run"), m.value)
		case msBowler:
			add("close to a milestone: %s is one wicket short of %d", name(m.player), m.value)
		case msPartnership:
			add("close to a milestone: the partnership of %s and %s is on %d, %s short of %d", name(m.player), name(m.partner), m.runs, plural(m.need, "run"), m.value)
		case msTeam:
			add("close to a milestone: %s are on %d, %s short of %d", m.player, m.runs, plural(m.need, "run"), m.value)
		}
	}
	if f.hatTrickBall {
		add("this was a hat-trick ball: %s took wickets with his previous two deliveries", name(f.bowler))
	}
	if f.onHatTrick != "" {
		add("%s is on a hat-trick: wickets with his last two deliveries", name(f.onHatTrick))
	}
	for _, r := range f.records {
		add("match record: %s", recordWords(nm, r))
	}
	if o := f.overSum; o != nil {
		add("over %d summary: %s, %s%s; %s's figures %s", o.number, plural(o.runs, "run"), plural(o.wickets, "wicket"),
			map[bool]string{true: ", a maiden"}[o.maiden], name(o.bowler), bowlingFigures(o))
	}
	mo := f.momentum
	for _, w := range []struct {
		n  int
		sp spell
	}{{3, mo.last3}, {5, mo.last5}} {
		if w.sp.overs == w.n {
			add("last %d overs: %s, %s, %s, %s", w.n, plural(w.sp.runs, "run"), plural(w.sp.wickets, "wicket"), plural(w.sp.fours, "four"), sixes(w.sp.sixes))
		}
	}
	if mo.dotStreak >= 2 {
		add("dot balls in a row: %d", mo.dotStreak)
	}
	if mo.ballsSinceBoundary >= 6 {
		add("balls since the last boundary: %d", mo.ballsSinceBoundary)
	}
	if c := f.chase; c != nil {
		switch {
		case c.ballsLeft > 0 && c.rate > 0:
			add("chase: target %d, %s need %d runs from %d balls, required rate %.2f an over", c.target, f.team, c.need, c.ballsLeft, c.rate)
		case c.ballsLeft > 0:
			add("chase: target %d, %s need %d runs from %d balls", c.target, f.team, c.need, c.ballsLeft)
		default:
			add("chase: target %d, %s need %d runs", c.target, f.team, c.need)
		}
		add("chase: current rate %.2f, %s in hand, pressure %s", c.current, plural(c.wicketsLeft, "wicket"), c.pressure)
	}
	return out
}

// ballWords says in words what happened on the ball.
func (f *facts) ballWords(nm *names) string {
	var parts []string
	switch {
	case f.runsBat == 4 && !f.nonBoundary:
		parts = append(parts, "FOUR off the bat (4 runs)")
	case f.runsBat == 6 && !f.nonBoundary:
		parts = append(parts, "SIX off the bat (6 runs)")
	case f.runsBat > 0:
		parts = append(parts, fmt.Sprintf("%s off the bat", plural(f.runsBat, "run")))
	}
	if f.wides > 0 {
		parts = append(parts, fmt.Sprintf("wide (%s)", plural(f.wides, "run")))
	}
	if f.noballs > 0 {
		parts = append(parts, fmt.Sprintf("no-ball (%s)", plural(f.noballs, "run")))
	}
	if f.byes > 0 {
		parts = append(parts, plural(f.byes, "bye"))
	}
	if f.legbyes > 0 {
		parts = append(parts, plural(f.legbyes, "leg-bye"))
	}
	if f.penalty > 0 {
		parts = append(parts, fmt.Sprintf("%s in penalty runs", plural(f.penalty, "run")))
	}
	for _, w := range f.wickets {
		s := fmt.Sprintf("WICKET: %s out, %s", nm.display(w.out), w.kind)
		if len(w.fielders) > 0 {
			var fs []string
			for _, n := range w.fielders {
				fs = append(fs, nm.display(n))
			}
			s += " (fielder: " + strings.Join(fs, ", ") + ")"
		}
		if !w.team {
			s += "; not a wicket for the team"
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no run (a dot ball)"
	}
	return strings.Join(parts, "; ")
}

func superOverNote(b bool) string {
	if b {
		return " (super over)"
	}
	return ""
}

func sixes(n int) string {
	if n == 1 {
		return "1 six"
	}
	return fmt.Sprintf("%d sixes", n)
}

// figures writes wickets and runs as "3/20".
func figures(wickets, runs int) string { return fmt.Sprintf("%d/%d", wickets, runs) }

// bowlingFigures writes a bowler's figures as overs-maidens-runs-wickets,
// "4-0-22-1".
func bowlingFigures(o *overFact) string {
	return fmt.Sprintf("%s-%d-%d-%d", o.overs, o.maidens, o.bowlerRuns, o.bowlerWickets)
}

// phaseWords names a phase: "the powerplay", "the middle overs", "the
// death overs", "session 2 of day 3".
func phaseWords(p phaseFact) string {
	switch p.name {
	case "powerplay":
		return "the powerplay"
	case "middle", "death":
		return "the " + p.name + " overs"
	case "session":
		return fmt.Sprintf("the %s session of day %d", ordinal(p.session), p.day)
	}
	return p.name
}

// recordWords says what record r is.
func recordWords(nm *names, r recordFact) string {
	prev := ""
	if r.previous != "" && r.previousValue > 0 {
		prev = fmt.Sprintf(", passing %s's %d", nm.display(r.previous), r.previousValue)
	}
	switch r.kind {
	case "highest_score":
		return fmt.Sprintf("%s's %d is now the highest individual score of the match%s", nm.display(r.player), r.value, prev)
	case "best_bowling":
		if r.previous != "" {
			prev = fmt.Sprintf(", ahead of %s's %d wickets", nm.display(r.previous), r.previousValue)
		}
		return fmt.Sprintf("%s's %s are now the best bowling figures of the match%s", nm.display(r.player), figures(r.value, r.runs), prev)
	case "most_sixes":
		return fmt.Sprintf("%s has hit %d sixes, the most by a batter in the match%s", nm.display(r.player), r.value, prev)
	case "biggest_partnership":
		return fmt.Sprintf("the stand of %s and %s, %d runs, is now the biggest of the match", nm.display(r.player), nm.display(r.partner), r.value)
	}
	return r.kind
}
