package broadcast

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// sseRetry is the reconnection delay the server asks EventSource to use.
const sseRetry = time.Second

// sseFlushAt is how many bytes of SSE messages are gathered before a write
// when a client has many frames queued (a replay).
const sseFlushAt = 64 << 10

// badEpoch stands for an unparsable Last-Event-ID: it is never a valid
// epoch, so the resume is answered with a reset (ReasonEpochChanged).
const badEpoch = "\x00"

// serveSSE serves /v1/sse/matches/{id}: one match as Server-Sent Events,
// resumable with Last-Event-ID. The handler goroutine is the writer.
func (h *Hub) serveSSE(w http.ResponseWriter, r *http.Request) {
	if h.stopped(w) {
		return
	}
	sub, ok := h.matchRequest(w, r)
	if !ok {
		return
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		epoch, seq, ok := parseEventID(id)
		if !ok {
			epoch, seq = badEpoch, 0
		}
		sub.since, sub.hasSince, sub.epoch = seq, true, epoch
	}
	t, ok := h.admit(w, r)
	if !ok {
		return
	}
	defer t.Release()
	if !t.Allowed(sub.match) {
		h.forbidden(w, sub.match)
		return
	}

	s := &sseConn{rc: http.NewResponseController(w), w: w, timeout: max(h.cfg.PingInterval, 10*time.Second)}
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	buf := make([]byte, 0, 4096)
	buf = append(buf, "retry: "...)
	buf = strconv.AppendInt(buf, sseRetry.Milliseconds(), 10)
	buf = append(buf, "\n\n"...)
	if err := s.write(buf, true); err != nil {
		h.log.Debug().Err(err).Str("remote", r.RemoteAddr).Msg("sse: cannot stream")
		return
	}

	c := newClient(TransportSSE, h.cfg.QueueSize, h.log.With().Str("remote", r.RemoteAddr).Str("transport", TransportSSE).Logger(), &h.stats)
	c.ticket = t
	c.closer = func(websocket.StatusCode, string) {
		s.abort()
		close(c.closed)
	}
	r0, err := h.query(r.Context(), command{op: cmdRegister, c: c})
	if err != nil || !r0.ok {
		return
	}
	c.log.Debug().Str("match", sub.match).Msg("client connected")
	defer closeAtExpiry(t, c)()
	ctx := context.WithoutCancel(r.Context())
	sub.c = c
	if h.tell(ctx, sub) {
		h.sseLoop(r.Context(), c, s, buf)
	}
	c.close(websocket.StatusNormalClosure, "")
	s.finish()
	close(c.writerDone)
	h.tell(ctx, command{op: cmdUnregister, c: c})
	c.log.Debug().Msg("client disconnected")
}

// sseLoop writes queued frames and heartbeats until the client goes, the
// hub closes c, or a write fails.
func (h *Hub) sseLoop(ctx context.Context, c *client, s *sseConn, buf []byte) {
	ticker := time.NewTicker(h.cfg.PingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.closing:
			return
		case <-ctx.Done():
			return
		case <-ticker.C:
			if err := s.write(append(buf[:0], ": ping\n\n"...), true); err != nil {
				c.log.Debug().Err(err).Msg("heartbeat failed")
				return
			}
		case <-c.ready:
			items := c.take()
			buf = buf[:0]
			n := 0
			for i := range items {
				it := &items[i]
				buf = h.appendSSE(buf, it.op, it.seq, it.frame)
				for k, f := range it.batch {
					buf = h.appendSSE(buf, it.batchOp, it.batchSeq+uint64(k), f)
					if len(buf) >= sseFlushAt {
						if err := s.write(buf, false); err != nil {
							c.log.Debug().Err(err).Msg("write failed")
							return
						}
						buf = buf[:0]
					}
				}
				n += it.frames()
				if len(buf) >= sseFlushAt {
					if err := s.write(buf, false); err != nil {
						c.log.Debug().Err(err).Msg("write failed")
						return
					}
					buf = buf[:0]
				}
			}
			// One flush for everything that was queued.
			if err := s.write(buf, true); err != nil {
				c.log.Debug().Err(err).Msg("write failed")
				return
			}
			h.stats.framesSent.Add(uint64(n))
			if cap(buf) > 4*sseFlushAt {
				buf = make([]byte, 0, 4096)
			}
		}
	}
}

// appendSSE appends one SSE message: id <epoch>:<seq> (not for errors,
// unsubscribes and deltas, which are not part of the numbered stream),
// the op as the event name, the JSON frame as data. Frames are one line:
// encoding/json escapes newlines inside strings.
func (h *Hub) appendSSE(b []byte, op string, seq uint64, frame []byte) []byte {
	if op != OpError && op != OpUnsubscribed && op != OpDelta {
		b = append(b, "id: "...)
		b = append(b, h.epoch...)
		b = append(b, ':')
		b = strconv.AppendUint(b, seq, 10)
		b = append(b, '\n')
	}
	b = append(b, "event: "...)
	b = append(b, op...)
	b = append(b, "\ndata: "...)
	b = append(b, frame...)
	return append(b, "\n\n"...)
}

// parseEventID splits an SSE id "<epoch>:<seq>"; the epoch may contain ':'.
func parseEventID(id string) (epoch string, seq uint64, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i < 0 {
		return "", 0, false
	}
	seq, err := strconv.ParseUint(id[i+1:], 10, 64)
	if err != nil || !validEpoch(id[:i]) {
		return "", 0, false
	}
	return id[:i], seq, true
}

// sseConn is the response of one SSE client. Writes happen on the handler
// goroutine; abort, from the hub goroutine, ends a write that is stuck on
// a client that does not read by moving the write deadline to now.
type sseConn struct {
	rc      *http.ResponseController
	w       http.ResponseWriter
	timeout time.Duration // per write

	mu      sync.Mutex
	aborted bool
	done    bool // the handler is returning: rc must not be used
}

// write writes b, then flushes if flush is set, each under a deadline.
func (s *sseConn) write(b []byte, flush bool) error {
	if err := s.arm(); err != nil {
		return err
	}
	if len(b) > 0 {
		if _, err := s.w.Write(b); err != nil {
			return err
		}
	}
	if flush {
		return s.rc.Flush()
	}
	return nil
}

// arm sets the write deadline for the next write, unless aborted.
func (s *sseConn) arm() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.aborted {
		return errSSEAborted
	}
	// Not every ResponseWriter supports deadlines (an httptest recorder);
	// then a stuck write is ended only by the connection going away.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	return nil
}

func (s *sseConn) abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aborted = true
	if !s.done {
		_ = s.rc.SetWriteDeadline(time.Now())
	}
}

func (s *sseConn) finish() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
}

var errSSEAborted = errors.New("broadcast: sse response ended")
