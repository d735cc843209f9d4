package worker

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"sync"
	"time"

	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
)

// participantRecorder records one publisher as HLS with fragmented-MP4
// segments: H.264 packaged as received (no re-encode), VP8 decoded and
// encoded once to H.264 at its size, the sound encoded once to AAC.
type participantRecorder struct {
	cfg       output.RecordingConfig
	log       *slog.Logger
	audioOnly bool
	write     videoWriter // nil when audio only
	rec       *output.Recording
	resume    chan resumption
	stop      chan struct{}
	done      chan struct{}
	once      sync.Once
	err       error

	// The publish being recorded and its AAC encoder: run's own once it
	// started.
	src  source
	aenc *av.AudioEncoder
}

// source is one publish of the participant.
type source struct {
	p     *ingest.Participant
	video *ingest.VideoPackets // nil when audio only
	audio *ingest.AudioSubscription
}

func (s source) close() {
	if s.video != nil {
		s.video.Close()
	}
	if s.audio != nil {
		s.audio.Close()
	}
}

// resumption is a new publish for run to go on with, after a gap.
type resumption struct {
	src   source
	aenc  *av.AudioEncoder
	first []ingest.VideoPacket
	done  chan error
}

// videoWriter turns a publisher's access units into the recording's video.
type videoWriter interface {
	packet(pk ingest.VideoPacket)
	// accepts says whether a new publish that begins with keyframe can go
	// on in the recording.
	accepts(keyframe ingest.VideoPacket) error
	// restart readies the writer for a new publish read from src, after
	// a gap.
	restart(src *ingest.VideoPackets)
	flush()
	close()
}

// Segment cutting on a publisher's keyframes. A browser sends keyframes
// only when asked, so the recorder asks for one (a PLI) once the open
// segment has reached keyCutSlack short of the target: the segment is cut
// at the first keyframe from there on, and lasts the target within about
// the keyframe's round trip. Requests repeat at most every keyAskEvery
// while none comes. The slack also lets an encoder's periodic keyframe
// that falls on the target, a little early, end the segment.
const (
	keyCutSlack = 100 * time.Millisecond
	keyAskEvery = 500 * time.Millisecond
)

// aacFrame is one AAC frame at 48 kHz: an audio-only recording may cut
// its segments before any of them.
const aacFrame = 1024 * time.Second / 48000

// recordParticipant starts recording p with cfg (Spool, WorkDir, Bucket,
// Prefix, TargetSegment…; Streams, Container and KeyframeInterval are set
// here). With video it waits, up to wait, for the first keyframe, which
// decides between packaging (H.264) and transcoding (VP8).
func recordParticipant(ctx context.Context, p *ingest.Participant, cfg output.RecordingConfig, audioOnly bool, wait time.Duration) (*participantRecorder, error) {
	r := &participantRecorder{cfg: cfg, log: cfg.Logger, audioOnly: audioOnly, resume: make(chan resumption),
		stop: make(chan struct{}), done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.src = source{p: p, audio: p.SubscribeAudio()}
	aenc, err := av.NewAudioEncoder(av.AudioConfig{Codec: "aac"})
	if err != nil {
		r.close()
		return nil, err
	}
	r.aenc = aenc
	cfg.Container = output.SegmentsFMP4
	cfg.KeyframeInterval = keyCutSlack
	var first []ingest.VideoPacket
	if audioOnly {
		cfg.Streams = []av.StreamInfo{aenc.Stream()}
		cfg.KeyframeInterval = aacFrame
	} else {
		r.src.video = p.SubscribeVideoPackets()
		if first, err = firstKeyframe(ctx, r.src, wait); err != nil {
			r.close()
			return nil, err
		}
		key := first[0]
		var vs av.StreamInfo
		switch key.Codec {
		case "h264":
			vs = av.StreamInfo{Kind: av.Video, Codec: "h264", Width: key.Width, Height: key.Height,
				FrameRateNum: 30, FrameRateDen: 1, Extradata: av.H264ParameterSets(key.Data)}
		case "vp8":
			t, err := newTranscoder(key.Width, key.Height, cfg.TargetSegment)
			if err != nil {
				r.close()
				return nil, err
			}
			r.write = t
			vs = t.enc.Stream()
		default:
			r.close()
			return nil, fmt.Errorf("worker: participant %s: cannot record %s video", p.ID(), key.Codec)
		}
		cfg.Streams = []av.StreamInfo{vs, aenc.Stream()}
	}
	if r.rec, err = output.NewRecording(cfg); err != nil {
		r.close()
		return nil, err
	}
	r.cfg = cfg
	switch t := r.write.(type) {
	case nil:
		if !audioOnly {
			r.write = &packager{rec: r.rec, src: r.src.video, target: cfg.TargetSegment, log: r.log}
		}
	case *transcoder:
		t.rec = r.rec
		t.thumbs = cfg.ThumbnailInterval > 0
		t.log = r.log
	}
	for _, pk := range first {
		r.write.packet(pk)
	}
	go r.run()
	return r, nil
}

// firstKeyframe waits for the publish's first keyframe and returns the
// packets from it on.
func firstKeyframe(ctx context.Context, src source, wait time.Duration) ([]ingest.VideoPacket, error) {
	var first []ingest.VideoPacket
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(first) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timeout.C:
			return nil, fmt.Errorf("worker: participant %s: no keyframe within %v", src.p.ID(), wait)
		case <-tick.C:
		}
		src.video.Drain(func(pk ingest.VideoPacket) { first = append(first, pk) })
	}
	return first, nil
}

