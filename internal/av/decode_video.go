package av

/*
#cgo pkg-config: libavcodec libavutil libswscale
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libswscale/swscale.h>

// tsr_sws_open returns a swscale context converting w×h pictures of format
// src (full range or not) to limited-range yuv420p of the same size, or
// NULL.
static struct SwsContext *tsr_sws_open(int w, int h, int src, int full) {
	struct SwsContext *c = sws_getContext(w, h, src, w, h, AV_PIX_FMT_YUV420P,
		SWS_BILINEAR | SWS_ACCURATE_RND | SWS_BITEXACT, NULL, NULL, NULL);
	if (!c) return NULL;
	// The range is set explicitly: a yuv420p frame may say full range in
	// its color_range alone, which swscale does not look at.
	const int *coef = sws_getCoefficients(SWS_CS_DEFAULT);
	sws_setColorspaceDetails(c, coef, full, coef, 0, 0, 1 << 16, 1 << 16);
	return c;
}
*/
import "C"

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/internal/h264"
	"github.com/tessera-media/tessera/media"
)

// videoDecoders are the codecs NewVideoDecoder accepts, which are also the
// names of FFmpeg's native decoders for them.
var videoDecoders = []string{codecH264, codecVP8}

// VideoDecoder decodes H.264 or VP8 access units, as a WebRTC receiver
// reassembles them from RTP, into media.VideoFrame pictures, with FFmpeg's
// native decoders:
//
//   - No added latency: slice threading only (never frame threading, which
//     holds pictures back), AV_CODEC_FLAG_LOW_DELAY, and one access unit in
//     gives its picture out in the same call.
//   - Pictures come out as limited-range I420, the format of
//     media.VideoFrame: yuv420p is copied; full range (yuvj420p, or
//     yuv420p marked full range) is mapped to limited range sample by
//     sample; any other format (4:2:2, 4:4:4, monochrome, 10-bit) is
//     converted by swscale. Odd sizes (VP8 allows them) are kept:
//     media.VideoFrame represents them, chroma rounded up.
//   - The size may change at any keyframe (a new SPS, a VP8 keyframe of
//     another size); each picture comes in a frame of its own size.
//   - Corrupt input never crashes and gives an error wrapping ErrCorrupt:
//     input the decoder rejects, pictures it had to conceal (damaged or
//     missing slices or references), and, until the next keyframe, every
//     picture after such an error, since it would show the damage. The
//     same holds at the start and after Reset: the first picture returned
//     is a keyframe. The decoder carries on with the next keyframe.
//   - Pictures larger than 8K UHD (7680×4320 pixels) are refused as
//     corrupt, so that a damaged header cannot exhaust memory.
//
// Not every damage shows in the bitstream: an access unit lost whole, or a
// VP8 frame cut short in its last partition, decodes without error into a
// damaged picture. The caller, who sees the RTP sequence numbers, knows
// of the loss: it should call Reset and ask for a keyframe.
//
// Each access unit must hold one whole picture, shown in decoding order:
// H.264 with B-frames (reordered pictures) or with fields in separate
// access units makes the decoder hold pictures back, which Decode takes
// for damage (ErrCorrupt).
//
// In the steady state Decode allocates nothing on the Go heap when get
// returns pooled frames. A VideoDecoder is not safe for concurrent use.
type VideoDecoder struct {
	decoder
	waitKey bool // return nothing until a keyframe has been decoded
	// The last H.264 SPS and PPS decoded without error (NAL units without
	// start code), and the extradata made of them for a new context.
	sps, pps, params []byte
	// Conversion of formats other than (full- or limited-range) yuv420p.
	sws    *C.struct_SwsContext
	swsKey [4]int // width, height, pixel format, full range
	conv   *astiav.Frame
}

// NewVideoDecoder opens FFmpeg's native decoder for codec, "h264" or "vp8",
// with threads slice threads (0 means 1).
func NewVideoDecoder(codec string, threads int) (d *VideoDecoder, err error) {
	if !slices.Contains(videoDecoders, codec) {
		return nil, fmt.Errorf("av: new video decoder: codec %q: must be one of %s", codec, strings.Join(videoDecoders, ", "))
	}
	if threads < 0 || threads > 64 {
		return nil, fmt.Errorf("av: new video decoder: threads %d: must be 0–64", threads)
	}
	d = &VideoDecoder{decoder: decoder{what: "video", name: codec}, waitKey: true}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	d.conv = astiav.AllocFrame()
	if d.conv == nil {
		return d, errors.New("av: new video decoder: allocation failed")
	}
	err = d.open(func(c *C.AVCodecContext) {
		c.thread_count = C.int(max(threads, 1))
		c.thread_type = C.FF_THREAD_SLICE
		c.flags |= C.AV_CODEC_FLAG_LOW_DELAY
		c.max_pixels = maxDecodePixels
	})
	if err != nil {
		return d, fmt.Errorf("av: new video decoder: %w", err)
	}
	return d, nil
}

