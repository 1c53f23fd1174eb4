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
// gets them as its fact list. Each is copied or computed from the event and
// its scorecard, nothing else.
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
	milestones []milestone

	// An innings starting or ending.
	target       int
	targetOvers  string // "20", "14.3"; "" when unlimited
	revised      bool   // the target's overs differ from the scheduled overs
	declared     bool
	teamInnings  int  // the batting side's 1st, 2nd, ... innings
	superFirst   bool // the first super-over innings of the match
	tossWinner   string
	tossDecision string // "bat" or "field"

	// The result.
	result string // present tense: "England win by 5 wickets"
	state  string
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
}

// milestone kinds.
const (
	msBatter      = "batter"
	msBowler      = "bowler"
	msTeam        = "team"
	msPartnership = "partnership"
	msTarget      = "target"
)

type milestone struct {
	kind    string
	player  string // batter, bowler or first partner; the team for team and target
	partner string
	value   int // the threshold crossed: 50, 100, 3 (wickets), 200 (team runs)
	runs    int // batter's or partnership's runs now
	balls   int // balls the batter has faced
	figures string
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
	f.milestones = detectMilestones(ms.prev, card, &f)
	if t := card.GetTarget().GetRuns(); t > 0 && int(card.GetRuns()) < int(t) {
		c := &chaseFact{target: int(t), need: int(card.GetRunsNeeded()), ballsLeft: int(card.GetBallsLeft()), rate: card.GetRequiredRate()}
		if c.need <= 0 {
			c.need = int(t) - int(card.GetRuns())
		}
		if c.ballsLeft < 0 {
			c.ballsLeft = 0
		}
		f.chase = c
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

// snapshot is what milestone detection needs of an innings card, kept
// between events.
type snapshot struct {
	innings int
	runs    int
	batters map[string]int // runs
	bowlers map[string]int // wickets
	pship   int
	pair    string
}

func takeSnapshot(sc *pb.Scorecard, innings int) *snapshot {
	card := inningsCard(sc, innings)
	if card == nil {
		return nil
	}
	s := &snapshot{innings: innings, runs: int(card.GetRuns()), batters: map[string]int{}, bowlers: map[string]int{},
		pship: int(card.GetPartnership().GetRuns()), pair: pairKey(card.GetPartnership().GetBatters())}
	for _, b := range card.GetBatters() {
		s.batters[b.GetName()] = int(b.GetRuns())
	}
	for _, b := range card.GetBowlers() {
		s.bowlers[b.GetName()] = int(b.GetWickets())
	}
	return s
}

func pairKey(batters []string) string {
	p := append([]string(nil), batters...)
	sort.Strings(p)
	return strings.Join(p, "\x00")
}

// detectMilestones finds what the ball brought up, comparing the card after
// it with prev, the card after the previous event. Without a usable prev
// (the first event seen, say after a restart) it takes this ball's own
// contribution off the card instead.
func detectMilestones(prev *snapshot, card *pb.InningsCard, f *facts) []milestone {
	if prev != nil && prev.innings != int(card.GetNumber()) {
		prev = nil
	}
	var ms []milestone

	if f.batter != "" && f.batterCard != nil {
		now := f.batterCard.runs
		before := now - f.runsBat
		if prev != nil {
			before = prev.batters[f.batter]
		}
		for _, t := range []int{50, 100, 150, 200, 250, 300, 350, 400} {
			if before < t && now >= t {
				ms = append(ms, milestone{kind: msBatter, player: f.batter, value: t, runs: now, balls: f.batterCard.balls})
			}
		}
	}

	if f.bowler != "" && f.bowlerCard != nil {
		now := f.bowlerCard.wickets
		before := now
		for _, w := range f.wickets {
			if w.bowler {
				before--
			}
		}
		if prev != nil {
			before = prev.bowlers[f.bowler]
		}
		if now >= 3 && before < now {
			ms = append(ms, milestone{kind: msBowler, player: f.bowler, value: now,
				figures: fmt.Sprintf("%d/%d", now, f.bowlerCard.runs)})
		}
	}

	teamBefore := f.runs - f.totalRuns()
	if prev != nil {
		teamBefore = prev.runs
	}
	if t := f.runs / 50 * 50; t >= 50 && teamBefore < t {
		ms = append(ms, milestone{kind: msTeam, player: f.team, value: t, runs: f.runs})
	}

	p := card.GetPartnership()
	if pair := nonEmpty(p.GetBatters()); len(pair) == 2 && !f.teamWicket() {
		now := int(p.GetRuns())
		before := now - f.totalRuns()
		if prev != nil {
			before = 0
			if prev.pair == pairKey(pair) {
				before = prev.pship
			}
		}
		for _, t := range []int{50, 100, 150, 200, 250, 300} {
			if before < t && now >= t {
				a, b := pair[0], pair[1]
				if b == f.batter { // name the striker first
					a, b = b, a
				}
				ms = append(ms, milestone{kind: msPartnership, player: a, partner: b, value: t, runs: now})
			}
		}
	}

	if t := int(card.GetTarget().GetRuns()); t > 0 && teamBefore < t && f.runs >= t {
		ms = append(ms, milestone{kind: msTarget, player: f.team, value: t, runs: f.runs})
	}
	return ms
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
