package control

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/capacity"
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/wire"
)

// load is the estimated cores (package capacity) of the running
// compositions (each distinct encoder of theirs) and of every publisher.
func (s *Server) load() (compositions, publishers float64) {
	s.mu.Lock()
	specs := make([]contract.CompositionSpec, 0, len(s.comps))
	for _, c := range s.comps {
		select {
		case <-c.done: // ended
		default:
			specs = append(specs, c.spec)
		}
	}
	s.mu.Unlock()
	for _, spec := range specs {
		compositions += s.compositionCost(spec)
	}
	for _, p := range s.cfg.Ingest.Publishers() {
		publishers += capacity.Publisher(p.Width, p.Height, capacity.DefaultFPS)
	}
	return compositions, publishers
}

// compositionCost is a composition's estimate: one encode per distinct
// encoder of its destinations.
func (s *Server) compositionCost(spec contract.CompositionSpec) float64 {
	seen := map[contract.EncoderSpec]bool{}
	var cores float64
	for _, d := range spec.Destinations {
		if !seen[d.Encoder] {
			seen[d.Encoder] = true
			cores += capacity.Composition(d.Encoder.Width, d.Encoder.Height, d.Encoder.Framerate, s.cfg.Preset)
		}
	}
	return cores
}

// admit refuses a composition whose estimate would take the server past
// Config.CapacityCores.
func (s *Server) admit(spec contract.CompositionSpec) *wire.Error {
	if s.cfg.CapacityCores <= 0 {
		return nil
	}
	comps, pubs := s.load()
	need := s.compositionCost(spec)
	if comps+pubs+need <= s.cfg.CapacityCores {
		return nil
	}
	s.metrics.capacityRefused.Inc()
	return wire.ServiceQuotaExceeded(fmt.Sprintf("this server's capacity is %.1f cores (--capacity-cores): its compositions and publishers take an estimated %.2f, this composition %.2f more",
		s.cfg.CapacityCores, comps+pubs, need))
}

// loadCollector exports the estimated load against the capacity.
type loadCollector struct{ s *Server }

var (
	descCapacity = prometheus.NewDesc("tessera_node_capacity_cores", "Cores this server commits to media work (--capacity-cores; 0: no limit).", nil, nil)
	descLoad     = prometheus.NewDesc("tessera_node_load_cores", "Estimated cores of the running compositions and the publishers (package capacity's model), by kind.", []string{"kind"}, nil)
	descRatio    = prometheus.NewDesc("tessera_node_load_ratio", "Estimated load over the capacity (absent without a capacity).", nil, nil)
)

func (l loadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCapacity
	ch <- descLoad
	ch <- descRatio
}

func (l loadCollector) Collect(ch chan<- prometheus.Metric) {
	comps, pubs := l.s.load()
	ch <- prometheus.MustNewConstMetric(descCapacity, prometheus.GaugeValue, l.s.cfg.CapacityCores)
	ch <- prometheus.MustNewConstMetric(descLoad, prometheus.GaugeValue, comps, "compositions")
	ch <- prometheus.MustNewConstMetric(descLoad, prometheus.GaugeValue, pubs, "publishers")
	if l.s.cfg.CapacityCores > 0 {
		ch <- prometheus.MustNewConstMetric(descRatio, prometheus.GaugeValue, (comps+pubs)/l.s.cfg.CapacityCores)
	}
}
