// ballcast live page: match picker, live scorecard, commentary feed, worm
// and Manhattan charts, over the /v1/ws protocol (docs/protocol.md) through
// ballcast-client.js. Plain ES modules, no framework, no build step.
//
// State for the shown match lives in `st`. Everything keyed by stream seq
// (feed lines, balls for the charts) is a Map, so a line applied twice (a
// snapshot overlapping a history page, say) is still shown once.

import { BallcastClient, Status } from './ballcast-client.js';
import { perOver, drawWorm, drawManhattan } from './charts.js';

const MAX_LINES = 1500;        // feed lines kept in the DOM (a whole T20 or ODI)
const LIST_REFRESH_MS = 15000; // match list refresh
const HISTORY_PAGE = 1000;     // events per GET /v1/matches/{id}/events

// The page's own parameters live in the URL fragment (never sent to the
// server): #m=<match id>, and &access_token=<API key or JWT> for a server
// with credentials configured.
const hashParams = () => new URLSearchParams(location.hash.slice(1));
const token = hashParams().get('access_token') || '';
const authHeaders = token ? { Authorization: 'Bearer ' + token } : {};

const $ = (id) => document.getElementById(id);
const picker = $('match-picker');
const connEl = $('conn');

const st = {
  match: '',       // the match shown
  generation: 0,   // bumped on every reset/switch: stale history fetches are dropped
  synced: false,   // a snapshot has been applied
  lastSeq: 0,
  info: null,
  scorecard: null,
  state: '',
  result: '',
  lastBall: null,
  lines: new Map(),  // seq -> {seq, ball, text, badge, kind}
  balls: new Map(),  // seq -> {innings, over, runs, wickets, team}
  history: 'none',   // 'none' | 'loading' | 'done' | 'partial'
  provisional: new Map(), // delta id -> {text, timer}, until the event with that id arrives
  // A provisional line whose event never comes (a later stage dropped it)
  // goes after this long without a delta; a line takes seconds at most.
  provisionalTTL: 30000,
  matches: [],
  renderQueued: false,
  resets: 0,         // resets taken (for tests and debugging)
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

// ---- state updates ---------------------------------------------------------

function resetMatchState() {
  st.generation++;
  st.synced = false;
  st.lastSeq = 0;
  st.info = null;
  st.scorecard = null;
  st.state = '';
  st.result = '';
  st.lastBall = null;
  st.lines.clear();
  st.balls.clear();
  for (const p of st.provisional.values()) clearTimeout(p.timer);
  st.provisional.clear();
  st.history = 'none';
}

function dropProvisional(id) {
  const p = st.provisional.get(id);
  if (!p) return;
  clearTimeout(p.timer);
  st.provisional.delete(id);
}

// A ball as the charts need it.
function chartBall(b) {
  return {
    innings: b.innings, over: b.over, runs: b.runs, team: b.batting_team,
    wickets: (b.wickets || []).filter((w) => w.kind !== 'retired hurt' && w.kind !== 'retired not out').length,
  };
}

// Applies an event frame's payload to the feed and charts; used for live
// events and history pages alike (both keyed by seq). Returns nothing.
function addEvent(f, live) {
  const d = f.data || {};
  if (d.ball && !d.ball.super_over) st.balls.set(f.seq, chartBall(d.ball));
  const text = d.commentary ? d.commentary.text : describe(f);
  if (text) {
    st.lines.set(f.seq, { seq: f.seq, ball: d.ball ? ballLabel(d.ball) : '', text, badge: badgeOf(d.ball), kind: f.kind });
  }
  if (f.id) dropProvisional(f.id);
  if (!live) return;
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
}

function applySnapshot(f) {
  resetMatchState();
  st.synced = true;
  st.lastSeq = f.seq;
  st.info = f.info || null;
  st.scorecard = f.scorecard || null;
  st.state = f.state || '';
  st.result = f.result || '';
  for (const c of f.commentary || []) {
    st.lines.set(c.seq, { seq: c.seq, ball: c.ball || '', text: c.text, badge: c.badge || '', kind: c.kind });
  }
  scheduleRender();
  if (f.seq > 0) loadHistory(f.match, f.seq, f.epoch, st.generation);
  else st.history = 'done';
}

// loadHistory fills the feed and the charts with the events up to the
// snapshot's seq, from GET /v1/matches/{id}/events, page by page. Live
// events keep arriving meanwhile; both are keyed by seq.
function eventsURL(match, since, limit, epoch) {
  let u = `/v1/matches/${encodeURIComponent(match)}/events?since=${since}&limit=${limit}`;
  if (epoch !== undefined) u += '&epoch=' + encodeURIComponent(epoch);
  return u;
}

// fetchRetry is fetch with a few retries, 1 s apart, on a network error or
// a 5xx (a dropped connection, a server restarting); other answers return.
async function fetchRetry(url, tries = 4) {
  for (let i = 1; ; i++) {
    try {
      const r = await fetch(url, { cache: 'no-store', headers: authHeaders });
      if (r.status < 500 || i >= tries) return r;
    } catch (e) {
      if (i >= tries) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function loadHistory(match, upto, epoch, gen) {
  st.history = 'loading';
  let since = 0;
  try {
    while (since < upto) {
      const limit = Math.min(HISTORY_PAGE, upto - since);
      const r = await fetchRetry(eventsURL(match, since, limit, epoch));
      if (gen !== st.generation) return; // reset or switched meanwhile
      if (r.status === 410) {
        const body = await r.json().catch(() => ({}));
        // epoch_changed: the numbering restarted; a reset and a fresh
        // snapshot are on their way over the socket, which loads again.
        if (body.code !== 'history_gone') throw new Error(body.code || 'HTTP 410');
        // Older events are gone: ask where history starts (a page past the
        // end holds no events but names first_seq), and load from there.
        const probe = await fetchRetry(eventsURL(match, upto, 1, epoch));
        const first = probe.ok ? (await probe.json()).first_seq : 0;
        if (gen !== st.generation) return;
        if (!first || first - 1 <= since) throw new Error('history gone');
        since = first - 1;
        st.history = 'partial';
        continue;
      }
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const page = await r.json();
      if (gen !== st.generation) return;
      if (!page.events || !page.events.length) break;
      for (const ev of page.events) if (ev.seq <= upto) addEvent(ev, false);
      since = page.events[page.events.length - 1].seq;
      scheduleRender();
    }
    if (st.history === 'loading') st.history = 'done';
  } catch (e) {
    console.warn('ballcast: history:', e);
    if (gen === st.generation) st.history = 'partial';
  }
  scheduleRender();
}

// ---- the connection ----------------------------------------------------------

const client = new BallcastClient({
  token,
  onSnapshot: (f) => { if (f.match === st.match) applySnapshot(f); },
  onEvent: (f) => {
    if (f.match !== st.match) return;
    addEvent(f, true);
    st.lastSeq = f.seq;
    scheduleRender();
  },
  onReset: (match) => {
    if (match !== st.match) return;
    st.resets++;
    resetMatchState(); // the fresh snapshot follows
    scheduleRender();
  },
  onDelta: (f) => {
    // Streaming commentary: tokens of a line still being written. Shown as a
    // provisional line until the event with the same id replaces it.
    if (f.match !== st.match || !f.id || typeof f.text !== 'string') return;
    const p = st.provisional.get(f.id) || { text: '', timer: 0 };
    p.text += f.text;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => { dropProvisional(f.id); scheduleRender(); }, st.provisionalTTL);
    st.provisional.set(f.id, p);
    scheduleRender();
  },
  onStatus: (status, detail) => {
    if (status === Status.LIVE) setConn('live', 'connected');
    else if (status === Status.CONNECTING) setConn('connecting', 'connecting…');
    else if (status === Status.RECONNECTING) {
      setConn('down', detail.code === 4008 ? 'catching up…' : 'reconnecting in ' + Math.max(1, Math.round(detail.delay / 1000)) + 's');
    } else setConn('down', 'offline');
  },
});

function setConn(kind, text) {
  connEl.className = 'conn conn-' + kind;
  connEl.dataset.state = kind;
  connEl.textContent = text;
}

// ---- match list --------------------------------------------------------------

async function loadMatches() {
  try {
    const r = await fetch('/v1/matches', { cache: 'no-store', headers: authHeaders });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const list = (await r.json()).matches || [];
    // Live first, then as the server orders them.
    st.matches = list.map((m, i) => [m, i])
      .sort((a, b) => (b[0].state === 'live') - (a[0].state === 'live') || a[1] - b[1])
      .map((p) => p[0]);
  } catch (e) {
    console.warn('ballcast: match list:', e);
  }
  renderPicker();
  if (!st.match) {
    const want = hashParams().get('m');
    if (want) selectMatch(want);
    else if (st.matches[0]) selectMatch(st.matches[0].id);
  }
  setTimeout(loadMatches, st.matches.length ? LIST_REFRESH_MS : 3000);
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
    const label = (m.state === 'live' ? '● ' : '') + m.title + (m.summary ? ' — ' + m.summary : '');
    picker.append(el('option', { value: m.id, selected: m.id === keep }, label));
    if (m.id === keep) found = true;
  }
  if (keep && !found) picker.append(el('option', { value: keep, selected: true }, keep));
}

function selectMatch(id) {
  if (id === st.match) return;
  if (st.match) client.unsubscribe(st.match);
  st.match = id;
  resetMatchState();
  const h = hashParams();
  h.set('m', id);
  history.replaceState(null, '', '#' + h.toString());
  client.subscribe(id);
  renderPicker();
  scheduleRender();
}

window.addEventListener('resize', scheduleRender); // charts are drawn at their real width
picker.addEventListener('change', () => { if (picker.value) selectMatch(picker.value); });
window.addEventListener('hashchange', () => {
  const want = hashParams().get('m');
  if (want) selectMatch(want);
});

// ---- rendering ---------------------------------------------------------------

// Renders at most once a frame however many events arrive.
function scheduleRender() {
  if (st.renderQueued) return;
  st.renderQueued = true;
  requestAnimationFrame(() => { st.renderQueued = false; render(); });
}

function render() {
  renderHead();
  renderScore();
  renderCharts();
  renderLines();
  document.body.dataset.seq = String(st.lastSeq);
  document.body.dataset.history = st.history;
}

// The picker's entry for the shown match follows the live score rather
// than waiting for the next match list.
function renderPickerLabel() {
  const opt = [...picker.options].find((o) => o.value === st.match);
  const m = st.matches.find((x) => x.id === st.match);
  if (!opt || !st.info || !st.scorecard) return;
  const summary = st.scorecard.innings.map((i) => i.team + ' ' + score(i) + ' (' + i.overs + ')').join(', ');
  opt.textContent = (st.state === 'live' ? '● ' : '') + (st.info.title || (m && m.title) || st.match) + (summary ? ' — ' + summary : '');
}

function renderHead() {
  renderPickerLabel();
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
    if (st.result) status.append(' ', el('span', { id: 'result' }, st.result));
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
  // One line per innings so far, then the current innings in full.
  body.append(el('ul', { class: 'innings-totals' }, ...sc.innings.map((inn) => el('li', {
    class: 'total', 'data-innings': inn.number, 'data-runs': inn.runs, 'data-wickets': inn.wickets, 'data-overs': inn.overs,
  },
  el('span', { class: 'team' }, inn.team + (inn.super_over ? ' (super over)' : '')),
  el('span', { class: 'runs' }, score(inn)),
  el('span', { class: 'overs' }, '(' + inn.overs + ' ov)')))));
  const cur = sc.innings[sc.innings.length - 1];
  if (cur.target) {
    const chase = ['Target ' + cur.target.runs];
    if (!cur.closed && cur.runs_needed > 0) {
      chase.push('need ' + plural(cur.runs_needed, 'run') + (cur.balls_left ? ' from ' + plural(cur.balls_left, 'ball') : ''));
      if (cur.required_rate) chase.push('RRR ' + fmtRate(cur.required_rate));
    }
    body.append(el('p', { class: 'chase' }, chase.join(' · ')));
  }
  const facts = ['CRR ' + fmtRate(cur.run_rate)];
  if (cur.partnership && cur.partnership.balls) {
    facts.push('Partnership ' + cur.partnership.runs + ' (' + cur.partnership.balls + ')' +
      (cur.partnership.batters && cur.partnership.batters.length ? ' ' + cur.partnership.batters.join(' & ') : ''));
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

function renderCharts() {
  const innings = perOver(st.balls.values());
  const scheduled = st.info && st.info.overs ? st.info.overs : 0;
  $('charts').hidden = innings.length === 0;
  drawWorm($('worm'), innings, scheduled);
  drawManhattan($('manhattan'), innings, scheduled);
  $('charts-note').textContent = st.history === 'loading' ? 'Loading earlier overs…'
    : st.history === 'partial' ? 'Earlier overs are no longer held by the server.' : '';
}

function renderLines() {
  const ol = $('lines');
  clear(ol);
  const seqs = [...st.lines.keys()].sort((a, b) => b - a).slice(0, MAX_LINES);
  $('feed-empty').hidden = seqs.length > 0 || st.provisional.size > 0;
  // Streaming lines first: they are newer than anything applied.
  for (const [id, { text }] of st.provisional) {
    ol.append(el('li', { class: 'line provisional', 'data-id': id },
      el('span', { class: 'ball' }, '…'), el('span', { class: 'text' }, text)));
  }
  for (const seq of seqs) {
    const l = st.lines.get(seq);
    const cls = 'line' + (l.badge === 'W' ? ' wicket' : l.badge === '6' ? ' six' : l.badge === '4' ? ' four' : '') + (l.ball ? '' : ' aside');
    ol.append(el('li', { class: cls, 'data-seq': l.seq },
      el('span', { class: 'ball' }, l.ball || '•'),
      l.badge ? el('span', { class: 'pill' }, l.badge) : null,
      el('span', { class: 'text' }, l.text)));
  }
}

// ---- start -------------------------------------------------------------------

client.connect();
loadMatches();

// For tests and debugging: the client (its reconnect count and positions).
window.ballcast = { client, st, get resets() { return st.resets; } };
