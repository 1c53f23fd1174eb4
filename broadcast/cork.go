package broadcast

import (
	"bufio"
	"net"
	"net/http"
	"sync"
)

// corkConn is a WebSocket's TCP connection that can hold writes back: while
// held, what coder/websocket flushes (one write per message) collects in a
// buffer, and release writes it at once. The writer goroutine holds it
// around a batch of queued frames, so a burst costs one write, not one per
// frame. Writes from other goroutines (pongs from the read loop, the close
// frame) go through the same buffer while it is held, in order.
type corkConn struct {
	net.Conn
	mu  sync.Mutex
	buf *[]byte // non-nil while held; from corkPool
}

// corkBufSize is how much a held connection gathers before it writes: a
// few TCP segments. Buffers are pooled, so only connections in the middle
// of a batch hold one.
const corkBufSize = 16 << 10

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, corkBufSize); return &b }}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	if len(*c.buf)+len(p) > corkBufSize {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > corkBufSize {
			return c.Conn.Write(p)
		}
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}

func (c *corkConn) hold() {
	c.mu.Lock()
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	c.mu.Unlock()
}

// release writes what was held back and stops holding.
func (c *corkConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return nil
	}
	err := c.flushLocked()
	*c.buf = (*c.buf)[:0]
	corkPool.Put(c.buf)
	c.buf = nil
	return err
}

func (c *corkConn) flushLocked() error {
	b := *c.buf
	if len(b) == 0 {
		return nil
	}
	*c.buf = b[:0]
	_, err := c.Conn.Write(b)
	return err
}

// corkWriter is the http.ResponseWriter handed to websocket.Accept: its
// Hijack wraps the connection in a corkConn.
type corkWriter struct {
	http.ResponseWriter
	cork *corkConn
}

func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.cork = &corkConn{Conn: conn}
	// net/http keeps brw's buffers for the connection's life: reuse the
	// writer's rather than hold a second one.
	brw.Writer.Reset(w.cork)
	return w.cork, brw, nil
}

func (w *corkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
