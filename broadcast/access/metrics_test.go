package access

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	g := newTestGuard(t, Config{
		APIKeys: APIKeysConfig{File: keysFile(t)},
		Limits:  LimitsConfig{PerKey: 1, ConnectRate: 1, ConnectBurst: 4},
	})
	a := mustAdmit(t, g.Guard, request("192.0.2.1", keyAlpha))
	_, err := g.Admit(request("192.0.2.1", keyAlpha)) // per_key
	wantRefused(t, nil, err, http.StatusTooManyRequests, CodeTooManyConnections)
	_, err = g.Admit(request("192.0.2.1", "nope"))
	wantRefused(t, nil, err, http.StatusUnauthorized, CodeUnauthorized)
	b := mustAdmit(t, g.Guard, request("192.0.2.1", keyBeta))
	_, err = g.Admit(request("192.0.2.1", keyBeta)) // fifth attempt from this IP
	wantRefused(t, nil, err, http.StatusTooManyRequests, CodeRateLimited)
	b.Release()

	const want = `
# HELP ballcast_access_admitted_total Connections admitted, by method (open, key, jwt).
# TYPE ballcast_access_admitted_total counter
ballcast_access_admitted_total{method="jwt"} 0
ballcast_access_admitted_total{method="key"} 2
ballcast_access_admitted_total{method="open"} 0
# HELP ballcast_access_connections Connections admitted and not yet released, by method.
# TYPE ballcast_access_connections gauge
ballcast_access_connections{method="jwt"} 0
ballcast_access_connections{method="key"} 1
ballcast_access_connections{method="open"} 0
# HELP ballcast_access_rate_limited_total Connection attempts refused by connect_rate, by scope (ip, key).
# TYPE ballcast_access_rate_limited_total counter
ballcast_access_rate_limited_total{scope="ip"} 1
# HELP ballcast_access_refused_total Connections refused, by reason (the error code sent to the client).
# TYPE ballcast_access_refused_total counter
ballcast_access_refused_total{reason="rate_limited"} 1
ballcast_access_refused_total{reason="too_many_connections"} 1
ballcast_access_refused_total{reason="unauthorized"} 1
`
	if err := testutil.CollectAndCompare(g.Collector(), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	a.Release()
	if got := testutil.ToFloat64(g.metrics.conns.WithLabelValues(MethodKey)); got != 0 {
		t.Fatalf("connections{method=key} = %v after release, want 0", got)
	}
	// The collector passes the pedantic registry's consistency checks.
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(g.Collector()); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Fatalf("GatherAndCount = %d, %v", n, err)
	}
}
