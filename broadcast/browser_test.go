package broadcast_test

// The live page in real Chromium, driven by playwright-core from Node
// (broadcast/testdata/browser/drive.mjs). It runs in every `go test ./...`
// and never skips: without Node, the npm packages or Chromium it fails and
// says to run `make peers`. BALLCAST_CHROMIUM names the browser (default
// /usr/bin/chromium); screenshots go to BALLCAST_ARTIFACTS (default
// $TMPDIR/ballcast-artifacts).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/core/event"
	"github.com/ballcast/ballcast/core/source/replay"
)

const browserMatch = "1298179"

// TestBrowser follows the bundled Cricsheet match in the live page: the
// feed, scorecard and both charts fill as events are published; the
// server drops the page's connection mid-match and the page resumes with
// every line exactly once; a phone-sized viewport has no horizontal scroll.
func TestBrowser(t *testing.T) {
	start := time.Now()
	env := startHub(t, broadcast.Config{}, nil)
	// A second hub stands in for a server that restarted without its
	// history: the page must take its reset. Started before the browser so
	// that the browser is gone before either hub stops.
	restarted := startHub(t, broadcast.Config{}, nil)
	evs := scoredMatch(t)
	conns := &connTracker{}
	srv := trackConnections(t, env.hub.Handler(), conns)
	base := srv.url
	drv := startDriver(t)
	artifacts := artifactDir(t)

	// A third of the match before the page opens: it takes a snapshot and
	// loads the earlier events from the history endpoint.
	first := len(evs) / 3
	publishAll(t, env.hub, evs[:first]...)
	drv.do(t, "open", map[string]any{"url": base + "/#m=" + browserMatch, "width": 1280, "height": 900})
	checkPage(t, drv, evs[:first], "after load")

	// Live, ball by ball (in small bursts, as a feed would).
	second := len(evs) * 2 / 3
	for i := first; i < second; i += 7 {
		publishAll(t, env.hub, evs[i:min(i+7, second)]...)
	}
	checkPage(t, drv, evs[:second], "live")

	// Kill the connection from the server side; publish while the page is
	// away; it must reconnect and resume (not reset) with no gap and no
	// duplicate.
	dropAt := time.Now()
	conns.closeAll()
	drv.wait(t, `document.getElementById('conn').dataset.state !== 'live'`, 10*time.Second)
	third := second + (len(evs)-second)/2
	publishAll(t, env.hub, evs[second:third]...)
	drv.wait(t, `window.ballcast.client.reconnects === 1 && document.getElementById('conn').dataset.state === 'live'`, 15*time.Second)
	checkPage(t, drv, evs[:third], "after reconnect")
	t.Logf("reconnected and caught up %d events in %s", third-second, time.Since(dropAt).Round(time.Millisecond))

	// The rest of the match, live.
	publishAll(t, env.hub, evs[third:]...)
	final := checkPage(t, drv, evs, "end of match")
	if final.Reconnects != 1 || final.Resets != 0 {
		t.Fatalf("end: got %d reconnects and %d resets, want 1 and 0", final.Reconnects, final.Resets)
	}
	shot := filepath.Join(artifacts, "browser-desktop.png")
	drv.do(t, "screenshot", map[string]any{"path": shot})
	t.Logf("screenshot: %s", shot)

	// Streaming commentary: delta frames the server sends show as one
	// provisional line that grows as they arrive, and the event with that
	// id replaces it with the final line.
	const streamID = browserMatch + "/streamed"
	provisional := func(text string) string {
		return `document.querySelectorAll('#lines li.provisional').length === 1 && document.querySelector('#lines li.provisional .text').textContent === ` + jsString(text)
	}
	env.hub.PublishDelta(browserMatch, streamID, "What ")
	drv.wait(t, provisional("What "), 10*time.Second)
	env.hub.PublishDelta(browserMatch, streamID, "a finish")
	drv.wait(t, provisional("What a finish"), 10*time.Second)
	publishAll(t, env.hub, event.Event{ID: streamID, Match: browserMatch, Kind: event.KindCommentary,
		Commentary: &event.Commentary{Text: "What a finish to the match!", Language: "en"}})
	drv.wait(t, `document.querySelectorAll('#lines li.provisional').length === 0 && [...document.querySelectorAll('#lines li .text')].filter((n) => n.textContent === 'What a finish to the match!').length === 1`, 10*time.Second)
	// A delta that arrives after its event's final line changes nothing
	// (the server drops it); a new line starts growing again.
	env.hub.PublishDelta(browserMatch, streamID, " stale")
	env.hub.PublishDelta(browserMatch, browserMatch+"/next", "Next")
	drv.wait(t, provisional("Next"), 10*time.Second)
	shot = filepath.Join(artifacts, "browser-streaming.png")
	drv.do(t, "screenshot", map[string]any{"path": shot})
	t.Logf("screenshot: %s", shot)

	// A reset drops the provisional line, below.
	// The server "restarts" without its history: a new hub that has only
	// the first half of the match. The page's resume point is ahead of it
	// (and, with epochs, of another numbering), so it gets a reset and a
	// fresh snapshot, drops what it holds and shows exactly the new stream.
	half := len(evs) / 2
	publishAll(t, restarted.hub, evs[:half]...)
	srv.setHandler(restarted.hub.Handler())
	conns.closeAll()
	reset := checkPage(t, drv, evs[:half], "after reset")
	if n := drv.do(t, "eval", map[string]any{"expr": `document.querySelectorAll('#lines li.provisional').length`}); string(n) != "0" {
		t.Fatalf("after reset: got %s provisional lines, want 0", n)
	}
	if reset.Reconnects != 2 || reset.Resets != 1 {
		t.Fatalf("after reset: got %d reconnects and %d resets, want 2 and 1", reset.Reconnects, reset.Resets)
	}
	publishAll(t, restarted.hub, evs[half:]...)
	checkPage(t, drv, evs, "after reset, end of match")

	// A phone: 390×844. Everything fits the width; tables scroll inside
	// their own boxes.
	drv.do(t, "open", map[string]any{"url": base + "/#m=" + browserMatch, "width": 390, "height": 844, "mobile": true})
	phone := checkPage(t, drv, evs, "phone")
	if phone.ScrollWidth > phone.ClientWidth {
		t.Fatalf("phone: page is %dpx wide in a %dpx viewport, want no horizontal scroll", phone.ScrollWidth, phone.ClientWidth)
	}
	for _, s := range []struct {
		name string
		args map[string]any
	}{
		{"browser-phone.png", map[string]any{"fullPage": false}},
		{"browser-phone-charts.png", map[string]any{"selector": "#charts"}},
		{"browser-phone-full.png", map[string]any{"fullPage": true}},
	} {
		shot = filepath.Join(artifacts, s.name)
		s.args["path"] = shot
		drv.do(t, "screenshot", s.args)
		t.Logf("screenshot: %s", shot)
	}
	// A provisional line whose event never comes (a later stage dropped
	// it) goes once no delta came for a while (30 s; 3 s here).
	drv.do(t, "eval", map[string]any{"expr": `window.ballcast.st.provisionalTTL = 3000`})
	restarted.hub.PublishDelta(browserMatch, browserMatch+"/orphan", "Never finished")
	drv.wait(t, provisional("Never finished"), 10*time.Second)
	drv.wait(t, `document.querySelectorAll('#lines li.provisional').length === 0`, 10*time.Second)

	if msgs := drv.pageErrors(); len(msgs) > 0 {
		t.Fatalf("page errors: %q", msgs)
	}
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}

