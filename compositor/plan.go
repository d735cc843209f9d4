package compositor

import (
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// slotPlan is everything Compose needs to draw one slot.
type slotPlan struct {
	slot        layout.Slot
	label       string
	placeholder *media.VideoFrame // the tile drawn when there is no video
	src         layout.Size       // the source size the tables below are for
	bars        []layout.Rect     // tile minus the picture (CONTAIN), luma
	planes      [3]planePlan
}

// planePlan scales a source crop into a destination rectangle in one plane.
type planePlan struct {
	crop, dst layout.Rect // in the plane's own samples
	fx, fy    filter
}

// planFor (re)builds the slot's tables for a source of size src.
func (sp *slotPlan) planFor(src layout.Size) {
	crop, dst := layout.Fit(sp.slot.Rect, src, sp.slot.Fill)
	sp.src = src
	sp.bars = subtract(sp.slot.Rect, []layout.Rect{dst})
	for p := range 3 {
		pc, pd := crop, dst
		if p > 0 {
			pc, pd = chromaRect(crop), chromaRect(dst)
		}
		sp.planes[p] = planePlan{crop: pc, dst: pd, fx: newFilter(pc.W, pd.W), fy: newFilter(pc.H, pd.H)}
	}
}

// chromaRect maps a luma rectangle to the chroma samples it covers: the
// start halved down, the end halved up (they differ only at an odd edge).
func chromaRect(r layout.Rect) layout.Rect {
	x0, y0 := r.X/2, r.Y/2
	return layout.Rect{X: x0, Y: y0, W: (r.Right()+1)/2 - x0, H: (r.Bottom()+1)/2 - y0}
}

// maxCropWidth is the widest source row a plan reads (for scratch rows).
func (sp *slotPlan) maxCropWidth() int {
	return sp.planes[0].crop.W
}
