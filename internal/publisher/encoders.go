package publisher

import (
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

// videoEncoder and audioEncoder are what the loops need of internal/av's
// encoders.
type videoEncoder interface {
	Encode(f *media.VideoFrame, emit func(av.Packet)) error
	ForceKeyframe()
	Close()
}

type audioEncoder interface {
	Encode(a *media.AudioFrame, emit func(av.Packet)) error
	Close()
}

// videoThreads is the encoder's thread count: one, since the publisher
// runs beside the server it publishes to, often several times over.
const videoThreads = 1

// newVideoEncoder opens the configured video encoder: H.264 constrained
// baseline with SPS and PPS in-band on every keyframe, or VP8 realtime.
func newVideoEncoder(cfg Config) (videoEncoder, error) {
	e, err := av.NewVideoEncoder(av.VideoConfig{
		Codec:            cfg.avCodec(),
		Width:            cfg.Width,
		Height:           cfg.Height,
		FrameRate:        cfg.FPS,
		Bitrate:          cfg.Bitrate,
		KeyframeInterval: cfg.KeyframeInterval,
		Threads:          videoThreads,
	})
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return e, nil
}

// opusBitrate is the audio bitrate: plenty for a stereo tone.
const opusBitrate = 64_000

// newAudioEncoder opens Opus: 48 kHz stereo, 20 ms packets.
func newAudioEncoder() (audioEncoder, error) {
	e, err := av.NewAudioEncoder(av.AudioConfig{Codec: "opus", Bitrate: opusBitrate})
	if err != nil {
		return nil, err
	}
	return e, nil
}
