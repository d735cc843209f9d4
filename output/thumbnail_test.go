package output

import (
	"bytes"
	"image/jpeg"
	"testing"

	"github.com/tessera-media/tessera/media"
)

// A thumbnail decodes to the frame's size and colours: video-range black
// and white become full-range black and white, a mid grey stays grey.
func TestThumbnail(t *testing.T) {
	f := media.NewVideoFrame(64, 32)
	f.Fill(media.RGBToYUV(255, 255, 255))
	for y := range 32 {
		copy(f.Row(0, y)[:16], bytes.Repeat([]byte{16}, 16)) // video black on the left
	}
	th := newThumbnailer(64, 32, 90)
	b, err := th.encode(f)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 32 {
		t.Fatalf("size %v", img.Bounds())
	}
	r, g, bl, _ := img.At(40, 16).RGBA()
	if r>>8 < 245 || g>>8 < 245 || bl>>8 < 245 {
		t.Errorf("white came out as %d,%d,%d", r>>8, g>>8, bl>>8)
	}
	r, g, bl, _ = img.At(4, 16).RGBA()
	if r>>8 > 10 || g>>8 > 10 || bl>>8 > 10 {
		t.Errorf("black came out as %d,%d,%d", r>>8, g>>8, bl>>8)
	}
	if _, err := th.encode(media.NewVideoFrame(32, 32)); err == nil {
		t.Error("a frame of another size was accepted")
	}
}
