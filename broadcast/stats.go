package broadcast

import "sync/atomic"

// Transports a client can use, as counted in HubStats.
const (
	TransportWS  = "ws"
	TransportSSE = "sse"
)

// HubStats is a point-in-time copy of the hub's counters, for metrics.
// Gauges say what is true now; counters only grow during the hub's life.
type HubStats struct {
	// ClientsWS and ClientsSSE are the connected clients by transport
	// (gauges). A single-match WebSocket counts as WS.
	ClientsWS  int64
	ClientsSSE int64
	// SlowDropped counts clients disconnected because their queue
	// overflowed (WebSocket close 4008, or an ended SSE response).
	SlowDropped uint64
	// FramesSent counts frames written to clients, replayed ones included.
	FramesSent uint64
	// FramesCoalesced counts event frames replaced, unsent, by a newer one
	// in latest-value subscriptions.
	FramesCoalesced uint64
	// DeltasDropped counts delta frames not queued: the hub's queue was
	// full or it was not running, the delta was malformed, or a
	// subscriber's queue was half full (counted once per subscriber).
	DeltasDropped uint64
	// DeltasStale counts deltas dropped because their event was already
	// published.
	DeltasStale uint64
	// Resets by reason: resumes answered with a reset and a snapshot.
	ResetsEpochChanged uint64
	ResetsHistoryGone  uint64
	ResetsAhead        uint64
	// SubscriptionsRefused counts subscribes and single-match requests the
	// Guard's Ticket did not allow (CodeForbidden).
	SubscriptionsRefused uint64
	// ConnectionsRefused counts WebSocket, SSE and REST requests the Guard
	// refused at Admit.
	ConnectionsRefused uint64
}

// hubStats holds the live counters. They are updated with atomics from the
// hub goroutine, writers and handlers, and read by Stats at any time.
type hubStats struct {
	clientsWS, clientsSSE   atomic.Int64
	slowDropped, framesSent atomic.Uint64
	coalesced               atomic.Uint64
	deltasDropped           atomic.Uint64
	deltasStale             atomic.Uint64
	resetEpoch, resetGone   atomic.Uint64
	resetAhead              atomic.Uint64
	subRefused, connRefused atomic.Uint64
}

// Stats returns the hub's counters. It is safe to call from any goroutine
// at any time, e.g. from a Prometheus collector at scrape time.
func (h *Hub) Stats() HubStats {
	s := &h.stats
	return HubStats{
		ClientsWS:            s.clientsWS.Load(),
		ClientsSSE:           s.clientsSSE.Load(),
		SlowDropped:          s.slowDropped.Load(),
		FramesSent:           s.framesSent.Load(),
		FramesCoalesced:      s.coalesced.Load(),
		DeltasDropped:        s.deltasDropped.Load(),
		DeltasStale:          s.deltasStale.Load(),
		ResetsEpochChanged:   s.resetEpoch.Load(),
		ResetsHistoryGone:    s.resetGone.Load(),
		ResetsAhead:          s.resetAhead.Load(),
		SubscriptionsRefused: s.subRefused.Load(),
		ConnectionsRefused:   s.connRefused.Load(),
	}
}

func (s *hubStats) clients(transport string) *atomic.Int64 {
	if transport == TransportSSE {
		return &s.clientsSSE
	}
	return &s.clientsWS
}
