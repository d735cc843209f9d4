package control

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/control/sigv4"
)

// apiMetrics count API requests by operation and status, and their latency,
// and the edge's refusals: calls throttled, and requests refused because the
// budget for bodies not yet authenticated was spent (with that budget's use),
// and compositions refused for want of capacity.
type apiMetrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	throttled *prometheus.CounterVec
	busy      prometheus.Counter
	preauth   prometheus.GaugeFunc
	// capacityRefused counts compositions (and, in a cluster, stages)
	// refused for want of capacity.
	capacityRefused prometheus.Counter
	// In a cluster: membership renewals by result, nodes expired by this
	// one, and calls forwarded to the node serving their stage.
	nodeRenewals *prometheus.CounterVec
	nodesExpired prometheus.Counter
	forwarded    *prometheus.CounterVec
}

func newAPIMetrics(r prometheus.Registerer, budget *sigv4.Budget) *apiMetrics {
	m := &apiMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "api",
			Name: "requests_total", Help: "API requests by operation and HTTP status."}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "api",
			Name: "request_seconds", Help: "API request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"operation"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "api",
			Name: "throttled_total", Help: "API calls refused with ThrottlingException (per-access-key rate limit), by operation."}, []string{"operation"}),
		busy: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "api",
			Name: "preauth_refused_total", Help: "API requests refused with ServiceUnavailableException: the budget for bodies not yet authenticated was spent."}),
		preauth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "api",
			Name: "preauth_body_bytes", Help: "Bytes of request bodies held before their signature is checked."},
			func() float64 { return float64(budget.InUse()) }),
		capacityRefused: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "node",
			Name: "capacity_refused_total", Help: "StartComposition calls refused because the estimated load would pass --capacity-cores; in a cluster also stages no node had room for."}),
		nodeRenewals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "node",
			Name: "renewals_total", Help: "Renewals of this node's cluster membership, by result (ok, error, lost)."}, []string{"result"}),
		nodesExpired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "node",
			Name: "expired_total", Help: "Nodes whose membership ran out, expired by this node (their work taken over)."}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "api",
			Name: "forwarded_total", Help: "API calls forwarded to the node serving their stage, by operation and result (ok, error)."}, []string{"operation", "result"}),
	}
	for _, r := range []string{"ok", "error", "lost"} {
		m.nodeRenewals.WithLabelValues(r)
	}
	if r != nil {
		r.MustRegister(m.requests, m.latency, m.throttled, m.busy, m.preauth, m.capacityRefused, m.nodeRenewals, m.nodesExpired, m.forwarded)
	}
	return m
}

func (m *apiMetrics) observe(op string, status int, d time.Duration) {
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(op).Observe(d.Seconds())
}
