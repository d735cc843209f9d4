package ingest

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// layer is one received video stream: the only one without simulcast, or
// one of a simulcast publisher's RID layers.
type layer struct {
	rid           string
	ssrc          uint32
	asm           *assembler
	clock         *trackClock
	width, height int // from the newest keyframe
}

// videoIn is a participant's video: its layers, and the one decoder that
// decodes the selected layer into the participant's VideoFeed.
type videoIn struct {
	s     *session
	codec string

	mu      sync.Mutex // everything below; taken per frame by the layers' goroutines
	layers  []*layer
	active  *layer // the layer being decoded
	target  *layer // the layer to switch to at its next keyframe
	pics    *pictureDecoder
	needKey bool // a loss or error happened: skip until a keyframe
	scratch []byte
}

func newVideoIn(s *session, codec string) (*videoIn, error) {
	pics, err := newPictureDecoder(s.srv, s.stage, s.p, s.log, codec)
	if err != nil {
		return nil, err
	}
	v := &videoIn{s: s, codec: codec, pics: pics, needKey: true, scratch: make([]byte, 0, 512)}
	fn := v.reselect
	s.p.onWant.Store(&fn)
	key := v.keyframeForPackets
	s.p.onKeyframe.Store(&key)
	return v, nil
}

// top returns the layer the packet readers get: the largest of known
// size, or the only one; v.mu is held.
func (v *videoIn) top() *layer {
	var t *layer
	for _, l := range v.layers {
		if t == nil || l.width*l.height > t.width*t.height {
			t = l
		}
	}
	return t
}

// keyframeForPackets asks the packet readers' layer for a keyframe.
func (v *videoIn) keyframeForPackets() {
	v.mu.Lock()
	t := v.top()
	v.mu.Unlock()
	if t != nil {
		v.s.pli(t.ssrc)
	}
}

func (v *videoIn) addLayer(t *webrtc.TrackRemote) *layer {
	var d depacketizer = pionDepacketizer{&codecs.VP8Packet{}}
	if v.codec == "h264" {
		d = &h264Depacketizer{}
	}
	l := &layer{rid: t.RID(), ssrc: uint32(t.SSRC()), asm: newAssembler(d, false, v.s.srv.cfg.JitterWait),
		clock: newTrackClock(t.Codec().ClockRate, &v.s.clock)}
	v.mu.Lock()
	v.layers = append(v.layers, l)
	v.mu.Unlock()
	return l
}

// runLayer reads the layer's RTP (and, alongside, its RTCP for the sender
// reports) until the track ends.
func (v *videoIn) runLayer(l *layer, t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	v.s.goRun(func() { v.s.readRTCP(r, l.rid, func(sr *rtcp.SenderReport) { v.senderReport(l, sr) }) })
	v.s.readRTP(t, "video", &v.s.p.stats.videoPackets, &v.mu, l.asm, func(f assembledFrame, now time.Duration) { v.frame(l, f, now) })
}

func (v *videoIn) senderReport(l *layer, sr *rtcp.SenderReport) {
	v.mu.Lock()
	l.clock.senderReport(sr)
	v.mu.Unlock()
}

// count moves an assembler's new drops into the participant's counters.
func (s *session) count(before, after assemblerStats) {
	st, m := &s.p.stats, s.srv.metrics
	if d := after.Lost - before.Lost; d > 0 {
		st.lost.Add(d)
		m.dropped.WithLabelValues("lost").Add(float64(d))
	}
	if d := after.Late + after.Duplicates - before.Late - before.Duplicates; d > 0 {
		st.late.Add(d)
		m.dropped.WithLabelValues("late").Add(float64(d))
	}
	if d := after.Malformed - before.Malformed; d > 0 {
		st.malformed.Add(d)
		m.dropped.WithLabelValues("malformed").Add(float64(d))
	}
}

