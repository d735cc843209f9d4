package av

import (
	"testing"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

func TestCopyRoundTrip(t *testing.T) {
	f := astiav.AllocFrame()
	defer f.Free()
	for _, sz := range [][2]int{{64, 48}, {33, 17}, {1, 1}, {1281, 721}} {
		src := noise(sz[0], sz[1], uint64(sz[0]))
		if err := CopyToAV(f, src); err != nil {
			t.Fatal(err)
		}
		if f.Width() != sz[0] || f.Height() != sz[1] || f.PixelFormat() != astiav.PixelFormatYuv420P {
			t.Fatalf("FFmpeg frame is %dx%d %s, want %dx%d yuv420p", f.Width(), f.Height(), f.PixelFormat(), sz[0], sz[1])
		}
		back := media.NewVideoFrame(sz[0], sz[1])
		if err := CopyFromAV(back, f); err != nil {
			t.Fatal(err)
		}
		if p, x, y, ok := equalFrames(src, back); !ok {
			t.Fatalf("%dx%d: plane %d (%d,%d) differs after the round trip", sz[0], sz[1], p, x, y)
		}
	}
}

// The FFmpeg buffer is kept while the size stays the same.
func TestCopyToAVReusesBuffer(t *testing.T) {
	f := astiav.AllocFrame()
	defer f.Free()
	src := noise(320, 240, 1)
	if err := CopyToAV(f, src); err != nil {
		t.Fatal(err)
	}
	before := cFrame(f).data[0]
	for range 3 {
		if err := CopyToAV(f, src); err != nil {
			t.Fatal(err)
		}
	}
	if cFrame(f).data[0] != before {
		t.Error("the frame's buffer was reallocated for a picture of the same size")
	}
	if n := testing.AllocsPerRun(20, func() {
		if err := CopyToAV(f, src); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("CopyToAV allocates %.1f times per call", n)
	}
}

func TestCopyErrors(t *testing.T) {
	f := astiav.AllocFrame()
	defer f.Free()
	if err := CopyToAV(f, nil); err == nil {
		t.Error("CopyToAV(nil source): no error")
	}
	if err := CopyToAV(nil, media.NewVideoFrame(4, 4)); err == nil {
		t.Error("CopyToAV(nil destination): no error")
	}
	short := media.NewVideoFrame(16, 16)
	short.Planes[1] = short.Planes[1][:10]
	if err := CopyToAV(f, short); err == nil {
		t.Error("CopyToAV of a frame with a short plane: no error")
	}
	if err := CopyToAV(f, media.NewVideoFrame(16, 16)); err != nil {
		t.Fatal(err)
	}
	if err := CopyFromAV(media.NewVideoFrame(16, 8), f); err == nil {
		t.Error("CopyFromAV into a frame of another size: no error")
	}
	empty := astiav.AllocFrame()
	defer empty.Free()
	if err := CopyFromAV(media.NewVideoFrame(16, 16), empty); err == nil {
		t.Error("CopyFromAV of an empty frame: no error")
	}
}

func equalFrames(a, b *media.VideoFrame) (p, x, y int, ok bool) {
	for p := range 3 {
		for y := range a.PlaneHeight(p) {
			ra, rb := a.Row(p, y), b.Row(p, y)
			for x := range ra {
				if ra[x] != rb[x] {
					return p, x, y, false
				}
			}
		}
	}
	return 0, 0, 0, true
}
