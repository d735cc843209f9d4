//go:build libyuv

package bench

// libyuv is Debian's libyuv-dev. It ships no pkg-config file, so the library
// is named directly; libyuv.so links libstdc++ and libjpeg itself. The peer
// is built only with the libyuv build tag (make test and make bench set it),
// so that go build ./... needs no libyuv; libyuv_none.go stands in without it.

/*
#cgo LDFLAGS: -lyuv
#include <stdint.h>
#include <stdlib.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

// One source frame for this call: plane pointers and strides. The pointers
// are Go memory pinned by the caller for the duration of the call.
typedef struct {
	const uint8_t *plane[3];
	int stride[3];
} tessera_yuv_src;

// One tile, fixed when the peer is made: which source, the crop within it
// and the destination within the canvas, in luma pixels, all even.
typedef struct {
	int src;
	int cx, cy, cw, ch;
	int dx, dy, dw, dh;
	int filter;
} tessera_yuv_tile;

// A background rectangle of the canvas, in luma pixels.
typedef struct {
	int x, y, w, h;
} tessera_yuv_rect;

// tessera_yuv_compose paints the background rectangles, then scales every
// tile, in order, all in one call. It returns -1, or the index of the tile
// I420Scale refused, or ntiles + the index of a background rectangle
// I420Rect refused.
static int tessera_yuv_compose(
		uint8_t *dy, int sy, uint8_t *du, int su, uint8_t *dv, int sv,
		const tessera_yuv_rect *bg, int nbg, int by, int bu, int bv,
		const tessera_yuv_src *srcs, const tessera_yuv_tile *tiles, int ntiles) {
	for (int i = 0; i < nbg; i++) {
		const tessera_yuv_rect *r = &bg[i];
		if (I420Rect(dy, sy, du, su, dv, sv, r->x, r->y, r->w, r->h, by, bu, bv) != 0) {
			return ntiles + i;
		}
	}
	for (int i = 0; i < ntiles; i++) {
		const tessera_yuv_tile *t = &tiles[i];
		const tessera_yuv_src *s = &srcs[t->src];
		int cx2 = t->cx / 2, cy2 = t->cy / 2, dx2 = t->dx / 2, dy2 = t->dy / 2;
		int r = I420Scale(
			s->plane[0] + (intptr_t)t->cy * s->stride[0] + t->cx, s->stride[0],
			s->plane[1] + (intptr_t)cy2 * s->stride[1] + cx2, s->stride[1],
			s->plane[2] + (intptr_t)cy2 * s->stride[2] + cx2, s->stride[2],
			t->cw, t->ch,
			dy + (intptr_t)t->dy * sy + t->dx, sy,
			du + (intptr_t)dy2 * su + dx2, su,
			dv + (intptr_t)dy2 * sv + dx2, sv,
			t->dw, t->dh,
			(enum FilterMode)t->filter);
		if (r != 0) {
			return i;
		}
	}
	return -1;
}
*/
import "C"

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"unsafe"

	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// libyuvFilter chooses libyuv's scaling filter for the tiles.
type libyuvFilter int

const (
	// libyuvAuto picks per tile: kFilterBox when the tile shrinks its crop
	// by 2:1 or more along both axes, kFilterBilinear otherwise. kFilterBox
	// is libyuv's area filter (it averages every source pixel under each
	// destination pixel), the counterpart of the compositor's area kernel;
	// bilinear reads only the two nearest samples per axis and aliases at
	// strong downscales. libyuv itself turns box into bilinear when either
	// axis shrinks by 2:1 or less (ScaleFilterReduce), and at exactly 2:1
	// both take the same 2×2 averaging path, so asking for box below the
	// threshold would change nothing.
	libyuvAuto libyuvFilter = iota
	// libyuvBilinear uses kFilterBilinear for every tile.
	libyuvBilinear
	// libyuvBox asks kFilterBox for every tile (still reduced by libyuv as
	// above).
	libyuvBox
)

// libyuvPeer composes with libyuv: I420Rect for the background and
// I420Scale for each tile, source and destination pointers offset to the
// crop and the destination rectangle. It paints only the parts of the
// canvas that no tile covers, as the compositor does, so neither side
// writes a pixel twice. The whole frame is one cgo call into a small C
// loop, and everything runs on the calling goroutine: libyuv does not
// thread.
type libyuvPeer struct {
	canvas layout.Size
	bg     media.YUV
	tiles  []tile
	nsrc   int // sources compose needs: 1 + the largest tile.src

	// C memory, allocated once and released by close. cTiles and cBg are
	// filled here; cSrcs is refilled by every compose with pointers to the
	// sources' planes, which are pinned while C uses them.
	cTiles *C.tessera_yuv_tile
	cBg    *C.tessera_yuv_rect
	nBg    int
	cSrcs  *C.tessera_yuv_src

	pin runtime.Pinner
}

