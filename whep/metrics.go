package whep

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the WHEP server's: sessions by outcome, refusals by reason,
// packets dropped on the way to the viewers, keyframes asked, and the
// viewers now (collected at scrape time).
type metrics struct {
	sessions  *prometheus.CounterVec
	refusals  *prometheus.CounterVec
	dropped   prometheus.Counter
	keyframes prometheus.Counter
}

var descViewers = prometheus.NewDesc("tessera_whep_viewers", "Viewers watching a composition live by WHEP.", []string{"composition"}, nil)

func newMetrics(r prometheus.Registerer, s *Server) (*metrics, error) {
	m := &metrics{
		sessions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "whep", Name: "sessions_total",
			Help: "WHEP viewer sessions started and ended."}, []string{"event"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "whep", Name: "refusals_total",
			Help: "WHEP requests refused, by reason (unauthorized, not_found, full, bad_request, bad_offer)."}, []string{"reason"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "whep", Name: "dropped_packets_total",
			Help: "Encoded packets not sent to the viewers because the send queue was full (a keyframe is asked after)."}),
		keyframes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "whep", Name: "keyframe_requests_total",
			Help: "Keyframes asked of compositions' encoders for viewers (joins, PLI/FIR, drops), at most two a second each."}),
	}
	if r != nil {
		for _, c := range []prometheus.Collector{m.sessions, m.refusals, m.dropped, m.keyframes, viewersCollector{s}} {
			if err := r.Register(c); err != nil {
				return nil, fmt.Errorf("whep: metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) refused(reason string) { m.refusals.WithLabelValues(reason).Inc() }

// viewersCollector exports each live view's viewers.
type viewersCollector struct{ s *Server }

func (c viewersCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descViewers }

func (c viewersCollector) Collect(ch chan<- prometheus.Metric) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for id, h := range c.s.hubs {
		ch <- prometheus.MustNewConstMetric(descViewers, prometheus.GaugeValue, float64(h.viewers()), id)
	}
}
