// Package pusher is a client for the Pusher Channels WebSocket protocol
// (protocol 7), written on coder/websocket because no maintained Go client
// library exists: the Go SDKs Pusher publishes are server libraries.
//
// A Client keeps one connection to ws[s]://host/app/{key}?protocol=7 open
// for as long as Run runs. It reads pusher:connection_established (socket
// ID and activity_timeout), pings after activity_timeout of silence and
// drops the connection when no pong follows within PongTimeout, answers the
// server's pings, subscribes to public, private- and presence- channels
// (authorising the latter through an HTTP endpoint), and hands every
// channel event to the caller with double-encoded data unwrapped. It
// reconnects as the protocol says: pusher:error or close codes 4000–4099
// end Run (4000 first retries over TLS), 4100–4199 reconnect after a
// backoff, 4200–4299 reconnect at once, anything else (a dropped TCP
// connection, a failed dial) after an exponential backoff. Every channel
// is subscribed again on every new connection.
//
// The package also holds a minimal protocol server (Server), used by the
// SportsGameOdds simulator, and the private-channel signature (Sign).
//
// Concurrency: Run owns every goroutine it starts and returns only after
// they have ended. Its handler is called from one goroutine, one event at
// a time, in the order the server sent them; it must not block for long,
// since the same goroutine answers pings. Subscribe, Unsubscribe, SocketID
// and Stats may be called from any goroutine, before or during Run.
package pusher
