package av

import "time"

// Kind tells which elementary stream a Packet belongs to.
type Kind uint8

const (
	Video Kind = iota
	Audio
)

func (k Kind) String() string {
	if k == Audio {
		return "audio"
	}
	return "video"
}

// Packet is one encoded access unit in Go memory, independent of FFmpeg's
// buffers, so that one encoder's output can fan out to several muxers.
// Timestamps are on the composition clock.
type Packet struct {
	Kind     Kind
	Data     []byte
	PTS, DTS time.Duration
	Duration time.Duration
	Keyframe bool
}
