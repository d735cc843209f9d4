package av

/*
#cgo pkg-config: libavformat libavcodec libavutil
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>

// tsr_guard is what the interrupt callback of a Muxer looks at. It lives in
// C memory (FFmpeg keeps a pointer to it) and is only touched atomically,
// so that any goroutine may interrupt an operation running on another one.
typedef struct {
	atomic_int abort;       // set by Interrupt: everything stops for good
	atomic_llong deadline;  // CLOCK_MONOTONIC ns; 0: no deadline armed
	atomic_int expired;     // the armed deadline stopped an operation
} tsr_guard;

static long long tsr_now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

// tsr_interrupt is the AVIOInterruptCB: FFmpeg's network code calls it at
// least every 100 ms while it waits (connect, poll for read or write), and
// gives up with AVERROR_EXIT when it returns non-zero.
static int tsr_interrupt(void *opaque) {
	tsr_guard *g = opaque;
	if (atomic_load(&g->abort)) return 1;
	long long d = atomic_load(&g->deadline);
	if (d && tsr_now() > d) {
		atomic_store(&g->expired, 1);
		return 1;
	}
	return 0;
}

static tsr_guard *tsr_guard_new(void) { return calloc(1, sizeof(tsr_guard)); }
static void tsr_guard_abort(tsr_guard *g) { atomic_store(&g->abort, 1); }
static int tsr_guard_aborted(tsr_guard *g) { return atomic_load(&g->abort); }
static int tsr_guard_expired(tsr_guard *g) { return atomic_load(&g->expired); }

static void tsr_guard_arm(tsr_guard *g, long long timeout) {
	atomic_store(&g->expired, 0);
	atomic_store(&g->deadline, timeout > 0 ? tsr_now() + timeout : 0);
}

static void tsr_guard_disarm(tsr_guard *g) { atomic_store(&g->deadline, 0); }

static void tsr_set_interrupt(AVFormatContext *fc, tsr_guard *g) {
	fc->interrupt_callback.callback = tsr_interrupt;
	fc->interrupt_callback.opaque = g;
}

static int tsr_open_io(AVFormatContext *fc, const char *url, AVDictionary **opts) {
	return avio_open2(&fc->pb, url, AVIO_FLAG_WRITE, &fc->interrupt_callback, opts);
}

// tsr_next_file writes out every packet the muxer holds (the interleaving
// queue, then the fragment being built), closes the output and goes on in
// a new one at url.
static int tsr_next_file(AVFormatContext *fc, const char *url, AVDictionary **opts) {
	int ret = av_interleaved_write_frame(fc, NULL);
	if (ret < 0) return ret;
	ret = av_write_frame(fc, NULL);
	if (ret < 0) return ret;
	avio_flush(fc->pb);
	if (fc->pb->error < 0) return fc->pb->error;
	ret = avio_closep(&fc->pb);
	if (ret < 0) return ret;
	return tsr_open_io(fc, url, opts);
}

static int tsr_needs_file(AVFormatContext *fc) {
	return !(fc->oformat->flags & AVFMT_NOFILE);
}

static AVStream *tsr_stream(AVFormatContext *fc, int i) { return fc->streams[i]; }

static int tsr_set_extradata(AVCodecParameters *par, const void *data, int size) {
	par->extradata = av_mallocz(size + AV_INPUT_BUFFER_PADDING_SIZE);
	if (!par->extradata) return AVERROR(ENOMEM);
	memcpy(par->extradata, data, size);
	par->extradata_size = size;
	return 0;
}

// tsr_write copies size bytes of data into a new packet with timestamps in
// nanoseconds rescaled to the stream's time base, and hands it to the
// interleaving writer (which takes the packet's reference).
static int tsr_write(AVFormatContext *fc, AVPacket *pkt, int stream, const void *data, int size,
		int64_t pts, int64_t dts, int64_t dur, int key) {
	AVRational ns = {1, 1000000000};
	AVRational tb = fc->streams[stream]->time_base;
	int ret = av_new_packet(pkt, size);
	if (ret < 0) return ret;
	memcpy(pkt->data, data, size);
	pkt->stream_index = stream;
	pkt->pts = av_rescale_q_rnd(pts, ns, tb, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	pkt->dts = av_rescale_q_rnd(dts, ns, tb, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	pkt->duration = av_rescale_q_rnd(dur, ns, tb, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
	if (key) pkt->flags |= AV_PKT_FLAG_KEY;
	ret = av_interleaved_write_frame(fc, pkt);
	av_packet_unref(pkt);
	return ret;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/asticode/go-astiav"

	"github.com/tessera-media/tessera/internal/h264"
)

// ErrInterrupted is returned (wrapped) by a Muxer's operations after
// Interrupt, or after the context that bounds them ended.
var ErrInterrupted = errors.New("av: interrupted")

// ErrTimeout is returned (wrapped) when a network wait of a Muxer took
// longer than MuxOptions.Timeout.
var ErrTimeout = errors.New("av: network timeout")

// DefaultMuxTimeout bounds every network wait of a Muxer whose
// MuxOptions.Timeout is zero.
const DefaultMuxTimeout = 10 * time.Second

// StreamInfo describes an encoded elementary stream well enough for a
// muxer to declare it: what (*VideoEncoder).Stream and
// (*AudioEncoder).Stream return. It is a plain value that does not refer to
// the encoder, so one StreamInfo can open any number of muxers (an RTMP
// connection and each HLS segment), also after the encoder is closed.
type StreamInfo struct {
	Kind Kind
	// Codec is FFmpeg's codec name: "h264", "aac", and for WebRTC publishers "vp8" or "opus".
	Codec string
	// Bitrate is the target bitrate in bits per second (informative).
	Bitrate int
	// Extradata is the codec's global header: H.264 SPS and PPS in Annex B
	// form, or the AAC AudioSpecificConfig. FLV sends it as the sequence
	// header; MPEG-TS repeats the SPS/PPS in front of every keyframe.
	Extradata []byte

	// Video.
	Width, Height int
	// FrameRateNum/FrameRateDen is the frame rate in frames per second.
	FrameRateNum, FrameRateDen int

	// Audio.
	SampleRate, Channels int
	// FrameSize is the number of samples per channel in each packet.
	FrameSize int
}

// CodecString returns the stream's codec in RFC 6381 form, as HLS
// playlists want it in CODECS: "avc1.PPCCLL" from the SPS in Extradata
// (profile, constraint flags, level), "mp4a.40.N" from the AAC
// AudioSpecificConfig (N the audio object type, 2 for AAC-LC). It returns
// "" when Extradata does not say.
func (s StreamInfo) CodecString() string {
	switch s.Codec {
	case "h264":
		if sps := findSPS(s.Extradata); len(sps) >= 4 {
			return fmt.Sprintf("avc1.%02x%02x%02x", sps[1], sps[2], sps[3])
		}
	case "aac":
		if len(s.Extradata) >= 1 {
			if aot := s.Extradata[0] >> 3; aot > 0 && aot < 31 {
				return "mp4a.40." + strconv.Itoa(int(aot))
			}
		}
	}
	return ""
}

// H264ParameterSets returns the sequence and picture parameter sets of an
// H.264 access unit in Annex B form (a keyframe of a stream without a
// global header carries them in-band), as Annex B data fit for
// StreamInfo.Extradata; nil if it has none. A fragmented MP4 Muxer needs
// them when it opens: its initialization section declares them.
func H264ParameterSets(au []byte) []byte {
	var out []byte
	for nal := range h264.NALs(au) {
		if t := h264.TypeOf(nal); t == h264.SPS || t == h264.PPS {
			out = append(append(out, 0, 0, 0, 1), nal...)
		}
	}
	return out
}

// findSPS returns the first sequence parameter set NAL unit (from its
// header byte) in Annex B data, or in an avcC record.
func findSPS(b []byte) []byte {
	if len(b) >= 8 && b[0] == 1 { // avcC: SPS count at 5, length at 6
		n := int(b[6])<<8 | int(b[7])
		if b[5]&0x1f > 0 && len(b) >= 8+n {
			return b[8 : 8+n]
		}
		return nil
	}
	for nal := range h264.NALs(b) {
		if h264.TypeOf(nal) == h264.SPS {
			return nal
		}
	}
	return nil
}

// MuxOptions configures a Muxer. The zero value is usable.
type MuxOptions struct {
	// Timeout bounds every wait on the network: opening (DNS excepted:
	// connecting, TLS and RTMP handshakes), each WritePacket, and Close.
	// An operation that takes longer fails with ErrTimeout; the Muxer is
	// then of no further use (Close it and open another). It is also
	// passed to FFmpeg as rw_timeout for network URLs. Zero means
	// DefaultMuxTimeout.
	Timeout time.Duration
	// DialContext, when not nil, bounds the opening like
	// net.Dialer.DialContext: if it ends before NewMuxer returns, NewMuxer
	// fails; once NewMuxer has returned, it no longer matters.
	DialContext context.Context
	// Context, when not nil, lives as long as the Muxer: when it ends, the
	// Muxer is interrupted as by Interrupt, whatever it is doing (opening,
	// writing or closing). A context that only bounds the connection
	// attempt belongs in DialContext.
	Context context.Context
	// CAFile names a PEM file of certificates to trust for rtmps (and
	// other TLS) URLs instead of the system's store.
	CAFile string
	// InsecureSkipVerify turns off checking the server's certificate for
	// TLS URLs. By default the certificate must be valid for the host
	// (FFmpeg's tls_verify=1, which FFmpeg itself leaves off).
	InsecureSkipVerify bool
	// FormatOptions are the muxer's private options (ffmpeg -h
	// muxer=flv), for example "mpegts_flags": "resend_headers". An option
	// the muxer does not know is an error. For FLV to a network URL,
	// "flvflags" defaults to "no_duration_filesize" (a live stream cannot
	// seek back to patch its header).
	FormatOptions map[string]string
}

// Muxer writes encoded packets into a container — FLV, MPEG-TS, or
// fragmented MP4 (FragmentedMP4) split into files with NextFile — at a
// URL: a file path, or rtmp:// or rtmps:// (any protocol FFmpeg knows).
//
// Every network wait is bounded by MuxOptions.Timeout, and Interrupt (or
// the end of MuxOptions.Context) aborts a blocked open, write or close
// from another goroutine within about 100 ms. Errors name the URL with
// RedactURL, never with its stream key.
//
// WritePacket and Close may be called from different goroutines (they are
// serialised); Interrupt may be called from any goroutine at any time,
// also during or after Close.
type Muxer struct {
	mu      sync.Mutex // serialises WritePacket and Close
	fc      *C.AVFormatContext
	pkt     *C.AVPacket
	index   [2]int // stream index of each Kind, -1 if absent
	format  string
	url     string // redacted
	timeout time.Duration
	ctx     context.Context // MuxOptions.Context
	dialCtx context.Context // MuxOptions.DialContext while opening
	stop    func() bool     // unregisters the Context's AfterFunc
	opened  bool            // fc->pb is open and ours to close
	header  bool            // the header was written: the trailer is due
	closed  bool

	gmu   sync.Mutex // guards guard against Interrupt racing with Close
	guard *C.tsr_guard
}

// NewMuxer opens url for writing format ("flv", "mpegts") with one output
// stream per entry of streams (at most one video and one audio stream),
// and writes the container header. Opening is bounded by opts.Timeout and
// opts.DialContext; for rtmp(s) it includes the TCP connection, the TLS
// and RTMP handshakes and the publish command.
func NewMuxer(format, url string, opts MuxOptions, streams ...StreamInfo) (m *Muxer, err error) {
	m = &Muxer{format: format, url: RedactURL(url), timeout: opts.Timeout, index: [2]int{-1, -1}, ctx: opts.Context}
	if m.timeout <= 0 {
		m.timeout = DefaultMuxTimeout
	}
	if format == "" || url == "" {
		return nil, fmt.Errorf("av: mux %q to %q: format and URL are required", format, m.url)
	}
	if len(streams) == 0 {
		return nil, m.errorf("no streams")
	}
	for _, ctx := range []context.Context{opts.DialContext, opts.Context} {
		if ctx != nil && ctx.Err() != nil {
			return nil, m.errorf("open: %w: %w", ErrInterrupted, context.Cause(ctx))
		}
	}
	defer func() {
		if err != nil {
			m.teardown()
			m = nil
		}
	}()

	m.guard = C.tsr_guard_new()
	m.pkt = C.av_packet_alloc()
	if m.guard == nil || m.pkt == nil {
		return m, m.errorf("allocation failed")
	}
	cformat, curl := C.CString(format), C.CString(url)
	defer C.free(unsafe.Pointer(cformat))
	defer C.free(unsafe.Pointer(curl))
	if ret := C.avformat_alloc_output_context2(&m.fc, nil, cformat, curl); ret < 0 || m.fc == nil {
		return m, m.errorf("unknown format: %w", astiav.Error(ret))
	}
	C.tsr_set_interrupt(m.fc, m.guard)
	if opts.Context != nil {
		m.stop = context.AfterFunc(opts.Context, m.Interrupt)
	}
	if opts.DialContext != nil {
		m.dialCtx = opts.DialContext
		stop := context.AfterFunc(opts.DialContext, m.Interrupt)
		defer func() {
			if !stop() && err == nil {
				// The dial context ended as the opening finished: the
				// Muxer is interrupted and of no use.
				err = m.errorf("open: %w: %w", ErrInterrupted, context.Cause(opts.DialContext))
			}
			m.dialCtx = nil
		}()
	}
	for i, s := range streams {
		if err := m.addStream(s); err != nil {
			return m, m.errorf("stream %d (%s): %w", i, s.Kind, err)
		}
	}

	network := strings.Contains(url, "://") && !strings.HasPrefix(url, "file:")
	if C.tsr_needs_file(m.fc) != 0 {
		var ioOpts *C.AVDictionary
		defer C.av_dict_free(&ioOpts)
		for k, v := range ioOptions(url, network, m.timeout, opts) {
			if err := dictSet(&ioOpts, k, v); err != nil {
				return m, m.errorf("%w", err)
			}
		}
		m.arm()
		ret := C.tsr_open_io(m.fc, curl, &ioOpts)
		m.disarm()
		if ret < 0 {
			return m, m.fail("open", ret)
		}
		m.opened = true
	}

	var fo *C.AVDictionary
	defer C.av_dict_free(&fo)
	for k, v := range opts.FormatOptions {
		if err := dictSet(&fo, k, v); err != nil {
			return m, m.errorf("%w", err)
		}
	}
	if _, ok := opts.FormatOptions["flvflags"]; !ok && network && format == "flv" {
		if err := dictSet(&fo, "flvflags", "no_duration_filesize"); err != nil {
			return m, m.errorf("%w", err)
		}
	}
	m.arm()
	ret := C.avformat_init_output(m.fc, &fo)
	m.disarm()
	if ret < 0 {
		return m, m.fail("init", ret)
	}
	if left := dictKeys(fo); left != "" {
		return m, m.errorf("format options the %s muxer does not know: %s", format, left)
	}
	m.arm()
	ret = C.avformat_write_header(m.fc, nil)
	m.disarm()
	if ret < 0 {
		return m, m.fail("write header", ret)
	}
	m.header = true
	return m, nil
}

// ioOptions are the protocol options for opening url: the I/O timeout for
// network URLs, and certificate checking for TLS ones (the rtmps protocol
// hands them down to tls).
func ioOptions(url string, network bool, timeout time.Duration, opts MuxOptions) map[string]string {
	o := map[string]string{}
	if !network {
		return o
	}
	o["rw_timeout"] = strconv.FormatInt(timeout.Microseconds(), 10)
	scheme := strings.ToLower(url[:strings.Index(url, "://")])
	if scheme == "rtmps" || scheme == "tls" || scheme == "https" {
		o["tls_verify"] = "1"
		if opts.InsecureSkipVerify {
			o["tls_verify"] = "0"
		}
		if opts.CAFile != "" {
			o["ca_file"] = opts.CAFile
		}
	}
	return o
}

// addStream declares s as the next output stream.
func (m *Muxer) addStream(s StreamInfo) error {
	if s.Kind != Video && s.Kind != Audio {
		return fmt.Errorf("unknown kind %d", s.Kind)
	}
	if m.index[s.Kind] >= 0 {
		return fmt.Errorf("a second %s stream", s.Kind)
	}
	cname := C.CString(s.Codec)
	defer C.free(unsafe.Pointer(cname))
	desc := C.avcodec_descriptor_get_by_name(cname)
	if desc == nil {
		return fmt.Errorf("unknown codec %q", s.Codec)
	}
	st := C.avformat_new_stream(m.fc, nil)
	if st == nil {
		return errors.New("allocating the stream failed")
	}
	par := st.codecpar
	par.codec_id = desc.id
	par.bit_rate = C.int64_t(s.Bitrate)
	switch s.Kind {
	case Video:
		if desc._type != C.AVMEDIA_TYPE_VIDEO {
			return fmt.Errorf("codec %q is not a video codec", s.Codec)
		}
		if s.Width < 1 || s.Height < 1 || s.FrameRateNum < 1 || s.FrameRateDen < 1 {
			return fmt.Errorf("size %dx%d, frame rate %d/%d", s.Width, s.Height, s.FrameRateNum, s.FrameRateDen)
		}
		par.codec_type = C.AVMEDIA_TYPE_VIDEO
		par.width, par.height = C.int(s.Width), C.int(s.Height)
		par.format = C.AV_PIX_FMT_YUV420P
		par.color_range = C.AVCOL_RANGE_MPEG
		par.sample_aspect_ratio = C.AVRational{1, 1}
		rate := C.AVRational{C.int(s.FrameRateNum), C.int(s.FrameRateDen)}
		st.avg_frame_rate, st.r_frame_rate = rate, rate
		st.time_base = C.AVRational{rate.den, rate.num} // a hint: FLV uses 1/1000, MPEG-TS 1/90000
	case Audio:
		if desc._type != C.AVMEDIA_TYPE_AUDIO {
			return fmt.Errorf("codec %q is not an audio codec", s.Codec)
		}
		if s.SampleRate < 1 || s.Channels < 1 {
			return fmt.Errorf("%d Hz, %d channels", s.SampleRate, s.Channels)
		}
		par.codec_type = C.AVMEDIA_TYPE_AUDIO
		par.sample_rate = C.int(s.SampleRate)
		C.av_channel_layout_default(&par.ch_layout, C.int(s.Channels))
		par.frame_size = C.int(s.FrameSize)
		par.format = C.AV_SAMPLE_FMT_FLTP
		st.time_base = C.AVRational{1, C.int(s.SampleRate)}
	}
	if n := len(s.Extradata); n > 0 {
		if ret := C.tsr_set_extradata(par, unsafe.Pointer(&s.Extradata[0]), C.int(n)); ret < 0 {
			return astiav.Error(ret)
		}
	}
	m.index[s.Kind] = int(st.index)
	return nil
}

// WritePacket writes p into the stream of its Kind. Timestamps are
// rescaled from the composition clock to the stream's time base (1 ms in
// FLV, 1/90000 s in MPEG-TS); FFmpeg interleaves the streams by DTS, so a
// packet may be held back until the other stream has caught up. DTS must
// increase within each stream. The wait for the network is bounded by
// MuxOptions.Timeout; after a network error, a timeout or an interrupt the
// Muxer is of no further use.
func (m *Muxer) WritePacket(p Packet) error {
	if m == nil {
		return fmt.Errorf("av: mux: write: %w", ErrClosed)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.errorf("write: %w", ErrClosed)
	}
	if p.Kind != Video && p.Kind != Audio || m.index[p.Kind] < 0 {
		return m.errorf("write: no %s stream", p.Kind)
	}
	if len(p.Data) == 0 {
		return m.errorf("write: empty %s packet", p.Kind)
	}
	if len(p.Data) > 1<<30 {
		return m.errorf("write: %s packet of %d bytes", p.Kind, len(p.Data))
	}
	key := C.int(0)
	if p.Keyframe {
		key = 1
	}
	m.arm()
	ret := C.tsr_write(m.fc, m.pkt, C.int(m.index[p.Kind]), unsafe.Pointer(&p.Data[0]), C.int(len(p.Data)),
		C.int64_t(p.PTS), C.int64_t(p.DTS), C.int64_t(p.Duration), key)
	m.disarm()
	if ret < 0 {
		return m.fail(fmt.Sprintf("write %s packet (pts %v)", p.Kind, p.PTS), ret)
	}
	return nil
}

// FragmentedMP4 are the format options of an "mp4" Muxer that writes
// fragmented MP4 for HLS: the header (ftyp and an empty moov: HLS's
// initialization section) comes first, then self-contained fragments
// (moof and mdat, default-base-is-moof) cut before every video keyframe
// and after at most fragment of media, each with its decode time (tfdt)
// taken from the packets' own timestamps, no edit list and no index at the
// end. A fragment is written when it is complete; fragment bounds what
// a crash can lose of the file being written.
func FragmentedMP4(fragment time.Duration) map[string]string {
	return map[string]string{
		"movflags":      "frag_keyframe+empty_moov+default_base_moof+frag_discont+skip_trailer",
		"frag_duration": strconv.FormatInt(fragment.Microseconds(), 10),
		"use_editlist":  "0",
		"flush_packets": "1",
	}
}

// NextFile writes out everything the Muxer holds — packets waiting to be
// interleaved and, for fragmented MP4, the fragment being built — closes
// the current file and goes on writing into a new one at url, without a
// new header. It is how a fragmented MP4 Muxer (FragmentedMP4) cuts HLS
// segments: the first file gets the initialization section, every later
// one the fragments written between two NextFile calls, which continue
// one time line. It is bounded by MuxOptions.Timeout; after an error the
// Muxer is of no further use (Close it).
func (m *Muxer) NextFile(url string) error {
	if m == nil {
		return fmt.Errorf("av: mux: next file: %w", ErrClosed)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return m.errorf("next file: %w", ErrClosed)
	}
	if !m.opened {
		return m.errorf("next file: the %s muxer writes no file", m.format)
	}
	var ioOpts *C.AVDictionary
	defer C.av_dict_free(&ioOpts)
	network := strings.Contains(url, "://") && !strings.HasPrefix(url, "file:")
	for k, v := range ioOptions(url, network, m.timeout, MuxOptions{}) {
		if err := dictSet(&ioOpts, k, v); err != nil {
			return m.errorf("%w", err)
		}
	}
	curl := C.CString(url)
	defer C.free(unsafe.Pointer(curl))
	m.arm()
	ret := C.tsr_next_file(m.fc, curl, &ioOpts)
	m.disarm()
	if ret < 0 {
		if m.fc.pb == nil {
			m.opened, m.header = false, false // nothing to write a trailer into
		}
		return m.fail("next file "+RedactURL(url), ret)
	}
	m.url = RedactURL(url)
	return nil
}

// Interrupt aborts the Muxer's current network wait, if any, and makes
// every later one fail at once: the operation returns an error wrapping
// ErrInterrupted. It may be called from any goroutine, any number of
// times, also after Close. An interrupted Muxer still has to be closed.
func (m *Muxer) Interrupt() {
	if m == nil {
		return
	}
	m.gmu.Lock()
	if m.guard != nil {
		C.tsr_guard_abort(m.guard)
	}
	m.gmu.Unlock()
}

// Close writes the trailer (when the header was written and the Muxer was
// not interrupted), closes the connection or file and frees everything.
// It is bounded by MuxOptions.Timeout. It may be called more than once;
// later calls return nil.
func (m *Muxer) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var err error
	if m.header && C.tsr_guard_aborted(m.guard) == 0 {
		m.arm()
		ret := C.av_write_trailer(m.fc)
		m.disarm()
		if ret < 0 {
			err = m.fail("write trailer", ret)
		}
	}
	if e := m.teardown(); err == nil {
		err = e
	}
	return err
}

// teardown closes the output and frees the FFmpeg objects and the guard.
func (m *Muxer) teardown() error {
	var err error
	if m.stop != nil {
		m.stop()
		m.stop = nil
	}
	if m.fc != nil {
		if m.opened {
			m.arm()
			ret := C.avio_closep(&m.fc.pb)
			m.disarm()
			m.opened = false
			if ret < 0 && C.tsr_guard_aborted(m.guard) == 0 {
				err = m.fail("close", ret)
			}
		}
		C.avformat_free_context(m.fc)
		m.fc = nil
	}
	if m.pkt != nil {
		C.av_packet_free(&m.pkt)
	}
	m.gmu.Lock()
	if m.guard != nil {
		C.free(unsafe.Pointer(m.guard))
		m.guard = nil
	}
	m.gmu.Unlock()
	return err
}

// arm starts the deadline of one bounded operation.
func (m *Muxer) arm() { C.tsr_guard_arm(m.guard, C.longlong(m.timeout)) }

// disarm ends it.
func (m *Muxer) disarm() { C.tsr_guard_disarm(m.guard) }

// fail turns FFmpeg's return code of operation op into an error, telling
// interrupts and timeouts apart from other failures.
func (m *Muxer) fail(op string, ret C.int) error {
	ffErr := astiav.Error(ret)
	switch {
	case C.tsr_guard_aborted(m.guard) != 0:
		for _, ctx := range []context.Context{m.dialCtx, m.ctx} {
			if ctx != nil && ctx.Err() != nil {
				return m.errorf("%s: %w: %w", op, ErrInterrupted, context.Cause(ctx))
			}
		}
		return m.errorf("%s: %w", op, ErrInterrupted)
	case C.tsr_guard_expired(m.guard) != 0:
		return m.errorf("%s: %w after %v", op, ErrTimeout, m.timeout)
	case errors.Is(ffErr, astiav.ErrEtimedout):
		return m.errorf("%s: %w after %v (%w)", op, ErrTimeout, m.timeout, ffErr)
	}
	return m.errorf("%s: %w", op, ffErr)
}

// errorf formats an error about this Muxer, naming it by its redacted URL.
func (m *Muxer) errorf(format string, args ...any) error {
	return fmt.Errorf("av: mux %s to %s: %w", m.format, m.url, fmt.Errorf(format, args...))
}

// dictSet sets key to value in *d.
func dictSet(d **C.AVDictionary, key, value string) error {
	ck, cv := C.CString(key), C.CString(value)
	defer C.free(unsafe.Pointer(ck))
	defer C.free(unsafe.Pointer(cv))
	if ret := C.av_dict_set(d, ck, cv, 0); ret < 0 {
		return fmt.Errorf("option %s=%s: %w", key, value, astiav.Error(ret))
	}
	return nil
}

// dictKeys lists the keys left in d (the options nobody took), or "".
func dictKeys(d *C.AVDictionary) string {
	var keys []string
	empty := C.CString("")
	defer C.free(unsafe.Pointer(empty))
	for e := C.av_dict_get(d, empty, nil, C.AV_DICT_IGNORE_SUFFIX); e != nil; e = C.av_dict_get(d, empty, e, C.AV_DICT_IGNORE_SUFFIX) {
		keys = append(keys, C.GoString(e.key))
	}
	return strings.Join(keys, ", ")
}

// redacted replaces secrets in URLs.
const redacted = "<redacted>"

// RedactURL returns u fit for logs and error messages. In rtmp URLs
// (rtmp, rtmps, rtmpt, …) the stream key — every path element after the
// application, or the only one — is replaced by "<redacted>"; in every
// URL the password and the query are. A local file path comes back as it
// is.
func RedactURL(u string) string {
	i := strings.Index(u, "://")
	if i < 0 {
		return u
	}
	p, err := url.Parse(u)
	if err != nil || p.Opaque != "" {
		return u[:i+3] + redacted
	}
	var b strings.Builder
	b.WriteString(p.Scheme + "://")
	if p.User != nil {
		b.WriteString(p.User.Username())
		if _, ok := p.User.Password(); ok {
			b.WriteString(":" + redacted)
		}
		b.WriteString("@")
	}
	b.WriteString(p.Host)
	path := p.Path
	if strings.HasPrefix(strings.ToLower(p.Scheme), "rtmp") {
		elems := strings.Split(strings.Trim(path, "/"), "/")
		switch {
		case len(elems) == 1 && elems[0] != "":
			path = "/" + redacted
		case len(elems) > 1:
			path = "/" + elems[0] + "/" + redacted
		}
	}
	b.WriteString(path)
	if p.RawQuery != "" || p.ForceQuery {
		b.WriteString("?" + redacted)
	}
	return b.String()
}

// rescale returns a·b/c rounded to the nearest integer (halves away from
// zero) without overflowing in between; b and c must be positive. A result
// beyond int64 saturates.
func rescale(a, b, c int64) int64 {
	neg := a < 0
	ua := uint64(a)
	if neg {
		ua = -ua
	}
	hi, lo := bits.Mul64(ua, uint64(b))
	lo, carry := bits.Add64(lo, uint64(c)/2, 0)
	hi += carry
	var q uint64
	if hi >= uint64(c) {
		q = 1<<63 - 1
	} else {
		q, _ = bits.Div64(hi, lo, uint64(c))
		q = min(q, 1<<63-1)
	}
	if neg {
		return -int64(q)
	}
	return int64(q)
}
