package media

import (
	"fmt"
	"time"
)

// VideoFrame is a picture in I420 (YUV 4:2:0, 8 bits): a full-resolution
// luma plane Y and two chroma planes U and V of half the width and height,
// rounded up. Rows of plane p start every Stride[p] bytes.
type VideoFrame struct {
	Width, Height int
	// Planes holds Y, U and V; plane p has PlaneHeight(p) rows of Stride[p]
	// bytes, of which the first PlaneWidth(p) are picture.
	Planes [3][]byte
	Stride [3]int
	// PTS is the presentation time on the pipeline's clock.
	PTS time.Duration
}

// strideAlign is the row alignment NewVideoFrame uses: wide enough for any
// vector load and for FFmpeg's expectations.
const strideAlign = 64

// NewVideoFrame allocates a frame of the given size (even or odd, ≥ 1) with
// rows aligned to 64 bytes. The planes are zero, not black: see Fill.
func NewVideoFrame(width, height int) *VideoFrame {
	if width < 1 || height < 1 {
		panic(fmt.Sprintf("media: frame size %dx%d", width, height))
	}
	f := &VideoFrame{Width: width, Height: height}
	for p := range 3 {
		f.Stride[p] = (f.PlaneWidth(p) + strideAlign - 1) &^ (strideAlign - 1)
		f.Planes[p] = make([]byte, f.Stride[p]*f.PlaneHeight(p))
	}
	return f
}

// PlaneWidth returns the width in samples of plane p (0 Y, 1 U, 2 V).
func (f *VideoFrame) PlaneWidth(p int) int {
	if p == 0 {
		return f.Width
	}
	return (f.Width + 1) / 2
}

// PlaneHeight returns the number of rows of plane p.
func (f *VideoFrame) PlaneHeight(p int) int {
	if p == 0 {
		return f.Height
	}
	return (f.Height + 1) / 2
}

// Row returns row y of plane p, exactly PlaneWidth(p) bytes long.
func (f *VideoFrame) Row(p, y int) []byte {
	off := y * f.Stride[p]
	return f.Planes[p][off : off+f.PlaneWidth(p) : off+f.PlaneWidth(p)]
}

// Fill paints the whole frame one colour.
func (f *VideoFrame) Fill(c YUV) {
	for p, v := range [3]byte{c.Y, c.U, c.V} {
		for y := range f.PlaneHeight(p) {
			row := f.Row(p, y)
			for i := range row {
				row[i] = v
			}
		}
	}
}

// YUV is a colour in limited-range BT.601/BT.709 YCbCr, as encoders expect.
type YUV struct{ Y, U, V byte }

// Black is limited-range black.
var Black = YUV{16, 128, 128}

// RGBToYUV converts full-range sRGB to limited-range BT.709 YCbCr, rounding
// to nearest.
func RGBToYUV(r, g, b byte) YUV {
	R, G, B := float64(r), float64(g), float64(b)
	y := 16 + (0.2126*R+0.7152*G+0.0722*B)*219/255
	u := 128 + (-0.1146*R-0.3854*G+0.5*B)*224/255
	v := 128 + (0.5*R-0.4542*G-0.0458*B)*224/255
	return YUV{clampByte(y), clampByte(u), clampByte(v)}
}

// FullRange maps a video-range sample (luma 16–235, or chroma 16–240 when
// chroma is set) to the full range 0–255 that JPEG's YCbCr uses, rounding
// and clamping.
func FullRange(v byte, chroma bool) byte {
	if chroma {
		return clampByte((float64(v)-128)*255/224 + 128)
	}
	return clampByte((float64(v) - 16) * 255 / 219)
}

func clampByte(v float64) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}

// RGB converts the colour back to full-range sRGB (BT.709), rounding and
// clamping.
func (c YUV) RGB() (r, g, b byte) {
	y := (float64(c.Y) - 16) * 255 / 219
	u := (float64(c.U) - 128) * 255 / 224
	v := (float64(c.V) - 128) * 255 / 224
	return clampByte(y + 1.5748*v), clampByte(y - 0.1873*u - 0.4681*v), clampByte(y + 1.8556*u)
}
