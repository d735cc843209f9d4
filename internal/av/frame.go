package av

/*
#cgo pkg-config: libavutil
#include <libavutil/frame.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// ErrClosed is returned by the methods of a wrapper after its Close.
var ErrClosed = errors.New("av: use after Close")

// CopyToAV copies src into dst as a YUV420P picture of src's size. dst's
// buffer is reused when it already holds a picture of that size and format
// and nobody else references it; otherwise it is (re)allocated by FFmpeg.
// Frame properties other than size, format and colour range are left alone.
func CopyToAV(dst *astiav.Frame, src *media.VideoFrame) error {
	if err := checkVideoFrame(src); err != nil {
		return fmt.Errorf("av: copy to FFmpeg: source: %w", err)
	}
	return copyCropToAV(dst, src, image.Rect(0, 0, src.Width, src.Height))
}

// copyCropToAV copies the crop of src (checked by the caller: inside src,
// even origin) into dst as a YUV420P picture of the crop's size.
func copyCropToAV(dst *astiav.Frame, src *media.VideoFrame, crop image.Rectangle) error {
	if dst == nil {
		return errors.New("av: copy to FFmpeg: nil destination frame")
	}
	if err := prepareAV(dst, crop.Dx(), crop.Dy()); err != nil {
		return fmt.Errorf("av: copy to FFmpeg: %w", err)
	}
	c := cFrame(dst)
	for p := range 3 {
		r := planeRect(crop, p)
		base, ls := unsafe.Pointer(c.data[p]), int(c.linesize[p])
		for y := range r.Dy() {
			row := unsafe.Slice((*byte)(unsafe.Add(base, y*ls)), r.Dx())
			off := (r.Min.Y+y)*src.Stride[p] + r.Min.X
			copy(row, src.Planes[p][off:off+r.Dx()])
		}
	}
	return nil
}

// CopyFromAV copies the YUV420P picture src into dst, which must have the
// same size. dst.PTS is left alone.
func CopyFromAV(dst *media.VideoFrame, src *astiav.Frame) error {
	if err := checkVideoFrame(dst); err != nil {
		return fmt.Errorf("av: copy from FFmpeg: destination: %w", err)
	}
	if src == nil {
		return errors.New("av: copy from FFmpeg: nil source frame")
	}
	if f := src.PixelFormat(); f != astiav.PixelFormatYuv420P {
		return fmt.Errorf("av: copy from FFmpeg: pixel format %s, want yuv420p", f)
	}
	if w, h := src.Width(), src.Height(); w != dst.Width || h != dst.Height {
		return fmt.Errorf("av: copy from FFmpeg: source is %dx%d, destination %dx%d", w, h, dst.Width, dst.Height)
	}
	c := cFrame(src)
	for p := range 3 {
		base, ls := unsafe.Pointer(c.data[p]), int(c.linesize[p])
		if base == nil {
			return fmt.Errorf("av: copy from FFmpeg: source plane %d has no data", p)
		}
		w := dst.PlaneWidth(p)
		for y := range dst.PlaneHeight(p) {
			// A negative linesize (a flipped picture) works too: rows are
			// addressed from data[p] either way.
			copy(dst.Row(p, y), unsafe.Slice((*byte)(unsafe.Add(base, y*ls)), w))
		}
	}
	return nil
}

// prepareAV makes f a writable YUV420P picture of w×h, keeping its buffer
// when it already is one.
func prepareAV(f *astiav.Frame, w, h int) error {
	c := cFrame(f)
	if c.buf[0] != nil && f.Width() == w && f.Height() == h && f.PixelFormat() == astiav.PixelFormatYuv420P {
		// Copies the picture into a new buffer only if FFmpeg still holds
		// a reference to the old one (a filter graph keeping the frame).
		if ret := C.av_frame_make_writable(c); ret < 0 {
			return fmt.Errorf("making a %dx%d frame writable: %w", w, h, astiav.Error(ret))
		}
		return nil
	}
	f.Unref()
	f.SetWidth(w)
	f.SetHeight(h)
	f.SetPixelFormat(astiav.PixelFormatYuv420P)
	f.SetColorRange(astiav.ColorRangeMpeg)
	if err := f.AllocBuffer(0); err != nil {
		return fmt.Errorf("allocating a %dx%d frame: %w", w, h, err)
	}
	return nil
}

// cFrame is the AVFrame behind f.
func cFrame(f *astiav.Frame) *C.AVFrame {
	return (*C.AVFrame)(f.UnsafePointer())
}

// planeRect maps a luma rectangle with an even origin to the samples of
// plane p that it covers (an odd size rounds the chroma size up).
func planeRect(r image.Rectangle, p int) image.Rectangle {
	if p == 0 {
		return r
	}
	return image.Rect(r.Min.X/2, r.Min.Y/2, (r.Max.X+1)/2, (r.Max.Y+1)/2)
}

// checkVideoFrame reports whether f can be read and written through Row
// without going out of its planes.
func checkVideoFrame(f *media.VideoFrame) error {
	if f == nil {
		return errors.New("nil frame")
	}
	if f.Width < 1 || f.Height < 1 {
		return fmt.Errorf("frame size %dx%d", f.Width, f.Height)
	}
	for p := range 3 {
		w, h := f.PlaneWidth(p), f.PlaneHeight(p)
		if f.Stride[p] < w {
			return fmt.Errorf("plane %d: stride %d < width %d", p, f.Stride[p], w)
		}
		if need := (h-1)*f.Stride[p] + w; len(f.Planes[p]) < need {
			return fmt.Errorf("plane %d: %d bytes, %dx%d with stride %d needs %d", p, len(f.Planes[p]), w, h, f.Stride[p], need)
		}
	}
	return nil
}
