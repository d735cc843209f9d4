package publisher

import (
	"math"
	"time"

	"github.com/tessera-media/tessera/media"
)

// toneAmplitude is the tone's peak level: -12 dBFS.
const toneAmplitude = 0.25

// BeepLength is how long each of Config.Beeps' beeps lasts.
const BeepLength = 50 * time.Millisecond

// tone generates a continuous stereo sine (the same on every channel), or
// silence at 0 Hz; with beeps, only in the first BeepLength of every
// second.
type tone struct {
	hz    float64
	beeps bool
	phase float64 // radians, in [0, 2π)
	next  int64   // index of the next sample frame
}

// fill writes the next a.Len() sample frames into a and sets its PTS from
// the running sample count.
func (t *tone) fill(a *media.AudioFrame) {
	a.PTS = time.Duration(t.next * int64(time.Second) / media.SampleRate)
	n := a.Len()
	t.next += int64(n)
	if t.hz == 0 {
		clear(a.Samples)
		return
	}
	step := 2 * math.Pi * t.hz / media.SampleRate
	beep := int64(BeepLength * media.SampleRate / time.Second)
	for i := range n {
		s := float32(toneAmplitude * math.Sin(t.phase))
		if t.beeps && (t.next-int64(n)+int64(i))%media.SampleRate >= beep {
			s = 0
		}
		for c := range a.Channels {
			a.Samples[i*a.Channels+c] = s
		}
		if t.phase += step; t.phase >= 2*math.Pi {
			t.phase -= 2 * math.Pi
		}
	}
}
