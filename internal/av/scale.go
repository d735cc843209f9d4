package av

/*
#cgo pkg-config: libswscale
#include <libswscale/swscale.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"image"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// ScaleFilter is the resampling filter of a Scaler.
type ScaleFilter int

// The filters a Scaler offers.
const (
	// Bilinear is SWS_BILINEAR: two taps when upscaling; when downscaling,
	// swscale widens the triangle to the source footprint, so it is a tent
	// filter over about 2·S/D source samples, not a 2-tap bilinear.
	Bilinear ScaleFilter = iota
	// Area is SWS_AREA: the coverage-weighted mean of the source samples
	// under each output sample (a box filter of width S/D), meant for
	// downscaling.
	Area
)

// String returns the filter's swscale name.
func (f ScaleFilter) String() string {
	switch f {
	case Bilinear:
		return "bilinear"
	case Area:
		return "area"
	}
	return fmt.Sprintf("ScaleFilter(%d)", int(f))
}

// accuracy are the swscale flags every Scaler adds to its filter:
//
//   - SWS_ACCURATE_RND: the vertical filter rounds exactly, as the C code
//     does, instead of the faster approximate SIMD rounding.
//   - SWS_BITEXACT: the output is the same on every CPU (no SIMD path whose
//     result differs from the C reference), so results are reproducible.
//
// SWS_FULL_CHR_H_INT and SWS_FULL_CHR_H_INP are not used: they concern
// chroma interpolation to and from RGB, and swscale ignores them for
// YUV420P to YUV420P. Chroma is scaled at its own resolution, with the
// default centred chroma siting for both source and destination.
const accuracy = astiav.SoftwareScaleContextFlag(C.SWS_ACCURATE_RND | C.SWS_BITEXACT)

// Scaler scales a crop of an I420 picture to another size with swscale.
// The swscale context and the two FFmpeg frames it works in are kept from
// call to call and rebuilt only when the crop or the destination size
// changes, so Scale allocates nothing on the Go heap in the steady state.
// A Scaler is not safe for concurrent use.
type Scaler struct {
	filter ScaleFilter
	ctx    *astiav.SoftwareScaleContext
	geom   [4]int // crop W, H and destination W, H that ctx was built for
	in     *astiav.Frame
	out    *astiav.Frame
	closed bool
}

// NewScaler returns a Scaler using filter f.
func NewScaler(f ScaleFilter) (*Scaler, error) {
	if f != Bilinear && f != Area {
		return nil, fmt.Errorf("av: new scaler: unknown filter %v", f)
	}
	s := &Scaler{filter: f, in: astiav.AllocFrame(), out: astiav.AllocFrame()}
	if s.in == nil || s.out == nil {
		s.Close()
		return nil, errors.New("av: new scaler: allocating frames failed")
	}
	return s, nil
}

// Filter returns the Scaler's filter.
func (s *Scaler) Filter() ScaleFilter { return s.filter }

// Flags returns the swscale flags the Scaler uses.
func (s *Scaler) Flags() astiav.SoftwareScaleContextFlags {
	f := astiav.SoftwareScaleContextFlagBilinear
	if s.filter == Area {
		f = astiav.SoftwareScaleContextFlagArea
	}
	return astiav.NewSoftwareScaleContextFlags(f, accuracy)
}

// Scale resamples the crop of src to the whole of dst (dst's size is the
// output size). The crop is in luma pixels and must lie inside src with an
// even origin; its size may be odd (chroma then covers the rounded-up
// half). The crop is copied into an FFmpeg frame, scaled there by
// swscale, and copied out into dst; dst.PTS is set to src.PTS.
func (s *Scaler) Scale(dst, src *media.VideoFrame, crop image.Rectangle) error {
	if s == nil || s.closed {
		return fmt.Errorf("av: scale: %w", ErrClosed)
	}
	if err := checkVideoFrame(src); err != nil {
		return fmt.Errorf("av: scale: source: %w", err)
	}
	if err := checkVideoFrame(dst); err != nil {
		return fmt.Errorf("av: scale: destination: %w", err)
	}
	if crop.Empty() || !crop.In(image.Rect(0, 0, src.Width, src.Height)) {
		return fmt.Errorf("av: scale: crop %v is empty or outside the %dx%d source", crop, src.Width, src.Height)
	}
	if crop.Min.X%2 != 0 || crop.Min.Y%2 != 0 {
		return fmt.Errorf("av: scale: crop %v starts at an odd offset (I420 chroma needs even)", crop)
	}
	if err := s.configure(crop.Dx(), crop.Dy(), dst.Width, dst.Height); err != nil {
		return fmt.Errorf("av: scale: %w", err)
	}
	if err := copyCropToAV(s.in, src, crop); err != nil {
		return fmt.Errorf("av: scale: %w", err)
	}
	if err := prepareAV(s.out, dst.Width, dst.Height); err != nil {
		return fmt.Errorf("av: scale: %w", err)
	}
	if err := s.ctx.ScaleFrame(s.in, s.out); err != nil {
		return fmt.Errorf("av: scale: %dx%d to %dx%d: %w", crop.Dx(), crop.Dy(), dst.Width, dst.Height, err)
	}
	if err := CopyFromAV(dst, s.out); err != nil {
		return fmt.Errorf("av: scale: %w", err)
	}
	dst.PTS = src.PTS
	return nil
}

// configure makes ctx scale cw×ch to dw×dh, rebuilding it if needed.
func (s *Scaler) configure(cw, ch, dw, dh int) error {
	g := [4]int{cw, ch, dw, dh}
	if s.ctx != nil && s.geom == g {
		return nil
	}
	if s.ctx != nil {
		s.ctx.Free()
		s.ctx = nil
	}
	ctx, err := astiav.CreateSoftwareScaleContext(cw, ch, astiav.PixelFormatYuv420P, dw, dh, astiav.PixelFormatYuv420P, s.Flags())
	if err != nil {
		return fmt.Errorf("creating a %v context for %dx%d to %dx%d: %w", s.filter, cw, ch, dw, dh, err)
	}
	s.ctx, s.geom = ctx, g
	return nil
}

// Close frees the swscale context and the frames. It may be called more
// than once; Scale fails with ErrClosed afterwards.
func (s *Scaler) Close() {
	if s == nil || s.closed {
		return
	}
	s.closed = true
	if s.ctx != nil {
		s.ctx.Free()
		s.ctx = nil
	}
	for _, f := range []**astiav.Frame{&s.in, &s.out} {
		if *f != nil {
			(*f).Free()
			*f = nil
		}
	}
}
