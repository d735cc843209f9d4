package layout

import "math"

// videoAspect is the aspect assumed for a participant whose video size is
// unknown, and the AUTO reference when no size is known at all.
const videoAspect = 16.0 / 9

// packGrid places n equal tiles in area, row by row from the top, and
// returns them in that order; nil when n tiles of at least 2×2 pixels do not
// fit.
//
// With a fixed tile aspect (ratio > 0) it takes the column count that gives
// the largest tiles of that aspect; ties go to the count with fewer empty
// cells, then to fewer columns. With AUTO (ratio == 0) tiles stretch to fill
// the area for every column count, and the count whose tile shape comes
// closest to ref (the participants' video aspect) wins; ties go to the larger
// tiles, then to more columns: narrower tiles make COVER crop the sides of a
// picture rather than the top of a head.
//
// Tiles are gap pixels apart (gap is even), the last, partial row is centred,
// and the whole block is centred in area. Every coordinate is even when
// area's are.
func packGrid(area Rect, n int, ratio, ref float64, gap int) []Rect {
	if n <= 0 {
		return nil
	}
	bestC, bestW, bestH := 0, 0, 0
	bestArea, bestEmpty, bestDev := 0, 0, math.Inf(1)
	for c := 1; c <= n; c++ {
		r := (n + c - 1) / c
		availW := area.W - (c-1)*gap
		availH := area.H - (r-1)*gap
		if availW < 2*c || availH < 2*r {
			continue
		}
		maxW, maxH := evenDown(availW/c), evenDown(availH/r)
		w, h := maxW, maxH
		empty := c*r - n
		if ratio > 0 {
			fw, fh := float64(availW)/float64(c), float64(availH)/float64(r)
			if fw/fh > ratio {
				fw = fh * ratio
			} else {
				fh = fw / ratio
			}
			w, h = clamp(evenRound(fw), 2, maxW), clamp(evenRound(fh), 2, maxH)
			a := w * h
			if a > bestArea || a == bestArea && empty < bestEmpty {
				bestC, bestW, bestH, bestArea, bestEmpty = c, w, h, a, empty
			}
			continue
		}
		dev := math.Abs(math.Log(float64(w) / float64(h) / ref))
		a := w * h
		if dev < bestDev-1e-9 || math.Abs(dev-bestDev) <= 1e-9 && a >= bestArea {
			bestC, bestW, bestH, bestArea, bestDev = c, w, h, a, dev
		}
	}
	if bestC == 0 {
		return nil
	}
	c, w, h := bestC, bestW, bestH
	r := (n + c - 1) / c
	bw := c*w + (c-1)*gap
	bh := r*h + (r-1)*gap
	x0 := area.X + evenDown((area.W-bw)/2)
	y0 := area.Y + evenDown((area.H-bh)/2)
	tiles := make([]Rect, n)
	for i := range tiles {
		row, col := i/c, i%c
		inRow := c
		if row == r-1 {
			inRow = n - (r-1)*c
		}
		off := evenDown((bw - (inRow*w + (inRow-1)*gap)) / 2)
		tiles[i] = Rect{X: x0 + off + col*(w+gap), Y: y0 + row*(h+gap), W: w, H: h}
	}
	return tiles
}
