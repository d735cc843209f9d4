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
// Everything that depends only on the geometry is decided here, once: the
// filters, the pass that runs each axis and the rows to prefetch. Drawing
// a row then only reads these.
type planePlan struct {
	crop, dst layout.Rect // in the plane's own samples
	fx, fy    filter
	v         vpass
	h         hpass
	// ahead[i] is the source rows that output row i+1 reads and row i does
	// not (empty for the last row); nil for filters where prefetching does
	// not pay.
	ahead []rowSpan
}

// vpass is how an output row's source rows are filtered vertically.
type vpass uint8

const (
	vBox      vpass = iota // both axes exactly 2:1: box2x2 writes the canvas row directly
	vBox4x4                // both axes exactly 4:1: box4x4 writes the canvas row directly
	vCopy                  // same height: the source row itself
	vBilinear              // two rows blended (the upper one alone when the lower weighs 0)
	vArea                  // at most maxFusedTaps rows averaged in one pass
	vAreaAcc               // more rows, accumulated one at a time
)

// hpass is how the vertical pass's row is filtered into the canvas.
type hpass uint8

const (
	hCopy     hpass = iota // same width
	hHalf                  // exactly 2:1
	hResample              // any other bilinear or area filter
)

// rowSpan is the source rows [lo, hi).
type rowSpan struct{ lo, hi int32 }

// newPlanePlan plans the scaling of crop into dst with the kernel set k.
func newPlanePlan(crop, dst layout.Rect, k *kernels) planePlan {
	pp := planePlan{crop: crop, dst: dst, fx: newFilter(crop.W, dst.W), fy: newFilter(crop.H, dst.H)}
	fx, fy := &pp.fx, &pp.fy
	switch {
	case fx.half && fy.half:
		pp.v = vBox
	case isHBox4(fx) && isHBox4(fy):
		pp.v = vBox4x4
	case fy.kind == kindCopy:
		pp.v = vCopy
	case fy.kind == kindBilinear:
		pp.v = vBilinear
	case fy.taps <= maxFusedTaps:
		pp.v = vArea
	default:
		pp.v = vAreaAcc
	}
	switch {
	case fx.kind == kindCopy:
		pp.h = hCopy
	case fx.half:
		pp.h = hHalf
	default:
		pp.h = hResample
		if k.table != nil {
			k.table(fx)
		}
	}
	// Prefetching pays for the box and fused area kernels only (measured
	// on the 3×3 → 1080p benchmark: 1.13 → 0.75 ms per frame; reaching
	// further ahead or prefetching for the other filters was slower).
	if fy.half || (pp.v == vArea && fy.taps != 4) {
		pp.ahead = make([]rowSpan, dst.H)
		for i := range dst.H - 1 {
			_, end := fy.span(i)
			lo, hi := fy.span(i + 1)
			pp.ahead[i] = rowSpan{int32(max(lo, end)), int32(hi)}
		}
	}
	return pp
}

// planFor (re)builds the slot's tables for a source of size src, for the
// kernel set k.
func (sp *slotPlan) planFor(src layout.Size, k *kernels) {
	crop, dst := layout.Fit(sp.slot.Rect, src, sp.slot.Fill)
	sp.src = src
	sp.bars = subtract(sp.slot.Rect, []layout.Rect{dst})
	for p := range 3 {
		pc, pd := crop, dst
		if p > 0 {
			pc, pd = chromaRect(crop), chromaRect(dst)
		}
		sp.planes[p] = newPlanePlan(pc, pd, k)
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
