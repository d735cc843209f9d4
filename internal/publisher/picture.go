package publisher

import (
	"image"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/tessera-media/tessera/internal/glyph"
	"github.com/tessera-media/tessera/media"
)

// The frame stamp: a grid of StampCols×StampRows square blocks, each
// StampBlock pixels wide, black (bit 0) or white (bit 1), whose top-left
// corner is at (StampX, StampY) in the picture. Rows 0–3 hold the 32-bit
// frame number, most significant byte first, most significant bit on the
// left; row 4 holds a CRC-8 of those four bytes, so that a picture that is
// not a stamp (all black, all white, anything else) is rejected. Blocks are
// aligned to the 16×16 macroblock grid, which H.264 and VP8 keep sharp; a
// reader samples only the middle of each block, so the stamp survives
// lossy coding and downscaling by 2–4×.
const (
	StampBlock = 16
	StampCols  = 8
	StampRows  = 5
	StampX     = 16
	StampY     = 16
	// StampWidth and StampHeight are the size of the stamp in the picture.
	StampWidth  = StampCols * StampBlock
	StampHeight = StampRows * StampBlock
)

// Limited-range luma of the stamp's blocks and the thresholds ReadStamp
// decides with: a block's mean at most stampLow is 0, at least stampHigh
// is 1, anything between makes the stamp unreadable.
const (
	stampBlack = 16
	stampWhite = 235
	stampLow   = 95
	stampHigh  = 156
)

// HasStamp reports whether a picture of the given size is large enough to
// carry the stamp (at least 144×96).
func HasStamp(width, height int) bool {
	return width >= StampX+StampWidth && height >= StampY+StampHeight
}

// Generator draws the publisher's synthetic pictures: a moving diagonal
// luma gradient over drifting colours, a bouncing orange box, the name in
// large white letters and the frame stamp; or, in solid mode, one colour
// and nothing else. A Generator is not safe for concurrent use.
type Generator struct {
	w, h  int
	solid *media.YUV
	// text is the name's alpha mask, textW×textH at (textX, textY).
	text                       []byte
	textX, textY, textW, textH int
	u, v                       []byte // per-column U and per-row V of the frame being drawn
}

// Box colour (orange) of the moving box.
var boxColor = media.RGBToYUV(255, 140, 0)

// NewGenerator returns a generator of width×height pictures showing name.
// A non-nil solid makes every picture that colour alone.
func NewGenerator(width, height int, name string, solid *media.YUV) *Generator {
	g := &Generator{w: width, h: height}
	if solid != nil {
		c := *solid
		g.solid = &c
		return g
	}
	g.u = make([]byte, (width+1)/2)
	g.v = make([]byte, (height+1)/2)
	g.renderName(name)
	return g
}

// Size returns the picture size.
func (g *Generator) Size() (width, height int) { return g.w, g.h }

// Frame returns a new picture for frame number n.
func (g *Generator) Frame(n uint32) *media.VideoFrame {
	f := media.NewVideoFrame(g.w, g.h)
	g.Draw(f, n)
	return f
}

// Draw paints picture number n into f, which must have the generator's
// size (other frames are left alone). Pictures move with n; outside solid
// mode, n is stamped in (when the size allows, see HasStamp).
func (g *Generator) Draw(f *media.VideoFrame, n uint32) {
	if f == nil || f.Width != g.w || f.Height != g.h {
		return
	}
	if g.solid != nil {
		f.Fill(*g.solid)
		return
	}
	g.background(f, n)
	g.box(f, n)
	g.drawName(f)
	DrawStamp(f, n)
}

