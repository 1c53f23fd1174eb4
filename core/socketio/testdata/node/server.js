// Test peer for core/socketio: the official Socket.IO server, v4 (4.8.4) or
// v2 (2.5.1), on 127.0.0.1 with the Roanuz engine path /v5/websocket and the
// namespace /cricket.
//
// Usage: node server.js <v4|v4-eio3|v2> [port]
//   (or SIO_VERSION / PORT in the environment; port 0 or absent picks a free one)
// Environment: PING_INTERVAL and PING_TIMEOUT in ms (default 300 each).
//
// Prints "listening PORT" on stdout once it accepts connections.
//
// On /, echo_ack only. Behaviour on /cricket, driven by client events:
//   echo ...args          -> emits "echo" with the same args (binary stays binary)
//   echo_ack ...args, ack -> acks with the same args
//   ask ...args           -> emits "question" ...args with an ack callback, then
//                            emits "answer" with whatever the client acked
//   connect_to_match {match_key}
//                         -> emits "on_match_joined" {key}, then "on_match_update"
//                            with a gzip Buffer of {"key": match_key}
//   send_update obj       -> emits "on_match_update" with gzip(JSON(obj)) as a Buffer
//   handshake, ack        -> acks {query, header}: the handshake query and the
//                            X-Ballcast request header
//   send_nested           -> emits "nested" {blob: Buffer [1,2,3], n: 1}
//   spam n                -> emits "spam" i for i in 1..n
//   watch_heartbeat       -> emits "heartbeat" n after each heartbeat the engine sees
//   kick                  -> server-initiated namespace disconnect (41/cricket,)
//   close_engine          -> closes the whole Engine.IO connection
// A connect whose auth.token (v4) or namespace query token (v2) is "bad" is
// refused by middleware with the message "not authorized".
'use strict';

const http = require('http');
const zlib = require('zlib');

const version = process.argv[2] || process.env.SIO_VERSION || 'v4';
const port = Number(process.argv[3] || process.env.PORT || 0);
const pingInterval = Number(process.env.PING_INTERVAL || 300);
const pingTimeout = Number(process.env.PING_TIMEOUT || 300);

const httpServer = http.createServer();
const common = {
  path: '/v5/websocket',
  pingInterval,
  pingTimeout,
  transports: ['websocket'],
  serveClient: false,
};

let io;
switch (version) {
  case 'v4':
  case 'v4-eio3': {
    const { Server } = require('socket.io');
    io = new Server(httpServer, { ...common, allowEIO3: version === 'v4-eio3' });
    break;
  }
  case 'v2':
    io = require('socket.io-v2')(httpServer, common);
    break;
  default:
    console.error(`unknown version ${version}: want v4, v4-eio3 or v2`);
    process.exit(2);
}

// The root namespace only acks, for tests that need a round trip there.
io.on('connection', (socket) => {
  socket.on('echo_ack', (...args) => {
    const ack = args.pop();
    if (typeof ack === 'function') {
      ack(...args);
    }
  });
});

const cricket = io.of('/cricket');

cricket.use((socket, next) => {
  const auth = socket.handshake.auth || {};
  const query = socket.handshake.query || {};
  if (auth.token === 'bad' || query.token === 'bad') {
    const err = new Error('not authorized');
    if (version === 'v4') {
      // v2 would send err.data instead of the message; keep its plain string.
      err.data = { code: 'A-401-0' };
    }
    return next(err);
  }
  next();
});

cricket.on('connection', (socket) => {
  socket.on('echo', (...args) => {
    socket.emit('echo', ...args);
  });

  socket.on('echo_ack', (...args) => {
    const ack = args.pop();
    if (typeof ack === 'function') {
      ack(...args);
    }
  });

  socket.on('ask', (...args) => {
    socket.emit('question', ...args, (...answer) => {
      socket.emit('answer', ...answer);
    });
  });

  socket.on('connect_to_match', (data) => {
    const key = data && data.match_key;
    socket.emit('on_match_joined', { key });
    socket.emit('on_match_update', zlib.gzipSync(JSON.stringify({ key })));
  });

  socket.on('send_update', (obj) => {
    socket.emit('on_match_update', zlib.gzipSync(JSON.stringify(obj)));
  });

  socket.on('handshake', (ack) => {
    const { query, headers } = socket.handshake;
    ack({ query, header: headers['x-ballcast'] || null });
  });

  socket.on('send_nested', () => {
    socket.emit('nested', { blob: Buffer.from([1, 2, 3]), n: 1 });
  });

  socket.on('spam', (n) => {
    for (let i = 1; i <= n; i++) {
      socket.emit('spam', i);
    }
  });

  socket.on('watch_heartbeat', () => {
    let n = 0;
    socket.conn.on('heartbeat', () => {
      n++;
      socket.emit('heartbeat', n);
    });
  });

  socket.on('kick', () => {
    socket.disconnect(false);
  });

  socket.on('close_engine', () => {
    socket.conn.close();
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${httpServer.address().port}\n`);
});

// Exit with the test process: the Go side closes our stdin.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