// pageView is what the page shows, read by viewJS.
type pageView struct {
	Seq         int              `json:"seq"`
	History     string           `json:"history"`
	Lines       []pageLine       `json:"lines"`
	Totals      []pageTotal      `json:"totals"`
	Worm        []pageWormLine   `json:"worm"`
	Bars        map[string]int   `json:"bars"`     // innings -> bars
	BarRuns     map[string][]int `json:"bar_runs"` // innings -> runs per over
	Wkts        map[string]int   `json:"wkts"`     // innings -> wicket dots
	Result      string           `json:"result"`
	Reconnects  int              `json:"reconnects"`
	Resets      int              `json:"resets"`
	ScrollWidth int              `json:"scroll_width"`
	ClientWidth int              `json:"client_width"`
}

type pageLine struct {
	Seq   int    `json:"seq"`
	Ball  string `json:"ball"`
	Badge string `json:"badge"`
	Text  string `json:"text"`
}

type pageTotal struct {
	Innings int    `json:"innings"`
	Runs    int    `json:"runs"`
	Wickets int    `json:"wickets"`
	Overs   string `json:"overs"`
}

type pageWormLine struct {
	Innings int `json:"innings"`
	Points  int `json:"points"`
	Runs    int `json:"runs"`
}

const viewJS = `(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  const count = (els) => els.reduce((m, e) => (m[e.dataset.innings] = (m[e.dataset.innings] || 0) + 1, m), {});
  const bars = q('#manhattan rect.bar');
  const barRuns = {};
  for (const b of bars) (barRuns[b.dataset.innings] ||= [])[+b.dataset.over] = +b.dataset.runs;
  return {
    seq: +document.body.dataset.seq || 0,
    history: document.body.dataset.history || '',
    lines: q('#lines li[data-seq]').map((l) => ({
      seq: +l.dataset.seq, ball: l.querySelector('.ball').textContent,
      badge: l.querySelector('.pill') ? l.querySelector('.pill').textContent : '',
      text: l.querySelector('.text').textContent })),
    totals: q('#score-body .total').map((e) => ({ innings: +e.dataset.innings, runs: +e.dataset.runs, wickets: +e.dataset.wickets, overs: e.dataset.overs })),
    worm: q('#worm polyline.worm-line').map((p) => ({ innings: +p.dataset.innings, points: +p.dataset.points, runs: +p.dataset.runs })),
    bars: count(bars), bar_runs: barRuns, wkts: count(q('#manhattan circle.wkt')),
    result: (document.getElementById('result') || {}).textContent || '',
    reconnects: window.ballcast.client.reconnects, resets: window.ballcast.resets || 0,
    scroll_width: document.documentElement.scrollWidth, client_width: document.documentElement.clientWidth,
  };
})()`

