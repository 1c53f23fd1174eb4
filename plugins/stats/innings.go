package stats

import pb "github.com/ballcast/ballcast/plugins/sdk/proto"

// innings holds one innings' stored balls and the tally derived from them.
type innings struct {
	number      int
	team        string
	superOver   bool
	target      *pb.Target // as the feed stated it; nil if none
	penaltyPre  int        // innings-level penalty runs awarded before it
	penaltyPost int        // innings-level penalty runs awarded after it
	declared    bool
	forfeited   bool
	closed      bool

	balls     []delivery      // in arrival order
	byKey     map[ballKey]int // index into balls
	overEnded map[int]bool    // overs an over event has ended

	t tally
}

type ballKey struct{ over, ball, sub int32 }

func newInnings(n int, team string, superOver bool) *innings {
	in := &innings{number: n, team: team, superOver: superOver, byKey: make(map[ballKey]int), overEnded: make(map[int]bool)}
	in.t.reset(0)
	return in
}

// delivery is a stored ball, copied out of its event.
type delivery struct {
	rev         int32
	over        int
	batter      string
	nonStriker  string
	bowler      string
	runsBat     int
	extras      extras
	nonBoundary bool
	wickets     []wicket
}

type extras struct{ wides, noballs, byes, legbyes, penalty int }

func (e *extras) add(o extras) {
	e.wides += o.wides
	e.noballs += o.noballs
	e.byes += o.byes
	e.legbyes += o.legbyes
	e.penalty += o.penalty
}

func (e extras) total() int { return e.wides + e.noballs + e.byes + e.legbyes + e.penalty }

type wicket struct {
	kind      string
	playerOut string
	fielders  []string
}

// creditsBowler reports whether the dismissal counts among the bowler's wickets.
func (w wicket) creditsBowler() bool {
	switch w.kind {
	case "bowled", "caught", "caught and bowled", "lbw", "stumped", "hit wicket":
		return true
	}
	return false
}

// teamWicket reports whether the dismissal costs the batting side a wicket.
func (w wicket) teamWicket() bool { return !retiredNotOut(w.kind) }

// retiredNotOut reports the dismissal kinds after which the batter is not
// out and may come back.
func retiredNotOut(kind string) bool { return kind == "retired hurt" || kind == "retired not out" }

func newDelivery(b *pb.Ball) delivery {
	x := b.GetExtras()
	d := delivery{
		rev:         b.GetRevision(),
		over:        int(b.GetOver()),
		batter:      b.GetBatter(),
		nonStriker:  b.GetNonStriker(),
		bowler:      b.GetBowler(),
		runsBat:     int(b.GetRunsBat()),
		nonBoundary: b.GetNonBoundary(),
		extras: extras{
			wides: int(x.GetWides()), noballs: int(x.GetNoballs()), byes: int(x.GetByes()),
			legbyes: int(x.GetLegbyes()), penalty: int(x.GetPenalty()),
		},
	}
	for _, w := range b.GetWickets() {
		d.wickets = append(d.wickets, wicket{kind: w.GetKind(), playerOut: w.GetPlayerOut(), fielders: append([]string(nil), w.GetFielders()...)})
	}
	return d
}

// legal reports a ball that counts toward the over: neither wide nor no-ball.
func (d *delivery) legal() bool { return d.extras.wides == 0 && d.extras.noballs == 0 }

func (d *delivery) total() int { return d.runsBat + d.extras.total() }

// charged is the runs conceded by the bowler: everything but byes, leg-byes
// and penalty runs.
func (d *delivery) charged() int {
	return d.total() - d.extras.byes - d.extras.legbyes - d.extras.penalty
}

// tally is what an innings' balls add up to.
type tally struct {
	runs     int // includes penaltyPre
	wickets  int
	legal    int
	extras   extras    // penalty includes penaltyPre
	batters  []*batter // pointers: appear hands them out while appending
	batterAt map[string]int
	bowlers  []*bowler
	bowlerAt map[string]int
	fow      []fallOfWicket
	part     partnership
	overs    map[int]*over
	open     map[int]bool // overs with balls that have not ended
}

type batter struct {
	name     string
	runs     int
	balls    int
	fours    int
	sixes    int
	out      bool
	howOut   string
	bowler   string
	fielders []string
}

type bowler struct {
	name    string
	legal   int
	maidens int
	runs    int
	wickets int
	wides   int
	noballs int
}

type fallOfWicket struct {
	runs    int
	wickets int
	player  string
	legal   int
}

// partnership is the current stand between a and b; b is "" while the
// stand waits for a new batter.
type partnership struct {
	runs, balls int
	a, b        string
}

func (p *partnership) between(x, y string) bool {
	return p.a == x && p.b == y || p.a == y && p.b == x
}

// over is one over's tally, for maidens.
type over struct {
	bowler  string
	mixed   bool // more than one bowler bowled in it
	legal   int
	charged int
	ended   bool
	maiden  bool // counted in the bowler's maidens
}

