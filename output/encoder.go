package output

import (
	"fmt"
	"sync"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// PacketSink takes encoded packets without blocking: Channel and Recording.
type PacketSink interface {
	WritePacket(av.Packet)
}

// Encoder is one encoder configuration's encoders: H.264 video and AAC
// audio. Every packet they produce goes to every attached sink, so the
// destinations that share an encoder configuration share one encode.
// Packets are shared, not copied: sinks must treat Data as read-only.
// Video, Audio and Close are called from the composition's clock
// goroutine; Attach and Detach from any goroutine.
type Encoder struct {
	video *av.VideoEncoder
	audio *av.AudioEncoder

	mu    sync.Mutex
	sinks []PacketSink
	emit  func(av.Packet)
}

// NewEncoder opens the encoders.
func NewEncoder(v av.VideoConfig, a av.AudioConfig) (*Encoder, error) {
	ve, err := av.NewVideoEncoder(v)
	if err != nil {
		return nil, fmt.Errorf("output: video encoder: %w", err)
	}
	ae, err := av.NewAudioEncoder(a)
	if err != nil {
		ve.Close()
		return nil, fmt.Errorf("output: audio encoder: %w", err)
	}
	e := &Encoder{video: ve, audio: ae}
	e.emit = e.fanOut
	return e, nil
}

// Streams describes the encoded streams, video first, for muxers.
func (e *Encoder) Streams() []av.StreamInfo {
	return []av.StreamInfo{e.video.Stream(), e.audio.Stream()}
}

// VideoConfig is the video encoder's configuration, defaults applied
// (KeyframeInterval is what a Recording needs).
func (e *Encoder) VideoConfig() av.VideoConfig { return e.video.Config() }

// Attach adds a sink; it receives packets from the next one on.
func (e *Encoder) Attach(s PacketSink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sinks = append(e.sinks, s)
}

// Detach removes a sink.
func (e *Encoder) Detach(s PacketSink) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i, v := range e.sinks {
		if v == s {
			e.sinks = append(e.sinks[:i], e.sinks[i+1:]...)
			return
		}
	}
}

func (e *Encoder) fanOut(p av.Packet) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.sinks {
		s.WritePacket(p)
	}
}

// ForceKeyframe makes the next video frame an IDR. Call it from the
// goroutine that calls Video.
func (e *Encoder) ForceKeyframe() { e.video.ForceKeyframe() }

// Video encodes a canvas (its PTS on the composition clock).
func (e *Encoder) Video(f *media.VideoFrame) error { return e.video.Encode(f, e.emit) }

// Audio encodes a mixed chunk (its PTS on the composition clock).
func (e *Encoder) Audio(a *media.AudioFrame) error { return e.audio.Encode(a, e.emit) }

// Close flushes both encoders to the sinks and releases them.
func (e *Encoder) Close() error {
	err := e.video.Flush(e.emit)
	if aerr := e.audio.Flush(e.emit); err == nil {
		err = aerr
	}
	e.video.Close()
	e.audio.Close()
	return err
}
