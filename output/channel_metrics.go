package output

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
)

// ChannelMetrics counts what channel destinations do, labelled by
// destination name. A nil *ChannelMetrics counts nothing.
type ChannelMetrics struct {
	state      *prometheus.GaugeVec
	drops      *prometheus.CounterVec
	reconnects *prometheus.CounterVec
	packets    *prometheus.CounterVec
	bytes      *prometheus.CounterVec
}

// channelStates are the values the state gauge takes, one series each.
var channelStates = []contract.State{contract.StateStarting, contract.StateActive, contract.StateReconnecting, contract.StateStopping, contract.StateStopped, contract.StateFailed}

// NewChannelMetrics creates the metrics and registers them with reg (nil:
// not registered). Like NewSpoolMetrics it shares metrics of the same name
// already registered with reg, so any number of ChannelMetrics may use one
// registry; any other registration error panics, as with MustRegister.
func NewChannelMetrics(reg prometheus.Registerer) *ChannelMetrics {
	m := &ChannelMetrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tessera_channel_state",
			Help: "1 for the channel destination's current state, 0 for the others.",
		}, []string{"destination", "state"}),
		drops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_channel_dropped_packets_total",
			Help: "Packets a channel destination did not deliver, by reason.",
		}, []string{"destination", "reason"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_channel_connect_failures_total",
			Help: "Failed connection attempts (each is followed by a backoff and a retry).",
		}, []string{"destination"}),
		packets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_channel_packets_total",
			Help: "Packets delivered to a channel destination.",
		}, []string{"destination"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tessera_channel_bytes_total",
			Help: "Payload bytes delivered to a channel destination.",
		}, []string{"destination"}),
	}
	if reg == nil {
		return m
	}
	var err error
	m.state, err = registerShared(reg, m.state)
	if err == nil {
		m.drops, err = registerShared(reg, m.drops)
	}
	if err == nil {
		m.reconnects, err = registerShared(reg, m.reconnects)
	}
	if err == nil {
		m.packets, err = registerShared(reg, m.packets)
	}
	if err == nil {
		m.bytes, err = registerShared(reg, m.bytes)
	}
	if err != nil {
		panic(err)
	}
	return m
}

// Forget deletes a destination's series (when it is gone for good).
func (m *ChannelMetrics) Forget(dest string) {
	if m == nil {
		return
	}
	l := prometheus.Labels{"destination": dest}
	m.state.DeletePartialMatch(l)
	m.drops.DeletePartialMatch(l)
	m.reconnects.DeletePartialMatch(l)
	m.packets.DeletePartialMatch(l)
	m.bytes.DeletePartialMatch(l)
}

func (m *ChannelMetrics) setState(dest string, s contract.State) {
	if m == nil {
		return
	}
	for _, v := range channelStates {
		g := 0.0
		if v == s {
			g = 1
		}
		m.state.WithLabelValues(dest, string(v)).Set(g)
	}
}

func (m *ChannelMetrics) dropped(dest, reason string, n int) {
	if m != nil {
		m.drops.WithLabelValues(dest, reason).Add(float64(n))
	}
}

func (m *ChannelMetrics) reconnect(dest string) {
	if m != nil {
		m.reconnects.WithLabelValues(dest).Inc()
	}
}

func (m *ChannelMetrics) sent(dest string, n int) {
	if m != nil {
		m.packets.WithLabelValues(dest).Inc()
		m.bytes.WithLabelValues(dest).Add(float64(n))
	}
}
