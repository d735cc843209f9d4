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
	// ahead[i] is the source rows that output row i+d reads and row i+d-1
	// does not, d = prefetchDistance(v) (empty for the last d rows); nil
	// for passes where prefetching does not pay.
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
	if d := prefetchDistance(pp.v); d > 0 {
		pp.ahead = make([]rowSpan, dst.H)
		for i := range dst.H - d {
			_, end := fy.span(i + d - 1)
			lo, hi := fy.span(i + d)
			pp.ahead[i] = rowSpan{int32(max(lo, end)), int32(hi)}
		}
	}
	return pp
}

// prefetchDistance is how many output rows ahead of the one being drawn
// the source rows are prefetched for the vertical pass v (0: none). The
// hardware prefetchers lose track of several rows read side by side
// across 4 KiB pages. Measured on the compose benchmark (featured-720p,
// contain-720p, grid3x3-1080p, grid2x2-720p, pip-720p): one row ahead for
// the fused area kernels (−16% featured, −18% contain with AVX-512) and
// for the 4:1 box (its four rows of a 720p plane from memory: 65 → 47 µs
// with AVX-512), three for the 2:1 box, whose rows go fastest; nothing
// gained for the bilinear and copy passes.
func prefetchDistance(v vpass) int {
	switch v {
	case vBox:
		return 3
	case vArea, vBox4x4:
		return 1
	}
	return 0
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