// frame handles an assembled frame of layer l; v.mu is held.
func (v *videoIn) frame(l *layer, f assembledFrame, now time.Duration) {
	v.s.p.stats.received.Add(1)
	key, w, h, err := v.inspect(f.data)
	if errors.Is(err, errBFrames) {
		return
	}
	recorded := l == v.top()
	if err != nil {
		if recorded && v.s.p.packetsLost() {
			v.s.pli(l.ssrc)
		}
		v.s.p.stats.malformed.Add(1)
		v.s.srv.metrics.dropped.WithLabelValues("malformed").Inc()
		if l == v.active {
			v.needKey = true
			v.s.pli(l.ssrc)
		}
		return
	}
	if key && w == 0 && l.width == 0 {
		// An IDR before any SPS on this layer (its first packet was lost
		// at the very start): undecodable, ask for another.
		v.s.p.stats.skipped.Add(1)
		v.s.pli(l.ssrc)
		return
	}
	if key && w > 0 {
		if l.width != w || l.height != h {
			l.width, l.height = w, h
			if v.active != nil {
				v.selectTarget()
			}
		}
	}
	pts := l.clock.capture(f.ts, f.arrived)
	if recorded && v.s.p.publishPacket(VideoPacket{Codec: v.codec, Data: f.data, PTS: pts, Keyframe: key, Width: l.width, Height: l.height}, f.gap) {
		v.s.pli(l.ssrc)
	}
	if v.active == nil {
		if !key {
			// The stream's first keyframe was lost (or sent before the
			// track was bound): ask for one. A publisher that starts with a
			// keyframe, as they all do, is never asked.
			v.s.p.stats.skipped.Add(1)
			v.s.srv.metrics.dropped.WithLabelValues("awaiting_keyframe").Inc()
			v.s.pli(l.ssrc)
			return
		}
		v.active = l
		v.selectTarget()
	}
	if l != v.active {
		if l == v.target && !key {
			v.s.pli(l.ssrc)
		}
		if l != v.target || !key {
			return
		}
		// The layer to switch to sent its keyframe: switch here.
		v.s.log.Info("simulcast layer switch", "from", v.active.rid, "to", l.rid, "size", [2]int{l.width, l.height})
		v.active = l
		v.pics.reset()
		v.needKey = false
		v.s.p.stats.switches.Add(1)
	}
	if f.gap {
		v.needKey = true
	}
	if v.needKey && !key {
		v.s.p.stats.skipped.Add(1)
		v.s.srv.metrics.dropped.WithLabelValues("awaiting_keyframe").Inc()
		v.s.pli(l.ssrc)
		return
	}
	v.needKey = false
	if v.pics.oversize(l.width, l.height) {
		return
	}
	if err := v.pics.decode(f.data, key, pts, now); err != nil {
		v.needKey = true
		v.s.pli(l.ssrc)
	}
}

var errBFrames = errors.New("B-frames")

// inspect parses a frame before decoding: keyframe, size on keyframes. A
// frame with H.264 B-slices ends the session (IVS refuses B-frames).
func (v *videoIn) inspect(data []byte) (key bool, w, h int, err error) {
	if v.codec == "vp8" {
		f, err := parseVP8(data)
		return f.keyframe, f.width, f.height, err
	}
	info, err := parseH264(data, v.scratch)
	if err != nil {
		return false, 0, 0, err
	}
	if info.bframe {
		v.s.fail(ErrorBFramePresent, "the H.264 stream contains B-frames")
		return false, 0, 0, errBFrames
	}
	return info.keyframe, info.width, info.height, nil
}

// reselect re-evaluates the layer choice after the wanted size changed.
func (v *videoIn) reselect() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.selectTarget()
}

// selectTarget picks the smallest layer of known size that covers the
// wanted size (the largest when none does, or when no size is wanted) and,
// if it is not the active one, asks it for a keyframe to switch on; v.mu
// is held.
func (v *videoIn) selectTarget() {
	ww, wh := v.s.p.wanted()
	known := make([]*layer, 0, len(v.layers))
	for _, l := range v.layers {
		if l.width > 0 {
			known = append(known, l)
		}
	}
	if len(known) == 0 {
		return
	}
	slices.SortFunc(known, func(a, b *layer) int { return a.width*a.height - b.width*b.height })
	pick := known[len(known)-1]
	if ww > 0 || wh > 0 {
		for _, l := range known {
			if l.width >= ww && l.height >= wh {
				pick = l
				break
			}
		}
	}
	if pick == v.active {
		v.target = nil
		return
	}
	if pick != v.target {
		v.s.log.Debug("simulcast target", "rid", pick.rid, "wanted", [2]int{ww, wh})
	}
	v.target = pick
	v.s.pli(pick.ssrc)
}

func (v *videoIn) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pics.close()
}
