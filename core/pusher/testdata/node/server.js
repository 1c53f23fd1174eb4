// soketi (a Pusher Channels protocol server from npm) as the real peer of
// the core/pusher tests. Usage: node server.js PORT (0 picks a free port).
// Prints "listening PORT" once it accepts connections. SIGTERM stops it
// the way soketi shuts down (pusher:error 4200 to every client, then
// close 4200); closing stdin ends the process at once.
//
// Apps (id / key / secret):
//   app-id   / app-key   / app-secret    the normal app
//   quota-id / quota-key / quota-secret  at most one connection (4100)
//   off-id   / off-key   / off-secret    disabled (4003)
'use strict';
const { Server } = require('@soketi/soketi');

// soketi finds its cluster peers with UDP broadcasts (node-discover). The
// tests run one node with the local adapter, so discovery is switched off:
// nothing leaves the loopback interface.
Server.prototype.configureDiscovery = function () {
  this.nodes.set('self', { isMaster: true });
  return Promise.resolve();
};

const uWS = require('uWebSockets.js');
const port = parseInt(process.argv[2] || '0', 10);
const app = (id, extra) => Object.assign({
  id: id + '-id', key: id + '-key', secret: id + '-secret',
  maxConnections: -1, enableClientMessages: false, enabled: true,
  maxBackendEventsPerSecond: -1, maxClientEventsPerSecond: -1,
  maxReadRequestsPerSecond: -1, webhooks: [],
}, extra);

const server = new Server({
  host: '127.0.0.1',
  port,
  'metrics.host': '127.0.0.1',
  'metrics.port': 0,
  shutdownGracePeriod: 10,
  'appManager.array.apps': [app('app'), app('quota', { maxConnections: 1 }), app('off', { enabled: false })],
});
server.start(() => {
  if (!server.serverProcess) {
    console.error('soketi could not listen on port ' + port);
    process.exit(1);
  }
  console.log('listening ' + uWS.us_socket_local_port(server.serverProcess));
});
process.on('SIGTERM', () => { server.stop().then(() => process.exit(0)); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
