// Test client for core/socketio's Server: the official Socket.IO client,
// v4 (socket.io-client 4.8.x, EIO=4) or v2 (socket.io-client 2.5.0, EIO=3).
//
// Usage: node client.js <v4|v2> <url> <path> <namespace> [normal|refused]
//
// Connects with token "abc": auth {token} (v4) or query token= (v2).
// Prints one JSON object per line on stdout, then exits 0 (2 on a deadline).
// normal: on connect prints {"event":"connect"}; emits "connect_to_match"
//   {match_key:"m1"} with an ack and prints {"event":"ack","args":[...]};
//   on "on_match_update" (a Buffer) prints {"event":"on_match_update",
//   "buffer":true,"hex":...}, emits "update_seen" {hex} and "upload"
//   with Buffer [1,2,3] (binary); on "question" (x, ack) prints
//   {"event":"question","args":[x]} and acks "answer", Buffer [9,8,7];
//   on disconnect prints {"event":"disconnect","reason":...} and exits.
// refused: prints {"event":"connect_error","message":...} (v4
//   connect_error, v2 "error" event) and exits.
'use strict';

const [version, url, path, nsp, mode = 'normal'] = process.argv.slice(2);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

const opts = { path, transports: ['websocket'], reconnection: false, forceNew: true };
let socket;
if (version === 'v2') {
  opts.query = { token: 'abc' }; // v2: handshake and namespace query
  socket = require('socket.io-client-v2')(url + nsp, opts);
} else {
  opts.auth = { token: 'abc' }; // v4: the CONNECT payload
  socket = require('socket.io-client').io(url + nsp, opts);
}

const deadline = setTimeout(() => {
  out({ event: 'deadline' });
  process.exit(2);
}, 15000);

function finish() {
  clearTimeout(deadline);
  socket.close();
  process.exit(0);
}

function errMessage(err) {
  if (typeof err === 'string') return err;
  if (err && typeof err.message === 'string') return err.message;
  return String(err);
}

socket.on('connect_error', (err) => {
  out({ event: 'connect_error', message: errMessage(err) });
  finish();
});
socket.on('error', (err) => {
  out({ event: 'connect_error', message: errMessage(err) });
  finish();
});

if (mode === 'normal') {
  socket.on('connect', () => {
    out({ event: 'connect', id: socket.id || '' });
    socket.emit('connect_to_match', { match_key: 'm1' }, (...args) => {
      out({ event: 'ack', args });
    });
  });
  socket.on('on_match_update', (buf) => {
    const isBuf = Buffer.isBuffer(buf);
    const hex = isBuf ? buf.toString('hex') : '';
    out({ event: 'on_match_update', buffer: isBuf, hex });
    socket.emit('update_seen', { hex });
    socket.emit('upload', Buffer.from([1, 2, 3]));
  });
  socket.on('question', (x, ack) => {
    out({ event: 'question', args: [x] });
    ack('answer', Buffer.from([9, 8, 7]));
  });
  socket.on('disconnect', (reason) => {
    out({ event: 'disconnect', reason });
    finish();
  });
}