// run moves the publisher's media into the recording until Stop.
func (r *participantRecorder) run() {
	defer close(r.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	emit := func(pk av.Packet) { r.rec.WritePacket(pk) }
	for {
		select {
		case <-r.stop:
			return
		case res := <-r.resume:
			res.done <- r.switchTo(res)
			continue
		case <-tick.C:
		}
		if r.src.video != nil {
			r.src.video.Drain(r.write.packet)
			if _, ok := r.write.(*packager); ok && r.cfg.ThumbnailInterval > 0 {
				// Packaged video is not decoded here: thumbnails come from
				// ingest's decoded pictures of the publisher.
				if f := r.src.p.Video().Latest(); f != nil {
					r.rec.Frame(f.VideoFrame)
					f.Release()
				}
			}
		}
		r.src.audio.Drain(func(a *media.AudioFrame) {
			if err := r.aenc.Encode(a, emit); err != nil {
				r.log.Warn("participant recording: audio", "err", err)
			}
		})
	}
}

// Stop ends the recording and waits until storage has it.
func (r *participantRecorder) Stop(ctx context.Context) error {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		emit := func(pk av.Packet) { r.rec.WritePacket(pk) }
		if r.write != nil {
			r.write.flush()
		}
		_ = r.aenc.Flush(emit)
		r.err = r.rec.Stop(ctx)
		r.close()
	})
	return r.err
}

// Resume goes on recording with the participant's new publish p, after a
// gap: its media must be what the recording holds (H.264 with the same
// parameter sets when packaged; VP8 when transcoded, at any size).
func (r *participantRecorder) Resume(ctx context.Context, p *ingest.Participant, wait time.Duration) error {
	src := source{p: p, audio: p.SubscribeAudio()}
	var first []ingest.VideoPacket
	if !r.audioOnly {
		src.video = p.SubscribeVideoPackets()
		var err error
		if first, err = firstKeyframe(ctx, src, wait); err != nil {
			src.close()
			return err
		}
		if err := r.write.accepts(first[0]); err != nil {
			src.close()
			return err
		}
	}
	aenc, err := av.NewAudioEncoder(av.AudioConfig{Codec: "aac"})
	if err != nil {
		src.close()
		return err
	}
	res := resumption{src: src, aenc: aenc, first: first, done: make(chan error, 1)}
	select {
	case r.resume <- res:
	case <-r.done:
		src.close()
		aenc.Close()
		return errors.New("worker: the participant recording has stopped")
	case <-ctx.Done():
		src.close()
		aenc.Close()
		return ctx.Err()
	}
	return <-res.done // run answers at once
}

