package worker

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
)

// destinationStates are the values tessera_destination_state takes, one
// series each.
var destinationStates = []contract.State{contract.StateStarting, contract.StateActive, contract.StateReconnecting,
	contract.StateStopping, contract.StateStopped, contract.StateFailed}

// destState keeps a destination's state series (looked up once).
type destState struct {
	mu         sync.Mutex // state changes may come from several goroutines
	gauges     []prometheus.Gauge
	reconnects prometheus.Counter
}

// newDestState returns the state series of a destination of type kind
// ("channel" or "s3"), set to STARTING.
func (m *metrics) newDestState(composition, destination, kind string) *destState {
	d := &destState{reconnects: m.reconnects.WithLabelValues(composition, destination)}
	for _, s := range destinationStates {
		d.gauges = append(d.gauges, m.state.WithLabelValues(composition, destination, kind, string(s)))
	}
	d.set(contract.StateStarting)
	return d
}

// set makes s the current state; entering RECONNECTING counts a reconnect.
func (d *destState) set(s contract.State) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, v := range destinationStates {
		g := 0.0
		if v == s {
			g = 1
		}
		d.gauges[i].Set(g)
	}
	if s == contract.StateReconnecting {
		d.reconnects.Inc()
	}
}

var (
	descUploadDepth = prometheus.NewDesc("tessera_destination_upload_queue_depth",
		"A recording's objects spooled on local disk and not yet uploaded to storage.", []string{"composition", "destination"}, nil)
	descUploadBytes = prometheus.NewDesc("tessera_destination_upload_queue_bytes",
		"Bytes of a recording spooled on local disk and not yet uploaded to storage.", []string{"composition", "destination"}, nil)
	descUploadFailing = prometheus.NewDesc("tessera_destination_upload_failing_attempts",
		"Consecutive failed upload attempts of a recording's spool (0 while uploads succeed).", []string{"composition", "destination"}, nil)
)

// uploadCollector exports the upload spools of the running compositions'
// recordings at scrape time, per composition and destination (the output
// package's spool metrics add up per bucket). A composition's series
// disappear when it stops.
type uploadCollector struct{ w *Worker }

func (c uploadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUploadDepth
	ch <- descUploadBytes
	ch <- descUploadFailing
}

func (c uploadCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.w.pipelines() {
		for _, g := range p.groups {
			for _, d := range g.dests {
				if d.spool == nil {
					continue
				}
				s := d.spool.Stats()
				ch <- prometheus.MustNewConstMetric(descUploadDepth, prometheus.GaugeValue, float64(s.Items), p.spec.ID, d.id)
				ch <- prometheus.MustNewConstMetric(descUploadBytes, prometheus.GaugeValue, float64(s.Bytes), p.spec.ID, d.id)
				ch <- prometheus.MustNewConstMetric(descUploadFailing, prometheus.GaugeValue, float64(s.Failures), p.spec.ID, d.id)
			}
		}
	}
}
