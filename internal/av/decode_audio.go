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
// header), or raw AAC frames, as RTMP carries them (NewAACDecoder), into
// media.AudioFrame chunks with FFmpeg's native decoders: 48 kHz
// (media.SampleRate; AAC at other rates is resampled), interleaved
// float32, with the channel count asked for whatever the packets carry —
// mono is copied to both channels, stereo averaged to mono. Samples are
// clamped to [-1, 1].
//
// Input the decoder rejects gives an error wrapping ErrCorrupt; the next
// packet decodes as usual (Opus packets do not depend on each other beyond
// the decoder's smoothing). In the steady state Decode allocates nothing
// on the Go heap when get returns pooled frames. An AudioDecoder is not
// safe for concurrent use.
type AudioDecoder struct {
	decoder
	channels  int
	extradata []byte    // AAC's AudioSpecificConfig
	rs        resampler // for input not at media.SampleRate
}

// NewAudioDecoder opens the decoder for codec ("opus"), giving channels
// (1 or 2) channels.
func NewAudioDecoder(codec string, channels int) (*AudioDecoder, error) {
	if !slices.Contains(audioDecoders, codec) {
		return nil, fmt.Errorf("av: new audio decoder: codec %q: must be one of %s (AAC: NewAACDecoder)", codec, strings.Join(audioDecoders, ", "))
	}
	return openAudioDecoder(codec, channels)
}

func openAudioDecoder(codec string, channels int) (d *AudioDecoder, err error) {
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
		c.thread_count = 1
		if codec == codecOpus {
			// Opus over RTP is always declared stereo (opus/48000/2); the
			// decoder upmixes mono packets.
			c.sample_rate = media.SampleRate
			C.av_channel_layout_default(&c.ch_layout, 2)
		}
	})
	if err != nil {
		return d, fmt.Errorf("av: new audio decoder: %w", err)
	}
	return d, nil
}

// NewAACDecoder opens an AAC decoder for the stream that config (its
// MPEG-4 AudioSpecificConfig, as an FLV or MP4 sequence header carries it)
// describes, giving channels (1 or 2) channels at media.SampleRate: other
// rates (44.1 kHz, …) are resampled. Each Decode takes one raw AAC frame.
func NewAACDecoder(config []byte, channels int) (*AudioDecoder, error) {
	if len(config) < 2 {
		return nil, fmt.Errorf("av: new AAC decoder: %d bytes of AudioSpecificConfig, want at least 2", len(config))
	}
	d, err := openAudioDecoder(codecAAC, channels)
	if err != nil {
		return nil, err
	}
	d.extradata = slices.Clone(config)
	d.reset(d.extradata)
	if d.broken != nil {
		d.Close()
		return nil, fmt.Errorf("av: new AAC decoder: %w", d.broken)
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
		if d.name == codecOpus {
			return nil, fmt.Errorf("av: decode audio: %w (%s: %d Hz)", ErrCorrupt, d.name, int(f.sample_rate))
		}
		return d.resampled(f, pts, get)
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

// resampled converts f to media.SampleRate into a frame from get.
func (d *AudioDecoder) resampled(f *C.AVFrame, pts time.Duration, get func(channels, samples int) *media.AudioFrame) (*media.AudioFrame, error) {
	out, err := d.rs.convert(f, d.channels)
	if err != nil {
		return nil, err
	}
	n := len(out) / d.channels
	if n == 0 {
		return nil, nil
	}
	dst := get(d.channels, n)
	if dst == nil || dst.Channels != d.channels || len(dst.Samples) != len(out) {
		return nil, fmt.Errorf("av: decode audio: get(%d, %d) returned a frame of another shape", d.channels, n)
	}
	for i, v := range out {
		dst.Samples[i] = clampSample(v)
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
	d.reset(d.extradata)
}

// Close frees the decoder. It may be called more than once; Decode fails
// with ErrClosed afterwards.
func (d *AudioDecoder) Close() {
	if d == nil || d.closed {
		return
	}
	d.rs.free()
	d.free()
}
