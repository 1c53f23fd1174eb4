// drive.mjs: a small command server that drives Chromium for
// broadcast/browser_test.go. It reads one JSON command per line on stdin and
// answers each with one JSON line on stdout:
//
//   {"id":1,"cmd":"open","url":"http://...","width":1280,"height":900}  -> {"id":1,"ok":true}
//   {"id":2,"cmd":"wait","expr":"...","timeout":30000}  -> {"id":2,"ok":true,"value":<expr's value>}
//   {"id":3,"cmd":"eval","expr":"..."}                  -> {"id":3,"ok":true,"value":...}
//   {"id":4,"cmd":"screenshot","path":"/tmp/x.png","fullPage":true,"selector":"#charts"} -> {"id":4,"ok":true}
//   {"id":5,"cmd":"close"}                              -> {"id":5,"ok":true}, then exit
//
// Failures answer {"id":N,"ok":false,"error":"..."}. Page console errors and
// failed requests are reported as {"log":"..."} lines. The browser is Debian's
// Chromium (BALLCAST_CHROMIUM, default /usr/bin/chromium): playwright-core
// never downloads one.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';

const executablePath = process.env.BALLCAST_CHROMIUM || '/usr/bin/chromium';
const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
let page = null;

// One page at a time; "open" replaces it with a new one of the given size.
async function open({ url, width = 1280, height = 900, mobile = false }) {
  if (page) await page.context().close();
  const ctx = await browser.newContext({ viewport: { width, height }, isMobile: mobile, hasTouch: mobile, deviceScaleFactor: mobile ? 2 : 1 });
  page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const text = `console.${m.type()}: ${m.text()} (${m.location().url || ''})`;
    // A CSP violation is a page error: the page must work under its policy.
    out({ log: text, pageerror: /Content Security Policy/.test(text) });
  });
  page.on('response', (r) => { if (r.status() >= 400) out({ log: `HTTP ${r.status()} ${r.url()}` }); });
  page.on('pageerror', (e) => out({ log: `pageerror: ${e.message}`, pageerror: true }));
  page.on('requestfailed', (r) => out({ log: `requestfailed: ${r.url()} ${r.failure()?.errorText}` }));
  await page.goto(url, { waitUntil: 'load' });
}

const handlers = {
  open,
  // Polls expr (a JS expression) in the page until it is truthy; answers its
  // value. Polled from here with page.evaluate (DevTools evaluation), not
  // waitForFunction, which compiles in the page and the page's CSP forbids.
  wait: async ({ expr, timeout = 30000 }) => {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        last = await page.evaluate(expr);
        if (last) return last;
      } catch (e) {
        last = 'error: ' + e.message; // e.g. the page is navigating
      }
      if (Date.now() > deadline) throw new Error(`timeout ${timeout}ms waiting for ${expr.slice(0, 200)}; last value ${JSON.stringify(last)?.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  },
  eval: async ({ expr }) => page.evaluate(expr),
  // The whole page (fullPage), the viewport, or one element (selector).
  screenshot: async ({ path, fullPage = true, selector }) => {
    if (selector) await page.locator(selector).screenshot({ path });
    else await page.screenshot({ path, fullPage });
  },
  close: async () => { await browser.close(); },
};

out({ ready: true, browser: browser.version() });

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try { req = JSON.parse(line); } catch (e) { out({ ok: false, error: 'bad command: ' + e.message }); continue; }
  const h = handlers[req.cmd];
  try {
    if (!h) throw new Error('unknown cmd ' + req.cmd);
    const value = await h(req);
    out({ id: req.id, ok: true, value: value === undefined ? null : value });
  } catch (e) {
    out({ id: req.id, ok: false, error: String(e && e.message || e) });
  }
  if (req.cmd === 'close') break;
}
await browser.close().catch(() => {});
process.exit(0);
