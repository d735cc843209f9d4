package layout

import (
	"math"
	"testing"
)

func TestFit(t *testing.T) {
	tile := Rect{100, 50, 640, 360}
	tests := []struct {
		name      string
		tile      Rect
		src       Size
		mode      FillMode
		crop, dst Rect
	}{
		{"fill stretches", tile, Size{640, 480}, Fill, Rect{0, 0, 640, 480}, tile},
		{"same aspect: nothing cropped", tile, Size{1280, 720}, Cover, Rect{0, 0, 1280, 720}, tile},
		{"same aspect: no bars", tile, Size{1280, 720}, Contain, Rect{0, 0, 1280, 720}, tile},
		{"cover 4:3 into 16:9 crops top and bottom", tile, Size{640, 480}, Cover, Rect{0, 60, 640, 360}, tile},
		{"cover portrait into 16:9", tile, Size{720, 1280}, Cover, Rect{0, 438, 720, 406}, tile},
		{"cover 16:9 into a square crops the sides", Rect{0, 0, 360, 360}, Size{1280, 720}, Cover, Rect{280, 0, 720, 720}, Rect{0, 0, 360, 360}},
		{"contain 4:3 into 16:9 pillarboxes", tile, Size{640, 480}, Contain, Rect{0, 0, 640, 480}, Rect{180, 50, 480, 360}},
		{"contain 16:9 into a square letterboxes", Rect{0, 0, 360, 360}, Size{1280, 720}, Contain, Rect{0, 0, 1280, 720}, Rect{0, 78, 360, 202}},
		{"contain portrait into 16:9", tile, Size{720, 1280}, Contain, Rect{0, 0, 720, 1280}, Rect{318, 50, 202, 360}},
		{"odd source keeps its full odd side", Rect{0, 0, 320, 180}, Size{641, 361}, Cover, Rect{0, 0, 641, 360}, Rect{0, 0, 320, 180}},
		{"unknown source", tile, Size{}, Cover, Rect{}, tile},
		{"unknown mode", tile, Size{640, 480}, "ZOOM", Rect{}, tile},
		{"extreme aspect keeps 2 pixels", Rect{0, 0, 400, 2}, Size{2, 1000}, Contain, Rect{0, 0, 2, 1000}, Rect{198, 0, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crop, dst := Fit(tt.tile, tt.src, tt.mode)
			if crop != tt.crop || dst != tt.dst {
				t.Errorf("Fit = crop %+v dst %+v, want crop %+v dst %+v", crop, dst, tt.crop, tt.dst)
			}
			if tt.src.Known() && tt.mode != "ZOOM" {
				if msg := checkFit(tt.tile, tt.src, tt.mode); msg != "" {
					t.Error(msg)
				}
			}
		})
	}
}

// checkFit asserts Fit's contract for one input; used by the table above, the
// random test and the fuzzer.
func checkFit(tile Rect, src Size, mode FillMode) string {
	crop, dst := Fit(tile, src, mode)
	full := Rect{W: src.W, H: src.H}
	if !dst.In(tile) || dst.Empty() {
		return "dst outside the tile"
	}
	if !crop.In(full) || crop.Empty() {
		return "crop outside the source"
	}
	if dst.X%2 != 0 || dst.Y%2 != 0 || dst.W%2 != 0 || dst.H%2 != 0 {
		return "dst not even-aligned"
	}
	if crop.X%2 != 0 || crop.Y%2 != 0 || crop.W%2 != 0 && crop.W != src.W || crop.H%2 != 0 && crop.H != src.H {
		return "crop not even-aligned"
	}
	srcA := src.Aspect()
	switch mode {
	case Fill:
		if crop != full || dst != tile {
			return "FILL must use everything"
		}
	case Cover:
		if dst != tile {
			return "COVER must cover the tile"
		}
		if crop.W != src.W && crop.H != src.H {
			return "COVER must keep one full source dimension"
		}
		// The crop has the tile's aspect, to within the 2-pixel rounding.
		if want := tile.Size().Aspect(); math.Abs(float64(crop.W)-float64(crop.H)*want) > 2+want*2 {
			return "COVER crop has the wrong aspect"
		}
		// Centred, to within rounding.
		if d := (crop.X + crop.Right()) - src.W; d < -2 || d > 2 {
			return "COVER crop not centred horizontally"
		}
		if d := (crop.Y + crop.Bottom()) - src.H; d < -2 || d > 2 {
			return "COVER crop not centred vertically"
		}
	case Contain:
		if crop != full {
			return "CONTAIN must show the whole source"
		}
		if dst.W != tile.W && dst.H != tile.H {
			return "CONTAIN must touch two tile edges"
		}
		if math.Abs(float64(dst.W)-float64(dst.H)*srcA) > 2+srcA*2 && dst.W > 2 && dst.H > 2 {
			return "CONTAIN dst has the wrong aspect"
		}
		if d := (dst.X - tile.X) - (tile.Right() - dst.Right()); d < -2 || d > 2 {
			return "CONTAIN dst not centred horizontally"
		}
		if d := (dst.Y - tile.Y) - (tile.Bottom() - dst.Bottom()); d < -2 || d > 2 {
			return "CONTAIN dst not centred vertically"
		}
	}
	return ""
}

func FuzzFit(f *testing.F) {
	f.Add(0, 0, 640, 360, 1280, 720, uint8(0))
	f.Add(10, 20, 200, 100, 641, 361, uint8(1))
	f.Add(0, 0, 2, 2, 1920, 2, uint8(2))
	f.Fuzz(func(t *testing.T, x, y, w, h, sw, sh int, m uint8) {
		// Tiles as Arrange makes them: even, on a canvas up to 1920; sources up to 4096.
		tile := Rect{evenDown(abs(x) % 1920), evenDown(abs(y) % 1920), 2 + evenDown(abs(w)%1920), 2 + evenDown(abs(h)%1920)}
		src := Size{1 + abs(sw)%4096, 1 + abs(sh)%4096}
		if src.W < 2 || src.H < 2 {
			return // sub-2-pixel sources cannot be even-aligned; nothing publishes them
		}
		mode := []FillMode{Fill, Cover, Contain}[m%3]
		if msg := checkFit(tile, src, mode); msg != "" {
			crop, dst := Fit(tile, src, mode)
			t.Fatalf("Fit(%+v, %+v, %s) = crop %+v dst %+v: %s", tile, src, mode, crop, dst, msg)
		}
	})
}

func abs(v int) int {
	if v < 0 {
		if v == math.MinInt {
			return math.MaxInt
		}
		return -v
	}
	return v
}