// background paints a diagonal luma gradient (a triangle wave, so without
// hard edges) scrolling by 4 px a frame, over chroma that varies across
// columns (U) and rows (V) and drifts with n.
func (g *Generator) background(f *media.VideoFrame, n uint32) {
	shift := int(n % 64 * 4)
	for y := range g.h {
		row := f.Row(0, y)
		base := y/2 + shift
		for x := range row {
			t := (x + base) & 255
			if t >= 128 {
				t = 255 - t
			}
			row[x] = byte(40 + t*150/128)
		}
	}
	phase := float64(n)
	for x := range g.u {
		g.u[x] = byte(128 + 48*math.Sin(2*math.Pi*(float64(x)/float64(len(g.u))+phase/120)))
	}
	for y := range g.v {
		g.v[y] = byte(128 + 48*math.Cos(2*math.Pi*(float64(y)/float64(len(g.v))-phase/150)))
	}
	for y := range g.v {
		copy(f.Row(1, y), g.u)
		row := f.Row(2, y)
		for x := range row {
			row[x] = g.v[y]
		}
	}
}

// bounce moves back and forth over [0, span] at speed px per frame.
func bounce(n uint32, speed, span int) int {
	if span <= 0 {
		return 0
	}
	p := int(uint64(n) * uint64(speed) % uint64(2*span))
	if p > span {
		p = 2*span - p
	}
	return p
}

// box paints the orange square, a quarter of the height, bouncing around.
func (g *Generator) box(f *media.VideoFrame, n uint32) {
	side := max(2, g.h/4) &^ 1
	x0 := bounce(n, 3, g.w-side) &^ 1
	y0 := bounce(n, 2, g.h-side) &^ 1
	fillRect(f, x0, y0, side, side, boxColor)
}

// fillRect paints the w×h rectangle at (x, y), both even, in colour c.
func fillRect(f *media.VideoFrame, x, y, w, h int, c media.YUV) {
	x1, y1 := min(x+w, f.Width), min(y+h, f.Height)
	for j := y; j < y1; j++ {
		row := f.Row(0, j)[x:x1]
		for i := range row {
			row[i] = c.Y
		}
	}
	cx0, cy0, cx1, cy1 := x/2, y/2, (x1+1)/2, (y1+1)/2
	for j := cy0; j < cy1; j++ {
		u, v := f.Row(1, j)[cx0:cx1], f.Row(2, j)[cx0:cx1]
		for i := range u {
			u[i], v[i] = c.U, c.V
		}
	}
}

// renderName draws the name into an alpha mask once: as large as fits
// (a fifth of the height at most, 90 % of the width), centred
// horizontally, in the lower part of the picture (below the stamp).
func (g *Generator) renderName(name string) {
	if name == "" {
		return
	}
	size := max(8, g.h/5)
	var face font.Face
	for {
		face = glyph.Face(size)
		if font.MeasureString(face, name).Ceil() <= g.w*9/10 || size <= 8 {
			break
		}
		size = max(8, size*9/10)
	}
	m := face.Metrics()
	tw := min(g.w, font.MeasureString(face, name).Ceil()+2)
	th := m.Ascent.Ceil() + m.Descent.Ceil() + 2
	if th > g.h {
		return
	}
	mask := image.NewAlpha(image.Rect(0, 0, tw, th))
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(0, m.Ascent.Ceil())}
	d.DrawString(name)
	g.text, g.textW, g.textH = mask.Pix, tw, th
	g.textX = (g.w - tw) / 2
	// Centre the text in the band below the stamp when the picture has one.
	top := 0
	if HasStamp(g.w, g.h) {
		top = StampY + StampHeight
	}
	g.textY = max(0, min(g.h-th, top+(g.h-top-th)/2))
}

// drawName paints the name white over a black shadow 2 px down and right,
// and greys the chroma under it.
func (g *Generator) drawName(f *media.VideoFrame) {
	if g.text == nil {
		return
	}
	blend := func(dst *byte, to, a int) {
		*dst = byte((int(*dst)*(255-a) + to*a + 127) / 255)
	}
	for pass, off := range [2]int{2, 0} {
		to := stampWhite
		if pass == 0 {
			to = stampBlack
		}
		for j := range g.textH {
			y := g.textY + j + off
			if y >= g.h {
				break
			}
			row := f.Row(0, y)
			for i, a := range g.text[j*g.textW : (j+1)*g.textW] {
				if x := g.textX + i + off; a != 0 && x < g.w {
					blend(&row[x], to, int(a))
				}
			}
		}
	}
	for j := 0; j < g.textH; j += 2 {
		y := (g.textY + j) / 2
		u, v := f.Row(1, y), f.Row(2, y)
		for i := 0; i < g.textW; i += 2 {
			if a := int(g.text[j*g.textW+i]); a != 0 {
				x := (g.textX + i) / 2
				blend(&u[x], 128, a)
				blend(&v[x], 128, a)
			}
		}
	}
}

