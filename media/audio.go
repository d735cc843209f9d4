package media

import "time"

// SampleRate is the rate of all audio inside the pipeline.
const SampleRate = 48000

// AudioFrame is a run of PCM audio at SampleRate: interleaved float32
// samples in [-1, 1], Channels per sample frame.
type AudioFrame struct {
	Channels int
	// Samples holds Len()×Channels values, interleaved (L R L R … for stereo).
	Samples []float32
	// PTS is the presentation time of the first sample on the pipeline's clock.
	PTS time.Duration
}

// NewAudioFrame allocates a silent frame of n sample frames.
func NewAudioFrame(channels, n int) *AudioFrame {
	return &AudioFrame{Channels: channels, Samples: make([]float32, channels*n)}
}

// Len returns the number of sample frames (samples per channel).
func (a *AudioFrame) Len() int {
	if a.Channels == 0 {
		return 0
	}
	return len(a.Samples) / a.Channels
}

// Duration returns how long the frame plays.
func (a *AudioFrame) Duration() time.Duration {
	return time.Duration(a.Len()) * time.Second / SampleRate
}
