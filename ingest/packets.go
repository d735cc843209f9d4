package ingest

import (
	"slices"
	"sync"
	"time"
)

// VideoPacket is one access unit of a participant's video as its
// publisher sent it, before decoding: what a recording that does not
// re-encode packages.
type VideoPacket struct {
	Codec string // "h264" (Annex B, the parameter sets before every IDR) or "vp8"
	Data  []byte // the reader's own copy
	PTS   time.Duration
	// Keyframe: decodable on its own (an IDR, a VP8 key frame).
	Keyframe bool
	// Width and Height are the picture size of the newest keyframe.
	Width, Height int
	// Discontinuity: packets were lost before this one (the queue
	// overflowed, or ingest dropped a frame); it is a keyframe.
	Discontinuity bool
}

// videoPacketQueue bounds a VideoPackets queue: ten seconds at 30 fps.
const videoPacketQueue = 300

// VideoPackets is one reader's queue of a participant's video access
// units, from a keyframe on. Of a simulcast publisher it carries the
// largest layer. A reader that falls behind loses the queue's oldest
// packets (counted in Dropped) and then everything up to the next
// keyframe (the publisher is asked for one); it never blocks ingest.
type VideoPackets struct {
	p       *Participant
	mu      sync.Mutex
	q       []VideoPacket
	dropped uint64
	waiting bool // for a keyframe
	gap     bool // the next packet delivered follows a loss
}

// SubscribeVideoPackets starts a queue of the participant's video access
// units, from its next keyframe (the publisher is asked for one at once).
// Close it when done.
func (p *Participant) SubscribeVideoPackets() *VideoPackets {
	s := &VideoPackets{p: p, waiting: true}
	p.mu.Lock()
	p.videoSubs = append(p.videoSubs, s)
	p.mu.Unlock()
	s.RequestKeyframe()
	return s
}

// Drain passes every queued packet to fn, oldest first, and empties the
// queue.
func (s *VideoPackets) Drain(fn func(VideoPacket)) {
	s.mu.Lock()
	q := s.q
	s.q = nil
	s.mu.Unlock()
	for _, pk := range q {
		fn(pk)
	}
}

// Dropped returns how many packets were lost to overflow.
func (s *VideoPackets) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// RequestKeyframe asks the publisher for a keyframe (a WebRTC PLI; an RTMP
// publisher sends its next one when its encoder does).
func (s *VideoPackets) RequestKeyframe() {
	if fn := s.p.onKeyframe.Load(); fn != nil {
		(*fn)()
	}
}

// Close ends the subscription.
func (s *VideoPackets) Close() {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.videoSubs, s); i >= 0 {
		// A new slice: publishPacket ranges over the old one unlocked.
		p.videoSubs = slices.Delete(slices.Clone(p.videoSubs), i, i+1)
	}
}

// push queues a copy of pk, or starts waiting for a keyframe when the
// queue is full; it reports whether the reader wants a keyframe asked for.
func (s *VideoPackets) push(pk VideoPacket) (wantKey bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) >= videoPacketQueue {
		s.dropped += uint64(len(s.q))
		s.q, s.waiting, s.gap = nil, true, true
		wantKey = true
	}
	if s.waiting && !pk.Keyframe {
		return wantKey
	}
	pk.Data = slices.Clone(pk.Data)
	pk.Discontinuity = pk.Discontinuity || s.gap
	s.waiting, s.gap = false, false
	s.q = append(s.q, pk)
	return wantKey
}

// lost marks a loss in the participant's video: every reader waits for
// the next keyframe, whose packet says Discontinuity.
func (s *VideoPackets) lost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waiting {
		s.waiting, s.gap = true, true
	}
}

// publishPacket hands an access unit to the participant's packet readers;
// gap tells that frames were lost before it. It reports whether a reader
// wants a keyframe: the caller asks the publisher for one.
func (p *Participant) publishPacket(pk VideoPacket, gap bool) (wantKey bool) {
	p.mu.Lock()
	subs := p.videoSubs
	p.mu.Unlock()
	for _, s := range subs {
		if gap {
			s.lost()
		}
		if s.push(pk) {
			wantKey = true
		}
	}
	return wantKey || (len(subs) > 0 && gap && !pk.Keyframe)
}

// packetsLost tells the packet readers that an access unit was lost (it
// could not be parsed): they wait for the next keyframe. It reports
// whether there are readers: the caller asks the publisher for one.
func (p *Participant) packetsLost() (wantKey bool) {
	p.mu.Lock()
	subs := p.videoSubs
	p.mu.Unlock()
	for _, s := range subs {
		s.lost()
	}
	return len(subs) > 0
}
