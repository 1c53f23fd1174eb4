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

// client is one connection, WebSocket or SSE. Its writer is the only
// goroutine that writes data frames; the hub goroutine and the read loop
// only queue. An SSE writer is the handler's loop, woken through ready. A
// WebSocket's writer runs only while the queue holds frames (see wake), so
// an idle connection keeps no writer goroutine and no stack for it.
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

	// The queue: up to max items, oldest first. Without a writer func,
	// ready receives (without blocking) whenever items becomes non-empty.
	mu      sync.Mutex
	items   []item
	spare   []item
	pending map[string]int // match -> index in items of an unsent latest-mode event
	max     int
	ready   chan struct{}

	// With writer set, wake starts writer on a new goroutine when items
	// becomes non-empty and none runs; it returns once the queue is empty.
	writer  func()
	writing chan struct{} // non-nil while a writer runs; closed as it returns
	stopped bool          // no writer starts any more (stopWriter)

	closeOnce  sync.Once
	closing    chan struct{} // closed when the connection starts closing
	closed     chan struct{} // closed when the transport has finished closing
	writerDone chan struct{} // SSE: closed when the writer returns

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
	start := wasEmpty && c.startLocked()
	c.mu.Unlock()
	if wasEmpty {
		c.wake(start)
	}
	return true
}

// startLocked reports whether the caller, having just made the queue
// non-empty, must start a writer goroutine, and records it as running.
// c.mu is held.
func (c *client) startLocked() bool {
	if c.writer == nil || c.writing != nil || c.stopped {
		return false
	}
	c.writing = make(chan struct{})
	return true
}

// wake tells the writer that the queue is no longer empty: it signals
// ready, or starts the writer goroutine when startLocked said so.
func (c *client) wake(start bool) {
	if c.writer == nil {
		select {
		case c.ready <- struct{}{}:
		default:
		}
		return
	}
	if start {
		go c.writer()
	}
}

// spareMax is the largest queue slice a client keeps between bursts.
const spareMax = 64

// take removes and returns every queued item. The slice is valid until the
// next call.
func (c *client) take() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked()
}

func (c *client) takeLocked() []item {
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

// writeQueued is a WebSocket's writer: it writes queued frames until the
// queue is empty, then returns, and wake starts it again for the next
// frame. Writes use a context without a deadline: a stuck write is ended by
// close, which the hub triggers when the queue overflows.
func (c *client) writeQueued(ctx context.Context) {
	for {
		items := c.takeOrStop()
		if items == nil {
			return
		}
		if err := c.writeBatch(ctx, items); err != nil {
			c.log.Debug().Err(err).Msg("write failed")
			c.close(websocket.StatusInternalError, "write failed")
			c.mu.Lock()
			c.stopped = true
			c.endWriterLocked()
			c.mu.Unlock()
			return
		}
	}
}

// takeOrStop is take for the writer goroutine: when the queue is empty, or
// the writer is stopped, it records the writer as gone and returns nil.
func (c *client) takeOrStop() []item {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.items) == 0 || c.stopped {
		c.endWriterLocked()
		return nil
	}
	return c.takeLocked()
}

func (c *client) endWriterLocked() {
	if c.writing != nil {
		close(c.writing)
		c.writing = nil
	}
}

// stopWriter lets no writer start any more and waits for the running one.
func (c *client) stopWriter() {
	c.mu.Lock()
	c.stopped = true
	w := c.writing
	c.mu.Unlock()
	if w != nil {
		<-w
	}
}

// pinger pings a WebSocket every interval from a timer, so an idle
// connection keeps no goroutine for it: one runs only while a ping waits
// for its pong. A pong that does not come within interval closes the
// connection with ClosePingTimeout.
type pinger struct {
	c        *client
	ctx      context.Context
	interval time.Duration
	mu       sync.Mutex
	t        *time.Timer
	done     bool
}

func (c *client) startPings(ctx context.Context, interval time.Duration) *pinger {
	p := &pinger{c: c, ctx: ctx, interval: interval}
	p.mu.Lock()
	p.t = time.AfterFunc(interval, p.ping)
	p.mu.Unlock()
	return p
}

func (p *pinger) ping() {
	start := time.Now()
	ctx, cancel := context.WithTimeout(p.ctx, p.interval)
	err := p.c.conn.Ping(ctx)
	cancel()
	if err != nil {
		p.c.log.Debug().Err(err).Msg("ping failed")
		p.c.close(ClosePingTimeout, ReasonPingTimeout)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.done {
		p.t.Reset(max(p.interval-time.Since(start), 0))
	}
}

// stop ends the pings; a ping in flight ends with the connection.
func (p *pinger) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	p.t.Stop()
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
