package av

import (
	"errors"
	"image"
	"testing"

	"github.com/tessera-media/tessera/media"
)

func newGraph(t *testing.T, desc string, inputs ...image.Point) *Graph {
	t.Helper()
	g, err := NewGraph(desc, inputs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	return g
}

func checkFlat(t *testing.T, f *media.VideoFrame, r image.Rectangle, c media.YUV) {
	t.Helper()
	for p, want := range [3]byte{c.Y, c.U, c.V} {
		pr := planeRect(r, p)
		for y := pr.Min.Y; y < pr.Max.Y; y++ {
			for x := pr.Min.X; x < pr.Max.X; x++ {
				if v := f.Row(p, y)[x]; v != want {
					t.Fatalf("plane %d (%d,%d) = %d, want %d", p, x, y, v, want)
				}
			}
		}
	}
}

func TestGraphScale(t *testing.T) {
	c := media.YUV{Y: 81, U: 90, V: 240}
	g := newGraph(t, "[in0]scale=320:180:flags=bilinear", image.Pt(640, 360))
	dst := media.NewVideoFrame(320, 180)
	for range 3 {
		if err := g.Run(dst, []*media.VideoFrame{flat(640, 360, c)}); err != nil {
			t.Fatal(err)
		}
		checkFlat(t, dst, image.Rect(0, 0, 320, 180), c)
	}
}

// Two inputs side by side; every Run gives the output of its own inputs
// (no frame of delay).
func TestGraphHstackNoDelay(t *testing.T) {
	g := newGraph(t, "[in0]crop=100:60:20:10[a];[a][in1]hstack=inputs=2[out]", image.Pt(160, 90), image.Pt(50, 60))
	dst := media.NewVideoFrame(150, 60)
	for i := range 4 {
		a := media.YUV{Y: byte(40 + 30*i), U: 100, V: 150}
		b := media.YUV{Y: 200, U: byte(60 + 20*i), V: 30}
		if err := g.Run(dst, []*media.VideoFrame{flat(160, 90, a), flat(50, 60, b)}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		checkFlat(t, dst, image.Rect(0, 0, 100, 60), a)
		checkFlat(t, dst, image.Rect(100, 0, 150, 60), b)
	}
}

// Content, not only colour, gets through: a 1:1 crop is an exact copy.
func TestGraphCropContent(t *testing.T) {
	src := noise(200, 100, 5)
	g := newGraph(t, "[in0]crop=120:60:40:20", image.Pt(200, 100))
	dst := media.NewVideoFrame(120, 60)
	if err := g.Run(dst, []*media.VideoFrame{src}); err != nil {
		t.Fatal(err)
	}
	for p := range 3 {
		r := planeRect(image.Rect(40, 20, 160, 80), p)
		for y := range r.Dy() {
			want, got := src.Row(p, r.Min.Y+y)[r.Min.X:r.Max.X], dst.Row(p, y)
			for x := range got {
				if got[x] != want[x] {
					t.Fatalf("plane %d (%d,%d) = %d, want %d", p, x, y, got[x], want[x])
				}
			}
		}
	}
}

func TestGraphSwsFlagsPrefix(t *testing.T) {
	g := newGraph(t, "sws_flags=area;[in0]scale=100:50", image.Pt(200, 100))
	c := media.YUV{Y: 50, U: 60, V: 70}
	dst := media.NewVideoFrame(100, 50)
	if err := g.Run(dst, []*media.VideoFrame{flat(200, 100, c)}); err != nil {
		t.Fatal(err)
	}
	checkFlat(t, dst, image.Rect(0, 0, 100, 50), c)
}

func TestGraphErrors(t *testing.T) {
	for _, c := range []struct {
		desc   string
		inputs []image.Point
	}{
		{"[in0]nosuchfilter", []image.Point{{64, 64}}},
		{"[in0]scale=32:32", []image.Point{{0, 64}}},
		{"[in0]scale=32:32[", []image.Point{{64, 64}}},
		{"[in0]scale=32:32", []image.Point{{64, 64}, {64, 64}}}, // in1 unused
		{"[in1]scale=32:32", []image.Point{{64, 64}}},           // no such input
		{"scale=32:32", []image.Point{{64, 64}}},                // unlabelled input
	} {
		if g, err := NewGraph(c.desc, c.inputs); err == nil {
			g.Close()
			t.Errorf("%q with inputs %v: no error", c.desc, c.inputs)
		} else {
			t.Logf("%q: %v", c.desc, err)
		}
	}
	g := newGraph(t, "[in0]scale=32:32", image.Pt(64, 64))
	ok := []*media.VideoFrame{media.NewVideoFrame(64, 64)}
	for name, err := range map[string]error{
		"wrong input size":  g.Run(media.NewVideoFrame(32, 32), []*media.VideoFrame{media.NewVideoFrame(64, 32)}),
		"wrong input count": g.Run(media.NewVideoFrame(32, 32), append(ok, ok...)),
		"nil input":         g.Run(media.NewVideoFrame(32, 32), []*media.VideoFrame{nil}),
		"push out of range": g.Push(1, ok[0]),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A wrong destination size is reported, and the graph goes on.
	if err := g.Run(media.NewVideoFrame(16, 16), ok); err == nil {
		t.Error("wrong output size: no error")
	}
	if err := g.Run(media.NewVideoFrame(32, 32), ok); err != nil {
		t.Fatal(err)
	}
}

func TestGraphCloseTwice(t *testing.T) {
	g, err := NewGraph("[in0][in1]hstack", []image.Point{{32, 32}, {32, 32}})
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	g.Close()
	f := media.NewVideoFrame(32, 32)
	if err := g.Run(media.NewVideoFrame(64, 32), []*media.VideoFrame{f, f}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
}

func TestGraphAllocations(t *testing.T) {
	g := newGraph(t, "[in0]crop=600:300:20:20,scale=320:180:flags=bilinear[a];[in1]scale=320:180:flags=bilinear[b];[a][b]xstack=inputs=2:layout=0_0|320_0", image.Pt(640, 360), image.Pt(640, 360))
	srcs := []*media.VideoFrame{noise(640, 360, 1), noise(640, 360, 2)}
	dst := media.NewVideoFrame(640, 180)
	if err := g.Run(dst, srcs); err != nil {
		t.Fatal(err)
	}
	n := testing.AllocsPerRun(20, func() {
		if err := g.Run(dst, srcs); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("allocations per Run: %.1f", n)
	if n != 0 {
		t.Errorf("Run allocates %.1f times per call in the steady state", n)
	}
}

// A graph may have no source at all: a generator feeds the sink.
func TestGraphWithoutSources(t *testing.T) {
	g := newGraph(t, "color=c=0x000000:s=64x32:r=30")
	dst := media.NewVideoFrame(64, 32)
	for range 2 {
		if err := g.Run(dst, nil); err != nil {
			t.Fatal(err)
		}
		checkFlat(t, dst, image.Rect(0, 0, 64, 32), media.Black)
	}
}
