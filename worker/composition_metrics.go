package worker

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/av"
)

// byteCounter is a sink on a composition's encoder that counts the encoded
// bytes by kind (the output bitrate).
type byteCounter struct{ video, audio prometheus.Counter }

func (c byteCounter) WritePacket(p av.Packet) {
	if p.Kind == av.Audio {
		c.audio.Add(float64(len(p.Data)))
	} else {
		c.video.Add(float64(len(p.Data)))
	}
}

// speedWindow is about how long the speed is averaged over.
const speedWindow = time.Second

// speedMeter measures how much faster than real time a frame clock works,
// like FFmpeg's speed: ticks × frame interval over the time spent working
// on them, per window of about a second.
type speedMeter struct {
	interval time.Duration
	from     time.Time     // start of the window
	ticks    int           // ticks worked on in it
	busy     time.Duration // and the time spent on them
}

// add records a tick's work, done at now; at the end of a window it
// returns the window's speed and true.
func (m *speedMeter) add(now time.Time, busy time.Duration) (float64, bool) {
	if m.from.IsZero() {
		m.from = now.Add(-busy)
	}
	m.ticks++
	m.busy += busy
	if now.Sub(m.from) < speedWindow || m.busy <= 0 {
		return 0, false
	}
	speed := float64(time.Duration(m.ticks)*m.interval) / float64(m.busy)
	m.from, m.ticks, m.busy = now, 0, 0
	return speed, true
}
