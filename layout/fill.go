package layout

// Fit maps a source video of size src into tile for fill mode m. It returns
// crop, the part of the source to draw (in source pixels), and dst, where it
// lands (in canvas pixels, inside tile):
//
//   - FILL stretches the whole source over the whole tile.
//   - COVER scales the source to cover the tile and crops the centred excess:
//     dst is the tile, crop the largest centred source window of the tile's
//     aspect.
//   - CONTAIN scales the source to fit inside the tile: crop is the whole
//     source, dst the largest centred rectangle of the source's aspect; the
//     rest of the tile is letterbox, painted with the background colour.
//
// Crop and dst have even coordinates and sizes (a crop spanning a source
// dimension of odd size keeps that size), so chroma lines up in I420; the
// rounding moves an edge by at most one pixel. Neither is ever smaller than
// 2 pixels unless the tile or the source is. An unknown source size (or an
// unknown mode) gives the zero crop and dst = tile.
func Fit(tile Rect, src Size, m FillMode) (crop, dst Rect) {
	if !src.Known() || tile.Empty() {
		return Rect{}, tile
	}
	full := Rect{W: src.W, H: src.H}
	// Compare aspects exactly: src.W/src.H against tile.W/tile.H.
	srcWider, tileWider := src.W*tile.H > tile.W*src.H, src.W*tile.H < tile.W*src.H
	switch m {
	case Fill:
		return full, tile
	case Cover:
		crop = full
		switch {
		case srcWider:
			crop.W = scaled(src.H, tile.W, tile.H, src.W)
			crop.X = centre(src.W, crop.W)
		case tileWider:
			crop.H = scaled(src.W, tile.H, tile.W, src.H)
			crop.Y = centre(src.H, crop.H)
		}
		return crop, tile
	case Contain:
		dst = tile
		switch {
		case srcWider:
			dst.H = scaled(tile.W, src.H, src.W, tile.H)
			dst.Y += evenDown((tile.H - dst.H) / 2)
		case tileWider:
			dst.W = scaled(tile.H, src.W, src.H, tile.W)
			dst.X += evenDown((tile.W - dst.W) / 2)
		}
		return full, dst
	}
	return Rect{}, tile
}

// centre returns the even offset that centres a span of length n in a span
// of length total most closely (total may be odd).
func centre(total, n int) int {
	return clamp(evenRound(float64(total-n)/2), 0, evenDown(total-n))
}

// scaled returns v×num/den rounded to even, at least 2 and at most limit.
func scaled(v, num, den, limit int) int {
	return clamp(evenRound(float64(v)*float64(num)/float64(den)), 2, limit)
}
