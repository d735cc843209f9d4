package ingest

import (
	"time"

	"github.com/pion/rtp"
)

// ringSize is how many RTP packets an assembler holds: at 30 fps and
// 720p about two seconds of video, far more than any wait it allows.
const ringSize = 1024

// depacketizer turns a frame's RTP payloads into the frame
// (h264Depacketizer, or pion's VP8 and Opus through pionDepacketizer).
type depacketizer interface {
	// appendPayload appends what payload carries of the frame to frame.
	appendPayload(frame, payload []byte) ([]byte, error)
	// IsPartitionHead reports whether payload can start a frame.
	IsPartitionHead(payload []byte) bool
	// finish ends the frame, whole or refused, leaving no state for the
	// next one, and reports whether it ended whole.
	finish() error
}

// pionDepacketizer is a depacketizer from one of pion's whose Unmarshal
// gives back a part of the payload, nothing copied (codecs.VP8Packet,
// codecs.OpusPacket).
type pionDepacketizer struct {
	d interface {
		Unmarshal(payload []byte) ([]byte, error)
		IsPartitionHead(payload []byte) bool
	}
}

func (p pionDepacketizer) appendPayload(frame, payload []byte) ([]byte, error) {
	b, err := p.d.Unmarshal(payload)
	return append(frame, b...), err
}

func (p pionDepacketizer) IsPartitionHead(payload []byte) bool { return p.d.IsPartitionHead(payload) }
func (pionDepacketizer) finish() error                         { return nil }

// assembledFrame is one frame's payload, depacketized.
type assembledFrame struct {
	data []byte // valid until the next push
	ts   uint32 // RTP timestamp
	// gap reports that packets before this frame were lost (given up on),
	// so a decoder that depends on earlier frames may be missing one.
	gap bool
	// arrived is when the frame's last packet arrived.
	arrived time.Duration
}

// assemblerStats counts what an assembler saw and what it dropped.
type assemblerStats struct {
	Packets    uint64 // accepted into the buffer
	Late       uint64 // arrived after their frame was emitted or given up
	Duplicates uint64
	Lost       uint64 // never arrived within the wait
	Malformed  uint64 // frames the depacketizer refused, or without a start
	Frames     uint64 // emitted
	Resets     uint64 // jumps in sequence numbers too large to bridge
}

type slot struct {
	used    bool
	marker  bool
	padding bool // no payload: a sender's padding (bandwidth probing), part of no frame
	seq     uint16
	ts      uint32
	arrived time.Duration
	payload []byte
}

// assembler is the jitter buffer and frame assembler of one RTP stream. It
// orders packets by sequence number, emits a frame as soon as all of its
// packets are there (the marker bit, or the next packet's timestamp, ends a
// frame; single means every packet is a frame, as for Opus), and waits at
// most maxWait for a missing packet — long enough for a NACK to bring it
// back — before giving up on it and reporting the gap on the next frame.
// Packets without payload are padding (browsers probe bandwidth with them,
// between frames, with the previous frame's timestamp): they fill their
// sequence number but are part of no frame — a frame ends at its marker
// or at the next packet with payload and another timestamp — so they are
// neither a gap nor a malformed frame.
//
// pion's samplebuilder holds every frame until the first packet of the
// next one arrives (a frame interval of delay on every frame); this one
// only waits when something is missing. Not safe for concurrent use.
type assembler struct {
	slots   [ringSize]slot
	depack  depacketizer
	single  bool
	maxWait time.Duration

	started bool
	head    uint16 // the oldest sequence number not yet emitted or skipped
	newest  uint16 // the highest sequence number received
	moved   bool   // head advanced past a frame or a hole
	gap     bool   // a gap was skipped since the last emitted frame
	frame   []byte
	stats   assemblerStats
}

func newAssembler(d depacketizer, single bool, maxWait time.Duration) *assembler {
	return &assembler{depack: d, single: single, maxWait: maxWait}
}

