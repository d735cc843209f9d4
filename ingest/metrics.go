package ingest

import "github.com/prometheus/client_golang/prometheus"

// metrics are the ingest counters, aggregated over participants (the
// per-participant figures are in Participant.Stats).
type metrics struct {
	requests  *prometheus.CounterVec // WHIP requests by method and status
	sessions  prometheus.Gauge
	events    *prometheus.CounterVec
	packets   *prometheus.CounterVec // by kind
	dropped   *prometheus.CounterVec // by reason
	frames    *prometheus.CounterVec // decoded, by kind
	decodeErr prometheus.Counter
	plis      prometheus.Counter
	decodeSec *prometheus.HistogramVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "whip_requests_total", Help: "WHIP requests by method and HTTP status."}, []string{"method", "status"}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "sessions", Help: "Publishing sessions open now."}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "participant_events_total", Help: "Participant events by name and error code."}, []string{"event", "error_code"}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "rtp_packets_total", Help: "RTP packets received, by kind."}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "dropped_total", Help: "Media dropped, by reason (lost, late, malformed packets; frames skipped waiting for a keyframe; oversized video)."}, []string{"reason"}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "frames_decoded_total", Help: "Frames decoded, by kind."}, []string{"kind"}),
		decodeErr: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "decode_errors_total", Help: "Frames the decoder refused (corrupt or undecodable)."}),
		plis: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "pli_sent_total", Help: "Picture loss indications sent to publishers."}),
		decodeSec: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "ingest",
			Name: "decode_seconds", Help: "Time to decode one frame.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 12)}, []string{"codec"}),
	}
	if r != nil {
		r.MustRegister(m.requests, m.sessions, m.events, m.packets, m.dropped, m.frames, m.decodeErr, m.plis, m.decodeSec)
	}
	return m
}