// checkPage waits until the page has applied every event in evs and its
// history is loaded, then checks the feed, scorecard and charts against
// evs exactly.
func checkPage(t *testing.T, drv *driver, evs []event.Event, step string) pageView {
	t.Helper()
	t0 := time.Now()
	last := evs[len(evs)-1].Seq
	raw := drv.wait(t, fmt.Sprintf(`+document.body.dataset.seq === %d && document.body.dataset.history === 'done' && !window.ballcast.st.renderQueued && %s`, last, viewJS), 30*time.Second)
	var v pageView
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: decode page view: %v", step, err)
	}

	// Feed: one line per event with commentary, newest first, exactly.
	var want []pageLine
	for i := len(evs) - 1; i >= 0; i-- {
		ev := evs[i]
		if ev.Commentary == nil {
			continue
		}
		l := pageLine{Seq: int(ev.Seq), Text: ev.Commentary.Text, Ball: "•"}
		if b := ev.Ball; b != nil {
			l.Ball = broadcast.BallLabel(b.Over, b.Ball)
			l.Badge = wantBadge(b)
		}
		want = append(want, l)
	}
	if !slices.Equal(v.Lines, want) {
		t.Fatalf("%s: feed has %d lines, want %d:\n%s", step, len(v.Lines), len(want), diffLines(v.Lines, want))
	}

	// Scorecard: a total per innings, as the last scorecard says.
	card := evs[len(evs)-1].Scorecard
	if len(v.Totals) != len(card.Innings) {
		t.Fatalf("%s: got %d innings totals %+v, want %d", step, len(v.Totals), v.Totals, len(card.Innings))
	}
	for i, in := range card.Innings {
		w := pageTotal{Innings: in.Number, Runs: in.Runs, Wickets: in.Wickets, Overs: event.Overs(in.LegalBalls, 6)}
		if v.Totals[i] != w {
			t.Fatalf("%s: innings %d total: got %+v, want %+v", step, in.Number, v.Totals[i], w)
		}
	}

	// Charts: a worm line per innings with a point per over, a bar per over
	// with that over's runs, a dot per wicket.
	runs, wkts := perOver(evs)
	if len(v.Worm) != len(runs) {
		t.Fatalf("%s: got %d worm lines %+v, want %d", step, len(v.Worm), v.Worm, len(runs))
	}
	for _, w := range v.Worm {
		k := fmt.Sprint(w.Innings)
		total := 0
		for _, r := range runs[w.Innings] {
			total += r
		}
		if w.Points != len(runs[w.Innings]) || w.Runs != total || v.Bars[k] != len(runs[w.Innings]) || v.Wkts[k] != wkts[w.Innings] ||
			!slices.Equal(v.BarRuns[k], runs[w.Innings]) {
			t.Fatalf("%s: innings %d: got worm %+v, %d bars %v, %d wicket dots; want %d overs %v (%d runs), %d wickets",
				step, w.Innings, w, v.Bars[k], v.BarRuns[k], v.Wkts[k], len(runs[w.Innings]), runs[w.Innings], total, wkts[w.Innings])
		}
	}
	t.Logf("%s (%s): page at seq %d after %s: %d lines, totals %+v, worm %+v, bars %v, wicket dots %v",
		step, time.Now().Format("15:04:05.000"), v.Seq, time.Since(t0).Round(time.Millisecond), len(v.Lines), v.Totals, v.Worm, v.Bars, v.Wkts)
	return v
}

