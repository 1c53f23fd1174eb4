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
	mu   sync.Mutex
	held bool
	buf  []byte
}

// corkBufMax is how much a held connection buffers before it writes anyway.
const corkBufMax = 256 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held && len(c.buf)+len(p) <= corkBufMax {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *corkConn) hold() {
	c.mu.Lock()
	c.held = true
	c.mu.Unlock()
}

// release writes what was held back and stops holding.
func (c *corkConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = false
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil // do not keep a burst's buffer for the connection's life
	} else {
		c.buf = c.buf[:0]
	}
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
	return w.cork, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.cork, brw.Writer.Size())), nil
}

func (w *corkWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
