package worker

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
)

// destinationStates are the values tessera_destination_state takes, one
// series each.
var destinationStates = []contract.State{contract.StateStarting, contract.StateActive, contract.StateReconnecting,
	contract.StateStopping, contract.StateStopped, contract.StateFailed}

var descDestState = prometheus.NewDesc("tessera_destination_state", "1 for the destination's current state, 0 for the others.",
	[]string{"composition", "destination", "type", "state"}, nil)

// destKey names a destination of a composition.
type destKey struct{ composition, destination string }

// destStates exports every destination's state at scrape time from one
// value per destination, so a scrape sees exactly one state at 1.
type destStates struct {
	mu sync.Mutex
	m  map[destKey]*destState
}

// destState is a destination's state and its reconnects.
type destState struct {
	kind       string       // "channel" or "s3"
	state      atomic.Value // contract.State
	reconnects prometheus.Counter
}

// newDestState returns the state of a destination of type kind
// ("channel" or "s3"), STARTING.
func (m *metrics) newDestState(composition, destination, kind string) *destState {
	d := &destState{kind: kind, reconnects: m.reconnects.WithLabelValues(composition, destination)}
	d.state.Store(contract.StateStarting)
	m.states.mu.Lock()
	m.states.m[destKey{composition, destination}] = d
	m.states.mu.Unlock()
	return d
}

// set makes s the current state; entering RECONNECTING counts a reconnect.
func (d *destState) set(s contract.State) {
	d.state.Store(s)
	if s == contract.StateReconnecting {
		d.reconnects.Inc()
	}
}

// forget drops a composition's destinations.
func (c *destStates) forget(composition string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.composition == composition {
			delete(c.m, k)
		}
	}
}

func (c *destStates) Describe(ch chan<- *prometheus.Desc) { ch <- descDestState }

func (c *destStates) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, d := range c.m {
		now := d.state.Load().(contract.State)
		for _, s := range destinationStates {
			v := 0.0
			if s == now {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descDestState, prometheus.GaugeValue, v, k.composition, k.destination, d.kind, string(s))
		}
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
