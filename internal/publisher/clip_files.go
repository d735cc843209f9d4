package publisher

import (
	"errors"
	"fmt"
	"io"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// WriteAnnexB writes one loop of an H.264 clip's video to w as an Annex B
// elementary stream (the access units back to back, SPS and PPS in front
// of the keyframe), which FFmpeg reads as raw H.264 at the clip's frame
// rate (-framerate). A VP8 clip has no such form: it is an error.
func (c *Clip) WriteAnnexB(w io.Writer) error {
	if c.codec != "h264" {
		return fmt.Errorf("publisher: clip: %s video has no Annex B form", c.codec)
	}
	for i, v := range c.video {
		if _, err := w.Write(v.data); err != nil {
			return fmt.Errorf("publisher: clip: writing frame %d: %w", i, err)
		}
	}
	return nil
}

// WriteOgg writes one loop of the clip's sound to w as Ogg Opus: 48 kHz
// stereo, the same 20 ms packets the publishers send. w is not closed.
func (c *Clip) WriteOgg(w io.Writer) error {
	// The writer closes an io.Closer it writes to: hide w's Close.
	ogg, err := oggwriter.NewWith(struct{ io.Writer }{w}, 48000, 2)
	if err != nil {
		return fmt.Errorf("publisher: clip: %w", err)
	}
	for i, a := range c.audio {
		p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: a}
		if err := ogg.WriteRTP(p); err != nil {
			return errors.Join(fmt.Errorf("publisher: clip: writing audio packet %d: %w", i, err), ogg.Close())
		}
	}
	if err := ogg.Close(); err != nil {
		return fmt.Errorf("publisher: clip: %w", err)
	}
	return nil
}
