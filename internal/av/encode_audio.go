package av

/*
#cgo pkg-config: libavcodec libavutil
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/frame.h>
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

// AudioConfig configures an AudioEncoder. The zero value is the default.
type AudioConfig struct {
	// Codec selects the encoder:
	//
	//   - "" or "aac": FFmpeg's AAC-LC encoder, 1,024-sample frames, for
	//     RTMP/FLV and HLS.
	//   - "opus": libopus, application lowdelay, 20 ms frames (960
	//     samples), for WebRTC.
	//
	// Both code 48 kHz stereo.
	Codec string
	// Bitrate in bits per second; default 128,000 for AAC (8,000–512,000),
	// 64,000 for Opus (6,000–510,000).
	Bitrate int
}

// The audio codecs an AudioConfig may name.
const (
	codecAAC  = "aac"
	codecOpus = "opus"
)

// audioCodecs are the values AudioConfig.Codec accepts ("" aside).
var audioCodecs = []string{codecAAC, codecOpus}

// withDefaults fills in the defaults and validates c.
func (c AudioConfig) withDefaults() (AudioConfig, error) {
	if c.Codec == "" {
		c.Codec = codecAAC
	}
	if !slices.Contains(audioCodecs, c.Codec) {
		return c, fmt.Errorf("codec %q: must be one of %s", c.Codec, strings.Join(audioCodecs, ", "))
	}
	lo, hi, def := 8000, 512000, 128000
	if c.Codec == codecOpus {
		lo, hi, def = 6000, 510000, 64000
	}
	if c.Bitrate == 0 {
		c.Bitrate = def
	}
	if c.Bitrate < lo || c.Bitrate > hi {
		return c, fmt.Errorf("bitrate %d: must be %d–%d for %s", c.Bitrate, lo, hi, c.Codec)
	}
	return c, nil
}

// Audio timing: how far input PTS may stray from the running sample count
// before the encoder acts on it.
const (
	// audioTolerance is absorbed silently (clock rounding, jitter).
	audioTolerance = media.SampleRate / 1000 // 1 ms
	// audioMaxFill is the longest gap filled with silence; a longer jump
	// forward restarts the timeline at the new PTS.
	audioMaxFill = media.SampleRate // 1 s
)

// AudioEncoder encodes media.AudioFrame chunks (at media.SampleRate, the
// pipeline's 48 kHz) to 48 kHz stereo: AAC-LC with FFmpeg's native
// encoder, or Opus with libopus (AudioConfig.Codec). Chunks of any length
// are gathered into the frames the codec codes — 1,024 samples, planar,
// for AAC; 960 samples (20 ms), interleaved, for Opus — written straight
// into the FFmpeg frame, no resampler. An AudioEncoder is not safe for
// concurrent use.
//
// Timing follows the input: the first chunk's PTS is the origin, and each
// AAC frame's PTS is the origin plus the samples before it. A chunk whose
// PTS is within 1 ms of where the stream has got to continues it; a gap of
// up to 1 s is filled with silence; samples that overlap what was already
// encoded are dropped; a jump forward by more than 1 s pads the frame in
// progress with silence and restarts the count at the new PTS. Packet PTS
// follow FFmpeg's convention: the encoder's priming comes first, so the
// first packet starts that much before the origin — 1,024 samples (21.3
// ms) for AAC, libopus's lookahead (120 samples, 2.5 ms, in lowdelay) for
// Opus.
//
// Steady state costs one Go allocation per packet (the copy into
// Packet.Data): about 47 per second for AAC, 50 for Opus.
type AudioEncoder struct {
	codec
	cfg AudioConfig
	// planes are the frame's L and R planes (C memory) for AAC; for Opus,
	// planes[0] holds both channels interleaved and planes[1] is nil.
	planes      [2][]float32
	interleaved bool
	size        int // samples per channel in a codec frame
	fill        int // samples in the frame so far
	origin      time.Duration
	next        int64 // sample count (from origin) of the next sample to come
	started     bool
}

// NewAudioEncoder opens the AAC or the Opus encoder.
func NewAudioEncoder(cfg AudioConfig) (e *AudioEncoder, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("av: new audio encoder: %w", err)
	}
	e = &AudioEncoder{cfg: cfg, interleaved: cfg.Codec == codecOpus}
	defer func() {
		if err != nil {
			e.Close()
			e = nil
		}
	}()
	lib := "aac"
	if cfg.Codec == codecOpus {
		lib = "libopus"
	}
	codec, err := e.alloc(lib, "audio")
	if err != nil {
		return e, err
	}
	format := C.enum_AVSampleFormat(C.AV_SAMPLE_FMT_FLTP)
	if e.interleaved {
		format = C.AV_SAMPLE_FMT_FLT // libopus takes s16 or flt, interleaved
	}
	c := e.ctx
	c.sample_fmt = format
	c.sample_rate = media.SampleRate
	C.av_channel_layout_default(&c.ch_layout, 2)
	c.bit_rate = C.int64_t(cfg.Bitrate)
	c.time_base = C.AVRational{1, media.SampleRate}
	var opts [][2]string
	switch cfg.Codec {
	case codecAAC:
		c.profile = C.FF_PROFILE_AAC_LOW
		c.flags |= C.AV_CODEC_FLAG_GLOBAL_HEADER
	case codecOpus:
		// lowdelay: CELT only, the smallest algorithmic delay; 20 ms
		// frames, WebRTC's usual packet time.
		opts = [][2]string{{"application", "lowdelay"}, {"frame_duration", "20"}}
	}
	if err := e.open(codec, lib, "audio", opts, fmt.Sprintf("%d bps", cfg.Bitrate)); err != nil {
		return e, err
	}
	e.size = int(c.frame_size)
	if e.size < 1 {
		return e, fmt.Errorf("av: new audio encoder: frame size %d", e.size)
	}
	f := cFrame(e.frame)
	f.format = C.int(format)
	f.sample_rate = media.SampleRate
	f.nb_samples = C.int(e.size)
	if ret := C.av_channel_layout_copy(&f.ch_layout, &c.ch_layout); ret < 0 {
		return e, fmt.Errorf("av: new audio encoder: %w", astiav.Error(ret))
	}
	if ret := C.av_frame_get_buffer(f, 0); ret < 0 {
		return e, fmt.Errorf("av: new audio encoder: allocating a frame: %w", astiav.Error(ret))
	}
	e.info = StreamInfo{
		Kind:       Audio,
		Codec:      cfg.Codec,
		Bitrate:    cfg.Bitrate,
		Extradata:  C.GoBytes(unsafe.Pointer(c.extradata), c.extradata_size),
		SampleRate: media.SampleRate,
		Channels:   2,
		FrameSize:  e.size,
	}
	return e, nil
}

// Encode takes a chunk of mono or stereo PCM (stereo is encoded; mono is
// copied to both channels) and calls emit with each packet that comes out
// before it returns. Samples are clamped to [-1, 1] (NaN becomes 0). a is
// not retained; emit owns each Packet's Data.
func (e *AudioEncoder) Encode(a *media.AudioFrame, emit func(Packet)) error {
	if e == nil || e.closed {
		return fmt.Errorf("av: encode audio: %w", ErrClosed)
	}
	if e.flushed {
		return errors.New("av: encode audio: encoder already flushed")
	}
	if a == nil {
		return errors.New("av: encode audio: nil frame")
	}
	if a.Channels != 1 && a.Channels != 2 {
		return fmt.Errorf("av: encode audio: %d channels, want 1 or 2", a.Channels)
	}
	if len(a.Samples)%a.Channels != 0 {
		return fmt.Errorf("av: encode audio: %d samples do not make whole %d-channel sample frames", len(a.Samples), a.Channels)
	}
	n := a.Len()
	if n == 0 {
		return nil
	}
	if !e.started {
		e.started, e.origin = true, a.PTS
	}
	samples := a.Samples
	at := rescale(int64(a.PTS-e.origin), media.SampleRate, int64(time.Second))
	switch gap := at - e.next; {
	case gap > audioMaxFill:
		if e.fill > 0 {
			if err := e.put(nil, a.Channels, e.size-e.fill, emit); err != nil {
				return err
			}
		}
		e.next = at
	case gap > audioTolerance:
		if err := e.put(nil, a.Channels, int(gap), emit); err != nil {
			return err
		}
	case gap < -audioTolerance:
		if -gap >= int64(n) {
			return nil
		}
		samples = samples[int(-gap)*a.Channels:]
	}
	return e.put(samples, a.Channels, len(samples)/a.Channels, emit)
}

// put appends n sample frames of interleaved samples with ch channels to
// the stream, or n frames of silence when samples is nil, sending each
// frame as it fills up.
func (e *AudioEncoder) put(samples []float32, ch, n int, emit func(Packet)) error {
	for n > 0 {
		if e.fill == 0 {
			if err := e.writable(); err != nil {
				return err
			}
		}
		k := min(e.size-e.fill, n)
		if e.interleaved {
			lr := e.planes[0][2*e.fill : 2*(e.fill+k)]
			switch {
			case samples == nil:
				clear(lr)
			case ch == 2:
				for i, v := range samples[:2*k] {
					lr[i] = clampSample(v)
				}
				samples = samples[2*k:]
			default:
				for i, v := range samples[:k] {
					lr[2*i] = clampSample(v)
					lr[2*i+1] = lr[2*i]
				}
				samples = samples[k:]
			}
		} else {
			l, r := e.planes[0][e.fill:e.fill+k], e.planes[1][e.fill:e.fill+k]
			switch {
			case samples == nil:
				clear(l)
				clear(r)
			case ch == 2:
				s := samples[:2*k]
				for i := range k {
					l[i] = clampSample(s[2*i])
					r[i] = clampSample(s[2*i+1])
				}
				samples = samples[2*k:]
			default:
				for i, v := range samples[:k] {
					l[i] = clampSample(v)
					r[i] = l[i]
				}
				samples = samples[k:]
			}
		}
		e.fill += k
		e.next += int64(k)
		n -= k
		if e.fill == e.size {
			if err := e.send(emit); err != nil {
				return err
			}
		}
	}
	return nil
}

// clampSample keeps v inside [-1, 1]; NaN becomes 0.
func clampSample(v float32) float32 {
	switch {
	case v > 1:
		return 1
	case v < -1:
		return -1
	case v != v:
		return 0
	}
	return v
}

// writable makes the frame writable (a new buffer only if the encoder
// still holds the old one) and points planes at it.
func (e *AudioEncoder) writable() error {
	f := cFrame(e.frame)
	f.nb_samples = C.int(e.size)
	if ret := C.av_frame_make_writable(f); ret < 0 {
		return fmt.Errorf("av: encode audio: making the frame writable: %w", astiav.Error(ret))
	}
	if e.interleaved {
		e.planes[0] = unsafe.Slice((*float32)(unsafe.Pointer(f.data[0])), 2*e.size)
		return nil
	}
	for ch := range 2 {
		e.planes[ch] = unsafe.Slice((*float32)(unsafe.Pointer(f.data[ch])), e.size)
	}
	return nil
}

// send encodes the e.fill samples of the frame and drains the encoder.
func (e *AudioEncoder) send(emit func(Packet)) error {
	f := cFrame(e.frame)
	f.nb_samples = C.int(e.fill)
	f.pts = C.int64_t(e.next - int64(e.fill))
	e.fill = 0
	if ret := C.avcodec_send_frame(e.ctx, f); ret < 0 {
		return fmt.Errorf("av: encode audio: sending frame: %w", astiav.Error(ret))
	}
	return e.drain(emit)
}

// Flush encodes what is buffered (a last, shorter frame) and drains the
// encoder: every packet still inside goes to emit. After Flush, Encode
// fails; Flush again does nothing.
func (e *AudioEncoder) Flush(emit func(Packet)) error {
	if e == nil || e.closed {
		return fmt.Errorf("av: flush audio: %w", ErrClosed)
	}
	if e.flushed {
		return nil
	}
	e.flushed = true
	if e.fill > 0 {
		if err := e.send(emit); err != nil {
			return err
		}
	}
	if ret := C.avcodec_send_frame(e.ctx, nil); ret < 0 {
		return fmt.Errorf("av: flush audio: %w", astiav.Error(ret))
	}
	return e.drain(emit)
}

// drain passes every packet the encoder has ready to emit.
func (e *AudioEncoder) drain(emit func(Packet)) error {
	return receivePackets(e.ctx, e.pkt, "audio", e.packet, emit)
}

// packet copies e.pkt into a Packet on the composition clock. Every AAC
// or Opus packet can be decoded on its own, so each is a keyframe.
func (e *AudioEncoder) packet() Packet {
	k := e.pkt
	pts := int64(k.pts)
	dur := int64(k.duration)
	if dur <= 0 {
		dur = int64(e.size)
	}
	data := packetData(k)
	t := e.sampleTime(pts)
	return Packet{
		Kind:     Audio,
		Data:     data,
		PTS:      t,
		DTS:      t,
		Duration: e.sampleTime(pts+dur) - t,
		Keyframe: true,
	}
}

// sampleTime converts a sample count from the origin to the composition
// clock.
func (e *AudioEncoder) sampleTime(n int64) time.Duration {
	return e.origin + time.Duration(rescale(n, int64(time.Second), media.SampleRate))
}

// Close frees the encoder, dropping what it still holds (a frame or two
// of look-ahead; drained first, or libopus warns of frames left in its
// queue). It may be called more than once.
func (e *AudioEncoder) Close() {
	if e == nil || e.closed {
		return
	}
	if e.ctx != nil && !e.flushed && C.avcodec_send_frame(e.ctx, nil) >= 0 {
		_ = e.drain(nil)
	}
	e.planes = [2][]float32{}
	e.free()
}
