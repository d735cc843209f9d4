package ingest

import (
	"sync"
	"time"

	"github.com/tessera-media/tessera/media"
)

// feedDepth is how many recent decoded pictures a VideoFeed keeps: at
// 30 fps a little over 250 ms, enough for a composition that renders a
// fixed delay behind real time to find the picture captured at or before
// its tick.
const feedDepth = 8

// Frame is a decoded picture held by a VideoFeed. Readers get one from
// Latest or At, may read its pixels until they call Release, and must not
// write to it. PTS is the capture time on the server clock (Server.Now).
type Frame struct {
	*media.VideoFrame
	feed *VideoFeed
	refs int32  // guarded by feed.mu; the feed's own reference counts one
	seq  uint64 // position in the feed (1, 2, …), set by publish
}

// Release gives the frame back; it must be called exactly once per
// Latest/At that returned it.
func (f *Frame) Release() {
	if f == nil {
		return
	}
	f.feed.mu.Lock()
	f.feed.unref(f)
	f.feed.mu.Unlock()
}

// VideoFeed hands a participant's decoded pictures from its decoder to any
// number of readers (the compositions rendering the stage) without copying
// and without making either side wait for the other beyond a short mutex
// section: the decoder publishes into a small ring, readers take a
// reference to the picture they want, and pictures go back to a free list
// when the ring has moved on and the last reader released them. In the
// steady state nothing is allocated.
type VideoFeed struct {
	mu     sync.Mutex
	ring   [feedDepth]*Frame // oldest first
	n      int
	free   []*Frame
	lastAt time.Duration // PTS of the newest picture
	count  uint64
}

// Latest returns the newest picture (acquired), or nil if none arrived yet.
func (v *VideoFeed) Latest() *Frame {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n == 0 {
		return nil
	}
	f := v.ring[v.n-1]
	f.refs++
	return f
}

// At returns the newest picture captured at or before t (acquired). When
// every held picture is newer than t it returns the oldest one, so a
// reader never goes without a picture once one arrived; nil only before
// the first.
func (v *VideoFeed) At(t time.Duration) *Frame {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n == 0 {
		return nil
	}
	i := v.n - 1
	for i > 0 && v.ring[i].PTS > t {
		i--
	}
	f := v.ring[i]
	f.refs++
	return f
}

// Cursor is one reader's place in a VideoFeed for Next: the picture it
// read last and the time it read it for. The zero Cursor (or one after
// Reset) knows nothing yet.
type Cursor struct {
	seq   uint64        // the picture Next returned last, 0 = none
	at    time.Duration // the t of that Next
	valid bool
}

// Reset forgets the reader's place, e.g. when it skipped the feed at a
// tick (the participant's video was stopped): the next Next counts no late
// pictures.
func (c *Cursor) Reset() { *c = Cursor{} }

// Next is At(t) for a reader that reads at increasing t (a composition's
// ticks) and keeps its place in c. It also returns how many pictures the
// reader skipped because they arrived late: pictures published after its
// previous read although captured at or before that read's t. Such a
// picture was due at that read (or earlier) but was not there yet, and
// now a newer one is returned, so this reader never shows it. Pictures
// the reader skips because a newer one was due at the same read (the
// publisher's rate is above the reader's) are not late, nor are pictures
// that left the ring between two reads (a reader that fell behind), nor
// any when c knows no previous read. Next allocates nothing.
func (v *VideoFeed) Next(c *Cursor, t time.Duration) (f *Frame, late int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n == 0 {
		c.Reset()
		return nil, 0
	}
	i := v.n - 1
	for i > 0 && v.ring[i].PTS > t {
		i--
	}
	f = v.ring[i]
	f.refs++
	if c.valid && f.seq > c.seq {
		// The ring is in publication and capture order: walk back from the
		// picture before f over those the reader has not seen.
		for j := i - 1; j >= 0 && v.ring[j].seq > c.seq; j-- {
			if v.ring[j].PTS <= c.at {
				late++
			}
		}
	}
	if !c.valid || f.seq >= c.seq {
		c.seq, c.valid = f.seq, true
	}
	c.at = t
	return f, late
}

// Frames returns how many pictures were published.
func (v *VideoFeed) Frames() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.count
}

// get returns a writable frame of the given size for the decoder.
func (v *VideoFeed) get(w, h int) *Frame {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := len(v.free) - 1; i >= 0; i-- {
		if f := v.free[i]; f.Width == w && f.Height == h {
			v.free[i] = v.free[len(v.free)-1]
			v.free = v.free[:len(v.free)-1]
			f.refs = 1
			return f
		}
	}
	return &Frame{VideoFrame: media.NewVideoFrame(w, h), feed: v, refs: 1}
}

// discard returns a frame from get that was not published.
func (v *VideoFeed) discard(f *Frame) {
	v.mu.Lock()
	v.unref(f)
	v.mu.Unlock()
}

// publish appends a decoded picture (from get) as the newest. Its PTS is
// raised to just after the previous picture's if needed, so the ring stays
// in capture order.
func (v *VideoFeed) publish(f *Frame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n > 0 && f.PTS <= v.lastAt {
		f.PTS = v.lastAt + time.Microsecond
	}
	v.lastAt = f.PTS
	if v.n == feedDepth {
		v.unref(v.ring[0])
		copy(v.ring[:], v.ring[1:])
		v.n--
	}
	v.ring[v.n] = f
	v.n++
	v.count++
	f.seq = v.count
}

// clear drops every held picture (the participant stopped video).
func (v *VideoFeed) clear() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for i := range v.n {
		v.unref(v.ring[i])
		v.ring[i] = nil
	}
	v.n = 0
}

// unref drops one reference; v.mu is held.
func (v *VideoFeed) unref(f *Frame) {
	f.refs--
	if f.refs == 0 && len(v.free) < 2*feedDepth {
		v.free = append(v.free, f)
	}
}

// audioQueueLen bounds an AudioSubscription: 100 Opus frames of 20 ms.
const audioQueueLen = 100

// AudioSubscription is one reader's queue of a participant's decoded
// audio (48 kHz, interleaved float32, PTS on the server clock). Frames are
// shared between subscriptions and must not be modified. A reader that
// falls behind loses the oldest frames (counted in Dropped), never blocks
// the decoder.
type AudioSubscription struct {
	p       *Participant
	mu      sync.Mutex
	q       []*media.AudioFrame
	spare   []*media.AudioFrame
	dropped uint64
}

// Drain passes every queued frame to fn, oldest first, and empties the queue.
func (s *AudioSubscription) Drain(fn func(*media.AudioFrame)) {
	s.mu.Lock()
	q := s.q
	s.q, s.spare = s.spare[:0], nil
	s.mu.Unlock()
	for i, f := range q {
		fn(f)
		q[i] = nil
	}
	s.mu.Lock()
	s.spare = q[:0]
	s.mu.Unlock()
}

// Dropped returns how many frames overflowed the queue.
func (s *AudioSubscription) Dropped() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close ends the subscription.
func (s *AudioSubscription) Close() { s.p.unsubscribeAudio(s) }

func (s *AudioSubscription) push(f *media.AudioFrame) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) >= audioQueueLen {
		copy(s.q, s.q[1:])
		s.q = s.q[:len(s.q)-1]
		s.dropped++
	}
	s.q = append(s.q, f)
}