func wantBadge(b *event.Ball) string {
	for _, w := range b.Wickets {
		if w.IsTeamWicket() {
			return "W"
		}
	}
	switch {
	case b.Six():
		return "6"
	case b.Four():
		return "4"
	}
	return ""
}

// perOver tallies runs per over and wickets per innings from the balls in
// evs, the way the charts should.
func perOver(evs []event.Event) (map[int][]int, map[int]int) {
	runs, wkts := map[int][]int{}, map[int]int{}
	for _, ev := range evs {
		b := ev.Ball
		if b == nil || b.SuperOver {
			continue
		}
		for len(runs[b.Innings]) <= b.Over {
			runs[b.Innings] = append(runs[b.Innings], 0)
		}
		runs[b.Innings][b.Over] += b.Runs()
		for _, w := range b.Wickets {
			if w.IsTeamWicket() {
				wkts[b.Innings]++
			}
		}
	}
	return runs, wkts
}

// diffLines describes the first differences between two feeds.
func diffLines(got, want []pageLine) string {
	var sb strings.Builder
	seen := map[int]int{}
	for _, l := range got {
		seen[l.Seq]++
	}
	for seq, n := range seen {
		if n > 1 {
			fmt.Fprintf(&sb, "  seq %d shown %d times\n", seq, n)
		}
	}
	for i := 0; i < max(len(got), len(want)) && sb.Len() < 2000; i++ {
		var g, w pageLine
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			fmt.Fprintf(&sb, "  [%d] got %+v, want %+v\n", i, g, w)
		}
	}
	return sb.String()
}

