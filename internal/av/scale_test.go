package av

import (
	"errors"
	"image"
	"testing"

	"github.com/tessera-media/tessera/media"
)

func newScaler(t *testing.T, f ScaleFilter) *Scaler {
	t.Helper()
	s, err := NewScaler(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// A flat colour stays exactly flat whatever the ratio and the filter.
func TestScaleFlatStaysFlat(t *testing.T) {
	c := media.YUV{Y: 90, U: 60, V: 200}
	src := flat(640, 360, c)
	for _, f := range []ScaleFilter{Bilinear, Area} {
		s := newScaler(t, f)
		for _, sz := range [][2]int{{640, 360}, {1280, 720}, {500, 300}, {320, 180}, {237, 133}, {100, 50}, {2, 2}} {
			dst := media.NewVideoFrame(sz[0], sz[1])
			if err := s.Scale(dst, src, image.Rect(0, 0, 640, 360)); err != nil {
				t.Fatal(err)
			}
			for p, want := range [3]byte{c.Y, c.U, c.V} {
				for y := range dst.PlaneHeight(p) {
					for x, v := range dst.Row(p, y) {
						if v != want {
							t.Fatalf("%v to %dx%d: plane %d (%d,%d) = %d, want %d", f, sz[0], sz[1], p, x, y, v, want)
						}
					}
				}
			}
		}
	}
}

// Area at exactly 2:1 is the rounded mean of each 2×2 block, in every plane.
func TestScaleAreaHalvesToBlockMeans(t *testing.T) {
	src := noise(640, 360, 7)
	dst := media.NewVideoFrame(320, 180)
	if err := newScaler(t, Area).Scale(dst, src, image.Rect(0, 0, 640, 360)); err != nil {
		t.Fatal(err)
	}
	worst := 0
	for p := range 3 {
		for y := range dst.PlaneHeight(p) {
			a, b := src.Row(p, 2*y), src.Row(p, 2*y+1)
			for x, v := range dst.Row(p, y) {
				sum := int(a[2*x]) + int(a[2*x+1]) + int(b[2*x]) + int(b[2*x+1])
				// The exact mean is sum/4; swscale's fixed-point chain may
				// land on either neighbour of a half.
				if d := 4*int(v) - sum; d < -2 || d > 2 {
					t.Fatalf("plane %d (%d,%d) = %d, the 2×2 block sums to %d (mean %.2f)", p, x, y, v, sum, float64(sum)/4)
				} else {
					worst = max(worst, d, -d)
				}
			}
		}
	}
	t.Logf("largest distance to the exact mean: %.2f", float64(worst)/4)
}

// Scaling a crop gives the same picture as scaling a copy of that crop, and
// a crop the size of the output is copied exactly, offsets included.
func TestScaleCropOffsets(t *testing.T) {
	src := positional(640, 360)
	crop := image.Rect(100, 40, 100+302, 40+181) // odd size: chroma rounds up
	copied := media.NewVideoFrame(crop.Dx(), crop.Dy())
	for p := range 3 {
		r := planeRect(crop, p)
		for y := range r.Dy() {
			copy(copied.Row(p, y), src.Row(p, r.Min.Y+y)[r.Min.X:])
		}
	}
	s := newScaler(t, Bilinear)
	same := media.NewVideoFrame(crop.Dx(), crop.Dy())
	if err := s.Scale(same, src, crop); err != nil {
		t.Fatal(err)
	}
	if p, x, y, ok := equalFrames(same, copied); !ok {
		t.Fatalf("1:1 crop: plane %d (%d,%d) = %d, want %d", p, x, y, same.Row(p, y)[x], copied.Row(p, y)[x])
	}
	for _, f := range []ScaleFilter{Bilinear, Area} {
		s := newScaler(t, f)
		a, b := media.NewVideoFrame(111, 70), media.NewVideoFrame(111, 70)
		if err := s.Scale(a, src, crop); err != nil {
			t.Fatal(err)
		}
		if err := s.Scale(b, copied, image.Rect(0, 0, crop.Dx(), crop.Dy())); err != nil {
			t.Fatal(err)
		}
		if p, x, y, ok := equalFrames(a, b); !ok {
			t.Fatalf("%v: scaling the crop and scaling its copy differ at plane %d (%d,%d)", f, p, x, y)
		}
	}
}

// Bilinear upscaling by 2 is centre-aligned: every output sample lies
// between the two nearest source samples (a step edge stays in place).
func TestScaleBilinearUpscaleCentred(t *testing.T) {
	src := flat(64, 64, media.YUV{Y: 16, U: 128, V: 128})
	for y := range 64 {
		row := src.Row(0, y)
		for x := 32; x < 64; x++ {
			row[x] = 235
		}
	}
	dst := media.NewVideoFrame(128, 128)
	if err := newScaler(t, Bilinear).Scale(dst, src, image.Rect(0, 0, 64, 64)); err != nil {
		t.Fatal(err)
	}
	row := dst.Row(0, 64)
	// Output i samples source (i+½)/2 − ½: output 62 at 30.75 (dark), 63
	// at 31.25 (a quarter bright), 64 at 31.75 (three quarters), 65 at
	// 32.25 (bright).
	want := map[int]int{62: 16, 63: 16 + (235-16)/4, 64: 16 + 3*(235-16)/4, 65: 235}
	for x, w := range want {
		if d := int(row[x]) - w; d < -1 || d > 1 {
			t.Errorf("output %d = %d, want %d±1 (row %v)", x, row[x], w, row[60:70])
		}
	}
}

func TestScaleErrors(t *testing.T) {
	s := newScaler(t, Bilinear)
	src, dst := media.NewVideoFrame(64, 48), media.NewVideoFrame(32, 24)
	bad := []struct {
		name     string
		dst, src *media.VideoFrame
		crop     image.Rectangle
	}{
		{"nil source", dst, nil, image.Rect(0, 0, 64, 48)},
		{"nil destination", nil, src, image.Rect(0, 0, 64, 48)},
		{"empty crop", dst, src, image.Rect(10, 10, 10, 20)},
		{"crop outside", dst, src, image.Rect(0, 0, 66, 48)},
		{"negative crop", dst, src, image.Rect(-2, 0, 30, 48)},
		{"odd crop origin", dst, src, image.Rect(1, 0, 31, 48)},
		{"zero-size destination", &media.VideoFrame{}, src, image.Rect(0, 0, 64, 48)},
		{"short source plane", dst, &media.VideoFrame{Width: 64, Height: 48, Stride: [3]int{64, 32, 32}, Planes: [3][]byte{make([]byte, 64), make([]byte, 32*24), make([]byte, 32*24)}}, image.Rect(0, 0, 64, 48)},
	}
	for _, c := range bad {
		if err := s.Scale(c.dst, c.src, c.crop); err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
	if _, err := NewScaler(ScaleFilter(9)); err == nil {
		t.Error("unknown filter: no error")
	}
	// The Scaler still works after refusing bad input.
	if err := s.Scale(dst, src, image.Rect(0, 0, 64, 48)); err != nil {
		t.Fatal(err)
	}
}

func TestScalerCloseTwice(t *testing.T) {
	s, err := NewScaler(Area)
	if err != nil {
		t.Fatal(err)
	}
	src, dst := media.NewVideoFrame(64, 48), media.NewVideoFrame(32, 24)
	if err := s.Scale(dst, src, image.Rect(0, 0, 64, 48)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if err := s.Scale(dst, src, image.Rect(0, 0, 64, 48)); !errors.Is(err, ErrClosed) {
		t.Errorf("Scale after Close: %v, want ErrClosed", err)
	}
	var nilScaler *Scaler
	nilScaler.Close()
}

// The steady state (same sizes) allocates nothing on the Go heap; a change
// of size rebuilds the context and keeps working.
func TestScaleAllocations(t *testing.T) {
	s := newScaler(t, Area)
	src := noise(1280, 720, 3)
	dst := media.NewVideoFrame(474, 266)
	crop := image.Rect(100, 50, 100+1280-200, 50+600)
	if err := s.Scale(dst, src, crop); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(20, func() {
		if err := s.Scale(dst, src, crop); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per Scale call: %.1f", n)
	if n != 0 {
		t.Errorf("Scale allocates %.1f times per call in the steady state", n)
	}
	small := media.NewVideoFrame(64, 36)
	if err := s.Scale(small, src, image.Rect(0, 0, 1280, 720)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkScale(b *testing.B) {
	for _, f := range []ScaleFilter{Bilinear, Area} {
		b.Run(f.String(), func(b *testing.B) {
			s, err := NewScaler(f)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			src, dst := noise(1280, 720, 1), media.NewVideoFrame(640, 360)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Scale(dst, src, image.Rect(0, 0, 1280, 720)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
