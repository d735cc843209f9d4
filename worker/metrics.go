package worker

import "github.com/prometheus/client_golang/prometheus"

// metrics are the per-composition figures, labelled by composition id.
type metrics struct {
	composed *prometheus.CounterVec   // canvases composed and encoded
	skipped  *prometheus.CounterVec   // ticks skipped because the clock fell behind
	compose  *prometheus.HistogramVec // seconds per canvas
	encode   *prometheus.HistogramVec // seconds per video frame
}

func newMetrics(r prometheus.Registerer) *metrics {
	buckets := prometheus.ExponentialBuckets(0.0002, 2, 14)
	m := &metrics{
		composed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "frames_total", Help: "Canvases composed and encoded."}, []string{"composition"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "frames_skipped_total", Help: "Frame clock ticks skipped because composing and encoding fell behind real time."}, []string{"composition"}),
		compose: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "compose_seconds", Help: "Time to compose one canvas.", Buckets: buckets}, []string{"composition"}),
		encode: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "encode_seconds", Help: "Time to encode one video frame.", Buckets: buckets}, []string{"composition"}),
	}
	if r != nil {
		r.MustRegister(m.composed, m.skipped, m.compose, m.encode)
	}
	return m
}

// forget drops a finished composition's series.
func (m *metrics) forget(id string) {
	m.composed.DeleteLabelValues(id)
	m.skipped.DeleteLabelValues(id)
	m.compose.DeleteLabelValues(id)
	m.encode.DeleteLabelValues(id)
}
