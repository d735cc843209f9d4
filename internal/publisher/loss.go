package publisher

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
)

// lossInjector drops a fraction of the outgoing RTP packets of every
// stream at random (seeded, so a run is reproducible) and counts what it
// passes and drops. It is registered first, so it sits innermost on the
// write path, next to the network: everything the other interceptors send
// (NACK retransmissions included) goes through it, and the NACK responder
// still remembers the packets it drops.
type lossInjector struct {
	rate float64

	mu  sync.Mutex
	rnd *rand.Rand

	sent, dropped, bytes atomic.Uint64
}

// lossSeedDefault seeds the injector when Config.LossSeed is 0.
const lossSeedDefault = 0x7e55e7a

func newLossInjector(rate float64, seed uint64) *lossInjector {
	if seed == 0 {
		seed = lossSeedDefault
	}
	return &lossInjector{rate: rate, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// drop decides the fate of one packet.
func (l *lossInjector) drop() bool {
	if l.rate <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rnd.Float64() < l.rate
}

// NewInterceptor makes lossInjector an interceptor.Factory. Every
// PeerConnection built with it shares the injector's random source and
// counters; the publisher builds one PeerConnection per injector.
func (l *lossInjector) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &lossInterceptor{l: l}, nil
}

type lossInterceptor struct {
	interceptor.NoOp
	l *lossInjector
}

// BindLocalStream wraps the writer of each outgoing stream.
func (i *lossInterceptor) BindLocalStream(_ *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	l := i.l
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if l.drop() {
			l.dropped.Add(1)
			return h.MarshalSize() + len(payload), nil
		}
		n, err := w.Write(h, payload, a)
		if err == nil {
			l.sent.Add(1)
			l.bytes.Add(uint64(n))
		}
		return n, err
	})
}