// Decode decodes au, one access unit: for H.264 the NAL units of one
// picture in Annex B form (start codes; SPS and PPS in-band, before the
// IDR that needs them), for VP8 one frame. When a picture comes out, get
// is called with its size and must return a frame of exactly that size
// (from the caller's pool); the picture is copied into it, its PTS set to
// pts, and it is returned. When no picture comes out (nil, nil) is
// returned and get is not called: au held no picture (only parameter
// sets or SEI, or an invisible VP8 frame). Errors about the input wrap
// ErrCorrupt (see VideoDecoder); after one, the decoder waits for the
// next keyframe, and every access unit with a picture until then gives
// ErrCorrupt too. au is not retained.
func (d *VideoDecoder) Decode(au []byte, pts time.Duration, get func(width, height int) *media.VideoFrame) (*media.VideoFrame, error) {
	if d == nil || d.closed {
		return nil, fmt.Errorf("av: decode video: %w", ErrClosed)
	}
	if get == nil {
		return nil, errors.New("av: decode video: nil get")
	}
	got, err := d.decode(au, pts)
	if err != nil {
		if d.name == codecH264 && h264NoPicture(au) && d.broken == nil {
			// FFmpeg's H.264 decoder calls an access unit without a slice
			// an error ("no frame!"), having taken its parameter sets.
			d.keepParams(au)
			return nil, nil
		}
		d.lost()
		return nil, err
	}
	if !got {
		if d.noPicture(au) {
			return nil, nil
		}
		// A picture went in and none came out. While waiting for a
		// keyframe, the H.264 decoder drops pictures silently: say so, as
		// the VP8 decoder does. Otherwise the decoder holds the picture
		// back, which with low delay and one picture per access unit only
		// damage makes it do (a slice taken for the first of two fields);
		// what it holds would spoil the next picture.
		waiting := d.waitKey
		d.lost()
		if waiting {
			return nil, fmt.Errorf("av: decode video: %w (%s: waiting for a keyframe)", ErrCorrupt, d.name)
		}
		return nil, fmt.Errorf("av: decode video: %w (%s: no picture out of an access unit with one)", ErrCorrupt, d.name)
	}
	f := cFrame(d.frame)
	defer C.av_frame_unref(f)
	w, h := int(f.width), int(f.height)
	switch {
	case f.decode_error_flags != 0 || f.flags&C.AV_FRAME_FLAG_CORRUPT != 0:
		d.lost()
		return nil, fmt.Errorf("av: decode video: %w (%s: a picture with concealed damage)", ErrCorrupt, d.name)
	case w < 1 || h < 1 || f.data[0] == nil:
		d.lost()
		return nil, fmt.Errorf("av: decode video: %w (%s: a picture of %dx%d)", ErrCorrupt, d.name, w, h)
	case d.waitKey && f.key_frame == 0:
		return nil, fmt.Errorf("av: decode video: %w (%s: waiting for a keyframe)", ErrCorrupt, d.name)
	}
	d.waitKey = false
	d.keepParams(au)
	dst := get(w, h)
	if dst == nil {
		return nil, fmt.Errorf("av: decode video: get(%d, %d) returned nil", w, h)
	}
	if dst.Width != w || dst.Height != h {
		return nil, fmt.Errorf("av: decode video: get(%d, %d) returned a %dx%d frame", w, h, dst.Width, dst.Height)
	}
	if err := d.picture(dst, f); err != nil {
		return nil, fmt.Errorf("av: decode video: %w", err)
	}
	dst.PTS = ptsOf(f, pts)
	return dst, nil
}

// noPicture reports whether au clearly holds no picture to show, so that
// the decoder rightly gives none: an H.264 access unit of parameter sets,
// SEI and the like only, a VP8 frame with its show_frame bit clear.
func (d *VideoDecoder) noPicture(au []byte) bool {
	if d.name == codecVP8 {
		return len(au) >= 3 && au[0]&0x10 == 0
	}
	return h264NoPicture(au)
}

// h264NoPicture reports whether au is Annex B data, from its first byte,
// made only of well-formed NAL units other than slices: forbidden bit
// clear, types 6–13 (SEI, parameter sets, delimiters, end of sequence or
// stream, filler, SPS extension). Anything else — a slice, an invalid
// header, bytes before the first start code — may be a picture.
func h264NoPicture(au []byte) bool {
	if !h264.IsAnnexB(au) {
		return false
	}
	n := 0
	for nal := range h264.NALs(au) {
		if t := h264.TypeOf(nal); nal[0]&0x80 != 0 || t < h264.SEI || t > h264.SPSExtension { // forbidden_zero_bit, type
			return false
		}
		n++
	}
	return n > 0
}

// lost is what happens after an error: references may be missing or
// damaged, so everything is dropped and the decoder waits for a keyframe.
// The new context knows the last good SPS and PPS, for senders that do
// not repeat them with every IDR.
func (d *VideoDecoder) lost() {
	d.params = d.params[:0]
	if len(d.sps) > 0 && len(d.pps) > 0 {
		d.params = append(append(append(append(d.params, 0, 0, 0, 1), d.sps...), 0, 0, 0, 1), d.pps...)
	}
	d.reset(d.params)
	d.waitKey = true
}

