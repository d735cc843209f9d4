package publisher

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
)

var stampValues = []uint32{0, 1, 2, 255, 256, 0x5A5A5A5A, 0xDEADBEEF, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF}

// shrink box-averages f by k in both directions (every plane).
func shrink(f *media.VideoFrame, k int) *media.VideoFrame {
	out := media.NewVideoFrame(f.Width/k, f.Height/k)
	for p := range 3 {
		for y := range out.PlaneHeight(p) {
			row := out.Row(p, y)
			for x := range row {
				sum := 0
				for j := range k {
					src := f.Row(p, min(y*k+j, f.PlaneHeight(p)-1))
					for i := range k {
						sum += int(src[min(x*k+i, len(src)-1)])
					}
				}
				row[x] = byte((sum + k*k/2) / (k * k))
			}
		}
	}
	return out
}

// place copies f into a grey w×h canvas at (x, y), both even.
func place(f *media.VideoFrame, w, h, x, y int) *media.VideoFrame {
	out := media.NewVideoFrame(w, h)
	out.Fill(media.YUV{Y: 128, U: 128, V: 128})
	for p := range 3 {
		dx, dy := x, y
		if p > 0 {
			dx, dy = x/2, y/2
		}
		for j := range f.PlaneHeight(p) {
			copy(out.Row(p, dy+j)[dx:], f.Row(p, j))
		}
	}
	return out
}

func TestStampRoundTrip(t *testing.T) {
	g := NewGenerator(320, 180, "Stamp test", nil)
	for _, n := range stampValues {
		f := g.Frame(n)
		if got, ok := ReadStamp(f, 0, 0, 1); !ok || got != n {
			t.Errorf("frame %#x: read %#x, %v", n, got, ok)
		}
		for _, k := range []int{2, 3, 4} {
			if got, ok := ReadStamp(shrink(f, k), 0, 0, float64(k)); !ok || got != n {
				t.Errorf("frame %#x shrunk %d×: read %#x, %v", n, k, got, ok)
			}
		}
		// Half size, in a tile of a larger canvas at an odd-looking place.
		canvas := place(shrink(f, 2), 640, 360, 202, 134)
		if got, ok := ReadStamp(canvas, 202, 134, 2); !ok || got != n {
			t.Errorf("frame %#x in a canvas: read %#x, %v", n, got, ok)
		}
	}
}

func TestStampRejects(t *testing.T) {
	g := NewGenerator(320, 180, "X", nil)
	f := g.Frame(0xDEADBEEF)
	black, white := media.NewVideoFrame(320, 180), media.NewVideoFrame(320, 180)
	black.Fill(media.Black)
	white.Fill(media.YUV{Y: 235, U: 128, V: 128})
	for _, tc := range []struct {
		name        string
		f           *media.VideoFrame
		x, y, scale float64
	}{
		{"black", black, 0, 0, 1},
		{"white", white, 0, 0, 1},
		{"solid", NewGenerator(320, 180, "X", &media.YUV{Y: 81, U: 90, V: 240}).Frame(7), 0, 0, 1},
		{"one block off", f, StampBlock, 0, 1},
		{"one row off", f, 0, StampBlock, 1},
		{"wrong scale", f, 0, 0, 2},
		{"outside", f, 300, 0, 1},
		{"negative", f, -50, 0, 1},
		{"zero scale", f, 0, 0, 0},
		{"NaN", f, math.NaN(), 0, 1},
		{"nil", nil, 0, 0, 1},
	} {
		if n, ok := ReadStamp(tc.f, tc.x, tc.y, tc.scale); ok {
			t.Errorf("%s: read %#x", tc.name, n)
		}
	}
	// Damage one block: grey in the middle of the stamp is not a bit.
	fillRect(f, StampX+3*StampBlock, StampY+2*StampBlock, StampBlock, StampBlock, media.YUV{Y: 125, U: 128, V: 128})
	if n, ok := ReadStamp(f, 0, 0, 1); ok {
		t.Errorf("damaged stamp read as %#x", n)
	}
}

func TestGenerator(t *testing.T) {
	g := NewGenerator(320, 180, "Alice", nil)
	a, b := g.Frame(10), g.Frame(11)
	if bytes.Equal(a.Planes[0], b.Planes[0]) || bytes.Equal(a.Planes[1], b.Planes[1]) {
		t.Error("consecutive pictures are identical: nothing moves")
	}
	// The name is drawn: the picture differs from one without it, below
	// the stamp, with white in it.
	plain := NewGenerator(320, 180, "", nil).Frame(10)
	diff, white := 0, 0
	for y := StampY + StampHeight; y < 180; y++ {
		for x := range 320 {
			if a.Row(0, y)[x] != plain.Row(0, y)[x] {
				diff++
				if a.Row(0, y)[x] >= 230 {
					white++
				}
			}
		}
	}
	if diff < 500 || white < 200 {
		t.Errorf("name: %d pixels differ, %d white", diff, white)
	}
	// Solid mode: one colour, every sample.
	c := media.RGBToYUV(200, 30, 60)
	s := NewGenerator(320, 180, "ignored", &c).Frame(99)
	for p, v := range [3]byte{c.Y, c.U, c.V} {
		for y := range s.PlaneHeight(p) {
			for x, got := range s.Row(p, y) {
				if got != v {
					t.Fatalf("solid: plane %d (%d,%d) = %d, want %d", p, x, y, got, v)
				}
			}
		}
	}
	// Too small for the stamp: drawn without it.
	if HasStamp(128, 72) || !HasStamp(320, 180) {
		t.Error("HasStamp")
	}
	small := NewGenerator(128, 72, "tiny", nil).Frame(5)
	if _, ok := ReadStamp(small, 0, 0, 1); ok {
		t.Error("stamp read from a picture too small to carry one")
	}
	// A frame of the wrong size is left alone.
	other := media.NewVideoFrame(64, 64)
	g.Draw(other, 1)
	if other.Planes[0][0] != 0 {
		t.Error("Draw painted a frame of another size")
	}
}

