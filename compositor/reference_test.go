package compositor

import (
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// The reference implementation: the package documentation's formulas,
// one pixel at a time, with no fast paths. Compose must match it byte for byte.

func refScalePlane(dst []byte, dstStride int, src []byte, srcStride int, pp planePlan) {
	c := pp.crop
	at := func(x, y int) int { return int(src[(c.Y+y)*srcStride+c.X+x]) }
	for i := range pp.dst.H {
		out := dst[(pp.dst.Y+i)*dstStride+pp.dst.X:]
		if pp.fx.half && pp.fy.half {
			for j := range pp.dst.W {
				out[j] = byte((at(2*j, 2*i) + at(2*j+1, 2*i) + at(2*j, 2*i+1) + at(2*j+1, 2*i+1) + 2) >> 2)
			}
			continue
		}
		line := make([]int, c.W)
		for x := range c.W {
			switch pp.fy.kind {
			case kindCopy:
				line[x] = at(x, i)
			case kindBilinear:
				t := pp.fy.pairs[i]
				b := 0
				if t.w1 != 0 {
					b = at(x, int(t.at)+1) * int(t.w1)
				}
				line[x] = (at(x, int(t.at))*int(t.w0) + b + 128) >> 8
			default:
				sum := 0
				for k := range pp.fy.taps {
					sum += at(x, int(pp.fy.index[i])+k) * int(pp.fy.weight[i*pp.fy.taps+k])
				}
				line[x] = (sum + 8192) >> 14
			}
		}
		for j := range pp.dst.W {
			switch pp.fx.kind {
			case kindCopy:
				out[j] = byte(line[j])
			case kindBilinear:
				t := pp.fx.pairs[j]
				out[j] = byte((line[t.at]*int(t.w0) + line[int(t.at)+1]*int(t.w1) + 128) >> 8)
			default:
				sum := 0
				for k := range pp.fx.taps {
					sum += line[int(pp.fx.index[j])+k] * int(pp.fx.weight[j*pp.fx.taps+k])
				}
				out[j] = byte((sum + 8192) >> 14)
			}
		}
	}
}

func refFill(dst *media.VideoFrame, r layout.Rect, c media.YUV) {
	for p, v := range [3]byte{c.Y, c.U, c.V} {
		pr := r
		if p > 0 {
			pr = chromaRect(r)
		}
		for y := pr.Y; y < pr.Bottom(); y++ {
			for x := pr.X; x < pr.Right(); x++ {
				dst.Planes[p][y*dst.Stride[p]+x] = v
			}
		}
	}
}

// refCompose draws what Compose should: background everywhere, then each
// slot in order (placeholder, or bars and the scaled picture).
func refCompose(c *Compositor, dst *media.VideoFrame, sources []*media.VideoFrame) {
	refFill(dst, layout.Rect{W: dst.Width, H: dst.Height}, c.bg)
	for _, sp := range c.slots {
		f := source(sources, sp.slot.Index)
		if sp.slot.Role == layout.RolePlaceholder || f == nil {
			for p := range 3 {
				pr := sp.slot.Rect
				if p > 0 {
					pr = chromaRect(pr)
				}
				for y := range pr.H {
					copy(dst.Planes[p][(pr.Y+y)*dst.Stride[p]+pr.X:][:pr.W], sp.placeholder.Row(p, y))
				}
			}
			continue
		}
		var fresh slotPlan
		fresh.slot = sp.slot
		fresh.planFor(layout.Size{W: f.Width, H: f.Height}, &portable)
		refFill(dst, sp.slot.Rect, c.bg)
		for p := range 3 {
			refScalePlane(dst.Planes[p], dst.Stride[p], f.Planes[p], f.Stride[p], fresh.planes[p])
		}
	}
}
