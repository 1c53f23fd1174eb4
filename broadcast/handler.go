package broadcast

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"

	"github.com/coder/websocket"
)

//go:embed web
var webFS embed.FS

// Query limits of GET /v1/matches/{id}/events.
const (
	DefaultEventsLimit = 100
	MaxEventsLimit     = 1000
)

// Handler returns the hub's HTTP handler:
//
//	GET /v1/ws                                   WebSocket (see docs/protocol.md)
//	GET /v1/ws/match/{id}?since=&epoch=&mode=    WebSocket following one match
//	GET /v1/sse/matches/{id}?since=&epoch=&mode= Server-Sent Events following one match
//	GET /v1/matches                              MatchList
//	GET /v1/matches/{id}                         Snapshot, 404 when unknown
//	GET /v1/matches/{id}/events?since=&limit=&epoch=  EventPage
//	GET /                                        the live page (index.html, app.js, style.css)
//
// Every /v1/ request goes through the Guard (SetGuard), the page does not.
// Requests wait for Run to start; after Run returns they get 503.
func (h *Hub) Handler() http.Handler { return h.handler }

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ws", h.serveWS)
	mux.HandleFunc("GET /v1/ws/match/{id}", h.serveMatchWS)
	mux.HandleFunc("GET /v1/sse/matches/{id}", h.serveSSE)
	mux.HandleFunc("GET /v1/matches", h.serveList)
	mux.HandleFunc("GET /v1/matches/{id}", h.serveMatch)
	mux.HandleFunc("GET /v1/matches/{id}/events", h.serveEvents)
	web, err := fs.Sub(webFS, "web")
	if err != nil {
		panic(err) // embedded at build time
	}
	files := http.FileServerFS(web)
	mux.Handle("GET /", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-cache")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
		files.ServeHTTP(w, r)
	}))
	return mux
}

// stopped answers 503 once Run has returned.
func (h *Hub) stopped(w http.ResponseWriter) bool {
	select {
	case <-h.done:
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "server shutting down")
		return true
	default:
		return false
	}
}

// serveWS serves /v1/ws: subscriptions come from the client's frames.
func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	if h.stopped(w) {
		return
	}
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	h.runWS(w, r, t, nil)
}

// serveMatchWS serves /v1/ws/match/{id}: one subscription, made on connect.
func (h *Hub) serveMatchWS(w http.ResponseWriter, r *http.Request) {
	if h.stopped(w) {
		return
	}
	sub, ok := h.matchRequest(w, r)
	if !ok {
		return
	}
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	if !t.Allowed(sub.match) {
		t.Release()
		h.forbidden(w, sub.match)
		return
	}
	h.runWS(w, r, t, &sub)
}

// runWS upgrades r, registers the connection and hands it to serveWSConn
// on a new goroutine. With sub set, the connection follows that one match
// and takes no requests.
//
// The handler returns once the connection is hijacked, so its goroutine,
// whose stack grew through the upgrade, ends; the read loop, which waits
// for the connection's whole life, starts on a small stack.
func (h *Hub) runWS(w http.ResponseWriter, r *http.Request, t Ticket, sub *command) {
	cw := &corkWriter{ResponseWriter: w}
	conn, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		OriginPatterns:  h.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		t.Release()
		h.log.Debug().Err(err).Str("remote", r.RemoteAddr).Msg("websocket accept failed")
		return // Accept has written the response
	}
	conn.SetReadLimit(ReadLimit)
	c := newClient(TransportWS, h.cfg.QueueSize, h.log.With().Str("remote", r.RemoteAddr).Logger(), &h.stats)
	c.conn, c.cork, c.ticket = conn, cw.cork, t
	c.closer = c.wsCloser
	// Reads and writes are ended by closing the connection, never by a
	// context, so they run under one with no deadline and no cancel.
	ctx := context.WithoutCancel(r.Context())
	c.writer = func() { c.writeQueued(ctx) }
	r0, err := h.query(r.Context(), command{op: cmdRegister, c: c})
	if err != nil || !r0.ok {
		t.Release()
		_ = conn.Close(CloseGoingAway, ReasonShutdown)
		return
	}
	var follow command
	if sub != nil {
		follow = *sub
		follow.c = c
	}
	go h.serveWSConn(ctx, c, follow)
}

