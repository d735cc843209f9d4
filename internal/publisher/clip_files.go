package publisher

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
)

// WriteFiles writes one loop of an H.264 clip into the folder dir, for
// FFmpeg to read: the video as an Annex B elementary stream (clip.h264:
// the access units back to back, SPS and PPS in front of the keyframe;
// raw H.264 at the clip's rate, -framerate FPS()) and the sound as Ogg
// Opus (clip.opus: 48 kHz stereo, the 20 ms packets the publishers send).
// It returns their paths. A VP8 clip has no Annex B form: it is an error.
func (c *Clip) WriteFiles(dir string) (video, audio string, err error) {
	if c.codec != "h264" {
		return "", "", fmt.Errorf("publisher: clip: %s video has no Annex B form", c.codec)
	}
	video, audio = filepath.Join(dir, "clip.h264"), filepath.Join(dir, "clip.opus")
	if err := writeFile(video, c.writeAnnexB); err != nil {
		return "", "", err
	}
	if err := writeFile(audio, c.writeOgg); err != nil {
		return "", "", err
	}
	return video, audio, nil
}

// writeFile creates path and writes it with fn.
func writeFile(path string, fn func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("publisher: clip: %w", err)
	}
	return errors.Join(fn(f), f.Close())
}

func (c *Clip) writeAnnexB(w io.Writer) error {
	for i, v := range c.video {
		if _, err := w.Write(v.data); err != nil {
			return fmt.Errorf("publisher: clip: writing frame %d: %w", i, err)
		}
	}
	return nil
}

func (c *Clip) writeOgg(w io.Writer) error {
	// The writer would close an io.Closer it writes to: hide w's Close.
	ogg, err := oggwriter.NewWith(struct{ io.Writer }{w}, 48000, 2)
	if err != nil {
		return fmt.Errorf("publisher: clip: %w", err)
	}
	for i, a := range c.audio {
		p := &rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: a}
		if err := ogg.WriteRTP(p); err != nil {
			return fmt.Errorf("publisher: clip: writing audio packet %d: %w", i, err)
		}
	}
	if err := ogg.Close(); err != nil {
		return fmt.Errorf("publisher: clip: %w", err)
	}
	return nil
}
