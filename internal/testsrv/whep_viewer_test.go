package testsrv

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
)

// TestWHEPViewerReadsStamp checks the page's stamp reader against
// publisher.ReadStamp's rules: a stamped publisher picture, shrunk and
// placed in a larger one as a composition would, in RGB as a browser shows
// it, reads back the same frame number; a picture without a stamp reads
// none.
func TestWHEPViewerReadsStamp(t *testing.T) {
	const n = 0x89ABCDEF // the top bit set: the number is unsigned
	v := StartWHEPViewers(t)
	for _, tc := range []struct {
		name   string
		w, h   int // the publisher's picture
		x, y   int
		scale  int
		stamps bool
	}{
		{name: "1x", w: 160, h: 96, x: 24, y: 10, scale: 1, stamps: true},
		{name: "2x", w: 320, h: 192, x: 7, y: 3, scale: 2, stamps: true},
		{name: "no stamp", w: 128, h: 80, x: 24, y: 10, scale: 1}, // too small for one
	} {
		t.Run(tc.name, func(t *testing.T) {
			pic := publisher.NewGenerator(tc.w, tc.h, "stamp", nil).Frame(n)
			if got, ok := publisher.ReadStamp(pic, 0, 0, 1); ok != tc.stamps || ok && got != n {
				t.Fatalf("publisher.ReadStamp: %#x, %v; want %#x, %v", got, ok, uint32(n), tc.stamps)
			}
			// The picture shrunk scale× (luma averaged over scale×scale
			// pixels; scale is 1 or 2, so that I420 chroma needs no
			// filtering) at (x, y) of a grey picture with a margin around
			// it, converted to RGB. The conversion is JPEG's (full-range
			// BT.601) after expanding luma from limited range: the stamp is
			// grey, where every Y'CbCr matrix agrees.
			w, h := tc.w/tc.scale, tc.h/tc.scale
			img := image.NewRGBA(image.Rect(0, 0, tc.x+w+32, tc.y+h+32))
			draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{Y: 128}), image.Point{}, draw.Src)
			for j := range h {
				for i := range w {
					sum := 0
					for dy := range tc.scale {
						for dx := range tc.scale {
							sum += int(pic.Row(0, j*tc.scale+dy)[i*tc.scale+dx])
						}
					}
					luma := float64(sum)/float64(tc.scale*tc.scale) - 16
					cx, cy := i*tc.scale/2, j*tc.scale/2
					r, g, b := color.YCbCrToRGB(byte(min(255, max(0, luma*255/219+0.5))), pic.Row(1, cy)[cx], pic.Row(2, cy)[cx])
					img.SetRGBA(tc.x+i, tc.y+j, color.RGBA{R: r, G: g, B: b, A: 255})
				}
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, img); err != nil {
				t.Fatal(err)
			}
			tile := StampTile{X: float64(tc.x), Y: float64(tc.y), Scale: float64(tc.scale)}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			view := v.open(t, url.Values{"image": {"data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, "stamp": {tile.param()}})
			defer view.Stop()
			if st, err := view.Wait(ctx, func(s ViewState) bool { return s.State != "new" }); err != nil || st.State != "image" {
				t.Fatalf("page: %s %v", st, err)
			}
			f := view.Frames()
			if len(f) != 1 || f[0].Read != tc.stamps || tc.stamps && f[0].Stamp != n {
				t.Fatalf("page read %+v; want stamp %#x read %v", f, uint32(n), tc.stamps)
			}
		})
	}
}
