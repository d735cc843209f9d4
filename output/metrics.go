package output

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// SpoolMetrics counts what upload spools do, labelled by bucket. One
// SpoolMetrics serves any number of spools (the gauges add up theirs); a nil
// *SpoolMetrics counts nothing.
type SpoolMetrics struct {
	depth    *prometheus.GaugeVec
	bytes    *prometheus.GaugeVec
	uploads  *prometheus.CounterVec
	failures *prometheus.CounterVec
	rejected *prometheus.CounterVec
	dropped  *prometheus.CounterVec

	recovered      *prometheus.CounterVec
	recoveredBytes *prometheus.CounterVec
}

// NewSpoolMetrics creates the spool metrics and registers them with reg
// (nil: not registered, still readable by a test). Metrics of the same name
// already registered with reg are shared rather than duplicated, so calling
// it twice with one registry is fine; any other registration error is
// returned.
func NewSpoolMetrics(reg prometheus.Registerer) (*SpoolMetrics, error) {
	m := &SpoolMetrics{
		depth: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_upload_queue_depth",
			Help: "Objects spooled on local disk and not yet uploaded to storage.",
		}, []string{"bucket"}),
		bytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_upload_queue_bytes",
			Help: "Bytes spooled on local disk and not yet uploaded to storage.",
		}, []string{"bucket"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_uploads_total",
			Help: "Objects uploaded to storage from the spool.",
		}, []string{"bucket"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_upload_failures_total",
			Help: "Failed upload attempts (each is followed by a backoff and a retry).",
		}, []string{"bucket"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_upload_rejected_total",
			Help: "Objects refused because the spool was full (the producer dropped them).",
		}, []string{"bucket"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_upload_dropped_total",
			Help: "Spooled objects abandoned because their files on local disk were damaged or missing.",
		}, []string{"bucket"}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_upload_recovered_total",
			Help: "Objects a spool found on local disk when it opened (left by a stop or a crash) and queued again.",
		}, []string{"bucket"}),
		recoveredBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_upload_recovered_bytes_total",
			Help: "Bytes of the objects counted by tessera_upload_recovered_total.",
		}, []string{"bucket"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	m.depth, err = registerShared(reg, m.depth)
	if err == nil {
		m.bytes, err = registerShared(reg, m.bytes)
	}
	if err == nil {
		m.uploads, err = registerShared(reg, m.uploads)
	}
	if err == nil {
		m.failures, err = registerShared(reg, m.failures)
	}
	if err == nil {
		m.rejected, err = registerShared(reg, m.rejected)
	}
	if err == nil {
		m.dropped, err = registerShared(reg, m.dropped)
	}
	if err == nil {
		m.recovered, err = registerShared(reg, m.recovered)
	}
	if err == nil {
		m.recoveredBytes, err = registerShared(reg, m.recoveredBytes)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// registerShared registers c, or returns the collector of the same
// description already registered.
func registerShared[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

func (m *SpoolMetrics) queued(bucket string, n int, size int64) {
	if m != nil {
		m.depth.WithLabelValues(bucket).Add(float64(n))
		m.bytes.WithLabelValues(bucket).Add(float64(size))
	}
}

func (m *SpoolMetrics) uploaded(bucket string) {
	if m != nil {
		m.uploads.WithLabelValues(bucket).Inc()
	}
}

func (m *SpoolMetrics) failed(bucket string) {
	if m != nil {
		m.failures.WithLabelValues(bucket).Inc()
	}
}

func (m *SpoolMetrics) reject(bucket string) {
	if m != nil {
		m.rejected.WithLabelValues(bucket).Inc()
	}
}

func (m *SpoolMetrics) drop(bucket string) {
	if m != nil {
		m.dropped.WithLabelValues(bucket).Inc()
	}
}

func (m *SpoolMetrics) recover(bucket string, size int64) {
	if m != nil {
		m.recovered.WithLabelValues(bucket).Inc()
		m.recoveredBytes.WithLabelValues(bucket).Add(float64(size))
	}
}
