package bench

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// ffmpegTiles arranges n participants with sources of size src on canvas
// as the compositor would, and returns the tiles.
func ffmpegTiles(canvas, src layout.Size, cfg layout.Config, n int) []tile {
	ps := make([]layout.Participant, n)
	for i := range ps {
		ps[i] = layout.Participant{ID: fmt.Sprintf("p%d", i+1), Arrival: uint64(i), Video: src}
	}
	var tiles []tile
	for _, s := range layout.Arrange(canvas, cfg, ps) {
		crop, dst := layout.Fit(s.Rect, src, s.Fill)
		tiles = append(tiles, tile{src: s.Index, crop: crop, dst: dst})
	}
	return tiles
}

// ffmpegCheckCanvas compares every sample of f with the colour of the last
// tile covering it, or bg. Rectangles are even, so every chroma sample lies
// wholly inside or outside each tile.
func ffmpegCheckCanvas(t *testing.T, f *media.VideoFrame, tiles []tile, colours []media.YUV, bg media.YUV) {
	t.Helper()
	for p := range 3 {
		sub := 1
		if p > 0 {
			sub = 2
		}
		for y := range f.PlaneHeight(p) {
			row := f.Row(p, y)
			for x := range row {
				want, where := bg, "background"
				for i, tl := range tiles {
					r := tl.dst
					if x*sub >= r.X && x*sub < r.Right() && y*sub >= r.Y && y*sub < r.Bottom() {
						want, where = colours[tl.src], "tile "+strconv.Itoa(i)
					}
				}
				if w := [3]byte{want.Y, want.U, want.V}[p]; row[x] != w {
					t.Fatalf("plane %d (%d,%d) in the %s = %d, want %d", p, x, y, where, row[x], w)
				}
			}
		}
	}
}