// serveWSConn serves a registered WebSocket until it closes: it subscribes
// to follow.match when set, reads requests, then unregisters.
func (h *Hub) serveWSConn(ctx context.Context, c *client, follow command) {
	defer c.ticket.Release()
	c.log.Debug().Msg("client connected")
	defer closeAtExpiry(c.ticket, c)()
	pings := c.startPings(ctx, h.cfg.PingInterval)
	if follow.c != nil {
		if h.tell(ctx, follow) {
			h.readLoop(ctx, c, true)
		}
	} else {
		h.readLoop(ctx, c, false)
	}

	c.close(websocket.StatusNormalClosure, "")
	pings.stop()
	c.stopWriter()
	<-c.closed
	// Unregister even while the hub shuts down: Run waits for it. Only a
	// stopped hub gives up, and then nobody is waiting.
	h.tell(ctx, command{op: cmdUnregister, c: c})
	c.log.Debug().Msg("client disconnected")
}

// readLoop reads client requests until the connection fails or closes.
// On a single-match connection (fixed) every data frame is refused.
func (h *Hub) readLoop(ctx context.Context, c *client, fixed bool) {
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 {
				c.log.Debug().Err(err).Msg("read ended")
			}
			return
		}
		if fixed {
			c.enqueue(errorFrame(CodeBadRequest, "this connection follows one match, subscribed on connect; it takes no requests", ""))
			continue
		}
		cmd, refusal := parseRequest(typ, data)
		if refusal != nil {
			c.enqueue(refusal)
			continue
		}
		if cmd.op == cmdSubscribe && !c.ticket.Allowed(cmd.match) {
			h.stats.subRefused.Add(1)
			c.enqueue(errorFrame(CodeForbidden, fmt.Sprintf("not allowed to follow match %q", cmd.match), cmd.match))
			continue
		}
		cmd.c = c
		if !h.tell(ctx, cmd) {
			return
		}
	}
}

// parseRequest turns a client frame into a hub command, or into the error
// frame that refuses it.
func parseRequest(typ websocket.MessageType, data []byte) (command, []byte) {
	if typ != websocket.MessageText {
		return command{}, errorFrame(CodeBadRequest, "send JSON text frames", "")
	}
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return command{}, errorFrame(CodeBadJSON, "frame is not a JSON request: "+err.Error(), "")
	}
	cmd := command{match: req.Match}
	switch req.Action {
	case ActionSubscribe:
		cmd.op = cmdSubscribe
		if req.Since != nil {
			cmd.since, cmd.hasSince = *req.Since, true
		}
		if req.Epoch != "" && !validEpoch(req.Epoch) {
			return command{}, errorFrame(CodeBadRequest, fmt.Sprintf("epoch must be 1 to %d printable ASCII characters without spaces", MaxEpoch), req.Match)
		}
		cmd.epoch = req.Epoch
		latest, ok := parseMode(req.Mode)
		if !ok {
			return command{}, errorFrame(CodeBadRequest, fmt.Sprintf("mode must be %q or %q", ModeAll, ModeLatest), req.Match)
		}
		cmd.latest = latest
	case ActionUnsubscribe:
		cmd.op = cmdUnsubscribe
	default:
		return command{}, errorFrame(CodeUnknownAction, fmt.Sprintf("unknown action %q: want subscribe or unsubscribe", req.Action), "")
	}
	if req.Match == "" || len(req.Match) > MaxMatchID {
		return command{}, errorFrame(CodeBadRequest, fmt.Sprintf("match must be 1 to %d bytes", MaxMatchID), "")
	}
	return cmd, nil
}

// parseMode reports whether mode asks for latest-value delivery, and
// whether it is a mode at all ("" is ModeAll).
func parseMode(mode string) (latest, ok bool) {
	switch mode {
	case "", ModeAll:
		return false, true
	case ModeLatest:
		return true, true
	}
	return false, false
}

