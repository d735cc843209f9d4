package compositor

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/tessera-media/tessera/media"
)

// Mixer sums participants' audio into one stream on the composition's
// clock. Every input is 48 kHz PCM with the mixer's channel count, placed
// by its presentation time: samples for the same instant line up whatever
// the chunking of each input. Inputs without data for a chunk contribute
// silence. The sum passes a soft limiter, so loud moments are turned down
// smoothly instead of clipped.
//
// Push may be called from any goroutine; Mix from the composition's clock.
type Mixer struct {
	mu       sync.Mutex
	channels int
	chunk    int   // sample frames per Mix
	clock    int64 // absolute sample index of the next output sample
	started  bool
	inputs   map[string]*mixInput
	gain     float32 // limiter gain, 1 when idle
	env      float32 // limiter peak follower
	attack   float32 // per-sample attack coefficient
	decay    float32 // per-sample decay of the peak follower
	stats    MixerStats
}

// MixerStats counts what the mixer dropped.
type MixerStats struct {
	LateSamples     int64 // arrived after their time was mixed
	OverflowSamples int64 // more than inputBuffer ahead of the clock
	LimitedChunks   int64 // chunks in which the limiter reduced the level
}

// mixInput is one participant's samples from absolute index first on.
type mixInput struct {
	gain  float32
	buf   []float32 // ring, channels interleaved
	first int64     // absolute sample index of buf's oldest sample frame
	head  int       // ring position (in sample frames) of first
	count int       // sample frames stored
}

// Limiter settings: the ceiling the limiter holds, and how fast the level
// recovers after a peak.
const (
	limitCeiling = 0.891 // −1 dBFS
	attackTime   = 2 * time.Millisecond
	releaseTime  = 200 * time.Millisecond
	inputBuffer  = time.Second // how far ahead of the clock an input may be
)

// NewMixer returns a mixer of the given channel count producing chunks of
// the given duration (10 to 20 ms).
func NewMixer(channels int, chunk time.Duration) (*Mixer, error) {
	if chunk < 10*time.Millisecond || chunk > 20*time.Millisecond {
		return nil, fmt.Errorf("compositor: mixer chunk %v, want 10ms to 20ms", chunk)
	}
	if channels < 1 || channels > 8 {
		return nil, fmt.Errorf("compositor: %d channels", channels)
	}
	n := int(chunk * media.SampleRate / time.Second)
	return &Mixer{
		channels: channels, chunk: n, inputs: map[string]*mixInput{}, gain: 1,
		attack: float32(1 - math.Exp(-1/(attackTime.Seconds()*media.SampleRate))),
		decay:  float32(math.Exp(-1 / (releaseTime.Seconds() * media.SampleRate))),
	}, nil
}

// ChunkLen returns the number of sample frames each Mix produces.
func (m *Mixer) ChunkLen() int { return m.chunk }

// SetGain sets a participant's linear gain (1 = unchanged), adding the
// participant if needed.
func (m *Mixer) SetGain(id string, gain float32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.input(id).gain = gain
}

// Remove forgets a participant and its buffered audio.
func (m *Mixer) Remove(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inputs, id)
}

func (m *Mixer) input(id string) *mixInput {
	in, ok := m.inputs[id]
	if !ok {
		in = &mixInput{gain: 1, buf: make([]float32, m.channels*int(inputBuffer*media.SampleRate/time.Second))}
		m.inputs[id] = in
	}
	return in
}

// sampleIndex converts a presentation time to an absolute sample index.
func sampleIndex(pts time.Duration) int64 {
	return int64(math.Round(pts.Seconds() * media.SampleRate))
}

