package layout

// pipWindow returns the PiP window on canvas area for a PiP participant
// whose video has size src (16:9 when unknown).
//
// Size: pipWidth × pipHeight when both are set. Otherwise the missing one is
// derived from the video's aspect; with neither, the width is a quarter of the
// canvas width (a third on a portrait canvas). The window is clamped to the
// canvas minus the offset — keeping the video's aspect when a dimension was
// derived — and rounded to even pixels, at least 2×2.
//
// Position: the corner named by pipPosition, pipOffset pixels (rounded up to
// even, and at most what leaves a 2-pixel window) from the two nearest edges.
func pipWindow(area Rect, s settings, src Size) Rect {
	ar := src.Aspect()
	if ar == 0 {
		ar = videoAspect
	}
	offX := min(s.offset, area.W-2)
	offY := min(s.offset, area.H-2)
	maxW, maxH := area.W-offX, area.H-offY
	var w, h int
	if s.pipW > 0 && s.pipH > 0 {
		w, h = evenRound(float64(s.pipW)), evenRound(float64(s.pipH))
	} else {
		var fw, fh float64
		switch {
		case s.pipW > 0:
			fw, fh = float64(s.pipW), float64(s.pipW)/ar
		case s.pipH > 0:
			fw, fh = float64(s.pipH)*ar, float64(s.pipH)
		default:
			frac := 4.0
			if area.H > area.W {
				frac = 3
			}
			fw = float64(area.W) / frac
			fh = fw / ar
		}
		if fw > float64(maxW) {
			fw, fh = float64(maxW), fh*float64(maxW)/fw
		}
		if fh > float64(maxH) {
			fw, fh = fw*float64(maxH)/fh, float64(maxH)
		}
		w, h = evenRound(fw), evenRound(fh)
	}
	w, h = clamp(w, 2, maxW), clamp(h, 2, maxH)
	r := Rect{X: area.X + offX, Y: area.Y + offY, W: w, H: h}
	switch s.position {
	case TopRight:
		r.X = area.Right() - offX - w
	case BottomLeft:
		r.Y = area.Bottom() - offY - h
	case BottomRight:
		r.X = area.Right() - offX - w
		r.Y = area.Bottom() - offY - h
	}
	return r
}
