package main

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/ballcast/ballcast/broadcast"
	"github.com/ballcast/ballcast/broadcast/access"
)

// guard adapts access.Guard to the hub's Guard hook.
type guard struct{ g *access.Guard }

func (g guard) Admit(r *http.Request) (broadcast.Ticket, error) {
	t, err := g.g.Admit(r)
	if err != nil {
		return nil, err
	}
	return t, nil
}

// newGuard builds the frontend guard from broadcast.access.
func newGuard(cfg access.Config, log zerolog.Logger) (*access.Guard, error) {
	return access.New(cfg, log.With().Str("component", "access").Logger())
}

// hubCollector exports the hub's counters at scrape time.
func hubCollector(h *broadcast.Hub) prometheus.Collector {
	return hubStats{h: h}
}

type hubStats struct{ h *broadcast.Hub }

var (
	descClients  = prometheus.NewDesc("ballcast_broadcast_clients", "Connected frontend clients, by transport.", []string{"transport"}, nil)
	descSlow     = prometheus.NewDesc("ballcast_broadcast_slow_clients_dropped_total", "Clients disconnected because their queue overflowed (WebSocket close 4008, or an ended SSE response).", nil, nil)
	descFrames   = prometheus.NewDesc("ballcast_broadcast_frames_sent_total", "Frames written to clients, replayed ones included.", nil, nil)
	descCoalesce = prometheus.NewDesc("ballcast_broadcast_frames_coalesced_total", "Event frames replaced, unsent, by a newer one in latest-value subscriptions.", nil, nil)
	descResets   = prometheus.NewDesc("ballcast_broadcast_resets_total", "Resumes answered with a reset and a fresh snapshot, by reason.", []string{"reason"}, nil)
	descRefused  = prometheus.NewDesc("ballcast_broadcast_refused_total", "Requests refused by the access guard: at connect, or a subscription.", []string{"at"}, nil)
	descDeltas   = prometheus.NewDesc("ballcast_broadcast_deltas_dropped_total", "Streamed commentary pieces not sent, by reason: the queue was filling, or their event was already published.", []string{"reason"}, nil)
)

func (hubStats) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClients, descSlow, descFrames, descCoalesce, descResets, descRefused, descDeltas} {
		ch <- d
	}
}

func (c hubStats) Collect(ch chan<- prometheus.Metric) {
	st := c.h.Stats()
	ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(st.ClientsWS), "ws")
	ch <- prometheus.MustNewConstMetric(descClients, prometheus.GaugeValue, float64(st.ClientsSSE), "sse")
	ch <- prometheus.MustNewConstMetric(descSlow, prometheus.CounterValue, float64(st.SlowDropped))
	ch <- prometheus.MustNewConstMetric(descFrames, prometheus.CounterValue, float64(st.FramesSent))
	ch <- prometheus.MustNewConstMetric(descCoalesce, prometheus.CounterValue, float64(st.FramesCoalesced))
	ch <- prometheus.MustNewConstMetric(descResets, prometheus.CounterValue, float64(st.ResetsEpochChanged), broadcast.ReasonEpochChanged)
	ch <- prometheus.MustNewConstMetric(descResets, prometheus.CounterValue, float64(st.ResetsHistoryGone), broadcast.ReasonHistoryGone)
	ch <- prometheus.MustNewConstMetric(descResets, prometheus.CounterValue, float64(st.ResetsAhead), broadcast.ReasonAhead)
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.ConnectionsRefused), "connect")
	ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(st.SubscriptionsRefused), "subscribe")
	ch <- prometheus.MustNewConstMetric(descDeltas, prometheus.CounterValue, float64(st.DeltasDropped), "queue")
	ch <- prometheus.MustNewConstMetric(descDeltas, prometheus.CounterValue, float64(st.DeltasStale), "stale")
}
