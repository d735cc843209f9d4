package av

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
)

func newAudioDecoder(t testing.TB, channels int) *AudioDecoder {
	t.Helper()
	d, err := NewAudioDecoder("opus", channels)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

func newAudio(ch, n int) *media.AudioFrame { return media.NewAudioFrame(ch, n) }

// Test tones: 1 kHz on the left, 1.5 kHz on the right.
const (
	toneL, ampL = 1000.0, 0.5
	toneR, ampR = 1500.0, 0.3
)

// encodeOpus encodes d of the test tones from origin (stereo, 10 ms chunks)
// and returns the packets.
func encodeOpus(t testing.TB, origin, d time.Duration) []Packet {
	t.Helper()
	e, err := NewAudioEncoder(AudioConfig{Codec: "opus"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var pkts []Packet
	emit := func(p Packet) { pkts = append(pkts, p) }
	a := media.NewAudioFrame(2, 480)
	for n := 0; time.Duration(n)*time.Second/media.SampleRate < d; n += 480 {
		for i := range 480 {
			x := float64(n+i) / media.SampleRate
			a.Samples[2*i] = float32(ampL * math.Sin(2*math.Pi*toneL*x))
			a.Samples[2*i+1] = float32(ampR * math.Sin(2*math.Pi*toneR*x))
		}
		a.PTS = origin + time.Duration(n)*time.Second/media.SampleRate
		if err := e.Encode(a, emit); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(emit); err != nil {
		t.Fatal(err)
	}
	return pkts
}

// component returns the amplitude and phase (against a sine starting at
// sample 0) of the freq Hz component of x, and the share of x's energy it
// holds.
func component(x []float64, freq float64) (amp, phase, share float64) {
	var s, c, e float64
	for i, v := range x {
		w := 2 * math.Pi * freq * float64(i) / media.SampleRate
		s += v * math.Sin(w)
		c += v * math.Cos(w)
		e += v * v
	}
	n := float64(len(x))
	amp = 2 * math.Hypot(s, c) / n
	return amp, math.Atan2(c, s), amp * amp / 2 / (e / n)
}

// A two-tone stereo signal through Opus comes back at the same level and
// frequencies, on the right channels, in time with its PTS (to within two
// samples); mono output is the average of the channels.
func TestOpusRoundTrip(t *testing.T) {
	const origin = time.Second
	pkts := encodeOpus(t, origin, time.Second)
	for _, ch := range []int{2, 1} {
		d := newAudioDecoder(t, ch)
		// The decoded channels on the timeline, sample 0 at origin.
		span := 2 * media.SampleRate
		out := [2][]float64{make([]float64, span), make([]float64, span)}
		for i, p := range pkts {
			calls := 0
			a, err := d.Decode(p.Data, p.PTS, func(c, n int) *media.AudioFrame {
				calls++
				if c != ch || n != 960 {
					t.Errorf("packet %d: get(%d, %d), want (%d, 960)", i, c, n, ch)
				}
				return newAudio(c, n)
			})
			if err != nil || a == nil || calls != 1 {
				t.Fatalf("packet %d: %v, %v (get called %d times)", i, a, err, calls)
			}
			if a.PTS != p.PTS || a.Duration() != p.Duration && i != len(pkts)-1 {
				t.Errorf("packet %d: decoded %v at %v, packet %v at %v", i, a.Duration(), a.PTS, p.Duration, p.PTS)
			}
			at := int(rescale(int64(a.PTS-origin), media.SampleRate, int64(time.Second)))
			for j := range a.Len() {
				if k := at + j; k >= 0 && k < span {
					for c := range ch {
						v := a.Samples[j*ch+c]
						if v < -1 || v > 1 {
							t.Fatalf("packet %d: sample %v", i, v)
						}
						out[c][k] = float64(v)
					}
				}
			}
		}
		// 40 ms to 960 ms: clear of the start and the end.
		lo, hi := media.SampleRate/25, media.SampleRate*24/25
		check := func(name string, x []float64, freq, wantAmp float64, wantShare float64) {
			t.Helper()
			amp, phase, share := component(x[lo:hi], freq)
			// Phase of a sine starting at sample lo, not 0.
			phase = math.Remainder(phase-2*math.Pi*freq*float64(lo)/media.SampleRate, 2*math.Pi)
			delay := -phase / (2 * math.Pi * freq) * media.SampleRate
			t.Logf("%d channels, %s: %.0f Hz at %.3f (want %.3f), %.1f %% of the energy, %+.1f samples late", ch, name, freq, amp, wantAmp, 100*share, delay)
			if math.Abs(amp/wantAmp-1) > 0.1 {
				t.Errorf("%d channels, %s: %.0f Hz at amplitude %.3f, want %.3f ± 10 %%", ch, name, freq, amp, wantAmp)
			}
			if share < wantShare {
				t.Errorf("%d channels, %s: %.0f Hz holds %.1f %% of the energy, want ≥ %.0f %%", ch, name, freq, 100*share, 100*wantShare)
			}
			if math.Abs(delay) > 2 {
				t.Errorf("%d channels, %s: %.1f samples off the PTS", ch, name, delay)
			}
		}
		if ch == 2 {
			check("left", out[0], toneL, ampL, 0.95)
			check("right", out[1], toneR, ampR, 0.95)
			if amp, _, _ := component(out[0][lo:hi], toneR); amp > 0.03 {
				t.Errorf("left carries %.3f of the right's tone", amp)
			}
		} else {
			check("mono", out[0], toneL, ampL/2, 0.6)
			check("mono", out[0], toneR, ampR/2, 0.2)
		}
	}
}

// Garbage, truncated and damaged packets give ErrCorrupt, nothing, or
// samples in range, never a crash; the tone decodes again right after.
func TestAudioDecodeCorrupt(t *testing.T) {
	quietFFmpeg(t)
	pkts := encodeOpus(t, 0, 300*time.Millisecond)
	d := newAudioDecoder(t, 2)
	r := rand.New(rand.NewPCG(7, 8))
	results := map[string]int{}
	for i := range 300 {
		var data []byte
		switch p := pkts[r.IntN(len(pkts))].Data; i % 3 {
		case 0:
			data = make([]byte, r.IntN(400))
			for j := range data {
				data[j] = byte(r.IntN(256))
			}
		case 1:
			data = p[:r.IntN(len(p))]
		default:
			data = append([]byte(nil), p...)
			for range 1 + r.IntN(8) {
				data[r.IntN(len(data))] ^= 1 << r.IntN(8)
			}
		}
		a, err := d.Decode(data, 0, newAudio)
		switch {
		case err != nil && !errors.Is(err, ErrCorrupt):
			t.Fatalf("input %d: error %v does not wrap ErrCorrupt", i, err)
		case err != nil:
			results["corrupt"]++
		case a == nil:
			results["nothing"]++
		default:
			results["samples"]++
			if a.Channels != 2 || a.Len() < 1 || a.Len() > 5760 {
				t.Fatalf("input %d: %d channels, %d samples", i, a.Channels, a.Len())
			}
			for _, v := range a.Samples {
				if !(v >= -1 && v <= 1) {
					t.Fatalf("input %d: sample %v", i, v)
				}
			}
		}
	}
	t.Logf("300 damaged packets: %v", results)
	if results["corrupt"] == 0 {
		t.Error("no damaged packet was found corrupt")
	}
	// The real thing again: after a packet or two of smoothing, the tone.
	var left []float64
	for i, p := range pkts[:12] {
		a, err := d.Decode(p.Data, p.PTS, newAudio)
		if err != nil || a == nil {
			t.Fatalf("packet %d after the damage: %v, %v", i, a, err)
		}
		if i >= 4 {
			for j := range a.Len() {
				left = append(left, float64(a.Samples[2*j]))
			}
		}
	}
	if amp, _, share := component(left, toneL); math.Abs(amp/ampL-1) > 0.1 || share < 0.9 {
		t.Errorf("after the damage: 1 kHz at %.3f with %.0f %% of the energy", amp, 100*share)
	}
}

func TestAudioDecoderErrors(t *testing.T) {
	for _, tc := range []struct {
		codec string
		ch    int
		want  string
	}{
		{"aac", 2, `codec "aac": must be one of opus`},
		{"opus", 0, "0 channels, want 1 or 2"},
		{"opus", 6, "6 channels"},
	} {
		d, err := NewAudioDecoder(tc.codec, tc.ch)
		if err == nil {
			d.Close()
			t.Errorf("NewAudioDecoder(%q, %d) succeeded", tc.codec, tc.ch)
			continue
		}
		if d != nil || !strings.Contains(err.Error(), "av: new audio decoder: "+tc.want) {
			t.Errorf("NewAudioDecoder(%q, %d): %v, %q", tc.codec, tc.ch, d, err)
		}
	}
	pkts := encodeOpus(t, 0, 100*time.Millisecond)
	d := newAudioDecoder(t, 1)
	if _, err := d.Decode(pkts[0].Data, 0, nil); err == nil {
		t.Error("nil get accepted")
	}
	if _, err := d.Decode(nil, 0, newAudio); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty packet: %v", err)
	}
	for name, get := range map[string]func(c, n int) *media.AudioFrame{
		"nil frame":      func(c, n int) *media.AudioFrame { return nil },
		"wrong channels": func(c, n int) *media.AudioFrame { return newAudio(2, n) },
		"wrong length":   func(c, n int) *media.AudioFrame { return newAudio(c, n-1) },
	} {
		if a, err := d.Decode(pkts[1].Data, 0, get); a != nil || err == nil || errors.Is(err, ErrCorrupt) {
			t.Errorf("get giving a %s: %v, %v", name, a, err)
		}
	}
	if a, err := d.Decode(pkts[2].Data, 0, newAudio); a == nil || err != nil || a.Channels != 1 {
		t.Errorf("after the get errors: %v, %v", a, err)
	}
	d.Reset()
	if a, err := d.Decode(pkts[3].Data, 0, newAudio); a == nil || err != nil {
		t.Errorf("after Reset: %v, %v", a, err)
	}
	d.Close()
	d.Close()
	d.Reset()
	if _, err := d.Decode(pkts[0].Data, 0, newAudio); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
	var nilDec *AudioDecoder
	nilDec.Close()
	if _, err := nilDec.Decode(pkts[0].Data, 0, newAudio); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode on nil: %v", err)
	}
}

func TestAudioDecoderAllocs(t *testing.T) {
	pkts := encodeOpus(t, 0, 200*time.Millisecond)
	for _, ch := range []int{1, 2} {
		d := newAudioDecoder(t, ch)
		out := newAudio(ch, 960)
		get := func(int, int) *media.AudioFrame { return out }
		i := 0
		decode := func() {
			p := pkts[i%len(pkts)]
			i++
			if a, err := d.Decode(p.Data, p.PTS, get); err != nil || a != out {
				t.Fatalf("packet %d: %v, %v", i-1, a, err)
			}
		}
		for range 3 {
			decode()
		}
		if n := testing.AllocsPerRun(50, decode); n != 0 {
			t.Errorf("%d channels: %v allocations per packet, want 0", ch, n)
		}
	}
}
