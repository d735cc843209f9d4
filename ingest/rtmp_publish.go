package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/message"
	mch264 "github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/h264"
	"github.com/tessera-media/tessera/media"
)

// rtmpPublish is an RTMP(S) publisher on a stage: its ingest
// configuration's participant while the connection publishes. Video must be
// H.264 without B-frames and audio AAC, both present (IVS); pictures are
// decoded into the participant's VideoFeed and sound into its audio
// subscribers, timed on the server clock from the stream's timestamps (one
// offset for both, so they stay in sync). A message that does not parse is
// dropped and counted; the publish ends on a broken or silent connection,
// a fatal media error, DisconnectParticipant, a change or deletion of its
// ingest configuration, or when its stage closes.
type rtmpPublish struct {
	srv   *Server
	stage *Stage
	cfg   IngestKey
	proto string
	conn  *rtmpConn
	sc    *gortmplib.ServerConn
	log   *slog.Logger

	p       *Participant
	clock   senderClock // the stream's timestamps → server clock
	pics    *pictureDecoder
	audio   *av.AudioDecoder
	sps     []byte // the newest parameter sets
	pps     []byte
	asc     []byte // AAC's AudioSpecificConfig
	width   int    // the newest keyframe's picture size
	height  int
	annexB  []byte // the access unit being decoded, reused
	scratch []byte
	needKey bool
	fatal   string // the PUBLISH_ERROR code that ended the publish

	closeOnce sync.Once
	quit      chan struct{}
	done      chan struct{} // closed when the connection is done with (handleRTMP)
}

func newRTMPPublish(srv *Server, st *Stage, cfg IngestKey, proto string, conn *rtmpConn, sc *gortmplib.ServerConn, log *slog.Logger) *rtmpPublish {
	return &rtmpPublish{srv: srv, stage: st, cfg: cfg, proto: proto, conn: conn, sc: sc, log: log,
		needKey: true, scratch: make([]byte, 0, 512), quit: make(chan struct{}), done: make(chan struct{})}
}

func (r *rtmpPublish) participant() string { return r.cfg.ParticipantID }

// close ends the publish: the connection is closed, and run tears the
// participant down.
func (r *rtmpPublish) close(reason string) {
	r.closeOnce.Do(func() {
		r.log.Info("RTMP publish closing", "reason", reason)
		close(r.quit)
		r.conn.Close()
	})
}

// end closes the publish and waits until its participant left.
func (r *rtmpPublish) end(reason string) {
	r.close(reason)
	r.wait()
}

// wait waits (bounded) until the publish's connection is done with.
func (r *rtmpPublish) wait() {
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		r.log.Error("RTMP publish did not close within 10 s")
	}
}

// fail ends the publish with a PUBLISH_ERROR.
func (r *rtmpPublish) fail(code, reason string) {
	r.log.Warn("publish error; disconnecting", "error_code", code, "reason", reason)
	r.fatal = code
	r.stage.event(EventPublishError, r.cfg.ParticipantID, code)
	r.close(reason)
}

// run waits for the stream's sequence headers, joins the stage, and
// relays the media until the publish ends.
func (r *rtmpPublish) run() {
	if code, why := r.headers(); code != "" {
		r.fatal = code
		r.stage.event(EventPublishError, r.cfg.ParticipantID, code)
		r.log.Warn("RTMP publish refused", "error_code", code, "reason", why)
		return
	}
	p, err := r.stage.join(r, joining{userID: r.cfg.UserID, attributes: r.cfg.Attributes, protocol: r.proto, ingestARN: r.cfg.ARN})
	if err != nil {
		if errors.Is(err, errStageFull) {
			r.stage.event(EventJoinError, r.cfg.ParticipantID, ErrorQuotaExceeded)
		}
		r.log.Warn("RTMP publish refused", "err", err)
		return
	}
	r.p = p
	r.stage.emit(Event{Name: EventJoined, ParticipantID: r.cfg.ParticipantID})
	defer r.leave()
	if err := r.openDecoders(); err != nil {
		r.fail(ErrorInternal, err.Error())
		return
	}
	r.srv.metrics.rtmpPublishing.Inc()
	defer r.srv.metrics.rtmpPublishing.Dec()
	p.update(func(i *MediaState) { i.Video, i.VideoCodec, i.Audio, i.AudioCodec = true, "h264", true, "aac" })
	r.stage.event(EventPublishStarted, r.cfg.ParticipantID, "")
	r.relay()
}

