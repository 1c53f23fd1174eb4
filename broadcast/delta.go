package broadcast

// Deltas: streaming partial output (a commentary line as the LLM writes it)
// sent to a match's subscribers as "delta" frames the moment it arrives.
// A delta is provisional: it is not numbered (no seq, no SSE id), not kept
// in history or snapshots, not replayed on resume, and the event with the
// same ID replaces it. It is best effort everywhere: the hub drops it
// rather than wait, queue it behind a backlog or disconnect anyone for it.

// MaxDeltaText is the longest delta text the hub forwards, in bytes; a
// longer one is dropped (a delta is a few words).
const MaxDeltaText = 16 << 10

// PublishDelta sends text, the next piece of the provisional line of event
// eventID in match, to the match's subscribers as a frame
// {"op":"delta","match","id","text"}. It never blocks: when the hub's
// command queue is full, the hub is not running, or an argument is empty
// or too long, the delta is dropped (counted in HubStats.DeltasDropped).
// The hub also drops a delta whose event it has already published, so a
// late delta cannot leave stale text behind the final line, and it queues
// a delta for a client only while that client's queue is less than half
// full: a client that lags loses deltas, never its connection. It
// satisfies pipeline.DeltaSink.
func (h *Hub) PublishDelta(match, eventID, text string) {
	if match == "" || eventID == "" || text == "" || len(text) > MaxDeltaText || !h.started.Load() {
		h.stats.deltasDropped.Add(1)
		return
	}
	select {
	case <-h.done:
		h.stats.deltasDropped.Add(1)
		return
	default:
	}
	frame := make([]byte, 0, 40+len(match)+len(eventID)+len(text))
	frame = append(frame, `{"op":"delta","match":`...)
	frame = appendJSONString(frame, match)
	frame = append(frame, `,"id":`...)
	frame = appendJSONString(frame, eventID)
	frame = append(frame, `,"text":`...)
	frame = appendJSONString(frame, text)
	frame = append(frame, '}')
	select {
	case h.cmds <- command{op: cmdDelta, match: match, delta: &delta{id: eventID, frame: frame}}:
	default:
		h.stats.deltasDropped.Add(1)
	}
}

// delta is a delta frame as PublishDelta prepared it for the hub goroutine.
type delta struct {
	id    string
	frame []byte
}

// publishDelta queues d for every subscriber of the match that has room.
func (h *Hub) publishDelta(id string, d *delta) {
	m := h.matches[id]
	if m == nil || len(m.subs) == 0 {
		return
	}
	if _, done := m.seen[d.id]; done {
		h.stats.deltasStale.Add(1)
		return
	}
	it := item{frame: d.frame, op: OpDelta, match: id}
	for c := range m.subs {
		if !c.pushDelta(it) {
			h.stats.deltasDropped.Add(1)
		}
	}
}

// pushDelta queues a delta frame while the queue is less than half full,
// leaving the rest for frames that must not be lost; it reports false,
// queueing nothing, otherwise. A delta never replaces or unblocks a
// latest-mode event.
func (c *client) pushDelta(it item) bool {
	c.mu.Lock()
	if len(c.items) >= c.max/2 {
		c.mu.Unlock()
		return false
	}
	wasEmpty := len(c.items) == 0
	c.items = append(c.items, it)
	start := wasEmpty && c.startLocked()
	c.mu.Unlock()
	if wasEmpty {
		c.wake(start)
	}
	return true
}
