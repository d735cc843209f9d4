package layout

import "math"

// Size is a width and a height in pixels. The zero Size means "unknown".
type Size struct {
	W, H int
}

// Known reports whether both dimensions are positive.
func (s Size) Known() bool { return s.W > 0 && s.H > 0 }

// Aspect returns W/H, or 0 when the size is unknown.
func (s Size) Aspect() float64 {
	if !s.Known() {
		return 0
	}
	return float64(s.W) / float64(s.H)
}

// Rect is an axis-aligned rectangle: its top-left corner (X, Y) and its size
// (W, H) in pixels. The pixels it covers are X ≤ x < X+W and Y ≤ y < Y+H.
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether the rectangle covers no pixel.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Right returns the first column to the right of the rectangle.
func (r Rect) Right() int { return r.X + r.W }

// Bottom returns the first row below the rectangle.
func (r Rect) Bottom() int { return r.Y + r.H }

// Area returns W×H (0 for an empty rectangle).
func (r Rect) Area() int {
	if r.Empty() {
		return 0
	}
	return r.W * r.H
}

// In reports whether r lies entirely inside o.
func (r Rect) In(o Rect) bool {
	return r.X >= o.X && r.Y >= o.Y && r.Right() <= o.Right() && r.Bottom() <= o.Bottom()
}

// Overlaps reports whether r and o share at least one pixel.
func (r Rect) Overlaps(o Rect) bool {
	return !r.Empty() && !o.Empty() &&
		r.X < o.Right() && o.X < r.Right() && r.Y < o.Bottom() && o.Y < r.Bottom()
}

// Distance returns the spacing between two non-overlapping rectangles: the
// larger of the horizontal and the vertical distance between their edges.
// It is negative when they overlap.
func (r Rect) Distance(o Rect) int {
	return max(max(o.X-r.Right(), r.X-o.Right()), max(o.Y-r.Bottom(), r.Y-o.Bottom()))
}

// evenDown rounds v down to an even number (v ≥ 0).
func evenDown(v int) int { return v &^ 1 }

// evenUp rounds v up to an even number (v ≥ 0).
func evenUp(v int) int { return (v + 1) &^ 1 }

// evenRound rounds v to the nearest even integer (halves round up).
func evenRound(v float64) int {
	return 2 * int(math.Floor(v/2+0.5))
}

// clamp returns v limited to [lo, hi]; hi wins when lo > hi.
func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

// Size returns the rectangle's size.
func (r Rect) Size() Size { return Size{r.W, r.H} }
