package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// Colours of the preview.
var (
	frameColor = color.RGBA{245, 245, 245, 255} // the source's border and ring
	labelBack  = color.RGBA{0, 0, 0, 170}
	labelText  = color.RGBA{255, 255, 255, 255}
	pipOutline = color.RGBA{255, 210, 0, 255}
)

// palette gives participants distinct hues by their position in order.
var palette = []color.RGBA{
	{214, 69, 65, 255}, {46, 134, 222, 255}, {39, 174, 96, 255}, {243, 156, 18, 255},
	{142, 68, 173, 255}, {22, 160, 133, 255}, {211, 84, 0, 255}, {52, 73, 94, 255},
	{192, 57, 143, 255}, {127, 140, 141, 255}, {41, 128, 185, 255}, {160, 120, 40, 255},
}

// render draws the slots exactly as a composition would: every
// participant's synthetic source picture (see testPicture) is composed by
// the real compositor — scaled, cropped, letterboxed, placeholders for
// participants without video, the PiP window last — and the I420 canvas is
// converted to RGB. Labels with id, order and role and the PiP window's
// outline are drawn on top.
func render(canvas layout.Size, ps []layout.Participant, slots []layout.Slot) *image.RGBA {
	comp := compositor.New(canvas, compositor.Options{})
	defer comp.Close()
	comp.SetLayout(slots, ps)
	sources := make([]*media.VideoFrame, len(ps))
	for _, s := range slots {
		if p := ps[s.Index]; !p.VideoStopped {
			sources[s.Index] = testPicture(p.Video, palette[s.Order%len(palette)])
		}
	}
	frame := media.NewVideoFrame(canvas.W, canvas.H)
	if err := comp.Compose(frame, sources); err != nil {
		panic(err) // the frame is made for the canvas above
	}
	img := toRGBA(frame)
	for _, s := range slots {
		if s.Role == layout.RolePip || s.Z > 0 {
			outline(img, rect(s.Rect), pipOutline)
		}
	}
	// Labels last, each in the first corner of its tile that no slot above
	// it covers (the PiP window often sits on a main tile's corner).
	for _, s := range slots {
		var above []image.Rectangle
		for _, o := range slots {
			if o.Z > s.Z {
				above = append(above, rect(o.Rect))
			}
		}
		cornerLabel(img, rect(s.Rect), fmt.Sprintf("%s #%d %s", s.Participant, s.Order+1, s.Role), above)
	}
	return img
}

// testPicture draws a participant's synthetic source at its own size (1280x720
// when unknown): a vertical gradient of the participant's colour, a white
// border along the source's edges, a ring and a cross through its centre. A
// COVER crop cuts the border off, CONTAIN shows bars beside it, and FILL
// squeezes the ring into an ellipse.
func testPicture(src layout.Size, base color.RGBA) *media.VideoFrame {
	if !src.Known() {
		src = layout.Size{W: 1280, H: 720}
	}
	f := media.NewVideoFrame(src.W, src.H)
	sw, sh := float64(src.W), float64(src.H)
	short := math.Min(sw, sh)
	border := math.Max(2, 0.035*short)
	cx, cy, radius := sw/2, sh/2, 0.36*short
	white := media.RGBToYUV(frameColor.R, frameColor.G, frameColor.B)
	for y := range src.H {
		sy := float64(y) + 0.5
		shade := 0.45 + 0.55*(1-sy/sh)
		tint := media.RGBToYUV(uint8(float64(base.R)*shade), uint8(float64(base.G)*shade), uint8(float64(base.B)*shade))
		light := media.RGBToYUV(uint8(float64(base.R)*shade)/2+110, uint8(float64(base.G)*shade)/2+110, uint8(float64(base.B)*shade)/2+110)
		luma := f.Row(0, y)
		var u, v []byte
		if y%2 == 0 {
			u, v = f.Row(1, y/2), f.Row(2, y/2)
		}
		for x := range src.W {
			sx := float64(x) + 0.5
			d := math.Hypot(sx-cx, sy-cy) / radius
			c := tint
			switch {
			case sx < border || sx >= sw-border || sy < border || sy >= sh-border:
				c = white
			case math.Abs(d-1) < border/radius:
				c = white
			case math.Abs(sx-cx) < border/2 || math.Abs(sy-cy) < border/2:
				c = light
			}
			luma[x] = c.Y
			if u != nil && x%2 == 0 {
				u[x/2], v[x/2] = c.U, c.V
			}
		}
	}
	return f
}

