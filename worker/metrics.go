package worker

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/output"
)

// metrics are a Worker's figures: per composition (label composition), per
// composition and participant, per destination (labels composition,
// destination), and the output package's channel and spool metrics. All
// series of a composition are deleted when it stops (forget).
type metrics struct {
	composed *prometheus.CounterVec   // canvases composed and encoded
	skipped  *prometheus.CounterVec   // ticks skipped because the clock fell behind
	compose  *prometheus.HistogramVec // seconds per canvas
	encode   *prometheus.HistogramVec // seconds per video frame
	output   *prometheus.CounterVec   // encoded bytes, by kind
	speed    *prometheus.GaugeVec     // frame interval / work per tick
	avDelay  *prometheus.GaugeVec     // seconds the frame clock runs behind capture
	late     *prometheus.CounterVec   // pictures never shown because they arrived late, by participant

	states     *destStates            // destination state, one series per state
	reconnects *prometheus.CounterVec // destination connections lost

	kernels *prometheus.GaugeVec // 1 for the compositor kernel set in use (label set)

	channel *output.ChannelMetrics // channel destinations, by destination
	spool   *output.SpoolMetrics   // upload spools, by bucket
}

func newMetrics(r prometheus.Registerer) (*metrics, error) {
	buckets := prometheus.ExponentialBuckets(0.0002, 2, 14)
	comp := []string{"composition"}
	dest := []string{"composition", "destination"}
	m := &metrics{
		composed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "frames_total", Help: "Canvases composed and encoded."}, comp),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "frames_skipped_total", Help: "Frame clock ticks skipped because composing and encoding fell behind real time."}, comp),
		compose: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "compose_seconds", Help: "Time to compose one canvas.", Buckets: buckets}, comp),
		encode: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "encode_seconds", Help: "Time to encode one video frame.", Buckets: buckets}, comp),
		output: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "output_bytes_total", Help: "Encoded bytes leaving the encoders, by kind (video, audio); rate() × 8 is the output bitrate."},
			[]string{"composition", "kind"}),
		speed: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "speed", Help: "Frame interval divided by the work per tick (compose, encode, audio), over about the last second; above 1 is faster than real time. The slowest encoder configuration's."}, comp),
		avDelay: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "av_delay_seconds", Help: "How far behind its participants' capture the frame clock composes (the A/V delay): fixed, or found from their lag."}, comp),
		late: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "composition",
			Name: "late_frames_total", Help: "A participant's pictures never shown because they arrived after the tick that should have shown them."},
			[]string{"composition", "participant"}),
		states: &destStates{m: map[destKey]*destState{}},
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "tessera", Subsystem: "destination",
			Name: "reconnects_total", Help: "Times a destination lost its connection and started reconnecting."}, dest),
		kernels: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "tessera", Subsystem: "compositor",
			Name: "kernels", Help: "1 for the kernel set the compositor runs on this CPU: avx512, avx2 or portable."}, []string{"set"}),
		channel: output.NewChannelMetrics(r),
	}
	m.kernels.WithLabelValues(compositor.KernelSets()[0]).Set(1)
	var err error
	if m.spool, err = output.NewSpoolMetrics(r); err != nil {
		return nil, fmt.Errorf("worker: metrics: %w", err)
	}
	if r != nil {
		for _, c := range []prometheus.Collector{m.composed, m.skipped, m.compose, m.encode, m.output, m.speed, m.avDelay, m.late, m.states, m.reconnects, m.kernels} {
			if err := r.Register(c); err != nil {
				return nil, fmt.Errorf("worker: metrics: %w", err)
			}
		}
	}
	return m, nil
}

// forget drops a finished composition's series.
func (m *metrics) forget(id string) {
	m.composed.DeleteLabelValues(id)
	m.skipped.DeleteLabelValues(id)
	m.compose.DeleteLabelValues(id)
	m.encode.DeleteLabelValues(id)
	m.speed.DeleteLabelValues(id)
	m.avDelay.DeleteLabelValues(id)
	l := prometheus.Labels{"composition": id}
	m.output.DeletePartialMatch(l)
	m.late.DeletePartialMatch(l)
	m.states.forget(id)
	m.reconnects.DeletePartialMatch(l)
}