// TestStampThroughCodecs encodes generated pictures with the WebRTC
// encoders at a low bitrate, decodes them, and reads the stamps back, as
// sent and shrunk 2× and 4×. Solid pictures come back their colour.
func TestStampThroughCodecs(t *testing.T) {
	for _, codec := range []string{"h264", "vp8"} {
		t.Run(codec, func(t *testing.T) {
			cfg := Config{Codec: codec, Width: 320, Height: 180, FPS: 30, Bitrate: 200_000}
			enc, err := newVideoEncoder(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			dec, err := av.NewVideoDecoder(codec, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			g := NewGenerator(320, 180, "Codec "+codec, nil)
			red := media.RGBToYUV(220, 20, 20)
			solid := NewGenerator(320, 180, "", &red)
			const frames = 45
			base := uint32(0xFFFFFFF0) // wraps through 0
			decoded := 0
			for i := range frames {
				n := base + uint32(i)
				f := g.Frame(n)
				if i >= frames-5 {
					f = solid.Frame(n)
				}
				f.PTS = time.Duration(i) * time.Second / 30
				if i == 20 {
					enc.ForceKeyframe()
				}
				err := enc.Encode(f, func(pkt av.Packet) {
					if i == 20 && !pkt.Keyframe {
						t.Errorf("frame %d after ForceKeyframe is not a keyframe", i)
					}
					out, err := dec.Decode(pkt.Data, pkt.PTS, func(w, h int) *media.VideoFrame { return media.NewVideoFrame(w, h) })
					if err != nil || out == nil {
						t.Fatalf("frame %d: decode: %v, %v", i, out, err)
					}
					decoded++
					if i >= frames-5 {
						y, u, v := out.Row(0, 90)[160], out.Row(1, 45)[80], out.Row(2, 45)[80]
						if absDiff(y, red.Y) > 3 || absDiff(u, red.U) > 3 || absDiff(v, red.V) > 3 {
							t.Errorf("solid frame %d: centre %d,%d,%d, want %v", i, y, u, v, red)
						}
						return
					}
					for _, k := range []int{1, 2, 4} {
						pic := out
						if k > 1 {
							pic = shrink(out, k)
						}
						if got, ok := ReadStamp(pic, 0, 0, float64(k)); !ok || got != n {
							t.Errorf("frame %d (%#x), shrunk %d×: read %#x, %v", i, n, k, got, ok)
						}
					}
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if decoded != frames {
				t.Errorf("%d of %d frames decoded", decoded, frames)
			}
		})
	}
}

func absDiff(a, b byte) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestTone(t *testing.T) {
	tn := tone{hz: 1000}
	a := media.NewAudioFrame(2, audioChunk)
	crossings, peak := 0, float32(0)
	var prev float32
	for i := range 50 { // one second
		tn.fill(a)
		if want := time.Duration(i) * 20 * time.Millisecond; a.PTS != want {
			t.Fatalf("chunk %d: PTS %v, want %v", i, a.PTS, want)
		}
		for j := 0; j < len(a.Samples); j += 2 {
			l, r := a.Samples[j], a.Samples[j+1]
			if l != r {
				t.Fatal("channels differ")
			}
			if prev < 0 && l >= 0 {
				crossings++
			}
			prev, peak = l, max(peak, l)
		}
	}
	if crossings < 999 || crossings > 1001 || peak < 0.24 || peak > 0.26 {
		t.Errorf("1 s of 1 kHz: %d upward zero crossings, peak %v", crossings, peak)
	}
	silent := tone{}
	silent.fill(a)
	for _, v := range a.Samples {
		if v != 0 {
			t.Fatal("0 Hz is not silence")
		}
	}
}

// With beeps the tone sounds in the first BeepLength of every second of
// its timeline and nowhere else.
func TestToneBeeps(t *testing.T) {
	tn := tone{hz: 1000, beeps: true}
	a := media.NewAudioFrame(2, audioChunk)
	beep := int(BeepLength * media.SampleRate / time.Second)
	var idx, loud int
	for range 150 { // three seconds
		tn.fill(a)
		for j := 0; j < len(a.Samples); j += 2 {
			inBeep := idx%media.SampleRate < beep
			if a.Samples[j] != 0 {
				loud++
				if !inBeep {
					t.Fatalf("sample %d sounds outside a beep", idx)
				}
			}
			idx++
		}
	}
	// A sine's samples are 0 only at its zero crossings.
	if loud < 3*beep-3*2*50 {
		t.Errorf("%d samples sound in 3 beeps of %d", loud, beep)
	}
}

func TestLossInjector(t *testing.T) {
	count := func(seed uint64) (dropped int) {
		l := newLossInjector(0.05, seed)
		for range 20000 {
			if l.drop() {
				dropped++
			}
		}
		return dropped
	}
	d := count(1)
	if d < 900 || d > 1100 {
		t.Errorf("dropped %d of 20,000 at 5 %%", d)
	}
	if count(1) != d {
		t.Error("the same seed dropped differently")
	}
	if l := newLossInjector(0, 1); l.drop() {
		t.Error("dropped at 0 %")
	}
	if l := newLossInjector(1, 1); !l.drop() {
		t.Error("kept at 100 %")
	}
}