var _ peer = (*libyuvPeer)(nil)

// openLibyuv opens the libyuv peer of impls on a scenario's tiles.
func openLibyuv(s scenario, slots []layout.Slot, _ []layout.Participant) (peer, error) {
	return newLibyuvPeer(s.canvas, tilesFor(slots, sourceSize), media.Black, libyuvAuto)
}

// newLibyuvPeer prepares a libyuv peer for a canvas, its tiles (even-aligned
// rectangles, destinations inside the canvas) and the background colour.
func newLibyuvPeer(canvas layout.Size, tiles []tile, bg media.YUV, filter libyuvFilter) (peer, error) {
	if !canvas.Known() {
		return nil, fmt.Errorf("bench: libyuv: canvas %dx%d", canvas.W, canvas.H)
	}
	if filter < libyuvAuto || filter > libyuvBox {
		return nil, fmt.Errorf("bench: libyuv: unknown filter %d", filter)
	}
	area := layout.Rect{W: canvas.W, H: canvas.H}
	nsrc := 0
	for i, t := range tiles {
		if t.src < 0 {
			return nil, fmt.Errorf("bench: libyuv: tile %d: source %d", i, t.src)
		}
		if !evenRect(t.crop) || t.crop.Empty() {
			return nil, fmt.Errorf("bench: libyuv: tile %d: crop %+v is empty or not even-aligned", i, t.crop)
		}
		if !evenRect(t.dst) || t.dst.Empty() || !t.dst.In(area) {
			return nil, fmt.Errorf("bench: libyuv: tile %d: destination %+v is empty, not even-aligned or outside the %dx%d canvas", i, t.dst, canvas.W, canvas.H)
		}
		nsrc = max(nsrc, t.src+1)
	}

	p := &libyuvPeer{canvas: canvas, bg: bg, tiles: slices.Clone(tiles), nsrc: nsrc}
	if len(tiles) > 0 {
		p.cTiles = (*C.tessera_yuv_tile)(C.calloc(C.size_t(len(tiles)), C.size_t(unsafe.Sizeof(C.tessera_yuv_tile{}))))
		p.cSrcs = (*C.tessera_yuv_src)(C.calloc(C.size_t(nsrc), C.size_t(unsafe.Sizeof(C.tessera_yuv_src{}))))
		ct := unsafe.Slice(p.cTiles, len(tiles))
		for i, t := range tiles {
			ct[i] = C.tessera_yuv_tile{
				src: C.int(t.src),
				cx:  C.int(t.crop.X), cy: C.int(t.crop.Y), cw: C.int(t.crop.W), ch: C.int(t.crop.H),
				dx: C.int(t.dst.X), dy: C.int(t.dst.Y), dw: C.int(t.dst.W), dh: C.int(t.dst.H),
				filter: C.int(filterMode(filter, t)),
			}
		}
	}
	if rects := uncovered(canvas, tiles); len(rects) > 0 {
		p.nBg = len(rects)
		p.cBg = (*C.tessera_yuv_rect)(C.calloc(C.size_t(len(rects)), C.size_t(unsafe.Sizeof(C.tessera_yuv_rect{}))))
		cb := unsafe.Slice(p.cBg, len(rects))
		for i, r := range rects {
			cb[i] = C.tessera_yuv_rect{x: C.int(r.X), y: C.int(r.Y), w: C.int(r.W), h: C.int(r.H)}
		}
	}
	return p, nil
}

// filterMode returns the libyuv FilterMode for a tile.
func filterMode(f libyuvFilter, t tile) C.enum_FilterMode {
	switch f {
	case libyuvBilinear:
		return C.kFilterBilinear
	case libyuvBox:
		return C.kFilterBox
	}
	if t.crop.W >= 2*t.dst.W && t.crop.H >= 2*t.dst.H {
		return C.kFilterBox
	}
	return C.kFilterBilinear
}

func evenRect(r layout.Rect) bool {
	return (r.X|r.Y|r.W|r.H)&1 == 0
}

