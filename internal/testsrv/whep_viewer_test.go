package testsrv

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"testing"
	"time"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/media"
)

// TestWHEPViewerReadsStamp checks the page's stamp reader against
// publisher.ReadStamp: a stamped publisher picture, shrunk and placed in a
// larger one as a composition would, converted to RGB as a browser shows
// it, reads back the same frame number; a picture without a stamp reads
// none.
func TestWHEPViewerReadsStamp(t *testing.T) {
	const n = 0x89ABCDEF // the top bit set: the number is unsigned
	v := StartWHEPViewers(t)
	for _, tc := range []struct {
		name  string
		solid *media.YUV
		x, y  int
		scale int
		want  bool
	}{
		{name: "1x", x: 24, y: 10, scale: 1, want: true},
		{name: "2x", x: 7, y: 3, scale: 2, want: true},
		{name: "no stamp", solid: &media.YUV{Y: 126, U: 128, V: 128}, x: 24, y: 10, scale: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pic := publisher.NewGenerator(160, 96, "stamp", tc.solid).Frame(n)
			tile := StampTile{X: float64(tc.x), Y: float64(tc.y), Scale: float64(tc.scale)}
			if got, ok := publisher.ReadStamp(placed(pic, tc.x, tc.y, tc.scale), tile.X, tile.Y, tile.Scale); ok != tc.want || ok && got != n {
				t.Fatalf("publisher.ReadStamp: %#x, %v; want %#x, %v", got, ok, n, tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			view := v.open(t, url.Values{"image": {pngURL(t, placed(pic, tc.x, tc.y, tc.scale))}, "stamp": {tile.param()}})
			defer view.Stop()
			if st, err := view.Wait(ctx, func(s ViewState) bool { return s.State != "new" }); err != nil || st.State != "image" {
				t.Fatalf("page: %s %v", st, err)
			}
			f := view.Frames()
			if len(f) != 1 || f[0].Read != tc.want || tc.want && f[0].Stamp != n {
				t.Fatalf("page read %+v; want stamp %#x read %v", f, uint32(n), tc.want)
			}
		})
	}
}

// placed returns pic shrunk scale× (luma averaged over scale×scale
// pixels; scale is 1 or 2, so that I420 chroma needs no filtering) with its
// top-left corner at (x, y) of a grey picture with a margin around it.
func placed(pic *media.VideoFrame, x, y, scale int) *media.VideoFrame {
	w, h := pic.Width/scale, pic.Height/scale
	f := media.NewVideoFrame(x+w+32, y+h+32)
	f.Fill(media.YUV{Y: 128, U: 128, V: 128})
	for j := range h {
		for i := range w {
			sum := 0
			for dy := range scale {
				sum += int(pic.Row(0, j*scale+dy)[i*scale])
				if scale > 1 {
					sum += int(pic.Row(0, j*scale+dy)[i*scale+1])
				}
			}
			f.Row(0, y+j)[x+i] = byte((sum + scale*scale/2) / (scale * scale))
			if (x+i)%2 == 0 && (y+j)%2 == 0 {
				f.Row(1, (y+j)/2)[(x+i)/2] = pic.Row(1, j*scale/2)[i*scale/2]
				f.Row(2, (y+j)/2)[(x+i)/2] = pic.Row(2, j*scale/2)[i*scale/2]
			}
		}
	}
	return f
}

// pngURL returns f as a data: URL of a PNG in sRGB, converted from
// BT.709 limited range as a browser shows the composition.
func pngURL(t *testing.T, f *media.VideoFrame) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	for y := range f.Height {
		for x := range f.Width {
			r, g, b := media.YUV{Y: f.Row(0, y)[x], U: f.Row(1, y/2)[x/2], V: f.Row(2, y/2)[x/2]}.RGB()
			img.SetRGBA(x, y, color.RGBA{R: r, G: g, B: b, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}
