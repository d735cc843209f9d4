package av

/*
#cgo pkg-config: libavcodec libavutil
#include <errno.h>
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/rational.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/media"
)

// VideoConfig configures a VideoEncoder. Zero Codec, Preset and
// KeyframeInterval take their defaults.
type VideoConfig struct {
	// Codec selects the encoder and its bitstream:
	//
	//   - "" or "h264": libx264, Main profile, SPS and PPS in a global
	//     header (StreamInfo.Extradata), for RTMP/FLV and HLS.
	//   - "h264-baseline": libx264, Constrained Baseline profile, for
	//     WebRTC: no global header, every keyframe an IDR carrying its SPS
	//     and PPS in-band, each packet one access unit in Annex B form
	//     (start codes), as RTP payloaders (RFC 6184) expect.
	//   - "vp8": libvpx VP8 in real-time mode, error resilient, for WebRTC;
	//     each packet one raw VP8 frame.
	//
	// All three are tuned for zero latency: one packet out per frame in.
	Codec string
	// Width and Height are the picture size: even, 2–8192.
	Width, Height int
	// FrameRate is in frames per second, 1–60, fractional allowed (29.97
	// becomes 2997/100).
	FrameRate float64
	// Bitrate is the target in bits per second; the VBV caps it too
	// (maxrate = bitrate, buffer = one second of it).
	Bitrate int
	// Preset is the x264 speed preset; default "veryfast" for H.264. VP8
	// has none: it must be empty (libvpx runs at a fixed real-time speed).
	Preset string
	// KeyframeInterval is the distance between keyframes, at most 1 h;
	// default 2 s. The GOP is round(FrameRate × KeyframeInterval) frames,
	// at least 1.
	KeyframeInterval time.Duration
	// Threads is the number of encoder threads; 0 leaves FFmpeg's
	// default: for libx264, x264 chooses from the number of cores (under
	// zerolatency they are slice threads, which add no delay); for libvpx,
	// one thread.
	Threads int
}

// The video codecs a VideoConfig may name.
const (
	codecH264         = "h264"
	codecH264Baseline = "h264-baseline"
	codecVP8          = "vp8"
)

// videoCodecs are the values VideoConfig.Codec accepts ("" aside).
var videoCodecs = []string{codecH264, codecH264Baseline, codecVP8}

// x264Presets are the presets x264 knows.
var x264Presets = []string{"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}

// CheckPreset reports whether x264 knows the speed preset p.
func CheckPreset(p string) error {
	if !slices.Contains(x264Presets, p) {
		return fmt.Errorf("preset %q: must be one of %s", p, strings.Join(x264Presets, ", "))
	}
	return nil
}

// withDefaults fills in the defaults and validates c.
func (c VideoConfig) withDefaults() (VideoConfig, error) {
	if c.Codec == "" {
		c.Codec = codecH264
	}
	if !slices.Contains(videoCodecs, c.Codec) {
		return c, fmt.Errorf("codec %q: must be one of %s", c.Codec, strings.Join(videoCodecs, ", "))
	}
	vp8 := c.Codec == codecVP8
	if c.Preset == "" && !vp8 {
		c.Preset = "veryfast"
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = 2 * time.Second
	}
	switch {
	case vp8 && c.Preset != "":
		return c, fmt.Errorf("preset %q: VP8 has no presets, leave it empty", c.Preset)
	case c.Width < 2 || c.Height < 2 || c.Width > 8192 || c.Height > 8192 || c.Width%2 != 0 || c.Height%2 != 0:
		return c, fmt.Errorf("size %dx%d: width and height must be even, 2–8192", c.Width, c.Height)
	case math.IsNaN(c.FrameRate) || c.FrameRate < 1 || c.FrameRate > 60:
		return c, fmt.Errorf("frame rate %v: must be 1–60", c.FrameRate)
	case c.Bitrate < 1:
		return c, fmt.Errorf("bitrate %d: must be positive", c.Bitrate)
	case !vp8 && CheckPreset(c.Preset) != nil:
		return c, CheckPreset(c.Preset)
	case c.KeyframeInterval < 0 || c.KeyframeInterval > time.Hour:
		return c, fmt.Errorf("keyframe interval %v: must be positive, at most 1 h", c.KeyframeInterval)
	case c.Threads < 0:
		return c, fmt.Errorf("threads %d: must be ≥ 0", c.Threads)
	}
	return c, nil
}

// VideoEncoder encodes media.VideoFrame pictures to H.264 with libx264 or
// to VP8 with libvpx (VideoConfig.Codec). The default, "h264", is
// configured for live streaming to RTMP and HLS:
//
//   - Main profile, yuv420p, limited range, BT.709 signalled in the VUI.
//     Main rather than High: browsers receiving WebRTC (a WHEP view of a
//     composition) decode up to Main (Chromium offers 42e01f, 42001f and
//     4d001f), and every RTMP/HLS player decodes it too. High's 8×8
//     transform buys little here: at the same bitrate, 720p30 at veryfast
//     measured −0.01 dB PSNR with Main on a noisy test pattern at
//     2.5 Mbit/s and +0.2 dB on a clean one at 1 Mbit/s.
//   - tune zerolatency and no B-frames: one packet out per frame in, PTS =
//     DTS, no reordering delay.
//   - A keyframe (IDR, closed GOP) exactly every GOP frames, and only
//     there: scene-cut detection is off, so an HLS segmenter cutting on
//     keyframes gets segments of exactly KeyframeInterval.
//   - Bitrate with the VBV at maxrate = Bitrate and a one-second buffer
//     (x264 runs this as CBR, without filler), so the rate holds second by
//     second: any one-second window carries at most twice Bitrate, a
//     keyframe included, and ten seconds land within a few per cent.
//   - Global header: SPS and PPS are in the extradata (Stream), not
//     repeated in the packets. FLV needs it this way; the MPEG-TS muxer
//     puts them back in front of each keyframe.
//
// The WebRTC codecs keep the timing, the fixed GOP and the rate control,
// and differ in the bitstream:
//
//   - "h264-baseline": Constrained Baseline profile (x264's baseline: no
//     CABAC, no 8×8 transform, no B-frames; level derived from size and
//     rate), no global header: every IDR carries SPS and PPS in-band, so a
//     receiver can start at any keyframe. Packets are Annex B access
//     units; StreamInfo.Extradata is empty.
//   - "vp8": libvpx with deadline realtime at a fixed speed (cpu-used
//     -6), error-resilient mode, no lag (lag_in_frames 0, no alternate
//     reference frames), CBR at Bitrate with a one-second buffer, a
//     keyframe every GOP frames. Packets are raw VP8 frames;
//     StreamInfo.Extradata is empty.
//
// ForceKeyframe makes the next frame a keyframe (an IDR for H.264), as a
// WebRTC sender does when a receiver asks with a PLI.
//
// Steady state costs one Go allocation per frame: the copy of the packet
// into Packet.Data. A VideoEncoder is not safe for concurrent use.
type VideoEncoder struct {
	codec
	cfg      VideoConfig
	rate     C.AVRational // frames per second; the time base is its inverse
	gop      int
	next     int64 // the smallest tick the next frame may have
	started  bool
	forceKey bool // the next frame is to be a keyframe
	sinceKey int  // frames since the last keyframe, that one included
}

// vp8Speed is libvpx's cpu-used for VP8 in real-time mode. Its size sets
// the speed, 0–16, faster and coarser as it grows; a negative value fixes
// it, where a positive one lets libvpx change it frame by frame with the
// time encoding takes, so that the output would depend on the machine's
// load. Speed 6 is WebRTC's choice on desktops: 720p takes about 5 ms a
// frame on one core, no more than speed 8 or an adaptive cpu-used 8, at
// a better quality.
const vp8Speed = "-6"

// NewVideoEncoder opens libx264 or libvpx with cfg.
func NewVideoEncoder(cfg VideoConfig) (e *VideoEncoder, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("av: new video encoder: %w", err)
	}
	e = &VideoEncoder{cfg: cfg, rate: C.av_d2q(C.double(cfg.FrameRate), 1001000)}
	defer func() {
		if err != nil {
			e.Close()
			e = nil
		}
	}()
	lib := "libx264"
	if cfg.Codec == codecVP8 {
		lib = "libvpx"
	}
	codec, err := e.alloc(lib, "video")
	if err != nil {
		return e, err
	}
	e.gop = max(1, int(math.Round(cfg.FrameRate*cfg.KeyframeInterval.Seconds())))
	c := e.ctx
	c.width, c.height = C.int(cfg.Width), C.int(cfg.Height)
	c.pix_fmt = C.AV_PIX_FMT_YUV420P
	c.color_range = C.AVCOL_RANGE_MPEG
	c.color_primaries = C.AVCOL_PRI_BT709
	c.color_trc = C.AVCOL_TRC_BT709
	c.colorspace = C.AVCOL_SPC_BT709
	c.sample_aspect_ratio = C.AVRational{1, 1}
	c.framerate = e.rate
	c.time_base = C.AVRational{e.rate.den, e.rate.num}
	c.gop_size = C.int(e.gop)
	c.max_b_frames = 0
	c.bit_rate = C.int64_t(cfg.Bitrate)
	c.rc_max_rate = C.int64_t(cfg.Bitrate)
	c.rc_buffer_size = C.int(min(cfg.Bitrate, math.MaxInt32))
	if cfg.Threads > 0 {
		c.thread_count = C.int(cfg.Threads)
	}

	var opts [][2]string
	switch cfg.Codec {
	case codecH264:
		c.flags |= C.AV_CODEC_FLAG_GLOBAL_HEADER
		opts = [][2]string{
			{"preset", cfg.Preset},
			{"tune", "zerolatency"},
			{"profile", "main"},
			// forced-idr: ForceKeyframe gives an IDR, not a recovery point.
			{"forced-idr", "1"},
			// scenecut=0: keyframes only every GOP frames; open-gop=0: every
			// keyframe is an IDR a player can start from.
			{"x264-params", "scenecut=0:open-gop=0"},
		}
	case codecH264Baseline:
		// No global header: x264 writes SPS and PPS in front of every IDR
		// (repeat-headers, said again here for the reader).
		opts = [][2]string{
			{"preset", cfg.Preset},
			{"tune", "zerolatency"},
			{"profile", "baseline"},
			{"forced-idr", "1"},
			{"x264-params", "scenecut=0:open-gop=0:repeat-headers=1:annexb=1"},
		}
	case codecVP8:
		// rc_min_rate = rc_max_rate = bit_rate makes FFmpeg choose VPX_CBR.
		c.rc_min_rate = C.int64_t(cfg.Bitrate)
		// libvpx would put keyframes on a grid counted from the first
		// frame, whatever was forced in between; Encode places them
		// itself, GOP frames after the last one, as x264 does.
		c.gop_size = math.MaxInt32
		opts = [][2]string{
			{"deadline", "realtime"},
			{"cpu-used", vp8Speed},
			{"error-resilient", "default"},
			{"lag-in-frames", "0"},
			{"auto-alt-ref", "0"},
		}
	}
	if err := e.open(codec, lib, "video", opts, fmt.Sprintf("%s, %dx%d, %v fps, %d bps, preset %q",
		cfg.Codec, cfg.Width, cfg.Height, cfg.FrameRate, cfg.Bitrate, cfg.Preset)); err != nil {
		return e, err
	}
	streamCodec := codecH264
	if cfg.Codec == codecVP8 {
		streamCodec = codecVP8
	}
	e.info = StreamInfo{
		Kind:         Video,
		Codec:        streamCodec,
		Bitrate:      cfg.Bitrate,
		Extradata:    C.GoBytes(unsafe.Pointer(c.extradata), c.extradata_size),
		Width:        cfg.Width,
		Height:       cfg.Height,
		FrameRateNum: int(e.rate.num),
		FrameRateDen: int(e.rate.den),
	}
	return e, nil
}

// Config returns the configuration in use, defaults filled in.
func (e *VideoEncoder) Config() VideoConfig { return e.cfg }

// GOP returns the number of frames from one keyframe to the next.
func (e *VideoEncoder) GOP() int { return e.gop }

// Encode encodes f, which must have the configured size, and calls emit
// with each packet that comes out (with zerolatency, one per frame) before
// it returns. f.PTS is on the composition clock; it is rounded to the
// nearest frame tick (1/FrameRate), and a frame whose tick is not after
// the previous frame's is given the next tick, so timestamps always
// increase. Keyframes come every GOP frames counted from the first, so
// callers must deliver every tick (repeating a picture rather than
// skipping one) for keyframes to stay KeyframeInterval apart in time.
// f is not retained; emit owns each Packet's Data.
//
// After ForceKeyframe the frame is coded as a keyframe, and the GOP count
// starts again from it: the next regular keyframe comes GOP frames later.
func (e *VideoEncoder) Encode(f *media.VideoFrame, emit func(Packet)) error {
	if e == nil || e.closed {
		return fmt.Errorf("av: encode video: %w", ErrClosed)
	}
	if e.flushed {
		return errors.New("av: encode video: encoder already flushed")
	}
	if f == nil {
		return errors.New("av: encode video: nil frame")
	}
	if f.Width != e.cfg.Width || f.Height != e.cfg.Height {
		return fmt.Errorf("av: encode video: frame is %dx%d, encoder %dx%d", f.Width, f.Height, e.cfg.Width, e.cfg.Height)
	}
	if err := CopyToAV(e.frame, f); err != nil {
		return fmt.Errorf("av: encode video: %w", err)
	}
	tick := rescale(int64(f.PTS), int64(e.rate.num), int64(e.rate.den)*int64(time.Second))
	if e.started && tick < e.next {
		tick = e.next
	}
	first := !e.started
	e.started, e.next = true, tick+1
	// Every encoder makes the first frame a keyframe; x264 places the
	// regular ones, libvpx is told.
	key := first || e.forceKey || (e.cfg.Codec == codecVP8 && e.sinceKey >= e.gop)
	cf := cFrame(e.frame)
	cf.pts = C.int64_t(tick)
	cf.pict_type = C.AV_PICTURE_TYPE_NONE
	if key && !first {
		// libx264 (forced-idr) makes it an IDR, libvpx a keyframe.
		cf.pict_type = C.AV_PICTURE_TYPE_I
	}
	cf.sample_aspect_ratio = C.AVRational{1, 1}
	if ret := C.avcodec_send_frame(e.ctx, cf); ret < 0 {
		return fmt.Errorf("av: encode video: sending frame (pts %v): %w", f.PTS, astiav.Error(ret))
	}
	e.forceKey = false
	if key {
		e.sinceKey = 0
	}
	e.sinceKey++
	return e.drain(emit)
}

// ForceKeyframe makes the next frame given to Encode a keyframe: an IDR
// with SPS and PPS in front for "h264-baseline", an IDR for "h264", a
// keyframe for "vp8". It is what a WebRTC sender does on a PLI or FIR.
// Calls before that frame add nothing; after Close it does nothing.
func (e *VideoEncoder) ForceKeyframe() {
	if e == nil || e.closed {
		return
	}
	e.forceKey = true
}

// Flush drains the encoder: every packet still inside goes to emit. After
// Flush, Encode fails; Flush again does nothing.
func (e *VideoEncoder) Flush(emit func(Packet)) error {
	if e == nil || e.closed {
		return fmt.Errorf("av: flush video: %w", ErrClosed)
	}
	if e.flushed {
		return nil
	}
	e.flushed = true
	if ret := C.avcodec_send_frame(e.ctx, nil); ret < 0 {
		return fmt.Errorf("av: flush video: %w", astiav.Error(ret))
	}
	return e.drain(emit)
}

// drain passes every packet the encoder has ready to emit.
func (e *VideoEncoder) drain(emit func(Packet)) error {
	return receivePackets(e.ctx, e.pkt, "video", e.packet, emit)
}

// packet copies e.pkt into a Packet on the composition clock.
func (e *VideoEncoder) packet() Packet {
	k := e.pkt
	dur := int64(k.duration)
	if dur <= 0 {
		dur = 1
	}
	pts := e.tickTime(int64(k.pts))
	dts := pts
	if int64(k.dts) != math.MinInt64 { // AV_NOPTS_VALUE
		dts = e.tickTime(int64(k.dts))
	}
	data := packetData(k)
	return Packet{
		Kind:     Video,
		Data:     data,
		PTS:      pts,
		DTS:      dts,
		Duration: e.tickTime(int64(k.pts)+dur) - pts,
		Keyframe: k.flags&C.AV_PKT_FLAG_KEY != 0,
	}
}

// tickTime converts a time in frame ticks to the composition clock.
func (e *VideoEncoder) tickTime(t int64) time.Duration {
	return time.Duration(rescale(t, int64(e.rate.den)*int64(time.Second), int64(e.rate.num)))
}

// Close frees the encoder without flushing it. It may be called more than
// once.
func (e *VideoEncoder) Close() {
	if e == nil || e.closed {
		return
	}
	e.free()
}
