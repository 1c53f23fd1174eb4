// ballcast-client.js: a small, dependency-free client for the ballcast
// frontend protocol (docs/protocol.md). An ES module; embed it as is:
//
//   import { BallcastClient } from 'https://your-ballcast-host/ballcast-client.js';
//
//   const client = new BallcastClient({
//     onSnapshot: (snap) => { /* replace what you show for snap.match */ },
//     onEvent: (ev) => { /* apply one event, seq order, never twice */ },
//     onReset: (match) => { /* drop state for match; a snapshot follows */ },
//     onStatus: (status, detail) => { /* 'connecting' | 'live' | 'reconnecting' | 'closed' */ },
//   });
//   client.subscribe('1298179');
//   client.connect();
//
// What it does for you:
//   - keeps the highest applied seq per match and drops overlaps, so
//     onEvent sees every event exactly once and in order;
//   - reconnects with exponential backoff and jitter (at once after close
//     code 4008, "slow consumer") and resubscribes with since = last seq
//     (plus epoch when the server sent one), so the server replays the gap;
//   - handles a reset: an explicit {"op":"reset"} frame, or a snapshot with
//     "reset":true from older servers. onReset fires, then onSnapshot with
//     the fresh state;
//   - re-syncs by itself if it ever sees a gap (it should not).
//
// See docs/frontend.md for the full API.

/** Connection status values passed to onStatus. */
export const Status = Object.freeze({
  CONNECTING: 'connecting',
  LIVE: 'live',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
});

const noop = () => {};

/** The default WebSocket URL: /v1/ws on the origin that served the page. */
export function defaultURL() {
  return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/v1/ws';
}

export class BallcastClient {
  /**
   * @param {object} [opts]
   * @param {string} [opts.url] WebSocket URL; default /v1/ws on this origin.
   * @param {string | (() => string)} [opts.token] an API key or JWT for a server
   *   with credentials configured, sent as the access_token query parameter
   *   (browsers cannot set headers on a WebSocket). A function is called at
   *   every (re)connect, so a refreshed JWT is picked up.
   * @param {number} [opts.minBackoff=500] first reconnect delay, ms.
   * @param {number} [opts.maxBackoff=30000] longest reconnect delay, ms.
   * @param {(snap: object) => void} [opts.onSnapshot] a snapshot frame: the whole
   *   state of snap.match at snap.seq. Replace what you hold for that match.
   * @param {(ev: object) => void} [opts.onEvent] an event frame, in seq order.
   * @param {(match: string, frame: object) => void} [opts.onReset] drop what you
   *   hold for match; a snapshot follows.
   * @param {(delta: object) => void} [opts.onDelta] streaming commentary tokens
   *   {op:'delta', match, id, text}; the event with that id replaces them.
   * @param {(frame: object) => void} [opts.onResumed] a resume was accepted.
   * @param {(frame: object) => void} [opts.onError] an error frame.
   * @param {(status: string, detail: object) => void} [opts.onStatus] connection
   *   status changes; detail has {code, delay} when reconnecting.
   */
  constructor(opts = {}) {
    this.url = opts.url || defaultURL();
    this.token = opts.token;
    this.minBackoff = opts.minBackoff ?? 500;
    this.maxBackoff = opts.maxBackoff ?? 30000;
    this.onSnapshot = opts.onSnapshot || noop;
    this.onEvent = opts.onEvent || noop;
    this.onReset = opts.onReset || noop;
    this.onDelta = opts.onDelta || noop;
    this.onResumed = opts.onResumed || noop;
    this.onError = opts.onError || ((f) => console.warn('ballcast:', f.code, f.message));
    this.onStatus = opts.onStatus || noop;

    this.status = Status.CLOSED;
    this.ws = null;
    this.open = false;
    this.closed = true;   // close() called, or connect() never called
    this.backoff = this.minBackoff;
    this.timer = 0;
    this.reconnects = 0;  // how many times the connection was re-established
    // Per match: { seq, epoch, synced, resyncing }. synced: a snapshot has
    // been applied, so seq is a valid resume point.
    this.subs = new Map();
  }

  /** Opens the connection (and keeps it open until close()). */
  connect() {
    this.closed = false;
    clearTimeout(this.timer);
    if (this.ws) return;
    this._setStatus(Status.CONNECTING, {});
    let ws;
    try {
      ws = new WebSocket(this._connectURL());
    } catch (e) {
      this._retry(0);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.open = true;
      if (this.everOpened) this.reconnects++;
      this.everOpened = true;
      this.backoff = this.minBackoff;
      this._setStatus(Status.LIVE, {});
      for (const match of this.subs.keys()) this._sendSubscribe(match);
    };
    ws.onmessage = (m) => {
      if (this.ws !== ws) return;
      let f;
      try { f = JSON.parse(m.data); } catch (e) { return; }
      this._frame(f);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.open = false;
      if (!this.closed) this._retry(e.code);
    };
  }

