package av

/*
#cgo pkg-config: libavcodec libavutil
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"
)

// ErrCorrupt is wrapped by the errors the decoders return for input they
// cannot decode: damaged or truncated data, garbage, pictures that refer to
// lost references. A caller counts them and, for video, asks the sender
// for a keyframe (a WebRTC PLI); the decoder carries on with the next
// input.
var ErrCorrupt = errors.New("av: corrupt input")

// maxDecodePixels bounds the pictures a VideoDecoder accepts (8K UHD), so
// that a damaged header cannot make FFmpeg allocate gigabytes. A larger
// picture is corrupt input.
const maxDecodePixels = 7680 * 4320

// maxDecodeInput bounds the size of one access unit or packet (FFmpeg
// packet sizes are ints, less the input padding).
const maxDecodeInput = 1 << 28

// decoder is what both decoders hold: the codec and its context, the
// packet and frames reused for every call, and the lifecycle.
type decoder struct {
	what   string // "video", "audio": names the decoder in errors
	name   string // FFmpeg's decoder name
	codec  *C.AVCodec
	setup  func(c *C.AVCodecContext) // configures a new context
	ctx    *C.AVCodecContext
	pkt    *C.AVPacket
	frame  *astiav.Frame // the picture or samples Decode returns
	spare  *C.AVFrame    // a further frame from the same input, if any
	broken error         // a new context could not be opened
	closed bool
}

// open opens FFmpeg's decoder called name, setup configuring its context
// (now and whenever reset makes a new one).
func (d *decoder) open(setup func(c *C.AVCodecContext)) error {
	cname := C.CString(d.name)
	defer C.free(unsafe.Pointer(cname))
	d.codec = C.avcodec_find_decoder_by_name(cname)
	if d.codec == nil {
		return fmt.Errorf("FFmpeg has no %s decoder", d.name)
	}
	d.setup = setup
	d.pkt = C.av_packet_alloc()
	d.frame = astiav.AllocFrame()
	d.spare = C.av_frame_alloc()
	if d.pkt == nil || d.frame == nil || d.spare == nil {
		return errors.New("allocation failed")
	}
	return d.openContext(nil)
}

// openContext replaces the codec context by a new one, opened with
// extradata (a copy) when it is not empty.
func (d *decoder) openContext(extradata []byte) error {
	if d.ctx != nil {
		C.avcodec_free_context(&d.ctx) // frees its extradata too
	}
	d.ctx = C.avcodec_alloc_context3(d.codec)
	if d.ctx == nil {
		return errors.New("allocation failed")
	}
	d.setup(d.ctx)
	if n := len(extradata); n > 0 {
		p := C.av_mallocz(C.size_t(n + C.AV_INPUT_BUFFER_PADDING_SIZE))
		if p == nil {
			return errors.New("allocation failed")
		}
		copy(unsafe.Slice((*byte)(p), n), extradata)
		d.ctx.extradata, d.ctx.extradata_size = (*C.uint8_t)(p), C.int(n)
	}
	if ret := C.avcodec_open2(d.ctx, d.codec, nil); ret < 0 {
		C.avcodec_free_context(&d.ctx)
		return fmt.Errorf("opening %s: %w", d.name, astiav.Error(ret))
	}
	return nil
}

// decode feeds data, stamped pts, to the decoder and receives what comes
// out into d.frame: it reports whether a frame did. Should the input give
// more than one frame (the native H.264, VP8 and Opus decoders give at most
// one per packet), the last is kept. Errors from the decoder wrap
// ErrCorrupt; d.frame is unreferenced whenever decode reports no frame.
func (d *decoder) decode(data []byte, pts time.Duration) (bool, error) {
	if d.broken != nil {
		return false, fmt.Errorf("av: decode %s: %w", d.what, d.broken)
	}
	if len(data) == 0 {
		// An empty packet would tell FFmpeg to drain the decoder.
		return false, fmt.Errorf("av: decode %s: empty input: %w", d.what, ErrCorrupt)
	}
	if len(data) > maxDecodeInput {
		return false, fmt.Errorf("av: decode %s: %d bytes of input, at most %d: %w", d.what, len(data), maxDecodeInput, ErrCorrupt)
	}
	// FFmpeg's own buffer, zero-padded as its bitstream readers require;
	// the decoder takes a reference to it.
	if ret := C.av_new_packet(d.pkt, C.int(len(data))); ret < 0 {
		return false, fmt.Errorf("av: decode %s: allocating a packet: %w", d.what, astiav.Error(ret))
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(d.pkt.data)), len(data)), data)
	d.pkt.pts = C.int64_t(pts)
	d.pkt.dts = C.int64_t(pts)
	ret := C.avcodec_send_packet(d.ctx, d.pkt)
	C.av_packet_unref(d.pkt)
	if ret < 0 {
		// With one packet in and its frames out each call, the decoder is
		// never full (EAGAIN): what fails here is the decoding itself.
		return false, fmt.Errorf("av: decode %s: %w (%s: %w)", d.what, ErrCorrupt, d.name, astiav.Error(ret))
	}
	f := cFrame(d.frame)
	C.av_frame_unref(f)
	got := false
	for {
		dst := f
		if got {
			dst = d.spare
		}
		ret := C.avcodec_receive_frame(d.ctx, dst)
		if err := astiav.Error(ret); err == astiav.ErrEagain || err == astiav.ErrEof {
			return got, nil
		}
		if ret < 0 {
			C.av_frame_unref(f)
			return false, fmt.Errorf("av: decode %s: %w (%s: %w)", d.what, ErrCorrupt, d.name, astiav.Error(ret))
		}
		if got {
			C.av_frame_unref(f)
			C.av_frame_move_ref(f, d.spare)
		}
		got = true
	}
}

// ptsOf returns the time the frame was stamped with on its way through
// the decoder, or pts when it has none.
func ptsOf(f *C.AVFrame, pts time.Duration) time.Duration {
	if v := int64(f.pts); v != math.MinInt64 { // AV_NOPTS_VALUE
		return time.Duration(v)
	}
	return pts
}

// reset drops everything the decoder holds — buffered input, references,
// frames not yet returned, and whatever else damaged input may have left
// behind — by opening a new codec context, with extradata if not empty.
// avcodec_flush_buffers is not enough: after a damaged H.264 slice it
// leaves state behind that changes how the next IDR decodes.
func (d *decoder) reset(extradata []byte) {
	C.av_frame_unref(cFrame(d.frame))
	C.av_frame_unref(d.spare)
	if err := d.openContext(extradata); err != nil {
		d.broken = fmt.Errorf("reopening the decoder: %w", err)
	}
}

// free releases the FFmpeg objects and marks the decoder closed.
func (d *decoder) free() {
	d.closed = true
	if d.ctx != nil {
		C.avcodec_free_context(&d.ctx)
	}
	if d.pkt != nil {
		C.av_packet_free(&d.pkt)
	}
	if d.frame != nil {
		d.frame.Free()
		d.frame = nil
	}
	if d.spare != nil {
		C.av_frame_free(&d.spare)
	}
}
