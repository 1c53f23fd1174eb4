package broadcast

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// item is one entry of a client's queue: a frame, optionally followed by a
// batch of frames (a resume's replay, or a reset's snapshot), written in
// that order. Frames are shared between clients and never modified.
//
// op and seq give an SSE message its event name and id; batch[i] has op
// batchOp and seq batchSeq+i. match names the match the frame is about
// (empty for a connection-wide error), for latest-value coalescing.
type item struct {
	frame    []byte
	op       string
	seq      uint64
	match    string
	batch    [][]byte
	batchOp  string
	batchSeq uint64
}

// frames is the number of frames the item writes.
func (it *item) frames() int { return 1 + len(it.batch) }

// client is one connection, WebSocket or SSE. Its writer goroutine is the
// only one that writes data frames; the hub goroutine and the read loop
// only queue.
type client struct {
	transport string
	conn      *websocket.Conn // nil for SSE
	cork      *corkConn       // the WebSocket's TCP connection; nil when unknown
	log       zerolog.Logger
	ticket    Ticket
	stats     *hubStats
	// closer starts closing the transport with a WebSocket code and reason
	// (SSE ends its response and ignores both). It must not block.
	closer func(code websocket.StatusCode, reason string)

	// The queue: up to max items, oldest first. ready receives (without
	// blocking) whenever items becomes non-empty.
	mu      sync.Mutex
	items   []item
	spare   []item
	pending map[string]int // match -> index in items of an unsent latest-mode event
	max     int
	ready   chan struct{}

	closeOnce  sync.Once
	closing    chan struct{} // closed when the connection starts closing
	closed     chan struct{} // closed when the transport has finished closing
	writerDone chan struct{} // closed when the writer returns

	// Owned by the hub goroutine.
	subs   map[string]*match
	kicked bool
}

func newClient(transport string, queueSize int, log zerolog.Logger, stats *hubStats) *client {
	return &client{
		transport:  transport,
		log:        log,
		stats:      stats,
		ticket:     openTicket{},
		max:        queueSize,
		pending:    make(map[string]int),
		ready:      make(chan struct{}, 1),
		closing:    make(chan struct{}),
		closed:     make(chan struct{}),
		writerDone: make(chan struct{}),
		subs:       make(map[string]*match),
		closer:     func(websocket.StatusCode, string) {},
	}
}

// push queues it. When latest is set and an event frame of the same match
// is queued and unsent, it replaces that one instead. It reports false,
// queueing nothing, when the queue is full.
func (c *client) push(it item, latest bool) bool {
	c.mu.Lock()
	if latest {
		if i, ok := c.pending[it.match]; ok {
			c.items[i] = it
			c.mu.Unlock()
			c.stats.coalesced.Add(1)
			return true
		}
	}
	if len(c.items) >= c.max {
		c.mu.Unlock()
		return false
	}
	wasEmpty := len(c.items) == 0
	c.items = append(c.items, it)
	switch {
	case latest:
		c.pending[it.match] = len(c.items) - 1
	case it.match != "" && len(c.pending) > 0:
		// Nothing newer may overtake this frame.
		delete(c.pending, it.match)
	}
	c.mu.Unlock()
	if wasEmpty {
		select {
		case c.ready <- struct{}{}:
		default:
		}
	}
	return true
}

// spareMax is the largest queue slice a client keeps between bursts.
const spareMax = 64

// take removes and returns every queued item. The slice is valid until the
// next call.
func (c *client) take() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.items
	next := c.spare
	if cap(next) > spareMax {
		next = nil // a burst's queue is not kept for the connection's life
	}
	clear(next) // drop references to frames already written
	c.items = next[:0]
	c.spare = out
	clear(c.pending)
	return out
}

// close starts closing the connection with code and reason, once, without
// blocking.
func (c *client) close(code websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		close(c.closing)
		c.closer(code, reason)
	})
}

// wsCloser closes a WebSocket in its own goroutine, because the writer may
// be stuck in a write to a peer that does not read. The library bounds the
// handshake (5 s to write the close frame, 5 s to hear back), then drops
// the TCP connection.
func (c *client) wsCloser(code websocket.StatusCode, reason string) {
	go func() {
		defer close(c.closed)
		_ = c.conn.Close(code, reason)
	}()
}

// writeLoop writes queued frames and pings until the WebSocket closes.
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
		case <-c.ready:
			if err := c.writeBatch(ctx, c.take()); err != nil {
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

// writeBatch writes items as WebSocket messages. When several frames are
// queued the TCP connection is corked, so they leave in as few writes as
// the socket takes rather than one write per message.
func (c *client) writeBatch(ctx context.Context, items []item) error {
	n := 0
	for i := range items {
		n += items[i].frames()
	}
	if n > 1 && c.cork != nil {
		c.cork.hold()
		defer c.cork.release() //nolint:errcheck // a failed flush fails the next write
	}
	for i := range items {
		if err := c.writeFrame(ctx, items[i].frame); err != nil {
			return err
		}
		for _, f := range items[i].batch {
			if err := c.writeFrame(ctx, f); err != nil {
				return err
			}
		}
	}
	c.stats.framesSent.Add(uint64(n))
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
	if !c.push(item{frame: f, op: OpError}, false) {
		c.log.Warn().Int("queue_size", c.max).Msg("slow consumer disconnected")
		c.stats.slowDropped.Add(1)
		c.close(CloseSlowConsumer, ReasonSlowConsumer)
	}
}