  /**
   * Follows a match. Without since, the server answers with a snapshot; with
   * since (the last seq you hold, e.g. from storage) it replays what you
   * missed. Subscribing again to a followed match is a no-op.
   * @param {string} match
   * @param {{since?: number, epoch?: string, mode?: 'all'|'latest'}} [from]
   *   since/epoch: resume from a position saved earlier (see position());
   *   mode 'latest': only the newest state matters, so the server may skip
   *   events when the client lags (seq then jumps, which is not a gap).
   */
  subscribe(match, from) {
    if (this.subs.has(match)) return;
    const s = { seq: 0, epoch: undefined, synced: false, resyncing: false, mode: (from && from.mode) || 'all' };
    if (from && Number.isInteger(from.since)) {
      s.seq = from.since;
      s.epoch = from.epoch;
      s.synced = true;
    }
    this.subs.set(match, s);
    if (this.open) this._sendSubscribe(match);
  }

  /** Stops following a match; nothing more is delivered for it. */
  unsubscribe(match) {
    if (!this.subs.delete(match)) return;
    this._send({ action: 'unsubscribe', match });
  }

  /** The resume point of a match: {seq, epoch}, or undefined. */
  position(match) {
    const s = this.subs.get(match);
    return s && s.synced ? { seq: s.seq, epoch: s.epoch } : undefined;
  }

  /** Closes the connection for good; connect() opens it again. */
  close() {
    this.closed = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.open = false;
    if (ws) ws.close(1000);
    this._setStatus(Status.CLOSED, {});
  }

  // ---- internals ---------------------------------------------------------

  _connectURL() {
    const token = typeof this.token === 'function' ? this.token() : this.token;
    if (!token) return this.url;
    const u = new URL(this.url, location.href);
    u.searchParams.set('access_token', token);
    return u.toString();
  }

  _send(obj) {
    if (this.ws && this.open) this.ws.send(JSON.stringify(obj));
  }

  _sendSubscribe(match) {
    const s = this.subs.get(match);
    if (!s) return;
    const req = { action: 'subscribe', match };
    if (s.mode !== 'all') req.mode = s.mode;
    if (s.synced) {
      // Resume: the server replays (since, now], or resets us.
      req.since = s.seq;
      if (s.epoch !== undefined) req.epoch = s.epoch;
    }
    this._send(req);
  }

  _frame(f) {
    const s = f.match !== undefined ? this.subs.get(f.match) : undefined;
    switch (f.op) {
      case 'reset':
        // Explicit reset: the server cannot resume us; a snapshot follows.
        if (!s) return;
        s.synced = false;
        s.seq = 0;
        s.epoch = undefined; // the snapshot brings the new one
        s.resetPending = true;
        this.onReset(f.match, f);
        break;
      case 'snapshot':
        if (!s) return;
        // An older server marks a reset on the snapshot itself.
        if (f.reset && !s.resetPending) this.onReset(f.match, f);
        s.resetPending = false;
        s.resyncing = false;
        s.synced = true;
        s.seq = f.seq || 0;
        if (f.epoch !== undefined) s.epoch = f.epoch;
        this.onSnapshot(f);
        break;
      case 'resumed':
        if (!s) return;
        s.resyncing = false;
        if (f.epoch !== undefined) s.epoch = f.epoch;
        this.onResumed(f);
        break;
      case 'event':
        if (!s || !s.synced) return;
        if (f.seq <= s.seq) return; // an overlap: already applied
        if (f.seq !== s.seq + 1 && s.mode !== 'latest') {
          // A gap should never happen; ask again from what we hold.
          if (!s.resyncing) {
            s.resyncing = true;
            this._sendSubscribe(f.match);
          }
          return;
        }
        s.seq = f.seq;
        if (f.epoch !== undefined) s.epoch = f.epoch;
        this.onEvent(f);
        break;
      case 'delta':
        if (s && s.synced) this.onDelta(f);
        break;
      case 'unsubscribed':
        break;
      case 'error':
        this.onError(f);
        break;
    }
  }

  _retry(code) {
    // 4008 (slow consumer): we fell behind; come back at once and resume.
    const base = code === 4008 ? 100 : this.backoff;
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    if (code !== 4008) this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    this._setStatus(Status.RECONNECTING, { code, delay });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  _setStatus(status, detail) {
    this.status = status;
    this.onStatus(status, detail);
  }
}
