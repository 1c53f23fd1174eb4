// Test peer for the Roanuz source: the official Socket.IO v4 server (the
// copy installed for core/socketio, no dependencies of its own) playing the
// Roanuz push service on 127.0.0.1, engine path /v5/websocket, namespace
// /cricket. The Go test drives it over HTTP on the same port.
//
// Usage: node roanuz_socket.js [port]     (0 or absent: a free port)
// Environment: PING_INTERVAL and PING_TIMEOUT in ms (default 300 each),
//              EIO3=1 to also accept Engine.IO v3 clients.
// Prints "listening PORT" on stdout once it accepts connections; exits when
// stdin closes.
//
// Socket behaviour on /cricket:
//   connect_to_match {token, match_key}
//       -> joins room match_key, logs {token, match_key}, emits
//          on_match_joined {key} (unless joining is switched off)
//
// Control endpoints:
//   POST /push  {match, payload, binary}  payload is base64; emits
//               on_match_update to room match: a Buffer if binary, else
//               the decoded bytes as a string. Answers {"sent": n sockets}.
//   POST /error {match, message}          emits on_error with the string message
//   POST /drop                            closes every Engine.IO connection
//   POST /nojoin {off: bool}              stop (true) or resume answering joins
//   GET  /log                             [{token, match_key}] received so far
//   GET  /rooms?match=K                   {"n": sockets in room K}
'use strict';

const http = require('http');
const path = require('path');

const { Server } = require(path.resolve(__dirname, '../../../socketio/testdata/node/node_modules/socket.io'));

const port = Number(process.argv[2] || 0);
const pingInterval = Number(process.env.PING_INTERVAL || 300);
const pingTimeout = Number(process.env.PING_TIMEOUT || 300);

const joins = [];
let noJoin = false;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const s = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(s ? JSON.parse(s) : {});
      } catch (e) {
        reject(e);
      }
    });
    req.on('error', reject);
  });
}

function reply(res, code, obj) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

const httpServer = http.createServer(async (req, res) => {
  if (req.url.startsWith('/v5/websocket')) {
    return; // socket.io's own listener answers
  }
  try {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/log') {
      return reply(res, 200, joins);
    }
    if (req.method === 'GET' && url.pathname === '/rooms') {
      const room = cricket.adapter.rooms.get(url.searchParams.get('match'));
      return reply(res, 200, { n: room ? room.size : 0 });
    }
    if (req.method !== 'POST') {
      return reply(res, 404, { error: 'not found' });
    }
    const body = await readBody(req);
    switch (url.pathname) {
      case '/push': {
        const buf = Buffer.from(body.payload || '', 'base64');
        const room = cricket.adapter.rooms.get(body.match);
        const n = room ? room.size : 0;
        cricket.to(body.match).emit('on_match_update', body.binary ? buf : buf.toString('utf8'));
        return reply(res, 200, { sent: n });
      }
      case '/error':
        cricket.to(body.match).emit('on_error', body.message);
        return reply(res, 200, {});
      case '/drop':
        for (const [, socket] of cricket.sockets) {
          socket.conn.close();
        }
        return reply(res, 200, {});
      case '/nojoin':
        noJoin = !!body.off;
        return reply(res, 200, {});
    }
    return reply(res, 404, { error: 'not found' });
  } catch (e) {
    return reply(res, 500, { error: String(e) });
  }
});

const io = new Server(httpServer, {
  path: '/v5/websocket',
  pingInterval,
  pingTimeout,
  transports: ['websocket'],
  serveClient: false,
  allowEIO3: process.env.EIO3 === '1',
  maxHttpBufferSize: 64 << 20,
});

const cricket = io.of('/cricket');

cricket.on('connection', (socket) => {
  socket.on('connect_to_match', (data) => {
    const key = data && data.match_key;
    joins.push({ token: data && data.token, match_key: key });
    if (noJoin || !key) {
      return;
    }
    socket.join(key);
    socket.emit('on_match_joined', { key });
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