// stampCRC is the CRC-8 (polynomial 0x07, initial value 0xFF) of n's four
// bytes, most significant first. The non-zero start keeps all-black and
// all-white pictures from reading as a stamp.
func stampCRC(n uint32) byte {
	crc := byte(0xFF)
	for i := 3; i >= 0; i-- {
		crc ^= byte(n >> (8 * i))
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x07
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// stampRows returns the five bytes the stamp shows, row by row.
func stampRows(n uint32) [StampRows]byte {
	return [StampRows]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), stampCRC(n)}
}

// DrawStamp stamps frame number n into f at (StampX, StampY); chroma under
// the stamp is neutral. A picture too small for it (see HasStamp) is left
// alone.
func DrawStamp(f *media.VideoFrame, n uint32) {
	if f == nil || !HasStamp(f.Width, f.Height) {
		return
	}
	for r, b := range stampRows(n) {
		for c := range StampCols {
			y := byte(stampBlack)
			if b&(0x80>>c) != 0 {
				y = stampWhite
			}
			fillRect(f, StampX+c*StampBlock, StampY+r*StampBlock, StampBlock, StampBlock, media.YUV{Y: y, U: 128, V: 128})
		}
	}
}

// ReadStamp reads the frame number stamped into a picture that has since
// been coded, scaled and placed in f: (x, y) is where the publisher's
// picture's top-left corner lies in f (negative if it was cropped away),
// and scale is by how much it was shrunk (1 as sent, 2 for half size;
// below 1 if it was enlarged). It samples the middle of each block and
// reports false if any block is neither clearly black nor clearly white,
// if the stamp lies outside f, or if the check row does not match.
func ReadStamp(f *media.VideoFrame, x, y, scale float64) (uint32, bool) {
	if f == nil || !(scale > 0) || math.IsInf(scale, 0) || math.IsNaN(x) || math.IsNaN(y) {
		return 0, false
	}
	b := StampBlock / scale
	half := max(0.5, b/4)
	var rows [StampRows]byte
	for r := range StampRows {
		cy := y + (StampY+(float64(r)+0.5)*StampBlock)/scale
		y0, y1 := span(cy, half)
		if y0 < 0 || y1 > f.Height {
			return 0, false
		}
		for c := range StampCols {
			cx := x + (StampX+(float64(c)+0.5)*StampBlock)/scale
			x0, x1 := span(cx, half)
			if x0 < 0 || x1 > f.Width {
				return 0, false
			}
			sum := 0
			for j := y0; j < y1; j++ {
				for _, v := range f.Row(0, j)[x0:x1] {
					sum += int(v)
				}
			}
			mean := sum / ((y1 - y0) * (x1 - x0))
			switch {
			case mean >= stampHigh:
				rows[r] |= 0x80 >> c
			case mean > stampLow:
				return 0, false
			}
		}
	}
	n := uint32(rows[0])<<24 | uint32(rows[1])<<16 | uint32(rows[2])<<8 | uint32(rows[3])
	if rows[4] != stampCRC(n) {
		return 0, false
	}
	return n, true
}

// span returns the pixels [lo, hi) of the window of half-width half
// centred on c (pixel i covers [i, i+1)); at least one pixel.
func span(c, half float64) (lo, hi int) {
	lo = int(math.Floor(c - half + 0.5))
	hi = int(math.Floor(c + half + 0.5))
	if hi <= lo {
		hi = lo + 1
	}
	return lo, hi
}
