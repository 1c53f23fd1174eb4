package broadcast

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// item is one entry of a client's queue: a frame, optionally followed by a
// batch of frames (a resume's replay), written in that order. Frames are
// shared between clients and never modified.
type item struct {
	frame []byte
	batch [][]byte
}

// client is one WebSocket connection. Its writer goroutine is the only one
// that writes data frames; the hub goroutine and the read loop only queue.
type client struct {
	conn  *websocket.Conn
	log   zerolog.Logger
	queue chan item

	closeOnce  sync.Once
	closing    chan struct{} // closed when the connection starts closing
	closed     chan struct{} // closed when the close handshake has finished
	writerDone chan struct{} // closed when writeLoop returns

	// Owned by the hub goroutine.
	subs   map[string]*match
	kicked bool
}

func newClient(conn *websocket.Conn, queueSize int, log zerolog.Logger) *client {
	return &client{
		conn:       conn,
		log:        log,
		queue:      make(chan item, queueSize),
		closing:    make(chan struct{}),
		closed:     make(chan struct{}),
		writerDone: make(chan struct{}),
		subs:       make(map[string]*match),
	}
}

// close starts the close handshake with code and reason, once, without
// blocking: the handshake runs in its own goroutine because the writer may
// be stuck in a write to a peer that does not read. The library bounds it
// (5 s to write the close frame, 5 s to hear back), then drops the TCP
// connection.
func (c *client) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		close(c.closing)
		go func() {
			defer close(c.closed)
			_ = c.conn.Close(code, reason)
		}()
	})
}

// writeLoop writes queued frames and pings until the connection closes.
// Writes use a context without a deadline: a stuck write is ended by close,
// which the hub triggers when the queue overflows.
func (c *client) writeLoop(ctx context.Context, pingInterval time.Duration) {
	defer close(c.writerDone)
	ticker := time.NewTicker(pingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-c.closing:
			return
		case it := <-c.queue:
			if err := c.write(ctx, it); err != nil {
				c.log.Debug().Err(err).Msg("write failed")
				c.close(websocket.StatusInternalError, "write failed")
				return
			}
		case <-ticker.C:
			pctx, cancel := context.WithTimeout(ctx, pingInterval)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				c.log.Debug().Err(err).Msg("ping failed")
				c.close(ClosePingTimeout, ReasonPingTimeout)
				return
			}
		}
	}
}

func (c *client) write(ctx context.Context, it item) error {
	if err := c.writeFrame(ctx, it.frame); err != nil {
		return err
	}
	for _, f := range it.batch {
		if err := c.writeFrame(ctx, f); err != nil {
			return err
		}
	}
	return nil
}

func (c *client) writeFrame(ctx context.Context, f []byte) error {
	select {
	case <-c.closing:
		return nil
	default:
	}
	return c.conn.Write(ctx, websocket.MessageText, f)
}

// enqueue queues a frame from the read loop (an error reply). A full queue
// means the client is not keeping up: it is closed as a slow consumer.
func (c *client) enqueue(f []byte) {
	select {
	case c.queue <- item{frame: f}:
	default:
		c.log.Warn().Int("queue_size", cap(c.queue)).Msg("slow consumer disconnected")
		c.close(CloseSlowConsumer, ReasonSlowConsumer)
	}
}
