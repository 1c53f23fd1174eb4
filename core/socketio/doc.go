// Package socketio is a small Socket.IO client over WebSocket
// (github.com/coder/websocket), enough for live data feeds such as Roanuz
// Cricket API v5, and a matching small server (see Server) for simulating
// such feeds.
//
// It speaks Engine.IO v4 (Socket.IO v3/v4 servers, the default) and
// Engine.IO v3 (Socket.IO v2 servers), chosen with Options.EIO; WebSocket
// transport only, no long-polling, no upgrade. It handles namespaces, events
// and acknowledgements in both directions, binary attachments in both
// directions, and each revision's heartbeat.
//
//	conn, err := socketio.Dial(ctx, "http://socket.sports.roanuz.com", &socketio.Options{Path: "/v5/websocket"})
//	if err != nil { ... }
//	defer conn.Close()
//	sock, err := conn.Join(ctx, "/cricket", nil)
//	if err != nil { ... } // a *ConnectError if the server refused
//	if err := sock.Emit(ctx, "connect_to_match", map[string]string{"token": tok, "match_key": key}); err != nil { ... }
//	for ev := range sock.Events() {
//		if ev.Name == "on_match_update" && ev.Args[0].IsBinary() {
//			gz := ev.Args[0].Bytes() // gzip, 1f 8b
//			...
//		}
//	}
//	return sock.Err() // why the namespace or the connection ended
//
// # Lifecycle
//
// Dial connects and reads the Engine.IO open packet. The Conn then lives
// until Close or until it fails: the server closes it, the heartbeat times
// out (pingInterval+pingTimeout of silence), the server breaks the
// protocol, or an event buffer overflows. Done is closed at that point and
// Err says why. The package never reconnects: the caller owns backoff and
// simply dials again, which costs one WebSocket handshake, and joins its
// namespaces and re-subscribes. A Socket ends with its Conn, on Leave, or
// when the server disconnects the namespace (ErrNamespaceDisconnected);
// Socket.Done and Socket.Err report that the same way.
//
// # Concurrency
//
// Each Conn runs two goroutines, both ended by Close or failure and awaited
// by Close:
//   - the read loop, the only reader of the WebSocket. It decodes packets,
//     reassembles binary attachments and routes them to Sockets. It never
//     blocks on the caller and never writes.
//   - keepalive, which answers EIO4 pings, sends EIO3 pings, and watches
//     the heartbeat deadline.
//
// Received events go to a buffered channel per Socket (Socket.Events,
// Options.EventBuffer deep). Drain it promptly and do slow work elsewhere:
// when it is full the read loop does not wait, it ends the connection with
// ErrSlowConsumer, because a stalled read loop would miss heartbeats and
// lose the connection anyway. The channel is closed when the Socket ends.
//
// All exported methods are safe for concurrent use. Emit, EmitWithAck,
// Event.Ack, Join and Leave write on the caller's goroutine, one packet at a
// time (a binary packet and its attachments are never interleaved with
// another packet), and block only until the frames are written or ctx ends.
// If ctx ends in the middle of a write the connection is closed, since a
// half-written packet cannot be taken back.
//
// # Server
//
// NewServer returns a Server, an http.Handler speaking the same wire
// formats from the other side, for simulators and tests (WebSocket only:
// long-polling and upgrades are refused with HTTP 400). Engine.IO v4 always,
// v3 too with ServerOptions.AllowEIO3, chosen per connection by the EIO
// query parameter; EIO3 connections get the unsolicited CONNECT for "/"
// that Socket.IO v2 servers send.
//
//	srv := socketio.NewServer(&socketio.ServerOptions{Path: "/v5/websocket", AllowEIO3: true})
//	srv.Namespace("/cricket").OnConnect(func(s *socketio.ServerSocket) error {
//		if s.Query().Get("token") == "bad" { return errors.New("not authorized") }
//		go serve(s) // reads s.Events(), emits; ends when s.Done() closes
//		return nil
//	})
//	http.Handle("/v5/websocket/", srv)
//
// Each connection runs on two goroutines: the ServeHTTP goroutine is its
// read loop (the only reader; it returns when the connection ends), and
// keepalive sends EIO4 pings, answers EIO3 pings and ends a connection
// whose client is silent for pingInterval+pingTimeout. Unlike the client's,
// the server's read loop also writes, one packet at a time: the CONNECT or
// CONNECT_ERROR reply to a namespace join, bounded by PingTimeout. It calls
// Namespace.OnConnect on its own goroutine, so OnConnect must return
// promptly; Emit and Disconnect wait for the CONNECT reply and therefore
// belong on a goroutine OnConnect starts. Received events go to a buffered
// channel per ServerSocket with the client's slow-consumer rule.
// ServerSocket methods are safe for concurrent use and write like the
// client's (one packet and its attachments at a time, on the caller's
// goroutine). Server.CloseAll, Server.DropAll, Server.Close,
// ServerSocket.CloseConn and ServerSocket.Drop return once the connections
// they end have no goroutine left, so none of them may be called from
// OnConnect.
//
// # Arguments
//
// Outgoing: a []byte argument becomes a binary attachment, an Arg is
// re-sent as it was received, a json.RawMessage goes verbatim, anything else
// goes through encoding/json. Incoming: an Arg is either JSON
// (Arg.JSON, Arg.Decode) or binary (Arg.IsBinary, Arg.Bytes); attachments
// nested inside JSON are rewritten as base64 strings so a []byte field
// decodes them.
//
// # Wire notes
//
// The handshake URL is {scheme}://{host}{Path}/?EIO=4&transport=websocket
// with Options.Query added. EIO3 binary frames carry a leading 0x04 byte,
// which this package adds and strips. A Socket.IO v3/v4 server without
// allowEIO3 answers EIO=3 with an HTTP 400 written into the upgraded
// stream; Dial reports that as ErrProtocolVersion. A Socket.IO v2 server
// dialed with EIO 4 speaks EIO3 anyway; its unsolicited CONNECT for "/"
// ends the connection with ErrProtocolVersion.
package socketio
