package compositor

import (
	"image"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/tessera-media/tessera/internal/glyph"
	"github.com/tessera-media/tessera/media"
)

// PlaceholderColor is the tile colour of a participant without video (a
// dark grey, RGB 38,38,42); its label is drawn in white.
var PlaceholderColor = media.RGBToYUV(38, 38, 42)

const labelY = 235 // limited-range white

// renderPlaceholder draws a w×h tile for a participant without video: the
// placeholder colour with label centred, as large as fits (an ellipsis
// shortens labels too long for the smallest size).
func renderPlaceholder(w, h int, label string) *media.VideoFrame {
	f := media.NewVideoFrame(w, h)
	f.Fill(PlaceholderColor)
	if label == "" || w < 8 || h < 8 {
		return f
	}
	size := clampInt(h/6, 6, 64)
	var face font.Face
	text := label
	for {
		face = glyph.Face(size)
		if font.MeasureString(face, text).Ceil() <= w*9/10 {
			break
		}
		if size > 8 {
			size = max(8, size*9/10)
			continue
		}
		if len(text) <= 1 {
			return f
		}
		r := []rune(text)
		text = string(r[:len(r)-2]) + "…"
		if len(r) <= 2 {
			text = string(r[:1])
		}
	}
	mask := image.NewAlpha(image.Rect(0, 0, w, h))
	m := face.Metrics()
	x := (w - font.MeasureString(face, text).Ceil()) / 2
	y := (h + m.Ascent.Ceil() - m.Descent.Ceil()) / 2
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(x, y)}
	d.DrawString(text)
	bg := int(PlaceholderColor.Y)
	for row := range h {
		out := f.Row(0, row)
		a := mask.Pix[row*mask.Stride : row*mask.Stride+w]
		for i, v := range a {
			if v != 0 {
				out[i] = byte(bg + ((labelY-bg)*int(v)+127)/255)
			}
		}
	}
	return f
}