// matchRequest parses a single-match endpoint's path and query (since,
// epoch, mode) into a subscribe command; on error it answers 400.
func (h *Hub) matchRequest(w http.ResponseWriter, r *http.Request) (command, bool) {
	id := r.PathValue("id")
	if id == "" || len(id) > MaxMatchID {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("match must be 1 to %d bytes", MaxMatchID))
		return command{}, false
	}
	cmd := command{op: cmdSubscribe, match: id}
	q := r.URL.Query()
	if s := q.Get("since"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "since must be a non-negative integer")
			return command{}, false
		}
		cmd.since, cmd.hasSince = v, true
	}
	if e := q.Get("epoch"); e != "" {
		if !validEpoch(e) {
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("epoch must be 1 to %d printable ASCII characters without spaces", MaxEpoch))
			return command{}, false
		}
		cmd.epoch = e
	}
	latest, ok := parseMode(q.Get("mode"))
	if !ok {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("mode must be %q or %q", ModeAll, ModeLatest))
		return command{}, false
	}
	cmd.latest = latest
	return cmd, true
}

func (h *Hub) forbidden(w http.ResponseWriter, id string) {
	h.stats.subRefused.Add(1)
	writeError(w, http.StatusForbidden, CodeForbidden, fmt.Sprintf("not allowed to follow match %q", id))
}

func (h *Hub) serveList(w http.ResponseWriter, r *http.Request) {
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	rep, err := h.query(r.Context(), command{op: cmdList})
	if err != nil {
		h.unavailable(w, err)
		return
	}
	list := slices.DeleteFunc(rep.matches, func(m MatchSummary) bool { return !t.Allowed(m.ID) })
	writeJSON(w, http.StatusOK, mustMarshal(MatchList{Matches: list}))
}

func (h *Hub) serveMatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	if !t.Allowed(id) {
		h.forbidden(w, id)
		return
	}
	rep, err := h.query(r.Context(), command{op: cmdSnapshot, match: id})
	if err != nil {
		h.unavailable(w, err)
		return
	}
	if !rep.ok {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no match %q", id))
		return
	}
	writeJSON(w, http.StatusOK, rep.body)
}

func (h *Hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	if !t.Allowed(id) {
		h.forbidden(w, id)
		return
	}
	q := r.URL.Query()
	epoch := q.Get("epoch")
	if epoch != "" && !validEpoch(epoch) {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("epoch must be 1 to %d printable ASCII characters without spaces", MaxEpoch))
		return
	}
	var since uint64
	if s := q.Get("since"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, "since must be a non-negative integer")
			return
		}
		since = v
	}
	limit := DefaultEventsLimit
	if s := q.Get("limit"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > MaxEventsLimit {
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("limit must be 1 to %d", MaxEventsLimit))
			return
		}
		limit = v
	}
	rep, err := h.query(r.Context(), command{op: cmdEvents, match: id, since: since, limit: limit, epoch: epoch})
	if err != nil {
		h.unavailable(w, err)
		return
	}
	switch {
	case !rep.ok:
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no match %q", id))
		return
	case rep.epochOff:
		writeError(w, http.StatusGone, CodeEpochChanged,
			fmt.Sprintf("the stream's epoch is %q, not %q: its seqs were renumbered; fetch the snapshot", h.epoch, epoch))
		return
	case rep.gone:
		writeError(w, http.StatusGone, CodeHistoryGone,
			fmt.Sprintf("events after %d are no longer held; the oldest is %d: use since >= %d or fetch the snapshot", since, rep.firstSeq, rep.firstSeq-1))
		return
	}
	// The frames are already JSON: splice them in rather than re-encode.
	n := 64 + len(id)
	for _, f := range rep.frames {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"match":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"epoch":`...)
	b = append(b, h.quotedEpoch...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, rep.seq, 10)
	b = append(b, `,"first_seq":`...)
	b = strconv.AppendUint(b, rep.firstSeq, 10)
	b = append(b, `,"events":[`...)
	for i, f := range rep.frames {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f...)
	}
	b = append(b, "]}"...)
	writeJSON(w, http.StatusOK, b)
}

func (h *Hub) unavailable(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrClosed) {
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "server shutting down")
		return
	}
	// The request's context ended: the client has gone, nobody reads this.
	writeError(w, http.StatusServiceUnavailable, CodeUnavailable, err.Error())
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, mustMarshal(ErrorFrame{Code: code, Message: msg}))
}
