package compositor

import (
	"fmt"
	"sync"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// Options configure a Compositor.
type Options struct {
	// Background paints the canvas outside the tiles and CONTAIN's bars;
	// the zero value means media.Black.
	Background media.YUV
	// Workers splits each frame into that many horizontal bands drawn in
	// parallel; 0 or 1 draws on the caller's goroutine.
	Workers int
	// Kernels names the kernel set to run, one of KernelSets(); "" is the
	// fastest this build and CPU have. Every set gives the same bytes, so
	// this is for comparison and diagnosis. New panics on a name
	// KernelSets does not list.
	Kernels string
}

// Compositor draws a canvas from participants' frames according to a plan.
// SetLayout and Compose must be called from one goroutine (the composition's
// frame clock); with Workers > 1 the Compositor owns worker goroutines until
// Close.
type Compositor struct {
	canvas     layout.Size
	bg         media.YUV
	k          *kernels
	slots      []slotPlan
	background []layout.Rect
	cache      map[placeholderKey]*media.VideoFrame

	bands   []band
	wg      sync.WaitGroup
	dst     *media.VideoFrame
	sources []*media.VideoFrame
	closed  bool
}

type placeholderKey struct {
	w, h  int
	label string
}

// band is one worker's share of a frame: luma rows [y0, y1) and its scratch.
type band struct {
	y0, y1 int
	tmp    []byte
	acc    []uint32
	start  chan struct{}
}

// New returns a Compositor for a canvas of the given size (even dimensions).
func New(canvas layout.Size, opts Options) *Compositor {
	c := &Compositor{canvas: canvas, bg: opts.Background, k: kernelSet(opts.Kernels), cache: map[placeholderKey]*media.VideoFrame{}}
	if c.bg == (media.YUV{}) {
		c.bg = media.Black
	}
	n := max(1, min(opts.Workers, canvas.H/16))
	for k := range n {
		// Even band edges keep chroma rows whole.
		y0, y1 := canvas.H*k/n&^1, canvas.H*(k+1)/n&^1
		if k == n-1 {
			y1 = canvas.H
		}
		c.bands = append(c.bands, band{y0: y0, y1: y1})
	}
	for k := 1; k < n; k++ {
		b := &c.bands[k]
		b.start = make(chan struct{})
		go c.worker(b)
	}
	c.SetLayout(nil, nil)
	return c
}

func (c *Compositor) worker(b *band) {
	for range b.start {
		c.drawBand(b)
		c.wg.Done()
	}
}

// Kernels names the kernel set this Compositor runs (see KernelSets).
func (c *Compositor) Kernels() string { return c.k.name }

// Close stops the worker goroutines. The Compositor must not be used after.
func (c *Compositor) Close() {
	if c.closed {
		return
	}
	c.closed = true
	for k := 1; k < len(c.bands); k++ {
		close(c.bands[k].start)
	}
}

// SetLayout plans the slots that layout.Arrange produced for participants
// (slot.Index refers to participants). Participants' known video sizes
// prepare the scaling tables now; a frame of another size re-plans its slot
// when it arrives. Placeholders are rendered here, once per tile size and
// label, and kept while the layout keeps them.
func (c *Compositor) SetLayout(slots []layout.Slot, participants []layout.Participant) {
	old := c.cache
	c.cache = map[placeholderKey]*media.VideoFrame{}
	c.slots = make([]slotPlan, len(slots))
	holes := make([]layout.Rect, len(slots))
	width := 0
	for i, s := range slots {
		sp := &c.slots[i]
		sp.slot = s
		if s.Index >= 0 && s.Index < len(participants) {
			sp.label = participants[s.Index].Label()
			if v := participants[s.Index].Video; v.Known() {
				sp.planFor(v, c.k)
				width = max(width, sp.maxCropWidth())
			}
		}
		key := placeholderKey{s.Rect.W, s.Rect.H, sp.label}
		if ph, ok := c.cache[key]; ok {
			sp.placeholder = ph
		} else if ph, ok := old[key]; ok {
			sp.placeholder, c.cache[key] = ph, ph
		} else {
			sp.placeholder = renderPlaceholder(s.Rect.W, s.Rect.H, sp.label)
			c.cache[key] = sp.placeholder
		}
		holes[i] = s.Rect
	}
	c.background = subtract(layout.Rect{W: c.canvas.W, H: c.canvas.H}, holes)
	c.reserve(width)
}

// reserve makes every band's scratch hold rows of width samples.
func (c *Compositor) reserve(width int) {
	for k := range c.bands {
		b := &c.bands[k]
		if len(b.tmp) < width {
			b.tmp = make([]byte, width)
			b.acc = make([]uint32, width)
		}
	}
}

// Compose draws the canvas into dst from sources, indexed like the
// participants given to SetLayout (nil: no frame yet, drawn as a
// placeholder). Sources keep their size from frame to frame in the steady
// state, where Compose allocates nothing.
func (c *Compositor) Compose(dst *media.VideoFrame, sources []*media.VideoFrame) error {
	if dst.Width != c.canvas.W || dst.Height != c.canvas.H {
		return fmt.Errorf("compositor: canvas is %dx%d, frame %dx%d", c.canvas.W, c.canvas.H, dst.Width, dst.Height)
	}
	// Re-plan slots whose source changed size (rare; allocates).
	for i := range c.slots {
		sp := &c.slots[i]
		if f := source(sources, sp.slot.Index); f != nil && (f.Width != sp.src.W || f.Height != sp.src.H) {
			sp.planFor(layout.Size{W: f.Width, H: f.Height}, c.k)
			c.reserve(sp.maxCropWidth())
		}
	}
	c.dst, c.sources = dst, sources
	c.wg.Add(len(c.bands) - 1)
	for k := 1; k < len(c.bands); k++ {
		c.bands[k].start <- struct{}{}
	}
	c.drawBand(&c.bands[0])
	c.wg.Wait()
	c.dst, c.sources = nil, nil
	return nil
}

func source(sources []*media.VideoFrame, i int) *media.VideoFrame {
	if i < 0 || i >= len(sources) {
		return nil
	}
	return sources[i]
}

// drawBand draws luma rows [b.y0, b.y1) and the chroma rows under them.
func (c *Compositor) drawBand(b *band) {
	dst := c.dst
	for _, r := range c.background {
		fillRect(dst, r, c.bg, b.y0, b.y1)
	}
	for i := range c.slots {
		sp := &c.slots[i]
		f := source(c.sources, sp.slot.Index)
		if sp.slot.Role == layout.RolePlaceholder || f == nil {
			blit(dst, sp.slot.Rect, sp.placeholder, b.y0, b.y1)
			continue
		}
		for _, r := range sp.bars {
			fillRect(dst, r, c.bg, b.y0, b.y1)
		}
		for p := range 3 {
			y0, y1 := b.y0, b.y1
			if p > 0 {
				y0, y1 = y0/2, (y1+1)/2
			}
			sp.planes[p].draw(c.k, dst.Planes[p], dst.Stride[p], f.Planes[p], f.Stride[p], y0, y1, b)
		}
	}
}

// fillRect paints a luma rectangle (and its chroma) within the band rows.
func fillRect(dst *media.VideoFrame, r layout.Rect, c media.YUV, y0, y1 int) {
	for p, v := range [3]byte{c.Y, c.U, c.V} {
		pr, py0, py1 := r, y0, y1
		if p > 0 {
			pr, py0, py1 = chromaRect(r), y0/2, (y1+1)/2
		}
		var first []byte
		for y := max(pr.Y, py0); y < min(pr.Bottom(), py1); y++ {
			row := dst.Planes[p][y*dst.Stride[p]+pr.X : y*dst.Stride[p]+pr.X+pr.W]
			if first == nil {
				fill(row, v)
				first = row
			} else {
				copy(row, first)
			}
		}
	}
}

// fill sets every byte of b to v, doubling a filled prefix with copy.
func fill(b []byte, v byte) {
	if len(b) == 0 {
		return
	}
	b[0] = v
	for n := 1; n < len(b); n *= 2 {
		copy(b[n:], b[:n])
	}
}

// blit copies a tile-sized picture to its place within the band rows.
func blit(dst *media.VideoFrame, r layout.Rect, src *media.VideoFrame, y0, y1 int) {
	for p := range 3 {
		pr, py0, py1 := r, y0, y1
		if p > 0 {
			pr, py0, py1 = chromaRect(r), y0/2, (y1+1)/2
		}
		for y := max(pr.Y, py0); y < min(pr.Bottom(), py1); y++ {
			copy(dst.Planes[p][y*dst.Stride[p]+pr.X:y*dst.Stride[p]+pr.X+pr.W], src.Row(p, y-pr.Y))
		}
	}
}

// draw scales the crop of src into the destination rows [y0, y1) of dst,
// with the passes and tables the plan chose.
func (pp *planePlan) draw(k *kernels, dst []byte, dstStride int, src []byte, srcStride int, y0, y1 int, b *band) {
	cx, cy, cw := pp.crop.X, pp.crop.Y, pp.crop.W
	row := func(r int) []byte { // source row r of the crop
		off := (cy+r)*srcStride + cx
		return src[off : off+cw : off+cw]
	}
	tmp, acc := b.tmp[:cw], b.acc[:cw]
	fy := &pp.fy
	if pp.v == vCopy && pp.h == hCopy && pp.crop.X == 0 && cw == srcStride && pp.dst.X == 0 && pp.dst.W == dstStride {
		// Whole rows on both sides: one run of memory.
		first, end := max(pp.dst.Y, y0), min(pp.dst.Bottom(), y1)
		if first < end {
			off := (cy + first - pp.dst.Y) * srcStride
			copyPlane(dst[first*dstStride:end*dstStride], src[off:off+(end-first)*srcStride])
		}
		return
	}
	for y := max(pp.dst.Y, y0); y < min(pp.dst.Bottom(), y1); y++ {
		i := y - pp.dst.Y
		off := y*dstStride + pp.dst.X
		out := dst[off : off+pp.dst.W : off+pp.dst.W]
		if pp.ahead != nil {
			prefetch(pp.ahead[i], row)
		}
		// Vertical pass: one source-width row.
		var line []byte
		switch pp.v {
		case vBox:
			k.box2x2(out, row(2*i), row(2*i+1))
			continue
		case vBox4x4:
			k.box4x4(out, row(4*i), row(4*i+1), row(4*i+2), row(4*i+3))
			continue
		case vCopy:
			line = row(i)
		case vBilinear:
			t := fy.pairs[i]
			if t.w1 == 0 {
				line = row(int(t.at))
			} else {
				k.vBilinear(tmp, row(int(t.at)), row(int(t.at)+1), int(t.w0), int(t.w1))
				line = tmp
			}
		case vArea:
			var rows [maxFusedTaps][]byte
			var w [maxFusedTaps]int
			taps := fy.taps
			first := int(fy.index[i])
			for t, wt := range fy.weight[i*taps : (i+1)*taps] {
				rows[t], w[t] = row(first+t), int(wt)
			}
			for t := taps; t < len(rows); t++ {
				rows[t] = rows[0] // weight 0
			}
			k.vArea(tmp, rows, w, taps)
			line = tmp
		case vAreaAcc:
			taps := fy.taps
			first := int(fy.index[i])
			for t, w := range fy.weight[i*taps : i*taps+taps] {
				if w != 0 {
					k.vAreaAcc(acc, row(first+t), int(w))
				}
			}
			k.areaFinish(tmp, acc)
			line = tmp
		}
		// Horizontal pass into the canvas.
		switch pp.h {
		case hCopy:
			copy(out, line)
		case hHalf:
			k.hHalf(out, line)
		case hResample:
			k.hResample(out, line, &pp.fx)
		}
	}
}

// prefetch asks for the source rows s, which a later output row reads,
// while the kernels work on this one.
func prefetch(s rowSpan, row func(int) []byte) {
	for r := s.lo; r < s.hi; r++ {
		prefetchLines(row(int(r)))
	}
}
