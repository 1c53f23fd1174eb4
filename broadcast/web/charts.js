// charts.js: the worm (cumulative runs per over, a line per innings) and
// the Manhattan (runs per over as bars, wickets as dots) as plain SVG.
// No library; colours come from style.css (classes inn-1 … inn-4), so the
// page's CSP (no inline styles) holds.

const SVG = 'http://www.w3.org/2000/svg';

// The viewBox matches the SVG's rendered width in CSS pixels (redrawn on
// resize), so labels keep their real size on a phone instead of shrinking
// with the drawing. W and H are set by emptySVG for each draw.
let W = 640;
let H = 260;
const PAD = { left: 36, right: 10, top: 26, bottom: 28 };

function node(tag, attrs, text) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
  if (text !== undefined) n.textContent = text;
  return n;
}

// A tick step giving about five ticks up to max.
function step(max) {
  const raw = Math.max(1, max / 5);
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

/**
 * perOver turns balls into per-innings over tallies.
 * @param {Iterable<{innings:number, over:number, runs:number, wickets:number, team:string}>} balls
 * @returns {Array<{innings:number, team:string, overs:Array<{runs:number, wickets:number}>}>}
 *   one entry per innings, in innings order; overs[i] is the (0-based) over i,
 *   {runs:0, wickets:0} for an over with no ball seen.
 */
export function perOver(balls) {
  const byInnings = new Map();
  for (const b of balls) {
    let inn = byInnings.get(b.innings);
    if (!inn) {
      inn = { innings: b.innings, team: b.team, overs: [] };
      byInnings.set(b.innings, inn);
    }
    while (inn.overs.length <= b.over) inn.overs.push({ runs: 0, wickets: 0 });
    inn.overs[b.over].runs += b.runs;
    inn.overs[b.over].wickets += b.wickets;
  }
  return [...byInnings.values()].sort((a, b) => a.innings - b.innings);
}

// Frame: background grid, axes and labels shared by both charts.
function frame(svg, label, xMax, yMax, yStep) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (v) => PAD.left + (v / xMax) * plotW;
  const y = (v) => PAD.top + plotH - (v / yMax) * plotH;
  const g = node('g', { class: 'axes' });
  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    g.append(node('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    g.append(node('text', { class: 'tick', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
  }
  const xStep = step(xMax);
  for (let v = 0; v <= xMax; v += xStep) {
    g.append(node('text', { class: 'tick', x: x(v), y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, String(v)));
  }
  g.append(node('text', { class: 'axis-label', x: W - PAD.right, y: H - 2, 'text-anchor': 'end' }, 'overs'));
  g.append(node('text', { class: 'axis-label', x: PAD.left - 6, y: PAD.top - 10, 'text-anchor': 'end' }, label));
  svg.append(g);
  return { x, y, plotW, plotH };
}

function emptySVG(svg, title) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const width = Math.round(svg.getBoundingClientRect().width) || (svg.parentElement && svg.parentElement.clientWidth) || 640;
  W = Math.max(280, Math.min(width, 1200));
  H = W < 480 ? 220 : 260;
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.append(node('title', {}, title));
}

/**
 * drawWorm draws one polyline per innings (class worm-line, data-innings,
 * data-points = overs drawn) plus a dot per over in which wickets fell.
 * @param {SVGSVGElement} svg
 * @param {ReturnType<typeof perOver>} innings
 * @param {number} scheduled scheduled overs per innings (0: unlimited)
 */
export function drawWorm(svg, innings, scheduled) {
  emptySVG(svg, 'Worm: cumulative runs per over');
  const longest = Math.max(1, scheduled || 0, ...innings.map((i) => i.overs.length));
  let top = 10;
  for (const inn of innings) top = Math.max(top, inn.overs.reduce((s, o) => s + o.runs, 0));
  const ys = step(top);
  const yMax = Math.ceil(top / ys) * ys;
  const { x, y } = frame(svg, 'runs', longest, yMax, ys);
  for (const inn of innings) {
    const cls = 'inn-' + (((inn.innings - 1) % 4) + 1);
    let total = 0;
    const pts = [[x(0), y(0)]];
    const wkts = [];
    inn.overs.forEach((o, i) => {
      total += o.runs;
      pts.push([x(i + 1), y(total)]);
      if (o.wickets) wkts.push([x(i + 1), y(total), o.wickets]);
    });
    svg.append(node('polyline', {
      class: 'worm-line ' + cls, 'data-innings': inn.innings, 'data-points': inn.overs.length, 'data-runs': total,
      points: pts.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' '),
    }));
    for (const [cx, cy, n] of wkts) {
      const c = node('circle', { class: 'worm-wkt ' + cls, cx: cx.toFixed(1), cy: cy.toFixed(1), r: 3 + Math.min(n, 3) });
      c.append(node('title', {}, n + (n === 1 ? ' wicket' : ' wickets')));
      svg.append(c);
    }
  }
  legend(svg, innings);
}

/**
 * drawManhattan draws a bar per over per innings (class bar, data-innings,
 * data-over 0-based, data-runs), innings side by side within an over, and a
 * dot per wicket (class wkt) stacked above its bar.
 */
export function drawManhattan(svg, innings, scheduled) {
  emptySVG(svg, 'Manhattan: runs per over, wickets marked');
  const longest = Math.max(1, scheduled || 0, ...innings.map((i) => i.overs.length));
  let top = 6;
  for (const inn of innings) for (const o of inn.overs) top = Math.max(top, o.runs);
  const ys = step(top + 4);
  const yMax = Math.ceil((top + 4) / ys) * ys; // headroom for the wicket dots
  const { x, y } = frame(svg, 'runs', longest, yMax, ys);
  const slot = x(1) - x(0);
  const n = Math.max(1, innings.length);
  const barW = Math.max(1, (slot * 0.8) / n);
  innings.forEach((inn, k) => {
    const cls = 'inn-' + (((inn.innings - 1) % 4) + 1);
    inn.overs.forEach((o, i) => {
      const left = x(i) + slot * 0.1 + k * barW;
      const bar = node('rect', {
        class: 'bar ' + cls, 'data-innings': inn.innings, 'data-over': i, 'data-runs': o.runs,
        x: left.toFixed(1), y: y(o.runs).toFixed(1), width: barW.toFixed(1), height: (y(0) - y(o.runs)).toFixed(1),
      });
      bar.append(node('title', {}, `${inn.team} over ${i + 1}: ${o.runs} runs` + (o.wickets ? `, ${o.wickets} wkt` : '')));
      svg.append(bar);
      const r = Math.min(4, barW / 2);
      for (let w = 0; w < o.wickets; w++) {
        svg.append(node('circle', {
          class: 'wkt ' + cls, 'data-innings': inn.innings, 'data-over': i,
          cx: (left + barW / 2).toFixed(1), cy: (y(o.runs) - r - 1 - w * (2 * r + 1)).toFixed(1), r: r.toFixed(1),
        }));
      }
    });
  });
  legend(svg, innings);
}

function legend(svg, innings) {
  let lx = PAD.left + 8;
  for (const inn of innings) {
    const cls = 'inn-' + (((inn.innings - 1) % 4) + 1);
    svg.append(node('rect', { class: 'swatch ' + cls, x: lx, y: 4, width: 10, height: 10 }));
    const label = inn.team || 'Innings ' + inn.innings;
    svg.append(node('text', { class: 'legend', x: lx + 14, y: 13 }, label));
    lx += 24 + label.length * 7;
  }
}
