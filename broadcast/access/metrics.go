package access

import "github.com/prometheus/client_golang/prometheus"

// metrics are per Guard, so that tests and several servers in one process
// do not share counters.
type metrics struct {
	admitted    *prometheus.CounterVec
	refused     *prometheus.CounterVec
	conns       *prometheus.GaugeVec
	rateLimited *prometheus.CounterVec
	reloads     *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ballcast_access_admitted_total",
			Help: "Connections admitted, by method (open, key, jwt).",
		}, []string{"method"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ballcast_access_refused_total",
			Help: "Connections refused, by reason (the error code sent to the client).",
		}, []string{"reason"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ballcast_access_connections",
			Help: "Connections admitted and not yet released, by method.",
		}, []string{"method"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ballcast_access_rate_limited_total",
			Help: "Connection attempts refused by connect_rate, by scope (ip, key).",
		}, []string{"scope"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ballcast_access_key_reloads_total",
			Help: "Keys file reloads, by result (ok, error).",
		}, []string{"result"}),
	}
	for _, method := range []string{MethodOpen, MethodKey, MethodJWT} {
		m.admitted.WithLabelValues(method)
		m.conns.WithLabelValues(method)
	}
	return m
}

func (m *metrics) all() []prometheus.Collector {
	return []prometheus.Collector{m.admitted, m.refused, m.conns, m.rateLimited, m.reloads}
}

// Collector returns the Guard's metrics for registration:
// ballcast_access_admitted_total{method}, ballcast_access_refused_total{reason},
// ballcast_access_connections{method}, ballcast_access_rate_limited_total{scope}
// and ballcast_access_key_reloads_total{result}.
func (g *Guard) Collector() prometheus.Collector { return collector{g.metrics} }

type collector struct{ m *metrics }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, x := range c.m.all() {
		x.Describe(ch)
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, x := range c.m.all() {
		x.Collect(ch)
	}
}