// Push adds a participant's audio. Samples whose time has already been
// mixed are dropped (LateSamples); a gap before the frame is silence;
// samples overlapping buffered ones replace them.
func (m *Mixer) Push(id string, f *media.AudioFrame) error {
	if f.Channels != m.channels {
		return fmt.Errorf("compositor: %d-channel audio for a %d-channel mixer", f.Channels, m.channels)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	in := m.input(id)
	at := sampleIndex(f.PTS)
	src := f.Samples
	if m.started && at < m.clock { // late: keep only what is still to come
		late := min(int64(f.Len()), m.clock-at)
		m.stats.LateSamples += late
		src = src[late*int64(m.channels):]
		at += late
	}
	if len(src) == 0 {
		return nil
	}
	frames := len(src) / m.channels
	capFrames := len(in.buf) / m.channels
	if in.count == 0 { // an empty input restarts at the clock (or at the frame, before the first Mix)
		in.first, in.head = at, 0
		if m.started {
			in.first = m.clock
		}
	}
	// Keep the window [first, first+capFrames): drop what does not fit ahead.
	end := at + int64(frames)
	if limit := in.first + int64(capFrames); end > limit {
		over := min(end-limit, int64(frames))
		m.stats.OverflowSamples += over
		frames -= int(over)
		end = at + int64(frames)
		if frames == 0 {
			return nil
		}
	}
	for i := range frames {
		pos := at + int64(i) - in.first
		if pos < 0 {
			continue
		}
		slot := (in.head + int(pos)) % capFrames
		copy(in.buf[slot*m.channels:(slot+1)*m.channels], src[i*m.channels:(i+1)*m.channels])
	}
	// Silence fills a gap between what was stored and this frame.
	for pos := int64(in.count); pos < at-in.first; pos++ {
		slot := (in.head + int(pos)) % capFrames
		clear(in.buf[slot*m.channels : (slot+1)*m.channels])
	}
	in.count = max(in.count, int(end-in.first))
	return nil
}

// Mix produces the next chunk at time pts: out must hold ChunkLen sample
// frames of the mixer's channels. The first call sets the clock; later
// calls continue it (pts is written to out, taken from the clock).
func (m *Mixer) Mix(out *media.AudioFrame, pts time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.started {
		m.clock, m.started = sampleIndex(pts), true
	}
	n, ch := m.chunk, m.channels
	dst := out.Samples[:n*ch]
	clear(dst)
	out.Channels = ch
	out.PTS = time.Duration(m.clock) * time.Second / media.SampleRate
	for _, in := range m.inputs {
		capFrames := len(in.buf) / ch
		// Drop what lies before the clock.
		if skip := m.clock - in.first; skip > 0 {
			s := int(min(skip, int64(in.count)))
			in.head = (in.head + s) % capFrames
			in.count -= s
			in.first = m.clock
		}
		if in.count == 0 {
			in.first = m.clock
			continue
		}
		// Add the samples that fall in [clock, clock+n).
		from := int(in.first - m.clock)
		for i := from; i < n && i-from < in.count; i++ {
			slot := (in.head + i - from) % capFrames
			s := in.buf[slot*ch : slot*ch+ch]
			d := dst[i*ch : i*ch+ch]
			for c := range d {
				d[c] += s[c] * in.gain
			}
		}
		// Consume them.
		used := min(max(n-from, 0), in.count)
		in.head = (in.head + used) % capFrames
		in.count -= used
		in.first += int64(used)
		if in.count == 0 {
			in.first = m.clock + int64(n)
		}
	}
	m.limit(dst)
	m.clock += int64(n)
}

// limit applies the soft limiter. A peak follower tracks the level (up at
// once, down within releaseTime); the gain falls towards ceiling/level
// within attackTime and rises with the follower. What passes above the
// ceiling while the gain is still falling is bent by a soft knee that
// approaches, and never reaches, full scale: the waveform is never flattened.
func (m *Mixer) limit(dst []float32) {
	ch := m.channels
	g, env := m.gain, m.env
	limited := false
	for i := 0; i+ch <= len(dst); i += ch {
		frame := dst[i : i+ch]
		peak := float32(0)
		for _, v := range frame {
			peak = max(peak, float32(math.Abs(float64(v))))
		}
		env = max(peak, env*m.decay)
		target := float32(1)
		if env > limitCeiling {
			target = limitCeiling / env
		}
		if target < g {
			g += (target - g) * m.attack
			limited = true
		} else {
			g = target
		}
		for c, v := range frame {
			frame[c] = softKnee(v * g)
		}
	}
	m.gain, m.env = g, env
	if limited {
		m.stats.LimitedChunks++
	}
}

// softKnee passes samples up to the ceiling unchanged and maps everything
// above onto (ceiling, 1) with c + r·d/(r+d) (d the excess, r the room to
// full scale): continuous, smooth at the knee, strictly increasing, and
// below full scale for any sum a stage can produce.
func softKnee(v float32) float32 {
	a := float32(math.Abs(float64(v)))
	if a <= limitCeiling {
		return v
	}
	const room = 1 - limitCeiling
	d := a - limitCeiling
	out := limitCeiling + room*d/(room+d)
	if v < 0 {
		return -out
	}
	return out
}

// Stats returns the mixer's drop counters.
func (m *Mixer) Stats() MixerStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}
