package ingest

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
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

	mu       sync.Mutex // everything below; taken per frame by the layers' goroutines
	layers   []*layer
	active   *layer // the layer being decoded
	target   *layer // the layer to switch to at its next keyframe
	dec      *av.VideoDecoder
	needKey  bool // a loss or error happened: skip until a keyframe
	tooLarge bool
	cur      *Frame // the frame the decoder is writing (inside Decode)
	getFrame func(w, h int) *media.VideoFrame
	scratch  []byte
	// Per-frame metrics, looked up once.
	decodeTime prometheus.Observer
	decoded    prometheus.Counter
}

func newVideoIn(s *session, codec string) (*videoIn, error) {
	dec, err := av.NewVideoDecoder(codec, s.srv.cfg.DecoderThreads)
	if err != nil {
		return nil, err
	}
	v := &videoIn{s: s, codec: codec, dec: dec, needKey: true, scratch: make([]byte, 0, 512),
		decodeTime: s.srv.metrics.decodeSec.WithLabelValues(codec), decoded: s.srv.metrics.frames.WithLabelValues("video")}
	v.getFrame = func(w, h int) *media.VideoFrame {
		v.cur = s.p.video.get(w, h)
		return v.cur.VideoFrame
	}
	fn := v.reselect
	s.p.onWant.Store(&fn)
	return v, nil
}

func (v *videoIn) addLayer(t *webrtc.TrackRemote) *layer {
	var d depacketizer = &codecs.VP8Packet{}
	if v.codec == "h264" {
		d = &codecs.H264Packet{}
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
	if err != nil {
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
		v.dec.Reset()
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
	if l.width*l.height > v.s.srv.cfg.MaxVideoPixels {
		if !v.tooLarge {
			v.tooLarge = true
			v.s.log.Warn("video above the size limit: participant rendered audio-only", "size", [2]int{l.width, l.height})
			v.s.stage.event(EventPublishError, v.s.participantID, ErrorResolutionExceeded)
			v.s.p.update(func(i *MediaState) { i.AudioOnly = true })
			v.s.p.video.clear()
		}
		v.s.srv.metrics.dropped.WithLabelValues("oversized").Inc()
		return
	}
	if v.tooLarge {
		v.tooLarge = false
		v.s.p.update(func(i *MediaState) { i.AudioOnly = false })
	}
	pts := l.clock.capture(f.ts, f.arrived)
	start := time.Now()
	out, err := v.dec.Decode(f.data, pts, v.getFrame)
	v.decodeTime.Observe(time.Since(start).Seconds())
	if err != nil {
		if v.cur != nil {
			v.s.p.video.discard(v.cur)
			v.cur = nil
		}
		v.s.log.Warn("video decode error; waiting for a keyframe", "err", err, "keyframe", key, "bytes", len(f.data))
		v.s.p.stats.decodeErrors.Add(1)
		v.s.srv.metrics.decodeErr.Inc()
		v.needKey = true
		v.s.pli(l.ssrc)
		return
	}
	if out == nil {
		if v.cur != nil {
			v.s.p.video.discard(v.cur)
			v.cur = nil
		}
		return
	}
	fr := v.cur
	v.cur = nil
	v.s.p.video.publish(fr)
	v.decoded.Inc()
	v.s.p.picture(out.Width, out.Height, fr.PTS, now)
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
	v.dec.Close()
}