// scoredMatch is the bundled Cricsheet match as the pipeline would publish
// it: stream seqs, a running scorecard on every event (as the stats stage
// adds) and a commentary line on every event but over ends (as the
// commentary stage adds).
func scoredMatch(t *testing.T) []event.Event {
	t.Helper()
	evs, err := replay.Parse(browserMatch, replay.Bundled())
	if err != nil {
		t.Fatalf("parse bundled match: %v", err)
	}
	var sc event.Scorecard
	for i := range evs {
		ev := &evs[i]
		ev.Seq = uint64(i + 1)
		score(&sc, ev)
		card := sc
		card.Innings = slices.Clone(sc.Innings)
		for k := range card.Innings {
			in := &card.Innings[k]
			in.Batters = slices.Clone(in.Batters)
			in.Bowlers = slices.Clone(in.Bowlers)
			in.FallOfWickets = slices.Clone(in.FallOfWickets)
			in.Partnership.Batters = slices.Clone(in.Partnership.Batters)
		}
		ev.Scorecard = &card
		if ev.Kind != event.KindOver {
			ev.Commentary = &event.Commentary{Text: commentaryLine(ev), Language: "en", Fallback: true}
		}
	}
	return evs
}

func commentaryLine(ev *event.Event) string {
	switch {
	case ev.Ball != nil:
		b := ev.Ball
		what := fmt.Sprintf("%d run(s)", b.Runs())
		switch {
		case len(b.Wickets) > 0:
			what = "OUT, " + b.Wickets[0].PlayerOut + " " + b.Wickets[0].Kind
		case b.Six():
			what = "SIX"
		case b.Four():
			what = "FOUR"
		}
		return fmt.Sprintf("%s to %s, %s. [%d]", b.Bowler, b.Batter, what, ev.Seq)
	case ev.Innings != nil && ev.Innings.End:
		return fmt.Sprintf("End of the %s innings. [%d]", ev.Innings.Team, ev.Seq)
	case ev.Innings != nil:
		return fmt.Sprintf("%s begin their innings. [%d]", ev.Innings.Team, ev.Seq)
	case ev.Status != nil:
		return fmt.Sprintf("Match %s. %s [%d]", ev.Status.State, ev.Status.Result, ev.Seq)
	}
	return fmt.Sprintf("%s. [%d]", ev.Kind, ev.Seq)
}

// score applies ev to a running scorecard: enough of the stats stage's
// rules for the page (totals, batters, bowlers, fall of wickets,
// partnership, target).
func score(sc *event.Scorecard, ev *event.Event) {
	if s := ev.Status; s != nil {
		sc.State, sc.Result = s.State, s.Result
	}
	if in := ev.Innings; in != nil {
		if in.End {
			if cur := sc.Current(); cur != nil {
				cur.Closed = true
			}
			return
		}
		card := event.InningsCard{Number: in.Number, Team: in.Team, SuperOver: in.SuperOver, Target: in.Target}
		if card.Target == nil && len(sc.Innings) == 1 {
			card.Target = &event.Target{Runs: sc.Innings[0].Runs + 1, Overs: 20}
		}
		sc.Innings = append(sc.Innings, card)
		return
	}
	b := ev.Ball
	cur := sc.Current()
	if b == nil || cur == nil {
		return
	}
	cur.Runs += b.Runs()
	cur.Extras = cur.Extras.Add(b.Extras)
	if b.Legal {
		cur.LegalBalls++
	}
	bat := findBatter(cur, b.Batter)
	findBatter(cur, b.NonStriker)
	bat.Runs += b.RunsBat
	if b.Extras.Wides == 0 {
		bat.Balls++
	}
	if b.Four() {
		bat.Fours++
	}
	if b.Six() {
		bat.Sixes++
	}
	bat.StrikeRate = float64(bat.Runs) * 100 / float64(max(bat.Balls, 1))
	bowl := findBowler(cur, b.Bowler)
	bowl.Runs += b.RunsBat + b.Extras.Wides + b.Extras.NoBalls
	bowl.Wides += b.Extras.Wides
	bowl.NoBalls += b.Extras.NoBalls
	if b.Legal {
		bowl.LegalBalls++
	}
	bowl.Economy = float64(bowl.Runs) * 6 / float64(max(bowl.LegalBalls, 1))
	if !slices.Equal(cur.Partnership.Batters, []string{b.Batter, b.NonStriker}) &&
		!slices.Equal(cur.Partnership.Batters, []string{b.NonStriker, b.Batter}) {
		cur.Partnership = event.Partnership{Batters: []string{b.Batter, b.NonStriker}}
	}
	cur.Partnership.Runs += b.Runs()
	if b.Legal {
		cur.Partnership.Balls++
	}
	for _, w := range b.Wickets {
		if !w.IsTeamWicket() {
			continue
		}
		cur.Wickets++
		out := findBatter(cur, w.PlayerOut)
		out.Out, out.HowOut, out.Fielders = true, w.Kind, w.Fielders
		if w.CreditsBowler() {
			out.Bowler = b.Bowler
			bowl.Wickets++
		}
		cur.FallOfWickets = append(cur.FallOfWickets, event.FallOfWicket{Runs: cur.Runs, Wickets: cur.Wickets, Player: w.PlayerOut, LegalBalls: cur.LegalBalls})
		cur.Partnership = event.Partnership{}
	}
	cur.RunRate = float64(cur.Runs) * 6 / float64(max(cur.LegalBalls, 1))
	if cur.Target != nil {
		cur.RunsNeeded = max(cur.Target.Runs-cur.Runs, 0)
		cur.BallsLeft = max(120-cur.LegalBalls, 0)
		cur.RequiredRate = float64(cur.RunsNeeded) * 6 / float64(max(cur.BallsLeft, 1))
	}
}