// keepParams remembers the SPS and PPS in front of the first slice of the
// H.264 access unit au, copying them only when they change.
func (d *VideoDecoder) keepParams(au []byte) {
	if d.name != codecH264 {
		return
	}
	for nal := range h264.NALs(au) {
		switch t := h264.TypeOf(nal); {
		case t == h264.SPS:
			d.sps = keepNAL(d.sps, nal)
		case t == h264.PPS:
			d.pps = keepNAL(d.pps, nal)
		case t.VCL(): // parameter sets come before the slices
			return
		}
	}
}

// keepNAL returns dst holding nal, reusing dst's memory.
func keepNAL(dst, nal []byte) []byte {
	if bytes.Equal(dst, nal) {
		return dst
	}
	return append(dst[:0], nal...)
}

// picture copies or converts the decoded picture f into dst, which has its
// size.
func (d *VideoDecoder) picture(dst *media.VideoFrame, f *C.AVFrame) error {
	full := f.color_range == C.AVCOL_RANGE_JPEG
	switch f.format {
	case C.AV_PIX_FMT_YUV420P:
		if !full {
			return CopyFromAV(dst, d.frame)
		}
		return copyFullRange(dst, f)
	case C.AV_PIX_FMT_YUVJ420P:
		return copyFullRange(dst, f)
	case C.AV_PIX_FMT_YUVJ411P, C.AV_PIX_FMT_YUVJ422P, C.AV_PIX_FMT_YUVJ440P, C.AV_PIX_FMT_YUVJ444P:
		full = true
	}
	return d.convert(dst, f, full)
}

// convert converts f to yuv420p with swscale, through d.conv.
func (d *VideoDecoder) convert(dst *media.VideoFrame, f *C.AVFrame, full bool) error {
	key := [4]int{int(f.width), int(f.height), int(f.format), 0}
	if full {
		key[3] = 1
	}
	if d.sws == nil || d.swsKey != key {
		if d.sws != nil {
			C.sws_freeContext(d.sws)
		}
		d.sws = C.tsr_sws_open(f.width, f.height, f.format, C.int(key[3]))
		if d.sws == nil {
			return fmt.Errorf("no conversion from %s %dx%d to yuv420p", astiav.PixelFormat(f.format), key[0], key[1])
		}
		d.swsKey = key
	}
	if err := prepareAV(d.conv, key[0], key[1]); err != nil {
		return err
	}
	if ret := C.sws_scale_frame(d.sws, cFrame(d.conv), f); ret < 0 {
		return fmt.Errorf("converting %s to yuv420p: %w", astiav.PixelFormat(f.format), astiav.Error(ret))
	}
	return CopyFromAV(dst, d.conv)
}

// fullToLimited maps full-range samples to limited range: luma 0–255 to
// 16–235, chroma 0–255 to 16–240 around 128, rounding to nearest.
var fullToLimited = func() (t [2][256]byte) {
	for v := range 256 {
		t[0][v] = byte(math.Round(16 + float64(v)*219/255))
		t[1][v] = byte(math.Round(128 + float64(v-128)*224/255))
	}
	return t
}()

// copyFullRange copies the full-range 4:2:0 picture f into dst (same size),
// mapping it to limited range.
func copyFullRange(dst *media.VideoFrame, f *C.AVFrame) error {
	if err := checkVideoFrame(dst); err != nil {
		return fmt.Errorf("destination: %w", err)
	}
	for p := range 3 {
		base, ls := unsafe.Pointer(f.data[p]), int(f.linesize[p])
		if base == nil {
			return fmt.Errorf("source plane %d has no data", p)
		}
		lut := &fullToLimited[min(p, 1)]
		w := dst.PlaneWidth(p)
		for y := range dst.PlaneHeight(p) {
			src := unsafe.Slice((*byte)(unsafe.Add(base, y*ls)), w)
			row := dst.Row(p, y)
			for x, v := range src {
				row[x] = lut[v]
			}
		}
	}
	return nil
}

// Reset drops everything the decoder holds — buffered input, reference
// pictures — as after a loss or a switch to another layer or stream, by
// opening it anew (keeping only the last H.264 SPS and PPS); the next
// picture returned is a keyframe. After Close it does nothing.
func (d *VideoDecoder) Reset() {
	if d == nil || d.closed {
		return
	}
	d.lost()
}

// Close frees the decoder. It may be called more than once; Decode fails
// with ErrClosed afterwards.
func (d *VideoDecoder) Close() {
	if d == nil || d.closed {
		return
	}
	if d.sws != nil {
		C.sws_freeContext(d.sws)
		d.sws = nil
	}
	if d.conv != nil {
		d.conv.Free()
		d.conv = nil
	}
	d.free()
}
