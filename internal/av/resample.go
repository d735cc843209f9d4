package av

/*
#cgo pkg-config: libswresample libavutil
#include <libswresample/swresample.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/samplefmt.h>

static int tessera_swr_convert(SwrContext *s, float *out, int out_count, AVFrame *in) {
	uint8_t *o[1] = {(uint8_t *)out};
	return swr_convert(s, o, out_count, (const uint8_t **)in->extended_data, in->nb_samples);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// resampler converts decoded audio of any rate, sample format and channel
// layout to media.SampleRate, interleaved float32, with the channel count
// asked for (libswresample). It is set up from the first frame and again
// whenever the input's rate, format or layout changes. Its output buffer
// is C memory, reused.
type resampler struct {
	swr      *C.SwrContext
	inRate   C.int
	inFormat C.int
	inLayout C.AVChannelLayout
	channels int
	buf      *C.float
	capacity int // samples per channel buf holds
}

// convert resamples f and returns the samples that came out (they stay
// valid until the next call): interleaved, r.channels per sample.
func (r *resampler) convert(f *C.AVFrame, channels int) ([]float32, error) {
	if r.swr == nil || r.inRate != f.sample_rate || r.inFormat != f.format || r.channels != channels ||
		C.av_channel_layout_compare(&r.inLayout, &f.ch_layout) != 0 {
		if err := r.setup(f, channels); err != nil {
			return nil, err
		}
	}
	want := int(C.swr_get_out_samples(r.swr, f.nb_samples))
	if want > r.capacity {
		C.av_free(unsafe.Pointer(r.buf))
		r.buf = (*C.float)(C.av_malloc(C.size_t(want * channels * 4)))
		if r.buf == nil {
			r.capacity = 0
			return nil, errors.New("av: resample: allocation failed")
		}
		r.capacity = want
	}
	n := C.tessera_swr_convert(r.swr, r.buf, C.int(r.capacity), f)
	if n < 0 {
		return nil, fmt.Errorf("av: resample: %w", astiav.Error(n))
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(r.buf)), int(n)*channels), nil
}

func (r *resampler) setup(f *C.AVFrame, channels int) error {
	r.freeContext()
	var out C.AVChannelLayout
	C.av_channel_layout_default(&out, C.int(channels))
	defer C.av_channel_layout_uninit(&out)
	if ret := C.swr_alloc_set_opts2(&r.swr, &out, C.AV_SAMPLE_FMT_FLT, media.SampleRate,
		&f.ch_layout, int32(f.format), f.sample_rate, 0, nil); ret < 0 {
		return fmt.Errorf("av: resample: %w", astiav.Error(ret))
	}
	if ret := C.swr_init(r.swr); ret < 0 {
		r.freeContext()
		return fmt.Errorf("av: resample %d Hz: %w", int(f.sample_rate), astiav.Error(ret))
	}
	if ret := C.av_channel_layout_copy(&r.inLayout, &f.ch_layout); ret < 0 {
		r.freeContext()
		return fmt.Errorf("av: resample: %w", astiav.Error(ret))
	}
	r.inRate, r.inFormat, r.channels = f.sample_rate, f.format, channels
	return nil
}

func (r *resampler) freeContext() {
	if r.swr != nil {
		C.swr_free(&r.swr)
	}
	C.av_channel_layout_uninit(&r.inLayout)
}

// free releases the context and the buffer.
func (r *resampler) free() {
	r.freeContext()
	C.av_free(unsafe.Pointer(r.buf))
	r.buf, r.capacity = nil, 0
}
