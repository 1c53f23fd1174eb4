package socketio

import "sync"

// endpoint is the state one namespace membership keeps on either side of a
// connection (Socket on the client, ServerSocket on the server): its event
// queue, its pending acks, and why it ended. The connection's read loop is
// the only sender on events, always under mu.
type endpoint struct {
	done   chan struct{} // closed once err is set
	events chan Event    // sent to by the read loop only, under mu

	mu     sync.Mutex // guards the fields below (and the embedder's); no I/O under it
	err    error
	closed bool
	acks   map[int64]chan []Arg
	nextID int64
}

func newEndpoint(buffer int) endpoint {
	return endpoint{done: make(chan struct{}), events: make(chan Event, buffer)}
}

// end records err and closes the endpoint; the first call wins.
func (e *endpoint) end(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	e.closed = true
	e.err = err
	e.acks = nil
	close(e.done)
	close(e.events)
}

// endErr returns why the endpoint ended, nil while it is up.
func (e *endpoint) endErr() error {
	select {
	case <-e.done:
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.err
	default:
		return nil
	}
}

// deliver queues ev without blocking, reporting false when the queue is full.
func (e *endpoint) deliver(ev Event) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return true
	}
	select {
	case e.events <- ev:
		return true
	default:
		return false
	}
}

// addAck registers a pending ack and returns its id and the channel its
// arguments arrive on.
func (e *endpoint) addAck() (int64, chan []Arg, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, nil, e.err
	}
	if e.acks == nil {
		e.acks = make(map[int64]chan []Arg)
	}
	id := e.nextID
	e.nextID = (e.nextID + 1) % maxAckID
	ch := make(chan []Arg, 1)
	e.acks[id] = ch
	return id, ch, nil
}

func (e *endpoint) dropAck(id int64) {
	e.mu.Lock()
	delete(e.acks, id)
	e.mu.Unlock()
}

// resolveAck hands args to the emit waiting on id, reporting false when none
// is (it timed out, or the peer acked twice).
func (e *endpoint) resolveAck(id int64, args []Arg) bool {
	e.mu.Lock()
	ch := e.acks[id]
	delete(e.acks, id)
	e.mu.Unlock()
	if ch == nil {
		return false
	}
	ch <- args // buffered, and each id is resolved once
	return true
}