// headers reads until both sequence headers came (H.264's parameter sets
// and AAC's AudioSpecificConfig), within Config.RTMPHandshakeTimeout;
// media before them is dropped. It returns the PUBLISH_ERROR code and why
// when the stream cannot be taken.
func (r *rtmpPublish) headers() (code, why string) {
	_ = r.conn.SetDeadline(time.Now().Add(r.srv.cfg.RTMPHandshakeTimeout))
	for len(r.sps) == 0 || len(r.asc) == 0 {
		before := r.conn.bytesRead()
		msg, err := r.sc.Read()
		if err != nil {
			if r.conn.broken() != nil || r.conn.bytesRead() == before {
				// Broken, or out of step: nothing more can be read.
				return ErrorInvalidInput, fmt.Sprintf("no H.264 and AAC sequence headers: %v", err)
			}
			continue // a malformed message
		}
		if code, why := r.header(msg); code != "" {
			return code, why
		}
	}
	return "", ""
}

// header takes a sequence header, and refuses codecs other than H.264
// and AAC.
func (r *rtmpPublish) header(msg message.Message) (code, why string) {
	switch m := msg.(type) {
	case *message.Video:
		if m.Codec != message.CodecH264 {
			return ErrorInvalidVideoCodec, fmt.Sprintf("video codec %d: H.264 only", m.Codec)
		}
		if m.Type == message.VideoTypeConfig && m.AVCConfig != nil &&
			len(m.AVCConfig.SequenceParameterSets) > 0 && len(m.AVCConfig.PictureParameterSets) > 0 {
			r.sps = slices.Clone(m.AVCConfig.SequenceParameterSets[0].NALUnit)
			r.pps = slices.Clone(m.AVCConfig.PictureParameterSets[0].NALUnit)
		}
	case *message.Audio:
		if m.Codec != message.CodecMPEG4Audio {
			return ErrorInvalidAudioCodec, fmt.Sprintf("audio codec %d: AAC only", m.Codec)
		}
		if m.AACType == message.AudioAACTypeConfig && m.AACConfig != nil {
			asc, err := m.AACConfig.Marshal()
			if err != nil {
				return ErrorInvalidAudioCodec, "AAC config: " + err.Error()
			}
			r.asc = asc
		}
	case *message.VideoExSequenceStart, *message.VideoExCodedFrames, *message.VideoExFramesX, *message.VideoExMultitrack:
		return ErrorInvalidVideoCodec, "Enhanced RTMP video: H.264 in legacy FLV tags only"
	case *message.AudioExSequenceStart, *message.AudioExCodedFrames, *message.AudioExMultitrack:
		return ErrorInvalidAudioCodec, "Enhanced RTMP audio: AAC in legacy FLV tags only"
	}
	return "", ""
}

func (r *rtmpPublish) openDecoders() error {
	pics, err := newPictureDecoder(r.srv, r.stage, r.p, r.log, "h264")
	if err != nil {
		return fmt.Errorf("video decoder: %w", err)
	}
	r.pics = pics
	if r.audio, err = av.NewAACDecoder(r.asc, 2); err != nil {
		return fmt.Errorf("audio decoder: %w", err)
	}
	return nil
}

// relay reads messages until the publish ends. A message that does not
// parse is dropped and counted; the connection failing, going silent for
// Config.RTMPReadTimeout, or the stream outliving Config.RTMPMaxDuration or
// its bitrate limit ends it.
func (r *rtmpPublish) relay() {
	cfg := r.srv.cfg
	start := time.Now()
	windowStart, windowBytes := start, r.conn.bytesRead()
	read := r.conn.bytesRead()
	for {
		now := time.Now()
		_ = r.conn.SetDeadline(now.Add(cfg.RTMPReadTimeout)) // reads, and the acknowledgements the library writes
		msg, err := r.sc.Read()
		select {
		case <-r.quit:
			return
		default:
		}
		before := read
		read = r.conn.bytesRead()
		switch {
		case err != nil && r.conn.broken() != nil:
			r.log.Info("RTMP publish ended", "err", r.conn.broken())
			return
		case err != nil && read == before:
			// The chunk stream is out of step: nothing more can be read.
			r.fail(ErrorInvalidInput, "the RTMP chunk stream cannot be parsed: "+err.Error())
			return
		case err != nil:
			r.malformed(err)
		default:
			r.message(msg)
		}
		if r.fatal != "" {
			return
		}
		if now.Sub(start) > cfg.RTMPMaxDuration {
			r.fail(ErrorStreamDurationLimit, fmt.Sprintf("published for more than %v", cfg.RTMPMaxDuration))
			return
		}
		if d := now.Sub(windowStart); d >= rtmpBitrateWindow {
			if bps := float64(read-windowBytes) * 8 / d.Seconds(); bps > float64(cfg.RTMPMaxBitrate) {
				r.fail(ErrorBitrateExceeded, fmt.Sprintf("%.1f Mbps over %v, at most %.1f", bps/1e6, d.Round(time.Second), float64(cfg.RTMPMaxBitrate)/1e6))
				return
			}
			windowStart, windowBytes = now, read
		}
	}
}

