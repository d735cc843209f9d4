package compositor

import (
	"slices"

	"github.com/tessera-media/tessera/layout"
)

// subtract returns area minus the union of holes as disjoint rectangles,
// scanning horizontal bands between the holes' top and bottom edges. Equal
// spans of consecutive bands are merged, so a grid's background comes out
// as a handful of rectangles.
func subtract(area layout.Rect, holes []layout.Rect) []layout.Rect {
	ys := []int{area.Y, area.Bottom()}
	for _, h := range holes {
		ys = append(ys, clampInt(h.Y, area.Y, area.Bottom()), clampInt(h.Bottom(), area.Y, area.Bottom()))
	}
	slices.Sort(ys)
	ys = slices.Compact(ys)
	var out []layout.Rect
	open := map[[2]int]int{} // span → index in out of the rectangle it extends
	for b := 0; b+1 < len(ys); b++ {
		y0, y1 := ys[b], ys[b+1]
		// Holes crossing this band, as x intervals.
		var cover [][2]int
		for _, h := range holes {
			if h.Y <= y0 && h.Bottom() >= y1 && !h.Empty() {
				cover = append(cover, [2]int{max(h.X, area.X), min(h.Right(), area.Right())})
			}
		}
		slices.SortFunc(cover, func(a, b [2]int) int { return a[0] - b[0] })
		next := map[[2]int]int{}
		x := area.X
		emit := func(x0, x1 int) {
			if x1 <= x0 {
				return
			}
			span := [2]int{x0, x1}
			if i, ok := open[span]; ok && out[i].Bottom() == y0 {
				out[i].H += y1 - y0
				next[span] = i
				return
			}
			out = append(out, layout.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0})
			next[span] = len(out) - 1
		}
		for _, c := range cover {
			emit(x, c[0])
			x = max(x, c[1])
		}
		emit(x, area.Right())
		open = next
	}
	return out
}

func clampInt(v, lo, hi int) int { return min(max(v, lo), hi) }
