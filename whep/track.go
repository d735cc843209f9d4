package whep

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// outboundMTU is the largest RTP packet a track makes (pion's own).
const outboundMTU = 1200

// historySize is how many of a track's last packets are kept for NACKs
// (pion's responder's default): about three seconds of 720p video. It
// divides 65536, so that a sequence number's slot survives wrapping.
const historySize = 1024

// track is one of a hub's media: each sample packetized to RTP once, and
// each packet sent to every viewer (pion's TrackLocalStaticRTP: the
// viewer's SSRC and payload type, through its interceptors and SRTP).
// A video track keeps its last packets once for all viewers and resends
// them on a viewer's NACK.
type track struct {
	*webrtc.TrackLocalStaticRTP
	packetizer rtp.Packetizer
	clockRate  float64
	remainder  float64 // of a clock tick, carried to the next sample

	mu       sync.RWMutex
	history  []*rtp.Packet      // by sequence number modulo historySize; nil without NACKs
	bindings map[string]binding // the viewers', by pion's binding id
}

// binding is where a viewer's copy of a track goes.
type binding struct {
	ssrc webrtc.SSRC
	pt   webrtc.PayloadType
	w    webrtc.TrackLocalWriter
}

// newTrack returns a track of codec, packetized by payloader; nack keeps
// a history for NACKs.
func newTrack(codec webrtc.RTPCodecCapability, payloader rtp.Payloader, id, stream string, nack bool) (*track, error) {
	t, err := webrtc.NewTrackLocalStaticRTP(codec, id, stream)
	if err != nil {
		return nil, err
	}
	tr := &track{TrackLocalStaticRTP: t, clockRate: float64(codec.ClockRate), bindings: map[string]binding{},
		packetizer: rtp.NewPacketizer(outboundMTU, 0, 0, payloader, rtp.NewRandomSequencer(), codec.ClockRate)}
	if nack {
		tr.history = make([]*rtp.Packet, historySize)
	}
	return tr, nil
}

// Bind is pion's, remembering the viewer's binding for resending.
func (t *track) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, err := t.TrackLocalStaticRTP.Bind(ctx)
	if err != nil {
		return codec, err
	}
	t.mu.Lock()
	t.bindings[ctx.ID()] = binding{ssrc: ctx.SSRC(), pt: codec.PayloadType, w: ctx.WriteStream()}
	t.mu.Unlock()
	return codec, nil
}

// Unbind is pion's, forgetting the viewer's binding.
func (t *track) Unbind(ctx webrtc.TrackLocalContext) error {
	t.mu.Lock()
	delete(t.bindings, ctx.ID())
	t.mu.Unlock()
	return t.TrackLocalStaticRTP.Unbind(ctx)
}

// write packetizes a sample lasting d and sends it to every viewer. Only
// the hub's sender calls it.
func (t *track) write(data []byte, d time.Duration) error {
	ticks := d.Seconds()*t.clockRate + t.remainder
	n := uint32(ticks)
	t.remainder = ticks - float64(n)
	pkts := t.packetizer.Packetize(data, n)
	if t.history != nil {
		t.mu.Lock()
		for _, p := range pkts {
			t.history[p.SequenceNumber%historySize] = p // made by the packetizer: nothing changes it
		}
		t.mu.Unlock()
	}
	var first error
	for _, p := range pkts {
		if err := t.WriteRTP(p); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// resend sends the packets a NACK asks for, those the history still has,
// to the viewer whose SSRC it names.
func (t *track) resend(nack *rtcp.TransportLayerNack) {
	if t.history == nil {
		return
	}
	var to []binding
	var pkts []*rtp.Packet
	t.mu.RLock()
	for _, b := range t.bindings {
		if uint32(b.ssrc) == nack.MediaSSRC {
			to = append(to, b)
		}
	}
	for i := range nack.Nacks {
		nack.Nacks[i].Range(func(seq uint16) bool {
			if p := t.history[seq%historySize]; p != nil && p.SequenceNumber == seq {
				pkts = append(pkts, p)
			}
			return true
		})
	}
	t.mu.RUnlock()
	for _, b := range to {
		for _, p := range pkts {
			h := p.Header
			h.SSRC, h.PayloadType = uint32(b.ssrc), uint8(b.pt)
			_, _ = b.w.WriteRTP(&h, p.Payload)
		}
	}
}
