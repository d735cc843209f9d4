package compositor

import (
	"math"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
)

// tone returns a stereo sine of amplitude amp starting at sample index
// start, n sample frames long, at pts.
func tone(freq, amp float64, start, n int, pts time.Duration) *media.AudioFrame {
	f := media.NewAudioFrame(2, n)
	f.PTS = pts
	for i := range n {
		v := float32(amp * math.Sin(2*math.Pi*freq*float64(start+i)/media.SampleRate))
		f.Samples[2*i], f.Samples[2*i+1] = v, v
	}
	return f
}

// mixAll runs the mixer for d from time 0 and returns the left channel.
func mixAll(t *testing.T, m *Mixer, d time.Duration) []float32 {
	t.Helper()
	out := media.NewAudioFrame(2, m.ChunkLen())
	var left []float32
	for pts := time.Duration(0); pts < d; pts += out.Duration() {
		m.Mix(out, pts)
		if out.PTS != pts {
			t.Fatalf("chunk PTS %v, want %v", out.PTS, pts)
		}
		for i := range out.Len() {
			if out.Samples[2*i] != out.Samples[2*i+1] {
				t.Fatalf("channels differ at %v+%d", pts, i)
			}
			left = append(left, out.Samples[2*i])
		}
	}
	return left
}

func pushTone(t *testing.T, m *Mixer, id string, freq, amp float64, from, to time.Duration, frame int) {
	t.Helper()
	start, end := int(sampleIndex(from)), int(sampleIndex(to))
	for s := start; s < end; s += frame {
		n := min(frame, end-s)
		if err := m.Push(id, tone(freq, amp, s, n, time.Duration(s)*time.Second/media.SampleRate)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMixerLevelAndGain(t *testing.T) {
	m, err := NewMixer(2, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	pushTone(t, m, "a", 440, 0.5, 0, 200*time.Millisecond, 960)
	pushTone(t, m, "b", 440, 0.2, 0, 200*time.Millisecond, 480)
	m.SetGain("b", 0.5)
	got := mixAll(t, m, 200*time.Millisecond)
	for i, v := range got {
		want := 0.6 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate) // 0.5 + 0.2·0.5
		if math.Abs(float64(v)-want) > 1e-6 {
			t.Fatalf("sample %d = %f, want %f (sum with gain, limiter idle)", i, v, want)
		}
	}
	if s := m.Stats(); s.LimitedChunks != 0 || s.LateSamples != 0 || s.OverflowSamples != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestMixerSoftLimiter(t *testing.T) {
	m, _ := NewMixer(2, 20*time.Millisecond)
	for _, id := range []string{"a", "b", "c"} {
		pushTone(t, m, id, 220, 0.8, 0, time.Second, 960) // sums to 2.4: far over full scale
	}
	got := mixAll(t, m, time.Second)
	peak, flat := 0.0, 0
	for i, v := range got {
		peak = max(peak, math.Abs(float64(v)))
		if i > 0 && v == got[i-1] && math.Abs(float64(v)) > 0.5 {
			flat++
		}
	}
	if peak >= 1 {
		t.Errorf("peak %.4f: clipped at full scale", peak)
	}
	settled := 0.0
	for _, v := range got[len(got)/2:] {
		settled = max(settled, math.Abs(float64(v)))
	}
	if settled > limitCeiling+0.01 || settled < limitCeiling-0.05 {
		t.Errorf("settled peak %.4f, want about the ceiling %.3f", settled, limitCeiling)
	}
	if flat > 0 {
		t.Errorf("%d flat-topped samples: clipping, not limiting", flat)
	}
	// After the attack the output is the same sine, scaled: compare the last
	// half second with a pure sine of the measured level.
	tail := got[len(got)/2:]
	off := len(got) / 2
	num, den := 0.0, 0.0
	for i, v := range tail {
		s := math.Sin(2 * math.Pi * 220 * float64(off+i) / media.SampleRate)
		num += float64(v) * s
		den += s * s
	}
	level := num / den
	errSum, sigSum := 0.0, 0.0
	for i, v := range tail {
		s := level * math.Sin(2*math.Pi*220*float64(off+i)/media.SampleRate)
		errSum += (float64(v) - s) * (float64(v) - s)
		sigSum += s * s
	}
	if thd := math.Sqrt(errSum / sigSum); thd > 0.01 {
		t.Errorf("distortion %.2f%% after the limiter settled, want < 1%%", 100*thd)
	}
	if m.Stats().LimitedChunks == 0 {
		t.Error("LimitedChunks not counted")
	}
}

func TestMixerSilenceAndAlignment(t *testing.T) {
	m, _ := NewMixer(2, 10*time.Millisecond)
	impulse := func(id string, at time.Duration, frame int, from time.Duration) {
		// Frames of `frame` samples from `from`, all zero but one sample at `at`.
		for s := int(sampleIndex(from)); s < int(sampleIndex(300*time.Millisecond)); s += frame {
			f := media.NewAudioFrame(2, frame)
			f.PTS = time.Duration(s) * time.Second / media.SampleRate
			if k := int(sampleIndex(at)) - s; k >= 0 && k < frame {
				f.Samples[2*k], f.Samples[2*k+1] = 0.25, 0.25
			}
			if err := m.Push(id, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	impulse("a", 100*time.Millisecond, 480, 0)                   // 10 ms frames from 0
	impulse("b", 100*time.Millisecond, 336, 5*time.Millisecond)  // 7 ms frames from 5 ms
	impulse("c", 100*time.Millisecond, 997, 50*time.Millisecond) // odd frames from 50 ms
	m.SetGain("silent", 1)                                       // never sends anything
	got := mixAll(t, m, 400*time.Millisecond)
	want := int(sampleIndex(100 * time.Millisecond))
	for i, v := range got {
		switch {
		case i == want && math.Abs(float64(v)-0.75) > 1e-6:
			t.Errorf("impulses at sample %d sum to %f, want 0.75: misaligned", i, v)
		case i != want && v != 0:
			t.Errorf("sample %d = %f, want silence", i, v)
		}
	}
	// Audio for a time already mixed is dropped and counted.
	if err := m.Push("a", tone(440, 0.5, 0, 480, 0)); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.LateSamples != 480 {
		t.Errorf("late samples %d, want 480", s.LateSamples)
	}
	// An input too far ahead of the clock overflows instead of growing without bound.
	if err := m.Push("a", tone(440, 0.5, 0, 480, 400*time.Millisecond+inputBuffer)); err != nil {
		t.Fatal(err)
	}
	if s := m.Stats(); s.OverflowSamples != 480 {
		t.Errorf("overflow samples %d, want 480", s.OverflowSamples)
	}
	if err := m.Push("a", media.NewAudioFrame(1, 10)); err == nil {
		t.Error("mono audio accepted by a stereo mixer")
	}
}

func TestMixerAllocations(t *testing.T) {
	m, _ := NewMixer(2, 20*time.Millisecond)
	in := tone(440, 0.3, 0, 960, 0)
	out := media.NewAudioFrame(2, m.ChunkLen())
	pts := time.Duration(0)
	m.Push("a", in)
	m.Mix(out, 0)
	if a := testing.AllocsPerRun(50, func() {
		pts += 20 * time.Millisecond
		in.PTS = pts
		_ = m.Push("a", in)
		m.Mix(out, pts)
	}); a != 0 {
		t.Errorf("%.1f allocations per chunk", a)
	}
}

func TestNewMixerBounds(t *testing.T) {
	for _, d := range []time.Duration{5 * time.Millisecond, 25 * time.Millisecond} {
		if _, err := NewMixer(2, d); err == nil {
			t.Errorf("chunk %v accepted", d)
		}
	}
	if _, err := NewMixer(0, 10*time.Millisecond); err == nil {
		t.Error("0 channels accepted")
	}
}