func findBatter(in *event.InningsCard, name string) *event.BatterCard {
	for i := range in.Batters {
		if in.Batters[i].Name == name {
			return &in.Batters[i]
		}
	}
	in.Batters = append(in.Batters, event.BatterCard{Name: name})
	return &in.Batters[len(in.Batters)-1]
}

func findBowler(in *event.InningsCard, name string) *event.BowlerCard {
	for i := range in.Bowlers {
		if in.Bowlers[i].Name == name {
			return &in.Bowlers[i]
		}
	}
	in.Bowlers = append(in.Bowlers, event.BowlerCard{Name: name})
	return &in.Bowlers[len(in.Bowlers)-1]
}

// artifactDir is where screenshots go: $BALLCAST_ARTIFACTS, or
// ballcast-artifacts under the temp dir. It outlives the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("BALLCAST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "ballcast-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	return dir
}

// driver is the Node process running drive.mjs.
type driver struct {
	stdin  io.WriteCloser
	lines  chan json.RawMessage // answers, in order
	mu     sync.Mutex
	errors []string // page errors reported so far
	id     int
}

// startDriver starts drive.mjs (Node + playwright-core + Chromium) and
// stops it at cleanup. Anything missing fails the test with how to fix it.
func startDriver(t *testing.T) *driver {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "browser"))
	if err != nil {
		t.Fatal(err)
	}
	const fix = "run `make peers` (npm ci in broadcast/testdata/browser and apt-get install chromium)"
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("browser test needs Node.js: %v; %s", err, fix)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core", "package.json")); err != nil {
		t.Fatalf("browser test needs playwright-core in %s/node_modules: %v; %s", dir, err, fix)
	}
	chromium := os.Getenv("BALLCAST_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("browser test needs Chromium at %s (or set BALLCAST_CHROMIUM): %v; %s", chromium, err, fix)
	}

	cmd := exec.Command(node, "drive.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BALLCAST_CHROMIUM="+chromium)
	cmd.Stderr = &testWriter{t: t, prefix: "drive.mjs: "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node drive.mjs: %v", err)
	}
	d := &driver{stdin: stdin, lines: make(chan json.RawMessage, 16)}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(d.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var msg struct {
				Log       string `json:"log"`
				PageError bool   `json:"pageerror"`
				Ready     bool   `json:"ready"`
				Browser   string `json:"browser"`
			}
			line := slices.Clone(sc.Bytes())
			if json.Unmarshal(line, &msg) != nil {
				continue
			}
			switch {
			case msg.Log != "":
				t.Logf("page: %s", msg.Log)
				if msg.PageError {
					d.mu.Lock()
					d.errors = append(d.errors, msg.Log)
					d.mu.Unlock()
				}
			case msg.Ready:
				t.Logf("chromium %s at %s", msg.Browser, chromium)
			default:
				d.lines <- line
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // drive.mjs exits at end of input
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		<-readerDone
	})
	return d
}