// switchTo is run's side of Resume: the old publish's last sound, a
// gap, then the new publish from its keyframe. The sound gets a new
// encoder, whose timestamps start at the new publish's.
func (r *participantRecorder) switchTo(res resumption) error {
	emit := func(pk av.Packet) { r.rec.WritePacket(pk) }
	r.src.audio.Drain(func(a *media.AudioFrame) { _ = r.aenc.Encode(a, emit) })
	_ = r.aenc.Flush(emit)
	// The video needs no flush: x264 runs without delay (zerolatency).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.rec.Gap(ctx); err != nil {
		res.src.close()
		res.aenc.Close()
		return err
	}
	r.src.close()
	r.aenc.Close()
	r.src, r.aenc = res.src, res.aenc
	if r.write != nil {
		r.write.restart(r.src.video)
		for _, pk := range res.first {
			r.write.packet(pk)
		}
	}
	return nil
}

func (r *participantRecorder) close() {
	r.src.close()
	if r.write != nil {
		r.write.close()
	}
	if r.aenc != nil {
		r.aenc.Close()
	}
}

// packager writes H.264 access units as received, asking the publisher
// for a keyframe when the open segment is due to end.
type packager struct {
	rec      *output.Recording
	src      *ingest.VideoPackets
	target   time.Duration
	log      *slog.Logger
	segStart time.Duration // PTS of the keyframe the open segment began with
	started  bool
	asked    time.Duration // PTS of the last keyframe request
	params   []byte        // the parameter sets in force
	warned   bool
	pts      increasing
}

// increasing keeps a publisher's video timestamps strictly increasing:
// ingest maps capture times onto the server clock, and the mapping can
// step back a little when it settles (its first RTCP sender report), which
// a muxer refuses.
type increasing struct {
	last time.Duration
	have bool
}

func (c *increasing) next(pts time.Duration) time.Duration {
	if c.have && pts <= c.last {
		pts = c.last + time.Millisecond
	}
	c.last, c.have = pts, true
	return pts
}

func (w *packager) packet(pk ingest.VideoPacket) {
	pk.PTS = w.pts.next(pk.PTS)
	if pk.Keyframe {
		if !w.started || pk.PTS-w.segStart+keyCutSlack > w.target {
			w.segStart, w.started = pk.PTS, true // the recording cuts a segment here
		}
		if ps := av.H264ParameterSets(pk.Data); w.params == nil {
			w.params = ps
		} else if string(ps) != string(w.params) && !w.warned {
			w.warned = true
			w.log.Warn("participant recording: the publisher's H.264 parameter sets changed; recorded in-band", "width", pk.Width, "height", pk.Height)
		}
	} else if w.started && pk.PTS-w.segStart+keyCutSlack > w.target && pk.PTS-w.asked >= keyAskEvery {
		w.asked = pk.PTS
		w.src.RequestKeyframe()
	}
	w.rec.WritePacket(av.Packet{Kind: av.Video, Data: pk.Data, PTS: pk.PTS, DTS: pk.PTS, Keyframe: pk.Keyframe})
}

func (w *packager) accepts(key ingest.VideoPacket) error {
	if key.Codec != "h264" || string(av.H264ParameterSets(key.Data)) != string(w.params) {
		return fmt.Errorf("worker: the new publish (%s %dx%d) differs from the recorded H.264: the recording cannot go on", key.Codec, key.Width, key.Height)
	}
	return nil
}

func (w *packager) restart(src *ingest.VideoPackets) { w.src, w.started = src, false }

func (w *packager) flush() {}
func (w *packager) close() {}