// uncovered returns the parts of the canvas outside every tile's
// destination as disjoint rectangles: the canvas is cut into horizontal
// bands at every tile edge, each band's gaps between tiles become
// rectangles, and a gap that continues the one right above it with the same
// columns extends it instead.
func uncovered(canvas layout.Size, tiles []tile) []layout.Rect {
	ys := []int{0, canvas.H}
	for _, t := range tiles {
		ys = append(ys, t.dst.Y, t.dst.Bottom())
	}
	slices.Sort(ys)
	ys = slices.Compact(ys)

	var out []layout.Rect
	open := map[[2]int]int{} // (x, w) → index in out of the rectangle ending at the band's top
	var spans [][2]int
	for k := 0; k+1 < len(ys); k++ {
		y0, y1 := ys[k], ys[k+1]
		spans = spans[:0]
		for _, t := range tiles {
			if t.dst.Y <= y0 && t.dst.Bottom() >= y1 {
				spans = append(spans, [2]int{t.dst.X, t.dst.Right()})
			}
		}
		slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
		next := map[[2]int]int{}
		gap := func(x0, x1 int) {
			if x1 <= x0 {
				return
			}
			key := [2]int{x0, x1 - x0}
			if i, ok := open[key]; ok {
				out[i].H += y1 - y0
				next[key] = i
				return
			}
			next[key] = len(out)
			out = append(out, layout.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0})
		}
		x := 0
		for _, s := range spans {
			gap(x, s[0])
			x = max(x, s[1])
		}
		gap(x, canvas.W)
		open = next
	}
	return out
}

// compose paints dst: background outside the tiles, then every tile scaled
// from its source's crop.
func (p *libyuvPeer) compose(dst *media.VideoFrame, sources []*media.VideoFrame) error {
	if dst == nil || dst.Width != p.canvas.W || dst.Height != p.canvas.H || !planesOK(dst) {
		return fmt.Errorf("bench: libyuv: destination is not a %dx%d I420 frame", p.canvas.W, p.canvas.H)
	}
	if len(sources) < p.nsrc {
		return fmt.Errorf("bench: libyuv: %d sources, the tiles use %d", len(sources), p.nsrc)
	}
	for i, t := range p.tiles {
		s := sources[t.src]
		if s == nil || !planesOK(s) {
			return fmt.Errorf("bench: libyuv: tile %d: source %d is not an I420 frame", i, t.src)
		}
		if !t.crop.In(layout.Rect{W: s.Width, H: s.Height}) {
			return fmt.Errorf("bench: libyuv: tile %d: crop %+v outside the %dx%d source %d", i, t.crop, s.Width, s.Height, t.src)
		}
	}
	if p.cSrcs != nil {
		cs := unsafe.Slice(p.cSrcs, p.nsrc)
		for _, t := range p.tiles {
			if cs[t.src].plane[0] != nil {
				continue // another tile's source, already set
			}
			s := sources[t.src]
			for k := range 3 {
				// The C array outlives this call, so what it points to is
				// pinned until C is done with it.
				ptr := &s.Planes[k][0]
				p.pin.Pin(ptr)
				cs[t.src].plane[k] = (*C.uint8_t)(unsafe.Pointer(ptr))
				cs[t.src].stride[k] = C.int(s.Stride[k])
			}
		}
	}
	r := C.tessera_yuv_compose(
		(*C.uint8_t)(unsafe.Pointer(&dst.Planes[0][0])), C.int(dst.Stride[0]),
		(*C.uint8_t)(unsafe.Pointer(&dst.Planes[1][0])), C.int(dst.Stride[1]),
		(*C.uint8_t)(unsafe.Pointer(&dst.Planes[2][0])), C.int(dst.Stride[2]),
		p.cBg, C.int(p.nBg), C.int(p.bg.Y), C.int(p.bg.U), C.int(p.bg.V),
		p.cSrcs, p.cTiles, C.int(len(p.tiles)))
	p.pin.Unpin()
	if p.cSrcs != nil {
		clear(unsafe.Slice(p.cSrcs, p.nsrc)) // no stale Go pointers left in C memory
	}
	runtime.KeepAlive(sources)
	switch {
	case r < 0:
		return nil
	case int(r) < len(p.tiles):
		return fmt.Errorf("bench: libyuv: I420Scale refused tile %d", r)
	}
	return fmt.Errorf("bench: libyuv: I420Rect refused background rectangle %d", int(r)-len(p.tiles))
}

// planesOK reports whether f's planes hold the rows its size and strides
// promise.
func planesOK(f *media.VideoFrame) bool {
	if f.Width < 1 || f.Height < 1 {
		return false
	}
	for k := range 3 {
		w, h := f.PlaneWidth(k), f.PlaneHeight(k)
		if f.Stride[k] < w || len(f.Planes[k]) < f.Stride[k]*(h-1)+w {
			return false
		}
	}
	return true
}

// close releases the C memory; the peer must not be used afterwards.
func (p *libyuvPeer) close() {
	C.free(unsafe.Pointer(p.cTiles))
	C.free(unsafe.Pointer(p.cBg))
	C.free(unsafe.Pointer(p.cSrcs))
	p.cTiles, p.cBg, p.cSrcs = nil, nil, nil
	p.tiles, p.nBg = nil, 0
}
