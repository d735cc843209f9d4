package media

import (
	"testing"
	"time"
)

func TestVideoFrameGeometry(t *testing.T) {
	f := NewVideoFrame(641, 361)
	if f.PlaneWidth(0) != 641 || f.PlaneWidth(1) != 321 || f.PlaneHeight(0) != 361 || f.PlaneHeight(2) != 181 {
		t.Errorf("plane sizes %d %d %d %d", f.PlaneWidth(0), f.PlaneWidth(1), f.PlaneHeight(0), f.PlaneHeight(2))
	}
	for p := range 3 {
		if f.Stride[p]%64 != 0 || f.Stride[p] < f.PlaneWidth(p) || len(f.Planes[p]) != f.Stride[p]*f.PlaneHeight(p) {
			t.Errorf("plane %d: stride %d len %d", p, f.Stride[p], len(f.Planes[p]))
		}
		if r := f.Row(p, f.PlaneHeight(p)-1); len(r) != f.PlaneWidth(p) || cap(r) != len(r) {
			t.Errorf("plane %d last row len %d cap %d", p, len(r), cap(r))
		}
	}
	f.Fill(Black)
	if f.Row(0, 360)[640] != 16 || f.Row(1, 180)[320] != 128 || f.Planes[0][f.Stride[0]-1] != 0 {
		t.Errorf("Fill painted wrong bytes (or the stride padding)")
	}
}

func TestRGBToYUV(t *testing.T) {
	for _, tt := range []struct {
		r, g, b byte
		want    YUV
	}{
		{0, 0, 0, Black},
		{255, 255, 255, YUV{235, 128, 128}},
		{255, 0, 0, YUV{63, 102, 240}},
		{0, 0, 255, YUV{32, 240, 118}},
	} {
		if got := RGBToYUV(tt.r, tt.g, tt.b); got != tt.want {
			t.Errorf("RGBToYUV(%d,%d,%d) = %v, want %v", tt.r, tt.g, tt.b, got, tt.want)
		}
		if r, g, b := tt.want.RGB(); absDiff(r, tt.r) > 2 || absDiff(g, tt.g) > 2 || absDiff(b, tt.b) > 2 {
			t.Errorf("%v.RGB() = %d,%d,%d, want about %d,%d,%d", tt.want, r, g, b, tt.r, tt.g, tt.b)
		}
	}
}

func TestAudioFrame(t *testing.T) {
	a := NewAudioFrame(2, 960)
	if a.Len() != 960 || a.Duration() != 20*time.Millisecond || len(a.Samples) != 1920 {
		t.Errorf("960 stereo samples: len %d duration %v", a.Len(), a.Duration())
	}
	if (&AudioFrame{}).Len() != 0 {
		t.Error("empty frame has samples")
	}
}

func TestPoolsRecycleWithoutAllocating(t *testing.T) {
	vp := NewVideoPool(64, 32)
	ap := NewAudioPool(2, 480)
	vp.Put(vp.Get())
	ap.Put(ap.Get())
	allocs := testing.AllocsPerRun(100, func() {
		f := vp.Get()
		vp.Put(f)
		a := ap.Get()
		ap.Put(a)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per Get/Put", allocs)
	}
	vp.Put(NewVideoFrame(8, 8)) // wrong size: dropped
	if f := vp.Get(); f.Width != 64 || f.Height != 32 {
		t.Errorf("pool returned a %dx%d frame", f.Width, f.Height)
	}
	ap.Put(NewAudioFrame(1, 480))
	if a := ap.Get(); a.Channels != 2 || a.Len() != 480 {
		t.Errorf("pool returned %d channels × %d", a.Channels, a.Len())
	}
}

func absDiff(a, b byte) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}