// transcoder decodes a VP8 publisher and encodes it to H.264 at the size
// of its first keyframe (pictures of another size are scaled to it), with
// a keyframe every target segment duration of its timestamps.
type transcoder struct {
	dec    *av.VideoDecoder
	enc    *av.VideoEncoder
	scale  *av.Scaler
	rec    *output.Recording
	log    *slog.Logger
	pic    *media.VideoFrame // the decoder's picture
	sized  *media.VideoFrame // the picture at the recording's size
	thumbs bool
	errs   int
	pts    increasing
	target time.Duration // the segments'
	key    time.Duration // PTS of the last keyframe
	keyed  bool
}

// transcodeBitrate is the H.264 bitrate of a transcoded publisher: 0.1 bit
// per pixel at 30 fps, at least 300 kbit/s.
func transcodeBitrate(w, h int) int { return max(300_000, w*h*3) }

func newTranscoder(w, h int, target time.Duration) (*transcoder, error) {
	if w <= 0 || h <= 0 {
		return nil, errors.New("worker: VP8 keyframe without a picture size")
	}
	w, h = w&^1, h&^1
	dec, err := av.NewVideoDecoder("vp8", 1)
	if err != nil {
		return nil, err
	}
	// Keyframes are forced by time (a publisher's frame rate varies), every
	// target; the encoder's own interval only bounds them beyond that.
	enc, err := av.NewVideoEncoder(av.VideoConfig{Codec: "h264", Width: w, Height: h, FrameRate: 30,
		Bitrate: transcodeBitrate(w, h), KeyframeInterval: 4 * target, Threads: 1})
	if err != nil {
		dec.Close()
		return nil, err
	}
	scale, err := av.NewScaler(av.Bilinear)
	if err != nil {
		dec.Close()
		enc.Close()
		return nil, err
	}
	return &transcoder{dec: dec, enc: enc, scale: scale, sized: media.NewVideoFrame(w, h), target: target}, nil
}

func (t *transcoder) packet(pk ingest.VideoPacket) {
	f, err := t.dec.Decode(pk.Data, t.pts.next(pk.PTS), func(w, h int) *media.VideoFrame {
		if t.pic == nil || t.pic.Width != w || t.pic.Height != h {
			t.pic = media.NewVideoFrame(w, h)
		}
		return t.pic
	})
	if err != nil || f == nil {
		if err != nil && t.errs == 0 {
			t.log.Warn("participant recording: VP8 decode", "err", err)
		}
		t.errs++
		return
	}
	if f.Width != t.sized.Width || f.Height != t.sized.Height {
		if err := t.scale.Scale(t.sized, f, image.Rect(0, 0, f.Width, f.Height)); err != nil {
			t.log.Warn("participant recording: scaling", "err", err)
			return
		}
		t.sized.PTS = f.PTS
		f = t.sized
	}
	if t.thumbs {
		t.rec.Frame(f)
	}
	// Half the slack: the keyframe lands where the recording cuts even
	// after the encoder rounds its timestamp to its time base (1/30 s).
	if !t.keyed || f.PTS-t.key+keyCutSlack/2 > t.target {
		t.enc.ForceKeyframe()
		t.key, t.keyed = f.PTS, true
	}
	if err := t.enc.Encode(f, t.rec.WritePacket); err != nil {
		t.log.Warn("participant recording: H.264 encode", "err", err)
	}
}

func (t *transcoder) accepts(key ingest.VideoPacket) error {
	if key.Codec != "vp8" {
		return fmt.Errorf("worker: the new publish is %s; the recording transcodes VP8: it cannot go on", key.Codec)
	}
	return nil
}

// restart makes the next picture a keyframe: the segment after the gap
// begins with it.
func (t *transcoder) restart(*ingest.VideoPackets) { t.keyed = false }

func (t *transcoder) flush() {
	if err := t.enc.Flush(t.rec.WritePacket); err != nil {
		t.log.Warn("participant recording: H.264 flush", "err", err)
	}
}

func (t *transcoder) close() {
	t.dec.Close()
	t.enc.Close()
	t.scale.Close()
}