// push adds a packet that arrived at now and emits every frame that became
// complete (or whose missing packets were given up).
func (a *assembler) push(p *rtp.Packet, now time.Duration, emit func(assembledFrame)) {
	seq := p.SequenceNumber
	if !a.started {
		a.started, a.head, a.newest = true, seq, seq
	}
	d := int16(seq - a.head)
	if d < 0 && !a.moved && int(-d) < ringSize/4 {
		// Nothing emitted yet: an earlier packet that arrived after the
		// first one starts the stream instead.
		a.head, d = seq, 0
	}
	switch {
	case d < 0:
		a.stats.Late++
		return
	case int(d) >= ringSize:
		// Far ahead: a restarted sender or a long outage. Drop what is
		// buffered and start again from here.
		a.stats.Resets++
		for i := range a.slots {
			if a.slots[i].used {
				a.stats.Lost++
			}
			a.slots[i].used = false
		}
		a.head, a.gap, a.moved, a.newest = seq, true, true, seq
	}
	s := &a.slots[seq%ringSize]
	if s.used {
		a.stats.Duplicates++
		return
	}
	if int16(seq-a.newest) > 0 {
		a.newest = seq
	}
	s.used, s.marker, s.seq, s.ts, s.arrived = true, p.Marker, seq, p.Timestamp, now
	s.padding = len(p.Payload) == 0
	s.payload = append(s.payload[:0], p.Payload...)
	a.stats.Packets++
	a.drain(now, emit)
}

func (a *assembler) at(seq uint16) *slot {
	s := &a.slots[seq%ringSize]
	if s.used && s.seq == seq {
		return s
	}
	return nil
}

// drain emits frames from the head while it can.
func (a *assembler) drain(now time.Duration, emit func(assembledFrame)) {
	for {
		head := a.at(a.head)
		if head == nil {
			if !a.skipGap(now) {
				return
			}
			continue
		}
		if head.padding {
			head.used = false
			a.head, a.moved = a.head+1, true
			continue
		}
		// Find the end of the frame that starts at the head.
		end, complete := a.head, false
		for {
			s := a.at(end)
			if s == nil {
				break
			}
			if a.single || s.marker {
				complete = true
				break
			}
			// The next packet with payload, past any padding.
			next := end + 1
			for n := a.at(next); n != nil && n.padding && next-a.head < ringSize/2; n = a.at(next) {
				next++
			}
			if n := a.at(next); n != nil && n.ts != s.ts {
				complete = true
				break
			}
			if next-a.head >= ringSize/2 {
				complete = true // absurdly long frame: cut it here
				break
			}
			end = next
		}
		if !complete {
			// The frame's next packet is missing; wait for it within maxWait.
			if !a.skipGap(now) {
				return
			}
			continue
		}
		a.emitFrame(end, emit)
	}
}

// skipGap gives up on the missing packet at or after the head when a packet
// beyond it has waited maxWait, dropping the incomplete frame before the
// hole. It reports whether it moved the head.
func (a *assembler) skipGap(now time.Duration) bool {
	// The first hole at or after the head.
	hole := a.head
	for a.at(hole) != nil {
		hole++
		if hole-a.head >= ringSize {
			return false
		}
	}
	// The first packet after the hole: none if nothing newer arrived
	// (the usual case, a frame's next packet on its way).
	if int16(a.newest-hole) <= 0 {
		return false
	}
	next := hole + 1
	var waiting *slot
	for ; ; next++ {
		if waiting = a.at(next); waiting != nil || next == a.newest {
			break
		}
	}
	if waiting == nil || now-waiting.arrived < a.maxWait {
		return false
	}
	for seq := a.head; seq != next; seq++ {
		if s := a.at(seq); s != nil {
			s.used = false
			if !s.padding {
				a.stats.Malformed++ // an incomplete frame's packets
			}
		} else {
			a.stats.Lost++
		}
	}
	a.head, a.gap, a.moved = next, true, true
	return true
}

// emitFrame depacketizes the packets head..end, passes the frame on and
// frees the slots.
func (a *assembler) emitFrame(end uint16, emit func(assembledFrame)) {
	first := a.at(a.head)
	f := assembledFrame{ts: first.ts, gap: a.gap}
	ok := a.depack.IsPartitionHead(first.payload)
	a.frame = a.frame[:0]
	for seq := a.head; ; seq++ {
		s := a.at(seq)
		if s.padding {
			s.used = false
			continue
		}
		if ok {
			var err error
			a.frame, err = a.depack.appendPayload(a.frame, s.payload)
			ok = err == nil
		}
		f.arrived = max(f.arrived, s.arrived)
		s.used = false
		if seq == end {
			break
		}
	}
	a.head, a.moved = end+1, true
	if err := a.depack.finish(); err != nil {
		ok = false
	}
	if !ok || len(a.frame) == 0 {
		a.stats.Malformed++
		a.gap = true
		return
	}
	a.gap = false
	a.stats.Frames++
	f.data = a.frame
	emit(f)
}
