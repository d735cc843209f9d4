package av

/*
#cgo pkg-config: libavcodec libavutil
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
#include <libavutil/samplefmt.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// audioDecoders are the codecs NewAudioDecoder accepts.
var audioDecoders = []string{codecOpus}

// AudioDecoder decodes Opus packets, as a WebRTC receiver gets them from
// RTP (RFC 7587: one Opus packet per RTP packet, no Ogg framing, no
// header), into media.AudioFrame chunks with FFmpeg's native decoder:
// 48 kHz (media.SampleRate), interleaved float32, with the channel count
// asked for whatever the packets carry — mono is copied to both channels,
// stereo averaged to mono. Samples are clamped to [-1, 1].
//
// Input the decoder rejects gives an error wrapping ErrCorrupt; the next
// packet decodes as usual (Opus packets do not depend on each other beyond
// the decoder's smoothing). In the steady state Decode allocates nothing
// on the Go heap when get returns pooled frames. An AudioDecoder is not
// safe for concurrent use.
type AudioDecoder struct {
	decoder
	channels int
}

// NewAudioDecoder opens the decoder for codec ("opus"), giving channels
// (1 or 2) channels.
func NewAudioDecoder(codec string, channels int) (d *AudioDecoder, err error) {
	if !slices.Contains(audioDecoders, codec) {
		return nil, fmt.Errorf("av: new audio decoder: codec %q: must be one of %s", codec, strings.Join(audioDecoders, ", "))
	}
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("av: new audio decoder: %d channels, want 1 or 2", channels)
	}
	d = &AudioDecoder{decoder: decoder{what: "audio", name: codec}, channels: channels}
	defer func() {
		if err != nil {
			d.Close()
			d = nil
		}
	}()
	err = d.open(func(c *C.AVCodecContext) {
		// Opus over RTP is always declared stereo (opus/48000/2); the
		// decoder upmixes mono packets.
		c.sample_rate = media.SampleRate
		C.av_channel_layout_default(&c.ch_layout, 2)
		c.thread_count = 1
	})
	if err != nil {
		return d, fmt.Errorf("av: new audio decoder: %w", err)
	}
	return d, nil
}

// Decode decodes pkt, one Opus packet. When samples come out, get is called
// with the decoder's channel count and the number of samples per channel
// and must return a frame of exactly that shape (from the caller's pool);
// the samples are written into it, its PTS set to pts, and it is returned.
// When nothing comes out (nil, nil) is returned and get is not called.
// Errors about the input wrap ErrCorrupt. pkt is not retained.
func (d *AudioDecoder) Decode(pkt []byte, pts time.Duration, get func(channels, samples int) *media.AudioFrame) (*media.AudioFrame, error) {
	if d == nil || d.closed {
		return nil, fmt.Errorf("av: decode audio: %w", ErrClosed)
	}
	if get == nil {
		return nil, errors.New("av: decode audio: nil get")
	}
	got, err := d.decode(pkt, pts)
	if err != nil || !got {
		return nil, err
	}
	f := cFrame(d.frame)
	defer C.av_frame_unref(f)
	n, ch := int(f.nb_samples), int(f.ch_layout.nb_channels)
	if n == 0 {
		return nil, nil
	}
	if f.sample_rate != media.SampleRate {
		return nil, fmt.Errorf("av: decode audio: %w (%s: %d Hz)", ErrCorrupt, d.name, int(f.sample_rate))
	}
	planar := f.format == C.AV_SAMPLE_FMT_FLTP
	if n < 0 || ch < 1 || ch > 2 || (!planar && f.format != C.AV_SAMPLE_FMT_FLT) || f.data[0] == nil || (planar && ch == 2 && f.data[1] == nil) {
		return nil, fmt.Errorf("av: decode audio: %w (%s: %d samples, %d channels, %s)", ErrCorrupt, d.name, n, ch, astiav.SampleFormat(f.format))
	}
	dst := get(d.channels, n)
	if dst == nil {
		return nil, fmt.Errorf("av: decode audio: get(%d, %d) returned nil", d.channels, n)
	}
	if dst.Channels != d.channels || len(dst.Samples) != d.channels*n {
		return nil, fmt.Errorf("av: decode audio: get(%d, %d) returned %d channels, %d samples", d.channels, n, dst.Channels, len(dst.Samples))
	}
	// l and r are the source channels, each read with a step: planar
	// planes step 1, interleaved samples step ch.
	var l, r []float32
	step := 1
	if planar {
		l = unsafe.Slice((*float32)(unsafe.Pointer(f.data[0])), n)
		r = l
		if ch == 2 {
			r = unsafe.Slice((*float32)(unsafe.Pointer(f.data[1])), n)
		}
	} else {
		step = ch
		all := unsafe.Slice((*float32)(unsafe.Pointer(f.data[0])), n*ch)
		l, r = all, all[ch-1:]
	}
	out := dst.Samples
	switch {
	case d.channels == 2:
		for i := range n {
			out[2*i] = clampSample(l[i*step])
			out[2*i+1] = clampSample(r[i*step])
		}
	case ch == 1:
		for i := range n {
			out[i] = clampSample(l[i*step])
		}
	default:
		for i := range n {
			out[i] = clampSample((l[i*step] + r[i*step]) / 2)
		}
	}
	dst.PTS = ptsOf(f, pts)
	return dst, nil
}

// Reset drops what the decoder holds (its smoothing state) by opening it
// anew, as after a loss or a switch to another stream. After Close it does
// nothing.
func (d *AudioDecoder) Reset() {
	if d == nil || d.closed {
		return
	}
	d.reset(nil)
}

// Close frees the decoder. It may be called more than once; Decode fails
// with ErrClosed afterwards.
func (d *AudioDecoder) Close() {
	if d == nil || d.closed {
		return
	}
	d.free()
}