// do sends one command and returns its value; a failed command fails the test.
func (d *driver) do(t *testing.T, cmd string, args map[string]any) json.RawMessage {
	t.Helper()
	return d.doTimeout(t, cmd, args, 60*time.Second)
}

func (d *driver) doTimeout(t *testing.T, cmd string, args map[string]any, timeout time.Duration) json.RawMessage {
	t.Helper()
	d.id++
	req := map[string]any{"id": d.id, "cmd": cmd}
	for k, v := range args {
		req[k] = v
	}
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("drive.mjs %s: %v", cmd, err)
	}
	select {
	case line, ok := <-d.lines:
		if !ok {
			t.Fatalf("drive.mjs %s: the driver exited (see its stderr above)", cmd)
		}
		var rep struct {
			ID    int             `json:"id"`
			OK    bool            `json:"ok"`
			Value json.RawMessage `json:"value"`
			Error string          `json:"error"`
		}
		if err := json.Unmarshal(line, &rep); err != nil || rep.ID != d.id {
			t.Fatalf("drive.mjs %s: bad answer %s", cmd, line)
		}
		if !rep.OK {
			t.Fatalf("drive.mjs %s: %s", cmd, rep.Error)
		}
		return rep.Value
	case <-time.After(timeout):
		t.Fatalf("drive.mjs %s: no answer within %s", cmd, timeout)
	}
	return nil
}

// wait polls expr in the page until it is truthy and returns its value.
func (d *driver) wait(t *testing.T, expr string, timeout time.Duration) json.RawMessage {
	t.Helper()
	return d.doTimeout(t, "wait", map[string]any{"expr": expr, "timeout": timeout.Milliseconds()}, timeout+10*time.Second)
}

func (d *driver) pageErrors() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.errors)
}

// testWriter logs what a child process writes.
type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.t.Log(w.prefix + l)
	}
	return len(p), nil
}

// connTracker remembers a server's connections so a test can drop them all
// from the server side.
type connTracker struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (c *connTracker) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		_ = conn.Close()
	}
	c.conns = nil
}

type trackingListener struct {
	net.Listener
	t *connTracker
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.t.mu.Lock()
		l.t.conns = append(l.t.conns, c)
		l.t.mu.Unlock()
	}
	return c, err
}

// trackedServer serves a hub's handler, which the test may swap, on a
// server whose connections are tracked.
type trackedServer struct {
	url string
	mu  sync.Mutex
	h   http.Handler
}

func (s *trackedServer) setHandler(h http.Handler) {
	s.mu.Lock()
	s.h = h
	s.mu.Unlock()
}

func (s *trackedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	h.ServeHTTP(w, r)
}

// trackConnections serves h on a server whose connections are tracked by
// tr, until the test ends.
func trackConnections(t *testing.T, h http.Handler, tr *connTracker) *trackedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	ts := &trackedServer{url: "http://" + ln.Addr().String(), h: h}
	srv := &http.Server{Handler: ts}
	done := make(chan struct{})
	go func() { _ = srv.Serve(trackingListener{Listener: ln, t: tr}); close(done) }()
	t.Cleanup(func() {
		_ = srv.Close()
		tr.closeAll()
		<-done
	})
	return ts
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
