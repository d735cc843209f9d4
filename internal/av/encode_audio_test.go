package av

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
)

// aacFrame is the duration of one AAC frame of 1024 samples.
const aacFrame = 1024 * time.Second / media.SampleRate

func TestAudioEncoderStream(t *testing.T) {
	e := newAudioEncoder(t)
	s := e.Stream()
	if s.Kind != Audio || s.Codec != "aac" || s.SampleRate != 48000 || s.Channels != 2 || s.FrameSize != 1024 || s.Bitrate != 128000 {
		t.Errorf("stream %+v", s)
	}
	if c := s.CodecString(); c != "mp4a.40.2" {
		t.Errorf("codec string %q, want mp4a.40.2 (AAC-LC)", c)
	}
	if _, err := NewAudioEncoder(AudioConfig{Bitrate: 100}); err == nil {
		t.Error("bitrate 100 accepted")
	}
}

// audioRun feeds e chunks of n samples starting at pts and returns the
// packets.
func audioRun(t *testing.T, e *AudioEncoder, pts time.Duration, chunks, n int) []Packet {
	t.Helper()
	var pkts []Packet
	a := media.NewAudioFrame(2, n)
	for i := range chunks {
		tone(a, i*n)
		a.PTS = pts + time.Duration(rescale(int64(i*n), int64(time.Second), media.SampleRate))
		if err := e.Encode(a, func(p Packet) { pkts = append(pkts, p) }); err != nil {
			t.Fatal(err)
		}
	}
	return pkts
}

// checkContiguous checks that packets follow each other without gaps,
// one AAC frame each.
func checkContiguous(t *testing.T, pkts []Packet) {
	t.Helper()
	for i, p := range pkts {
		if !p.Keyframe || p.Kind != Audio || p.DTS != p.PTS || len(p.Data) == 0 {
			t.Fatalf("packet %d: %+v", i, p)
		}
		if d := p.Duration - aacFrame; (d < -1 || d > 1) && !(i == len(pkts)-1 && d < 0) { // the last may be short
			t.Errorf("packet %d: duration %v", i, p.Duration)
		}
		if i > 0 && p.PTS != pkts[i-1].PTS+pkts[i-1].Duration {
			t.Errorf("packet %d: pts %v, previous ends at %v", i, p.PTS, pkts[i-1].PTS+pkts[i-1].Duration)
		}
	}
}

// Chunks of odd sizes make 1024-sample frames; the timeline starts at the
// first PTS (less the encoder's priming) and has no gaps; Flush encodes
// the rest.
func TestAudioEncoderChunks(t *testing.T) {
	e := newAudioEncoder(t)
	const origin = 3 * time.Second
	pkts := audioRun(t, e, origin, 100, 777) // 77,700 samples
	if err := e.Flush(func(p Packet) { pkts = append(pkts, p) }); err != nil {
		t.Fatal(err)
	}
	checkContiguous(t, pkts)
	if last := pkts[len(pkts)-1]; last.Duration != 900*time.Second/media.SampleRate {
		t.Errorf("last packet %v long, want the 900 samples left", last.Duration)
	}
	if pkts[0].PTS != origin-aacFrame {
		t.Errorf("first packet at %v, want %v (origin less the priming)", pkts[0].PTS, origin-aacFrame)
	}
	// 77,700 samples: 75 full frames, a short one, and the priming frame;
	// the encoder may add one more to flush its lookahead.
	if n := len(pkts); n < 77 || n > 78 {
		t.Errorf("%d packets for 77,700 samples", n)
	}
	if err := e.Encode(media.NewAudioFrame(2, 10), nil); err == nil {
		t.Error("Encode after Flush succeeded")
	}
	e.Close()
	e.Close()
	if err := e.Encode(media.NewAudioFrame(2, 10), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
}

// Gaps are filled with silence, overlaps dropped, small jitter ignored,
// and a long jump restarts the timeline.
func TestAudioEncoderTiming(t *testing.T) {
	e := newAudioEncoder(t)
	var pkts []Packet
	emit := func(p Packet) { pkts = append(pkts, p) }
	feed := func(pts time.Duration, n int) {
		t.Helper()
		a := media.NewAudioFrame(2, n)
		tone(a, 0)
		a.PTS = pts
		if err := e.Encode(a, emit); err != nil {
			t.Fatal(err)
		}
	}
	ms := time.Millisecond
	feed(0, 480)                          // 0–10 ms
	feed(10*ms+300*time.Microsecond, 480) // jitter: continues at 10 ms
	feed(70*ms, 480)                      // 50 ms gap: silence 20–70 ms, then 70–80 ms
	feed(75*ms, 480)                      // half overlaps: 80–85 ms kept
	feed(50*ms, 480)                      // entirely in the past: dropped
	if e.next != 85*48 {
		t.Errorf("after the gaps the stream is at sample %d, want %d", e.next, 85*48)
	}
	checkContiguous(t, pkts)
	before := len(pkts)
	feed(10*time.Second, 48000) // a jump: frame in progress padded, new timeline
	jump := -1
	for i := before; i < len(pkts); i++ {
		if pkts[i].PTS >= 10*time.Second-aacFrame && jump < 0 {
			jump = i
		}
	}
	if jump < 0 {
		t.Fatalf("no packet after the jump: %v", pkts[before:])
	}
	checkContiguous(t, pkts[:jump])
	checkContiguous(t, pkts[jump:])
	if p := pkts[jump]; p.PTS != 10*time.Second-aacFrame && p.PTS != 10*time.Second {
		t.Errorf("first packet after the jump at %v", p.PTS)
	}
	if err := e.Encode(&media.AudioFrame{Channels: 3, Samples: make([]float32, 9)}, emit); err == nil {
		t.Error("3 channels accepted")
	}
	if err := e.Encode(&media.AudioFrame{Channels: 2, Samples: make([]float32, 9)}, emit); err == nil {
		t.Error("half a sample frame accepted")
	}
	if err := e.Encode(nil, emit); err == nil {
		t.Error("nil accepted")
	}
}

// Mono is copied to both channels; out-of-range samples are clamped
// rather than failing the encoder.
func TestAudioEncoderMonoAndClamp(t *testing.T) {
	e := newAudioEncoder(t)
	a := media.NewAudioFrame(1, 4800)
	for i := range a.Samples {
		a.Samples[i] = float32(3 * math.Sin(float64(i)))
	}
	a.Samples[7] = float32(math.NaN())
	a.Samples[8] = float32(math.Inf(-1))
	var n int
	if err := e.Encode(a, func(Packet) { n++ }); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(func(Packet) { n++ }); err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("%d packets for 100 ms", n)
	}
	// The last frame (samples 4096–4799) is still in the FFmpeg frame.
	for i := range 704 {
		l, r := e.planes[0][i], e.planes[1][i]
		if l != r || l < -1 || l > 1 || l != l {
			t.Fatalf("sample %d: L %v R %v", 4096+i, l, r)
		}
	}
}

func TestAudioEncoderAllocs(t *testing.T) {
	e := newAudioEncoder(t)
	a := media.NewAudioFrame(2, 1024)
	tone(a, 0)
	var n int
	emit := func(Packet) { n++ }
	i := 0
	encode := func() {
		a.PTS = time.Duration(i) * aacFrame
		i++
		if err := e.Encode(a, emit); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		encode()
	}
	if a := testing.AllocsPerRun(50, encode); a > 1 {
		t.Errorf("%v allocations per 1024 samples, want 1 (Packet.Data)", a)
	}
}
