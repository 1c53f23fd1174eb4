package broadcast

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
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
//	GET /v1/ws                              WebSocket (see docs/protocol.md)
//	GET /v1/matches                         MatchList
//	GET /v1/matches/{id}                    Snapshot, 404 when unknown
//	GET /v1/matches/{id}/events?since=&limit=  EventPage
//	GET /                                   the live page (index.html, app.js, style.css)
//
// Requests wait for Run to start; after Run returns they get 503.
func (h *Hub) Handler() http.Handler { return h.handler }

func (h *Hub) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ws", h.serveWS)
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

func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.done:
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "server shutting down")
		return
	default:
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  h.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		h.log.Debug().Err(err).Str("remote", r.RemoteAddr).Msg("websocket accept failed")
		return // Accept has written the response
	}
	conn.SetReadLimit(ReadLimit)
	c := newClient(conn, h.cfg.QueueSize, h.log.With().Str("remote", r.RemoteAddr).Logger())
	r0, err := h.query(r.Context(), command{op: cmdRegister, c: c})
	if err != nil || !r0.ok {
		_ = conn.Close(CloseGoingAway, ReasonShutdown)
		return
	}
	c.log.Debug().Msg("client connected")

	// Reads and writes are ended by closing the connection, never by a
	// context, so they run under one with no deadline and no cancel.
	ctx := context.WithoutCancel(r.Context())
	go c.writeLoop(ctx, h.cfg.PingInterval)
	h.readLoop(ctx, c)

	c.close(websocket.StatusNormalClosure, "")
	<-c.writerDone
	<-c.closed
	// Unregister even while the hub shuts down: Run waits for it. Only a
	// stopped hub gives up, and then nobody is waiting.
	h.tell(ctx, command{op: cmdUnregister, c: c})
	c.log.Debug().Msg("client disconnected")
}

// readLoop reads client requests until the connection fails or closes.
func (h *Hub) readLoop(ctx context.Context, c *client) {
	for {
		typ, data, err := c.conn.Read(ctx)
		if err != nil {
			if s := websocket.CloseStatus(err); s == -1 {
				c.log.Debug().Err(err).Msg("read ended")
			}
			return
		}
		cmd, refusal := parseRequest(typ, data)
		if refusal != nil {
			c.enqueue(refusal)
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

func (h *Hub) serveList(w http.ResponseWriter, r *http.Request) {
	rep, err := h.query(r.Context(), command{op: cmdList})
	if err != nil {
		h.unavailable(w, err)
		return
	}
	writeJSON(w, http.StatusOK, mustMarshal(MatchList{Matches: rep.matches}))
}

func (h *Hub) serveMatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
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
	q := r.URL.Query()
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
	rep, err := h.query(r.Context(), command{op: cmdEvents, match: id, since: since, limit: limit})
	if err != nil {
		h.unavailable(w, err)
		return
	}
	switch {
	case !rep.ok:
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no match %q", id))
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
