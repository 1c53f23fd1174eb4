// ballcast live page: match picker, live scorecard and commentary over the
// /v1/ws protocol (see docs/protocol.md). No framework, no build step.
'use strict';

(function () {
  const MAX_LINES = 300;
  const LIST_REFRESH_MS = 30000;

  const $ = (id) => document.getElementById(id);
  const picker = $('match-picker');
  const connEl = $('conn');

  const st = {
    ws: null,
    open: false,
    match: '',        // the match shown
    synced: false,    // a snapshot for st.match has been applied
    resyncing: false, // a resume after a gap is in flight
    lastSeq: 0,       // highest stream seq applied for st.match
    info: null,
    scorecard: null,
    state: '',
    result: '',
    lastBall: null,
    lines: [],        // newest first
    backoff: 1000,
    retryTimer: 0,
    matches: [],
    renderQueued: false,
  };

  // ---- DOM helpers: text only, never innerHTML --------------------------

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') n.className = v;
        else n.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const k of kids) {
      if (k === undefined || k === null || k === false) continue;
      n.append(k instanceof Node ? k : String(k));
    }
    return n;
  }

  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

  // ---- formatting ----------------------------------------------------------

  const ballLabel = (b) => b.over + '.' + b.ball;

  function score(inn) {
    let s = inn.runs + '/' + inn.wickets;
    if (inn.declared) s += 'd';
    return s;
  }

  function fmtRate(x) { return (x || 0).toFixed(2); }

  function howOut(b) {
    if (!b.out) return 'not out';
    const f = (b.fielders || []).join('/');
    const bw = b.bowler || '';
    switch (b.how_out) {
      case 'bowled': return 'b ' + bw;
      case 'caught': return 'c ' + (f || '?') + ' b ' + bw;
      case 'caught and bowled': return 'c & b ' + bw;
      case 'lbw': return 'lbw b ' + bw;
      case 'stumped': return 'st ' + (f || '?') + ' b ' + bw;
      case 'hit wicket': return 'hit wicket b ' + bw;
      case 'run out': return 'run out' + (f ? ' (' + f + ')' : '');
      default: return b.how_out || 'out';
    }
  }

  function badgeOf(ball) {
    if (!ball) return '';
    if (ball.wickets && ball.wickets.some((w) => w.kind !== 'retired hurt' && w.kind !== 'retired not out')) return 'W';
    if (ball.six) return '6';
    if (ball.four) return '4';
    return '';
  }

  function plural(n, w) { return n + ' ' + w + (n === 1 ? '' : 's'); }

  // A line for an event without commentary, so the feed never goes quiet.
  function describe(frame) {
    const d = frame.data || {};
    if (d.ball) {
      const b = d.ball;
      let what;
      if (b.wickets && b.wickets.length) {
        what = 'OUT! ' + b.wickets.map((w) => w.player_out + ' ' + w.kind).join(', ');
      } else if (b.six) what = 'SIX';
      else if (b.four) what = 'FOUR';
      else if (b.extras.wides) what = plural(b.extras.wides, 'wide');
      else if (b.extras.noballs) what = 'no ball' + (b.runs_bat ? ', ' + plural(b.runs_bat, 'run') : '');
      else if (b.runs === 0) what = 'no run';
      else what = plural(b.runs, 'run');
      return b.bowler + ' to ' + b.batter + ', ' + what + '.';
    }
    if (d.innings) {
      const i = d.innings;
      if (i.end) return 'End of innings: ' + i.team + (i.declared ? ' declared' : '') + '.';
      return i.team + ' innings begins' + (i.target ? ' (target ' + i.target.runs + ')' : '') + '.';
    }
    if (d.status) {
      if (d.status.result) return d.status.result + '.';
      if (d.status.note) return d.status.note;
      return 'Match ' + d.status.state + '.';
    }
    if (d.milestone) return d.milestone.player + ': ' + d.milestone.kind.replace(/_/g, ' ') + ' (' + d.milestone.value + ')';
    return '';
  }

  // ---- state updates -------------------------------------------------------

  function resetMatch(id) {
    st.match = id;
    st.synced = false;
    st.resyncing = false;
    st.lastSeq = 0;
    st.info = null;
    st.scorecard = null;
    st.state = '';
    st.result = '';
    st.lastBall = null;
    st.lines = [];
    render();
  }

  function applySnapshot(f) {
    st.synced = true;
    st.lastSeq = f.seq;
    st.info = f.info || null;
    st.scorecard = f.scorecard || null;
    st.state = f.state || '';
    st.result = f.result || '';
    st.lastBall = null;
    st.lines = (f.commentary || []).slice().reverse().map((c) => ({
      seq: c.seq, ball: c.ball || '', text: c.text, badge: c.badge || '', kind: c.kind,
    }));
    render();
  }

  function applyEvent(f) {
    const d = f.data || {};
    if (d.info) st.info = d.info;
    if (d.scorecard) {
      st.scorecard = d.scorecard;
      if (d.scorecard.state) st.state = d.scorecard.state;
      if (d.scorecard.result) st.result = d.scorecard.result;
    }
    if (d.status) {
      if (d.status.state) st.state = d.status.state;
      if (d.status.result) st.result = d.status.result;
    }
    if (d.ball) {
      st.lastBall = d.ball;
      if (!st.state || st.state === 'scheduled' || st.state === 'unknown') st.state = 'live';
    }
    const text = d.commentary ? d.commentary.text : describe(f);
    if (text) {
      st.lines.unshift({ seq: f.seq, ball: d.ball ? ballLabel(d.ball) : '', text, badge: badgeOf(d.ball), kind: f.kind });
      if (st.lines.length > MAX_LINES) st.lines.length = MAX_LINES;
    }
    st.lastSeq = f.seq;
    scheduleRender();
  }

  // ---- protocol -----------------------------------------------------------

  function send(obj) {
    if (st.ws && st.open) st.ws.send(JSON.stringify(obj));
  }

  function subscribe() {
    if (!st.match) return;
    const req = { action: 'subscribe', match: st.match };
    if (st.synced) req.since = st.lastSeq; // resume: the server replays the gap or sends a fresh snapshot
    send(req);
  }

  function onFrame(f) {
    switch (f.op) {
      case 'snapshot':
        if (f.match !== st.match) return;
        st.resyncing = false;
        applySnapshot(f);
        break;
      case 'resumed':
        if (f.match === st.match) st.resyncing = false; // the missed events follow
        break;
      case 'event':
        if (f.match !== st.match || !st.synced) return;
        if (f.seq <= st.lastSeq) return; // already seen (a replay overlap)
        if (f.seq !== st.lastSeq + 1) { // a gap should not happen; ask again from what we have
          if (!st.resyncing) { st.resyncing = true; subscribe(); }
          return;
        }
        applyEvent(f);
        break;
      case 'error':
        console.warn('ballcast:', f.code, f.message);
        break;
    }
  }

  function connect() {
    clearTimeout(st.retryTimer);
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws';
    setConn('connecting', 'connecting…');
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (e) {
      retry(0);
      return;
    }
    st.ws = ws;
    ws.onopen = () => {
      st.open = true;
      st.backoff = 1000;
      st.resyncing = false;
      setConn('live', 'live');
      subscribe();
    };
    ws.onmessage = (m) => {
      let f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      onFrame(f);
    };
    ws.onclose = (e) => {
      if (st.ws !== ws) return;
      st.open = false;
      st.ws = null;
      retry(e.code);
    };
  }

  function retry(code) {
    // 4008: we fell behind; come straight back and resume.
    const wait = code === 4008 ? 250 : st.backoff * (0.7 + Math.random() * 0.6);
    st.backoff = Math.min(st.backoff * 2, 30000);
    const secs = Math.max(1, Math.round(wait / 1000));
    setConn('down', code === 4008 ? 'catching up…' : 'reconnecting in ' + secs + 's');
    st.retryTimer = setTimeout(connect, wait);
  }

  function setConn(kind, text) {
    connEl.className = 'conn conn-' + kind;
    connEl.textContent = text;
  }

  // ---- match list ----------------------------------------------------------

  async function loadMatches() {
    try {
      const r = await fetch('/v1/matches', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      st.matches = (await r.json()).matches || [];
    } catch (e) {
      console.warn('ballcast: match list:', e);
    }
    renderPicker();
    if (!st.match) {
      const want = decodeURIComponent((location.hash.match(/^#m=(.+)$/) || [])[1] || '');
      const first = st.matches.find((m) => m.id === want) || st.matches[0];
      if (want && !first) selectMatch(want);
      else if (first) selectMatch(first.id);
    }
    setTimeout(loadMatches, st.matches.length ? LIST_REFRESH_MS : 5000);
  }

  function renderPicker() {
    const keep = st.match;
    clear(picker);
    if (!st.matches.length && !keep) {
      picker.append(el('option', { value: '' }, 'No matches yet'));
      return;
    }
    let found = false;
    for (const m of st.matches) {
      const label = m.title + (m.summary ? ' — ' + m.summary : '') + (m.state === 'live' ? ' (live)' : '');
      picker.append(el('option', { value: m.id, selected: m.id === keep }, label));
      if (m.id === keep) found = true;
    }
    if (keep && !found) picker.append(el('option', { value: keep, selected: true }, keep));
  }

  function selectMatch(id) {
    if (id === st.match) return;
    if (st.match) send({ action: 'unsubscribe', match: st.match });
    resetMatch(id);
    history.replaceState(null, '', '#m=' + encodeURIComponent(id));
    subscribe();
    renderPicker();
  }

  picker.addEventListener('change', () => { if (picker.value) selectMatch(picker.value); });

  // ---- rendering -----------------------------------------------------------

  function scheduleRender() {
    if (st.renderQueued) return;
    st.renderQueued = true;
    requestAnimationFrame(() => { st.renderQueued = false; render(); });
  }

  function render() {
    renderHead();
    renderScore();
    renderLines();
  }

  function renderHead() {
    const i = st.info;
    $('title').textContent = i ? i.title : (st.match || 'Waiting for matches');
    const meta = [];
    if (i) {
      if (i.format) meta.push(i.format);
      if (i.venue) meta.push(i.venue);
      if (i.start) meta.push(new Date(i.start).toLocaleDateString());
      if (i.toss_winner) meta.push(i.toss_winner + ' won the toss and chose to ' + (i.toss_decision || 'bat'));
    }
    $('meta').textContent = meta.join(' · ');
    const status = $('status');
    clear(status);
    if (st.match) {
      const s = st.state || 'unknown';
      status.append(el('span', { class: 'badge state-' + s }, s === 'unknown' ? 'not started' : s));
      if (st.result) status.append(' ', st.result);
    }
    const cur = st.scorecard && st.scorecard.innings.length ? st.scorecard.innings[st.scorecard.innings.length - 1] : null;
    document.title = cur ? cur.team + ' ' + score(cur) + ' (' + cur.overs + ') · ballcast' : 'ballcast';
  }

  function table(caption, cols, rows) {
    const cls = (c) => [c.num ? 'num' : '', c.opt ? 'opt' : ''].join(' ').trim();
    const thead = el('thead', null, el('tr', null, ...cols.map((c) => el('th', { scope: 'col', class: cls(c) }, c.label))));
    const tbody = el('tbody');
    for (const r of rows) {
      tbody.append(el('tr', { class: r.cls || '' }, ...cols.map((c, k) => el('td', { class: cls(c) }, r.cells[k]))));
    }
    return el('div', { class: 'table-wrap' }, el('table', null, el('caption', null, caption), thead, tbody));
  }

  function inningsTables(inn, live) {
    const atCrease = new Set(live && !inn.closed ? (inn.partnership.batters || []) : []);
    const bowling = live && st.lastBall && st.lastBall.innings === inn.number ? st.lastBall.bowler : '';
    const bat = table('Batting', [
      { label: 'Batter' }, { label: 'R', num: 1 }, { label: 'B', num: 1 },
      { label: '4s', num: 1 }, { label: '6s', num: 1 }, { label: 'SR', num: 1 },
    ], inn.batters.map((b) => {
      const here = atCrease.has(b.name) && !b.out;
      return {
        cls: here ? 'current' : (b.out ? 'out' : ''),
        cells: [
          el('span', { class: 'who' }, el('span', { class: 'name' }, b.name + (here ? ' *' : '')), el('span', { class: 'how' }, howOut(b))),
          b.runs, b.balls, b.fours, b.sixes, fmtRate(b.strike_rate),
        ],
      };
    }));
    const bowl = table('Bowling', [
      { label: 'Bowler' }, { label: 'O', num: 1 }, { label: 'M', num: 1 }, { label: 'R', num: 1 },
      { label: 'W', num: 1 }, { label: 'Econ', num: 1 }, { label: 'Wd', num: 1, opt: 1 }, { label: 'NB', num: 1, opt: 1 },
    ], inn.bowlers.map((b) => ({
      cls: b.name === bowling ? 'current' : '',
      cells: [b.name + (b.name === bowling ? ' *' : ''), b.overs, b.maidens, b.runs, b.wickets, fmtRate(b.economy), b.wides, b.noballs],
    })));
    const e = inn.extras;
    const extrasTotal = e.wides + e.noballs + e.byes + e.legbyes + e.penalty;
    const notes = [el('p', { class: 'note' }, 'Extras ' + extrasTotal + ' (w ' + e.wides + ', nb ' + e.noballs + ', b ' + e.byes + ', lb ' + e.legbyes + (e.penalty ? ', p ' + e.penalty : '') + ')')];
    if (inn.fall_of_wickets.length) {
      notes.push(el('p', { class: 'note' }, 'Fall of wickets: ' + inn.fall_of_wickets.map((f) => f.runs + '-' + f.wickets + ' (' + f.player + ', ' + f.overs + ')').join(', ')));
    }
    return [bat, bowl, ...notes];
  }

  function renderScore() {
    const body = $('score-body');
    const prev = $('previous');
    clear(body);
    clear(prev);
    const sc = st.scorecard;
    if (!sc || !sc.innings.length) {
      let msg = 'No scorecard yet.';
      if (!st.match) msg = 'Pick a match.';
      else if (st.lastBall) msg = st.lastBall.batting_team + ' batting · ' + ballLabel(st.lastBall) + ' overs';
      body.append(el('p', { class: 'empty' }, msg));
      return;
    }
    const cur = sc.innings[sc.innings.length - 1];
    body.append(el('div', { class: 'total' },
      el('span', { class: 'team' }, cur.team + (cur.super_over ? ' (super over)' : '')),
      el('span', { class: 'runs' }, score(cur)),
      el('span', { class: 'overs' }, '(' + cur.overs + ' ov)')));
    const facts = ['CRR ' + fmtRate(cur.run_rate)];
    if (cur.partnership && cur.partnership.balls) facts.push('Partnership ' + cur.partnership.runs + ' (' + cur.partnership.balls + ')');
    if (cur.target) {
      const chase = ['Target ' + cur.target.runs];
      if (!cur.closed && cur.runs_needed > 0) {
        chase.push('need ' + plural(cur.runs_needed, 'run') + (cur.balls_left ? ' from ' + plural(cur.balls_left, 'ball') : ''));
        if (cur.required_rate) chase.push('RRR ' + fmtRate(cur.required_rate));
      }
      body.append(el('p', { class: 'chase' }, chase.join(' · ')));
    }
    body.append(el('p', { class: 'facts' }, facts.join(' · ')));
    body.append(...inningsTables(cur, true));

    for (let k = sc.innings.length - 2; k >= 0; k--) {
      const inn = sc.innings[k];
      prev.append(el('details', { class: 'innings' },
        el('summary', null, 'Innings ' + inn.number + ': ' + inn.team + ' ' + score(inn) + ' (' + inn.overs + ' ov)'),
        ...inningsTables(inn, false)));
    }
  }

  function renderLines() {
    const ol = $('lines');
    clear(ol);
    $('feed-empty').hidden = st.lines.length > 0;
    for (const l of st.lines) {
      const cls = 'line' + (l.badge === 'W' ? ' wicket' : l.badge === '6' ? ' six' : l.badge === '4' ? ' four' : '') + (l.ball ? '' : ' aside');
      ol.append(el('li', { class: cls, 'data-seq': l.seq },
        el('span', { class: 'ball' }, l.ball || '•'),
        l.badge ? el('span', { class: 'pill' }, l.badge) : null,
        el('span', { class: 'text' }, l.text)));
    }
  }

  // ---- start ---------------------------------------------------------------

  connect();
  loadMatches();
})();
