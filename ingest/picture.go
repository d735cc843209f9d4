package ingest

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// pictureDecoder decodes one participant's video access units into its
// VideoFeed, whatever brought them (WHIP's RTP or RTMP): the size limit
// (above it the participant is rendered audio-only), FFmpeg decoding into
// the feed's pooled frames, and the counters. Its caller serialises the
// calls.
type pictureDecoder struct {
	p        *Participant
	stage    *Stage
	srv      *Server
	log      *slog.Logger
	dec      *av.VideoDecoder
	cur      *Frame // the frame the decoder is writing (inside Decode)
	getFrame func(w, h int) *media.VideoFrame
	tooLarge bool
	// Per-frame metrics, looked up once.
	decodeTime prometheus.Observer
	decoded    prometheus.Counter
}

func newPictureDecoder(srv *Server, st *Stage, p *Participant, log *slog.Logger, codec string) (*pictureDecoder, error) {
	dec, err := av.NewVideoDecoder(codec, srv.cfg.DecoderThreads)
	if err != nil {
		return nil, err
	}
	d := &pictureDecoder{p: p, stage: st, srv: srv, log: log, dec: dec,
		decodeTime: srv.metrics.decodeSec.WithLabelValues(codec), decoded: srv.metrics.frames.WithLabelValues("video")}
	d.getFrame = func(w, h int) *media.VideoFrame {
		d.cur = p.video.get(w, h)
		return d.cur.VideoFrame
	}
	return d, nil
}

// oversize reports whether a picture of w×h is above Config.MaxVideoPixels
// (and is not to be decoded). Crossing the limit renders the participant
// audio-only, with a PUBLISH_ERROR RESOLUTION_EXCEEDED; coming back under
// it shows the video again.
func (d *pictureDecoder) oversize(w, h int) bool {
	if w*h > d.srv.cfg.MaxVideoPixels {
		if !d.tooLarge {
			d.tooLarge = true
			d.log.Warn("video above the size limit: participant rendered audio-only", "size", [2]int{w, h})
			d.stage.event(EventPublishError, d.p.id, ErrorResolutionExceeded)
			d.p.update(func(i *MediaState) { i.AudioOnly = true })
			d.p.video.clear()
		}
		d.srv.metrics.dropped.WithLabelValues("oversized").Inc()
		return true
	}
	if d.tooLarge {
		d.tooLarge = false
		d.p.update(func(i *MediaState) { i.AudioOnly = false })
	}
	return false
}

// decode decodes au, captured at pts and received at now (server clock),
// into the participant's feed. After an error (logged and counted) the
// caller waits for a keyframe.
func (d *pictureDecoder) decode(au []byte, key bool, pts, now time.Duration) error {
	start := time.Now()
	out, err := d.dec.Decode(au, pts, d.getFrame)
	d.decodeTime.Observe(time.Since(start).Seconds())
	if err != nil {
		if d.cur != nil {
			d.p.video.discard(d.cur)
			d.cur = nil
		}
		d.log.Warn("video decode error; waiting for a keyframe", "err", err, "keyframe", key, "bytes", len(au))
		d.p.stats.decodeErrors.Add(1)
		d.srv.metrics.decodeErr.Inc()
		return err
	}
	if out == nil {
		if d.cur != nil {
			d.p.video.discard(d.cur)
			d.cur = nil
		}
		return nil
	}
	fr := d.cur
	d.cur = nil
	d.p.video.publish(fr)
	d.decoded.Inc()
	d.p.picture(out.Width, out.Height, fr.PTS, now)
	return nil
}

// reset drops the decoder's state (a switch to another stream).
func (d *pictureDecoder) reset() { d.dec.Reset() }

// close frees the decoder.
func (d *pictureDecoder) close() { d.dec.Close() }