func (t *tally) reset(penaltyPre int) {
	*t = tally{
		runs:     penaltyPre,
		extras:   extras{penalty: penaltyPre},
		batterAt: make(map[string]int),
		bowlerAt: make(map[string]int),
		overs:    make(map[int]*over),
		open:     make(map[int]bool),
	}
}

// appear returns the batter called name, adding them to the batting order
// on first appearance. A batter who retired hurt and appears again is back
// in, not out. It returns nil for an empty name.
func (t *tally) appear(name string) *batter {
	if name == "" {
		return nil
	}
	i, ok := t.batterAt[name]
	if !ok {
		i = len(t.batters)
		t.batterAt[name] = i
		t.batters = append(t.batters, &batter{name: name})
	}
	b := t.batters[i]
	if !b.out && b.howOut != "" {
		b.howOut, b.bowler, b.fielders = "", "", nil
	}
	return b
}

func (t *tally) bowler(name string) *bowler {
	if name == "" {
		return nil
	}
	i, ok := t.bowlerAt[name]
	if !ok {
		i = len(t.bowlers)
		t.bowlerAt[name] = i
		t.bowlers = append(t.bowlers, &bowler{name: name})
	}
	return t.bowlers[i]
}

// rebuild recomputes the tally from the stored balls, as after a correction.
func (in *innings) rebuild(bpo int) {
	in.t.reset(in.penaltyPre)
	for i := range in.balls {
		in.apply(&in.balls[i], bpo)
	}
	if in.closed {
		in.close(bpo)
	}
}

// close ends the innings and every over still open in it.
func (in *innings) close(bpo int) {
	in.closed = true
	for n := range in.t.open {
		in.endOver(n, bpo)
	}
}

// endOver ends over n: its maiden, if any, is now counted.
func (in *innings) endOver(n, bpo int) {
	in.overEnded[n] = true
	o := in.t.overs[n]
	if o == nil {
		return
	}
	o.ended = true
	delete(in.t.open, n)
	in.judgeMaiden(o, bpo)
}

// judgeMaiden brings the bowler's maiden count in line with over o, which a
// late ball may have changed after it ended.
func (in *innings) judgeMaiden(o *over, bpo int) {
	maiden := o.ended && !o.mixed && o.bowler != "" && o.legal == bpo && o.charged == 0
	if maiden == o.maiden {
		return
	}
	o.maiden = maiden
	if bw := in.t.bowler(o.bowler); maiden {
		bw.maidens++
	} else {
		bw.maidens--
	}
}

// apply adds one delivery to the tally.
func (in *innings) apply(d *delivery, bpo int) {
	t := &in.t
	// The first ball of a later over ends the overs before it.
	for n := range t.open {
		if n < d.over {
			in.endOver(n, bpo)
		}
	}

	striker := t.appear(d.batter)
	t.appear(d.nonStriker)
	if !t.part.between(d.batter, d.nonStriker) {
		t.part = partnership{a: d.batter, b: d.nonStriker}
		if d.batter == "" || d.nonStriker != "" && t.batterAt[d.nonStriker] < t.batterAt[d.batter] {
			t.part.a, t.part.b = t.part.b, t.part.a
		}
	}

	total, legal := d.total(), d.legal()
	t.runs += total
	t.extras.add(d.extras)
	t.part.runs += total
	if legal {
		t.legal++
		t.part.balls++
	}
	if striker != nil {
		striker.runs += d.runsBat
		if d.extras.wides == 0 {
			striker.balls++
		}
		if !d.nonBoundary && d.runsBat == 4 {
			striker.fours++
		}
		if !d.nonBoundary && d.runsBat == 6 {
			striker.sixes++
		}
	}
	bw := t.bowler(d.bowler)
	if bw != nil {
		bw.runs += d.charged()
		if legal {
			bw.legal++
		}
		if d.extras.wides > 0 {
			bw.wides++
		}
		if d.extras.noballs > 0 {
			bw.noballs++
		}
	}

	o := t.overs[d.over]
	if o == nil {
		o = &over{bowler: d.bowler, ended: in.overEnded[d.over] || in.closed}
		t.overs[d.over] = o
	}
	if o.bowler != d.bowler {
		o.mixed = true
	}
	if legal {
		o.legal++
	}
	o.charged += d.charged()
	if !o.ended {
		t.open[d.over] = true
	}

	for _, w := range d.wickets {
		b := t.appear(w.playerOut)
		if b != nil {
			b.out, b.howOut, b.bowler, b.fielders = w.teamWicket(), w.kind, "", w.fielders
			if w.creditsBowler() {
				b.bowler = d.bowler
			}
		}
		if w.creditsBowler() && bw != nil {
			bw.wickets++
		}
		if w.teamWicket() {
			t.wickets++
			t.fow = append(t.fow, fallOfWicket{runs: t.runs, wickets: t.wickets, player: w.playerOut, legal: t.legal})
		}
		// Any dismissal, retirements included, ends the stand.
		survivor := d.batter
		if w.playerOut == d.batter {
			survivor = d.nonStriker
		}
		t.part = partnership{a: survivor}
	}
	in.judgeMaiden(o, bpo)
}