// malformed counts a message that did not parse.
func (r *rtmpPublish) malformed(err error) {
	r.p.stats.malformed.Add(1)
	r.srv.metrics.dropped.WithLabelValues("malformed").Inc()
	r.log.Debug("RTMP message dropped", "err", err)
}

// message handles one message of the publish.
func (r *rtmpPublish) message(msg message.Message) {
	if code, why := r.header(msg); code != "" {
		r.fail(code, why)
		return
	}
	switch m := msg.(type) {
	case *message.Video:
		if m.Type != message.VideoTypeAU {
			return
		}
		var au mch264.AVCC
		if err := au.Unmarshal(m.AU); err != nil {
			if !errors.Is(err, mch264.ErrAVCCNoNALUs) {
				r.malformed(err)
			}
			return
		}
		r.onVideo(m.DTS+m.PTSDelta, au)
	case *message.Audio:
		if m.AACType == message.AudioAACTypeAU && len(m.AU) > 0 {
			r.onAudio(m.DTS, m.AU)
		}
	}
}

// rtmpBitrateWindow is the span over which a publisher's bitrate is
// measured against Config.RTMPMaxBitrate.
const rtmpBitrateWindow = 5 * time.Second

// capture maps a stream timestamp onto the server clock.
func (r *rtmpPublish) capture(pts time.Duration) (capture, now time.Duration) {
	now = r.srv.Now()
	return pts + r.clock.observe(now-pts, now), now
}

// onVideo takes one access unit (NAL units without start codes).
func (r *rtmpPublish) onVideo(pts time.Duration, au [][]byte) {
	r.p.stats.received.Add(1)
	hasSPS, idr := false, false
	for _, n := range au {
		if len(n) == 0 {
			continue
		}
		switch h264.TypeOf(n) {
		case h264.SPS:
			r.sps, hasSPS = append(r.sps[:0], n...), true
		case h264.PPS:
			r.pps = append(r.pps[:0], n...)
		case h264.IDR:
			idr = true
		}
	}
	b := r.annexB[:0]
	if idr && !hasSPS && len(r.sps) > 0 && len(r.pps) > 0 {
		// The parameter sets came in the sequence header only: the
		// decoder wants them before the IDR.
		b = appendNAL(appendNAL(b, r.sps), r.pps)
	}
	for _, n := range au {
		b = appendNAL(b, n)
	}
	r.annexB = b
	info, err := parseH264(b, r.scratch)
	if info.keyframe && info.width > 0 {
		r.width, r.height = info.width, info.height
	}
	switch {
	case err != nil:
		r.p.packetsLost() // an encoder sends keyframes when it does: nothing to ask
		r.p.stats.malformed.Add(1)
		r.srv.metrics.dropped.WithLabelValues("malformed").Inc()
		r.needKey = true
		return
	case info.bframe:
		r.fail(ErrorBFramePresent, "the H.264 stream contains B-frames")
		return
	case info.slices == 0:
		return // parameter sets or SEI only
	}
	capture, now := r.capture(pts)
	r.p.publishPacket(VideoPacket{Codec: "h264", Data: b, PTS: capture, Keyframe: info.keyframe, Width: r.width, Height: r.height}, false)
	if r.needKey && !info.keyframe {
		r.p.stats.skipped.Add(1)
		r.srv.metrics.dropped.WithLabelValues("awaiting_keyframe").Inc()
		return
	}
	r.needKey = false
	if info.keyframe && info.width > 0 && r.pics.oversize(info.width, info.height) {
		r.needKey = true // decode again from a keyframe under the limit
		return
	}
	if r.pics.tooLarge {
		return
	}
	if err := r.pics.decode(b, info.keyframe, capture, now); err != nil {
		r.needKey = true
	}
}

// appendNAL appends a NAL unit with a 4-byte start code.
func appendNAL(b, nal []byte) []byte {
	return append(append(b, 0, 0, 0, 1), nal...)
}

// onAudio takes one raw AAC frame.
func (r *rtmpPublish) onAudio(pts time.Duration, au []byte) {
	capture, _ := r.capture(pts)
	out, err := r.audio.Decode(au, capture, media.NewAudioFrame)
	if err != nil {
		r.log.Debug("audio decode error", "err", err, "bytes", len(au))
		r.p.stats.decodeErrors.Add(1)
		r.srv.metrics.decodeErr.Inc()
		return
	}
	if out != nil {
		r.srv.metrics.frames.WithLabelValues("audio").Inc()
		r.p.publishAudio(out)
	}
}

// leave takes the participant off the stage.
func (r *rtmpPublish) leave() {
	r.close("publish ended")
	if r.pics != nil {
		r.pics.close()
	}
	if r.audio != nil {
		r.audio.Close()
	}
	r.p.video.clear()
	r.stage.leave(r)
	if r.pics != nil {
		r.stage.event(EventPublishStopped, r.cfg.ParticipantID, "")
	}
	r.stage.event(EventLeft, r.cfg.ParticipantID, "")
}