// toRGBA converts an I420 frame to RGB for the PNG.
func toRGBA(f *media.VideoFrame) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		luma, u, v := f.Row(0, y), f.Row(1, y/2), f.Row(2, y/2)
		px := img.Pix[y*img.Stride : y*img.Stride+4*f.Width]
		for x := range f.Width {
			r, g, b := media.YUV{Y: luma[x], U: u[x/2], V: v[x/2]}.RGB()
			px[4*x], px[4*x+1], px[4*x+2], px[4*x+3] = r, g, b, 255
		}
	}
	return img
}

func rect(r layout.Rect) image.Rectangle { return image.Rect(r.X, r.Y, r.X+r.W, r.Y+r.H) }

func outline(img *image.RGBA, r image.Rectangle, c color.RGBA) {
	u := image.NewUniform(c)
	w := 2
	for _, e := range []image.Rectangle{
		{r.Min, image.Pt(r.Max.X, r.Min.Y+w)}, {image.Pt(r.Min.X, r.Max.Y-w), r.Max},
		{r.Min, image.Pt(r.Min.X+w, r.Max.Y)}, {image.Pt(r.Max.X-w, r.Min.Y), r.Max},
	} {
		draw.Draw(img, e.Intersect(r), u, image.Point{}, draw.Src)
	}
}

// faces caches font faces by pixel size.
var faces = map[int]font.Face{}

func face(px int) font.Face {
	if f, ok := faces[px]; ok {
		return f
	}
	tt, err := opentype.Parse(gobold.TTF)
	if err != nil {
		panic(err) // the embedded Go font always parses
	}
	f, err := opentype.NewFace(tt, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	faces[px] = f
	return f
}

// labelSize scales text with the tile: readable on large tiles, inside small ones.
func labelSize(tile image.Rectangle) int {
	return max(9, min(26, tile.Dy()/10, tile.Dx()/14))
}

// cornerLabel writes text on a dark box in a corner of the tile, clipped to
// the tile: the top-left one unless a rectangle in covered hides it, then
// bottom-left, top-right, bottom-right.
func cornerLabel(img *image.RGBA, tile image.Rectangle, text string, covered []image.Rectangle) {
	f := face(labelSize(tile))
	m := f.Metrics()
	pad := max(2, labelSize(tile)/4)
	w := font.MeasureString(f, text).Ceil() + 2*pad
	h := (m.Ascent + m.Descent).Ceil() + 2*pad
	corners := []image.Point{
		tile.Min, {tile.Min.X, tile.Max.Y - h}, {tile.Max.X - w, tile.Min.Y}, {tile.Max.X - w, tile.Max.Y - h},
	}
	box := image.Rectangle{corners[0], corners[0].Add(image.Pt(w, h))}
	for _, c := range corners {
		b := image.Rectangle{c, c.Add(image.Pt(w, h))}
		if !slices.ContainsFunc(covered, b.Overlaps) {
			box = b
			break
		}
	}
	box = box.Intersect(tile)
	draw.Draw(img, box, image.NewUniform(labelBack), image.Point{}, draw.Over)
	writeText(img, tile, f, text, fixed.P(box.Min.X+pad, box.Min.Y+pad+m.Ascent.Ceil()))
}

func writeText(img *image.RGBA, clip image.Rectangle, f font.Face, text string, at fixed.Point26_6) {
	d := font.Drawer{Dst: clipped{img, clip}, Src: image.NewUniform(labelText), Face: f, Dot: at}
	d.DrawString(text)
}

// clipped is an image restricted to a rectangle, so labels never spill into
// a neighbouring tile.
type clipped struct {
	*image.RGBA
	clip image.Rectangle
}

func (c clipped) Bounds() image.Rectangle { return c.RGBA.Bounds().Intersect(c.clip) }

// pictureFormat is the format of a picture file by its name's extension:
// "jpeg" for .jpg and .jpeg, "png" for .png and for a name without one
// (/dev/stdout), "" for any other.
func pictureFormat(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", "":
		return "png"
	case ".jpg", ".jpeg":
		return "jpeg"
	}
	return ""
}

// writePicture writes img to path, as PNG or JPEG by the name's extension.
func writePicture(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if pictureFormat(path) == "jpeg" {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(f, img)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}