// A 2×2 grid of flat 1280×720 sources on a 1280×720 canvas: tile centres
// have their source's colour, gaps and borders the background.
func TestFFmpegGrid(t *testing.T) {
	canvas, src := layout.Size{W: 1280, H: 720}, layout.Size{W: 1280, H: 720}
	colours := []media.YUV{
		media.RGBToYUV(220, 40, 40),
		media.RGBToYUV(40, 200, 60),
		media.RGBToYUV(50, 70, 230),
		media.RGBToYUV(240, 220, 30),
	}
	sources := make([]*media.VideoFrame, len(colours))
	for i, c := range colours {
		sources[i] = media.NewVideoFrame(src.W, src.H)
		sources[i].Fill(c)
	}
	for _, bg := range []media.YUV{media.RGBToYUV(30, 30, 30), {Y: 60, U: 150, V: 110}} {
		tiles := ffmpegTiles(canvas, src, layout.Config{Grid: &layout.GridConfig{GridGap: new(8)}}, 4)
		if len(tiles) != 4 {
			t.Fatalf("%d tiles, want 4", len(tiles))
		}
		p, err := newFFmpegPeer(canvas, src, tiles, bg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("graph: %s", p.(*ffmpegPeer).desc)
		dst := media.NewVideoFrame(canvas.W, canvas.H)
		for range 2 { // the second frame goes through the reused graph
			if err := p.compose(dst, sources); err != nil {
				t.Fatal(err)
			}
			for i, tl := range tiles {
				cx, cy := tl.dst.X+tl.dst.W/2, tl.dst.Y+tl.dst.H/2
				if got := ffmpegSample(dst, cx, cy); got != colours[i] {
					t.Errorf("tile %d centre (%d,%d) = %v, want %v", i, cx, cy, got, colours[i])
				}
			}
			gapX := (tiles[0].dst.Right() + tiles[1].dst.X) / 2
			if got := ffmpegSample(dst, gapX&^1, tiles[0].dst.Y+10); got != bg {
				t.Errorf("gap between tiles 0 and 1 = %v, want the background %v", got, bg)
			}
			ffmpegCheckCanvas(t, dst, tiles, colours, bg)
		}
		p.close()
	}
}

// One tile (no xstack) and a layout whose tiles stop short of the canvas
// edges (pad) give the same kind of picture.
func TestFFmpegSingleTileAndPad(t *testing.T) {
	canvas, src := layout.Size{W: 640, H: 480}, layout.Size{W: 640, H: 360}
	colours := []media.YUV{media.RGBToYUV(200, 100, 50), media.RGBToYUV(20, 90, 200)}
	sources := []*media.VideoFrame{media.NewVideoFrame(src.W, src.H), media.NewVideoFrame(src.W, src.H)}
	for i, c := range colours {
		sources[i].Fill(c)
	}
	bg := media.Black
	for n := 1; n <= 2; n++ {
		tiles := ffmpegTiles(canvas, src, layout.Config{Grid: &layout.GridConfig{GridGap: new(4), VideoFillMode: layout.Contain}}, n)
		p, err := newFFmpegPeer(canvas, src, tiles, bg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d tiles: %s", n, p.(*ffmpegPeer).desc)
		dst := media.NewVideoFrame(canvas.W, canvas.H)
		if err := p.compose(dst, sources); err != nil {
			t.Fatal(err)
		}
		ffmpegCheckCanvas(t, dst, tiles, colours, bg)
		p.close()
	}
}

// The RGB colour chosen for the background gives back the YUV colour
// through FFmpeg's conversion whenever some RGB colour does. (Saturated
// BT.709 colours can lie outside what BT.601 RGB reaches; they get a
// neighbour.)
func TestFFmpegColour(t *testing.T) {
	back := func(c media.YUV) media.YUV {
		var r, g, b int
		if _, err := fmt.Sscanf(ffmpegColour(c), "0x%02X%02X%02X", &r, &g, &b); err != nil {
			t.Fatal(err)
		}
		return ffmpegYUV(r, g, b)
	}
	for r := 0; r < 256; r += 15 {
		for g := 0; g < 256; g += 15 {
			for b := 0; b < 256; b += 15 {
				if c := ffmpegYUV(r, g, b); back(c) != c {
					t.Fatalf("%v (from RGB %d,%d,%d): %s gives %v", c, r, g, b, ffmpegColour(c), back(c))
				}
			}
		}
	}
}

func TestFFmpegRejects(t *testing.T) {
	canvas, src := layout.Size{W: 640, H: 360}, layout.Size{W: 640, H: 360}
	good := tile{crop: layout.Rect{W: 640, H: 360}, dst: layout.Rect{W: 320, H: 180}}
	for name, c := range map[string]struct {
		canvas layout.Size
		tiles  []tile
	}{
		"odd canvas":          {layout.Size{W: 641, H: 360}, []tile{good}},
		"crop outside":        {canvas, []tile{{crop: layout.Rect{X: 2, W: 640, H: 360}, dst: good.dst}}},
		"destination outside": {canvas, []tile{{crop: good.crop, dst: layout.Rect{X: 400, W: 320, H: 180}}}},
	} {
		if p, err := newFFmpegPeer(c.canvas, src, c.tiles, media.Black); err == nil {
			p.close()
			t.Errorf("%s: no error", name)
		}
	}
	p, err := newFFmpegPeer(canvas, src, []tile{good}, media.Black)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if err := p.compose(media.NewVideoFrame(640, 360), nil); err == nil {
		t.Error("compose without sources: no error")
	}
	if err := p.compose(media.NewVideoFrame(640, 360), []*media.VideoFrame{media.NewVideoFrame(320, 180)}); err == nil {
		t.Error("compose with a source of the wrong size: no error")
	}
}

func ffmpegSample(f *media.VideoFrame, x, y int) media.YUV {
	return media.YUV{Y: f.Row(0, y)[x], U: f.Row(1, y/2)[x/2], V: f.Row(2, y/2)[x/2]}
}
