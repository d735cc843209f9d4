//go:build libyuv

package bench

import (
	"testing"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/media/mediatest"
)

// sample returns the (Y, U, V) of luma pixel (x, y).
func sample(f *media.VideoFrame, x, y int) media.YUV {
	c := f.Stride[1]*(y/2) + x/2
	return media.YUV{
		Y: f.Planes[0][f.Stride[0]*y+x],
		U: f.Planes[1][c],
		V: f.Planes[2][c],
	}
}

func near(a, b byte, tol int) bool {
	d := int(a) - int(b)
	return -tol <= d && d <= tol
}

func nearYUV(a, b media.YUV, tol int) bool {
	return near(a.Y, b.Y, tol) && near(a.U, b.U, tol) && near(a.V, b.V, tol)
}

func TestLibyuvGrid(t *testing.T) {
	const W, H = 1280, 720
	const gap = 2
	colours := []media.YUV{
		media.RGBToYUV(220, 40, 40),
		media.RGBToYUV(40, 200, 60),
		media.RGBToYUV(50, 70, 230),
		media.RGBToYUV(240, 220, 30),
	}
	bg := media.RGBToYUV(30, 30, 30)
	sources := make([]*media.VideoFrame, len(colours))
	var tiles []tile
	for i, c := range colours {
		sources[i] = media.NewVideoFrame(W, H)
		sources[i].Fill(c)
		// Quadrant i, less gap pixels at its right and bottom: the gaps
		// run at columns 638–639 and 1278–1279, rows 358–359 and 718–719.
		q := layout.Rect{X: i % 2 * W / 2, Y: i / 2 * H / 2, W: W/2 - gap, H: H/2 - gap}
		tiles = append(tiles, tile{src: i, crop: layout.Rect{W: W, H: H}, dst: q})
	}
	p, err := newLibyuvPeer(layout.Size{W: W, H: H}, tiles, bg, libyuvAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()

	dst := media.NewVideoFrame(W, H)
	dst.Fill(media.YUV{Y: 1, U: 2, V: 3}) // neither a tile's colour nor the background
	// Two frames: the second reuses the state the first left.
	for range 2 {
		if err := p.compose(dst, sources); err != nil {
			t.Fatal(err)
		}
	}

	for i, tl := range tiles {
		cx, cy := tl.dst.X+tl.dst.W/2, tl.dst.Y+tl.dst.H/2
		// libyuv's box filter divides by reciprocal multiplication, which
		// may round a flat colour down by one.
		if got := sample(dst, cx, cy); !nearYUV(got, colours[i], 1) {
			t.Errorf("tile %d centre (%d,%d) = %v, want %v", i, cx, cy, got, colours[i])
		}
	}
	for y := range H {
		for x := range W {
			if x%(W/2) < W/2-gap && y%(H/2) < H/2-gap {
				continue // inside a tile
			}
			if got := sample(dst, x, y); got != bg {
				t.Fatalf("gap pixel (%d,%d) = %v, want background %v", x, y, got, bg)
			}
		}
	}
}

// TestLibyuvNatural scales camera-like content 2:1 with the box filter and
// checks it against a plain 2×2 average.
func TestLibyuvNatural(t *testing.T) {
	src := mediatest.Natural(1280, 720, 1)
	tiles := []tile{{src: 0, crop: layout.Rect{W: 1280, H: 720}, dst: layout.Rect{W: 640, H: 360}}}
	p, err := newLibyuvPeer(layout.Size{W: 640, H: 360}, tiles, media.Black, libyuvBox)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	dst := media.NewVideoFrame(640, 360)
	if err := p.compose(dst, []*media.VideoFrame{src}); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		bad := 0
		for y := range dst.PlaneHeight(k) {
			r0, r1, out := src.Row(k, 2*y), src.Row(k, 2*y+1), dst.Row(k, y)
			for x := range out {
				want := byte((int(r0[2*x]) + int(r0[2*x+1]) + int(r1[2*x]) + int(r1[2*x+1]) + 2) / 4)
				if !near(out[x], want, 1) {
					if bad++; bad <= 5 {
						t.Errorf("plane %d (%d,%d) = %d, want %d±1", k, x, y, out[x], want)
					}
				}
			}
		}
		if bad > 5 {
			t.Errorf("plane %d: %d samples off in all", k, bad)
		}
	}
}

// TestLibyuvCropOffset copies a crop away from the source's origin to a
// destination away from the canvas's, 1:1, so every plane's pointer offsets
// show: the tile must equal the crop exactly, and the border stay
// background.
func TestLibyuvCropOffset(t *testing.T) {
	src := mediatest.Natural(1280, 720, 2)
	crop := layout.Rect{X: 100, Y: 50, W: 320, H: 180}
	at := layout.Rect{X: 20, Y: 10, W: 320, H: 180}
	p, err := newLibyuvPeer(layout.Size{W: 400, H: 240}, []tile{{src: 0, crop: crop, dst: at}}, media.Black, libyuvAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	dst := media.NewVideoFrame(400, 240)
	if err := p.compose(dst, []*media.VideoFrame{src}); err != nil {
		t.Fatal(err)
	}
	for y := range 240 {
		for x := range 400 {
			want := media.Black
			if (layout.Rect{X: x, Y: y, W: 1, H: 1}).In(at) {
				want = sample(src, x-at.X+crop.X, y-at.Y+crop.Y)
			}
			if got := sample(dst, x, y); got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestLibyuvRejects(t *testing.T) {
	canvas := layout.Size{W: 640, H: 360}
	whole := layout.Rect{W: 640, H: 360}
	for name, tl := range map[string]tile{
		"odd crop":       {crop: layout.Rect{X: 1, W: 100, H: 100}, dst: whole},
		"empty crop":     {crop: layout.Rect{W: 0, H: 100}, dst: whole},
		"odd dst":        {crop: whole, dst: layout.Rect{W: 101, H: 100}},
		"dst off canvas": {crop: whole, dst: layout.Rect{X: 2, W: 640, H: 360}},
		"negative src":   {src: -1, crop: whole, dst: whole},
	} {
		if p, err := newLibyuvPeer(canvas, []tile{tl}, media.Black, libyuvAuto); err == nil {
			p.close()
			t.Errorf("%s: accepted", name)
		}
	}

	p, err := newLibyuvPeer(canvas, []tile{{src: 1, crop: whole, dst: whole}}, media.Black, libyuvAuto)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	dst := media.NewVideoFrame(640, 360)
	small := media.NewVideoFrame(320, 180)
	if err := p.compose(dst, []*media.VideoFrame{small}); err == nil {
		t.Error("too few sources accepted")
	}
	if err := p.compose(dst, []*media.VideoFrame{small, small}); err == nil {
		t.Error("crop outside its source accepted")
	}
	if err := p.compose(small, []*media.VideoFrame{dst, dst}); err == nil {
		t.Error("destination of the wrong size accepted")
	}
}
