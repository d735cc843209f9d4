package output

import (
	"bytes"
	"image"
	"image/jpeg"

	"github.com/tessera-media/tessera/media"
)

// thumbnailer encodes canvases as JPEG thumbnails. Frames are video-range
// (Y 16–235, chroma 16–240) while JPEG's YCbCr is full-range, so samples
// are expanded through lookup tables into a scratch picture first.
type thumbnailer struct {
	img     *image.YCbCr
	yLUT    [256]byte
	cLUT    [256]byte
	quality int
	buf     bytes.Buffer
}

func newThumbnailer(width, height, quality int) *thumbnailer {
	t := &thumbnailer{img: image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio420), quality: quality}
	for v := range 256 {
		t.yLUT[v] = media.FullRange(byte(v), false)
		t.cLUT[v] = media.FullRange(byte(v), true)
	}
	return t
}

// encode returns the frame as JPEG; the slice is valid until the next call.
func (t *thumbnailer) encode(f *media.VideoFrame) ([]byte, error) {
	img := t.img
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if f.Width != w || f.Height != h {
		return nil, errSize(f.Width, f.Height, w, h)
	}
	for y := range h {
		dst, src := img.Y[y*img.YStride:y*img.YStride+w], f.Row(0, y)[:w]
		for x, v := range src {
			dst[x] = t.yLUT[v]
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	for y := range ch {
		cb, cr := img.Cb[y*img.CStride:y*img.CStride+cw], img.Cr[y*img.CStride:y*img.CStride+cw]
		for x, v := range f.Row(1, y)[:cw] {
			cb[x] = t.cLUT[v]
		}
		for x, v := range f.Row(2, y)[:cw] {
			cr[x] = t.cLUT[v]
		}
	}
	t.buf.Reset()
	if err := jpeg.Encode(&t.buf, img, &jpeg.Options{Quality: t.quality}); err != nil {
		return nil, err
	}
	return t.buf.Bytes(), nil
}
