package publisher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/h264"
)

// RTMPConfig describes one synthetic participant publishing over RTMP(S),
// as an encoder (OBS, ffmpeg) does. The zero value of every field but URL
// is usable.
type RTMPConfig struct {
	// URL is rtmp://host[:port]/app/<streamKey> or rtmps://…: the last
	// path segment is the stream key, the rest the application.
	URL string
	// TLS configures the TLS of rtmps:// (the server name defaults to the
	// URL's host); nil trusts the system's roots.
	TLS *tls.Config
	// CAFile, when set, names a PEM file of the certificates rtmps://
	// trusts, instead of TLS.RootCAs.
	CAFile string
	// Name is drawn large on the picture.
	Name string
	// Width and Height are the picture size, even; default 320×180.
	Width, Height int
	// FPS is the frame rate, 1–60; default 30.
	FPS float64
	// Bitrate is the video bitrate in bits per second; default 500,000.
	Bitrate int
	// KeyframeInterval is the distance between keyframes; 0 takes
	// internal/av's default (2 s).
	KeyframeInterval time.Duration
	// ToneHz is the frequency of the sine tone sent as audio (AAC-LC,
	// 48 kHz stereo); 0 sends silence.
	ToneHz float64
	// Beeps is Config's.
	Beeps bool
	// Timeout bounds StartRTMP's connection (TCP, TLS, the RTMP handshake,
	// connect and publish); default 10 s. The context passed to StartRTMP
	// bounds it too.
	Timeout time.Duration
	// Logger receives the publisher's logs; default slog.Default().
	Logger *slog.Logger
}

// aacBitrate is the RTMP publisher's audio bitrate: plenty for a stereo
// tone.
const aacBitrate = 96_000

// withDefaults fills in the defaults and validates c; mc holds the
// picture and sound settings in the terms of Config.
func (c RTMPConfig) withDefaults() (_ RTMPConfig, mc Config, err error) {
	mc, err = Config{Name: c.Name, Codec: "h264", Width: c.Width, Height: c.Height, FPS: c.FPS, Bitrate: c.Bitrate,
		KeyframeInterval: c.KeyframeInterval, ToneHz: c.ToneHz, Beeps: c.Beeps}.withMediaDefaults()
	if err != nil {
		return c, mc, err
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return c, mc, errors.New("no RTMP URL")
	case err != nil:
		return c, mc, fmt.Errorf("RTMP URL: %w", err)
	case u.Scheme != "rtmp" && u.Scheme != "rtmps" || u.Host == "" || path.Base(u.Path) == "/" || path.Base(u.Path) == ".":
		return c, mc, fmt.Errorf("RTMP URL %q: want rtmp[s]://host/app/streamKey", redactStreamKey(c.URL))
	case c.Timeout < 0:
		return c, mc, fmt.Errorf("timeout %v: negative", c.Timeout)
	}
	return c, mc, nil
}

// tlsConfig is the TLS configuration of rtmps://: TLS, with CAFile's
// certificates as the roots when it is set.
func (c RTMPConfig) tlsConfig() (*tls.Config, error) {
	if c.CAFile == "" {
		return c.TLS, nil
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s: no PEM certificate", c.CAFile)
	}
	t := &tls.Config{}
	if c.TLS != nil {
		t = c.TLS.Clone()
	}
	t.RootCAs = roots
	return t, nil
}

// redactStreamKey shows an RTMP URL with its stream key cut to its first
// 8 characters, as logs and errors show it.
func redactStreamKey(u string) string {
	if i := strings.LastIndexByte(u, '/') + 1; len(u)-i > 8 {
		return u[:i+8] + "…"
	}
	return u
}

// RTMPPublisher is one synthetic participant publishing over RTMP(S): the
// pictures and the tone of a WHIP Publisher, as H.264 constrained baseline
// (no B-frames) and AAC-LC, drawn and encoded live. Its methods are safe
// for concurrent use.
type RTMPPublisher struct {
	publishing
	cfg    RTMPConfig
	client *gortmplib.Client
	gen    *Generator
	venc   videoEncoder
	aenc   audioEncoder

	mu     sync.Mutex // serializes the writes of the loops
	writer *gortmplib.Writer
	video  *gortmplib.Track
	audio  *gortmplib.Track
	asc    *mpeg4audio.AudioSpecificConfig

	loops     sync.WaitGroup // the video and audio loops
	reader    sync.WaitGroup // drains what the server sends
	closeOnce sync.Once
}

// StartRTMP publishes one synthetic participant over RTMP(S): it opens the
// encoders, connects to cfg.URL (TCP, TLS for rtmps://, the RTMP
// handshake, connect and publish with the stream key), bounded by ctx and
// cfg.Timeout, and starts sending. The stream begins with the metadata and
// the sequence headers (H.264's SPS and PPS, taken from the first
// keyframe, and AAC's AudioSpecificConfig); then every 1/FPS a picture,
// timestamped with its capture time since the start, and the tone in AAC
// frames on the same clock (those encoded before the first picture are
// dropped). A server that refuses the publish or closes the connection
// ends it (Done, ErrDisconnected). ctx bounds only StartRTMP; Close ends
// the publishing.
func StartRTMP(ctx context.Context, cfg RTMPConfig) (_ *RTMPPublisher, err error) {
	cfg, mc, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &RTMPPublisher{
		publishing: newPublishing(cfg.Logger.With("publisher", cfg.Name)),
		cfg:        cfg,
		gen:        NewGenerator(mc.Width, mc.Height, mc.Name, nil),
	}
	defer func() {
		if err != nil {
			p.finish(err)
			p.teardown()
			err = fmt.Errorf("publisher: %w", err)
		}
	}()
	if p.venc, err = newVideoEncoder(mc); err != nil {
		return nil, err
	}
	aenc, err := av.NewAudioEncoder(av.AudioConfig{Codec: "aac", Bitrate: aacBitrate})
	if err != nil {
		return nil, err
	}
	p.aenc = aenc
	p.asc = &mpeg4audio.AudioSpecificConfig{}
	if err = p.asc.Unmarshal(aenc.Stream().Extradata); err != nil {
		return nil, fmt.Errorf("AAC config: %w", err)
	}
	if err = p.connect(ctx); err != nil {
		return nil, err
	}
	p.reader.Go(p.drain)
	start := p.begin()
	p.loops.Go(func() { p.videoLoop(start, mc.FPS, p.gen, p.venc, nil, p.sendVideo) })
	p.loops.Go(func() { p.audioLoop(start, tone{hz: mc.ToneHz, beeps: mc.Beeps}, p.aenc, p.sendAudio) })
	p.log.Info("publishing over RTMP", "url", redactStreamKey(cfg.URL), "size", fmt.Sprintf("%dx%d", mc.Width, mc.Height), "fps", mc.FPS)
	return p, nil
}

// connect dials the server and publishes with the stream key, bounded by
// ctx and the timeout.
func (p *RTMPPublisher) connect(ctx context.Context) error {
	u, err := url.Parse(p.cfg.URL)
	if err != nil {
		return err
	}
	// gortmplib takes the stream key as the fragment; the path is the
	// application.
	app, key := path.Split(u.Path)
	u.Path, u.RawPath, u.Fragment = strings.TrimSuffix(app, "/"), "", key
	tc, err := p.cfg.tlsConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	p.client = &gortmplib.Client{URL: u, Publish: true, TLSConfig: tc}
	if err := p.client.Initialize(ctx); err != nil {
		p.client = nil
		return fmt.Errorf("RTMP publish to %s: %w", redactStreamKey(p.cfg.URL), err)
	}
	return nil
}

// drain reads and drops what the server sends once publishing (window
// acknowledgements, at most): the connection ending, by the server or by
// Close, ends the publishing.
func (p *RTMPPublisher) drain() {
	_, err := io.Copy(io.Discard, p.client.NetConn())
	if err == nil {
		err = io.EOF
	}
	if p.finish(fmt.Errorf("%w: %v", ErrDisconnected, err)) {
		p.log.Warn("connection lost", "err", err)
	}
}

// sendVideo writes a coded picture: the first one, a keyframe with SPS
// and PPS in-band, starts the stream with its sequence headers. False
// means stop.
func (p *RTMPPublisher) sendVideo(pkt av.Packet) bool {
	var au [][]byte
	var sps, pps []byte
	for n := range h264.NALs(pkt.Data) {
		au = append(au, n)
		switch h264.TypeOf(n) {
		case h264.SPS:
			sps = n
		case h264.PPS:
			pps = n
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.writer == nil {
		if sps == nil || pps == nil {
			p.fail(errors.New("publisher: the first coded picture has no SPS and PPS"))
			return false
		}
		p.video = &gortmplib.Track{Codec: &codecs.H264{SPS: sps, PPS: pps}}
		p.audio = &gortmplib.Track{Codec: &codecs.MPEG4Audio{Config: p.asc}}
		w := &gortmplib.Writer{Conn: p.client, Tracks: []*gortmplib.Track{p.video, p.audio}}
		if err := w.Initialize(); err != nil {
			return p.broken(err)
		}
		p.writer = w
	}
	ts := max(0, pkt.PTS)
	if err := p.writer.WriteH264(p.video, ts, ts, au); err != nil {
		return p.broken(err)
	}
	p.bytes.Add(uint64(len(pkt.Data)))
	return true
}

// sendAudio writes an AAC frame, once the stream has started; before, it
// is dropped. False means stop.
func (p *RTMPPublisher) sendAudio(pkt av.Packet) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.writer == nil {
		return true
	}
	if err := p.writer.WriteMPEG4Audio(p.audio, max(0, pkt.PTS), pkt.Data); err != nil {
		return p.broken(err)
	}
	p.bytes.Add(uint64(len(pkt.Data)))
	return true
}

// broken ends the publishing on a failed write; false, to stop the loop.
func (p *RTMPPublisher) broken(err error) bool {
	if p.finish(fmt.Errorf("%w: %v", ErrDisconnected, err)) {
		p.log.Warn("connection lost", "err", err)
	}
	return false
}

// Stats returns the counters so far (the RTP and PLI counts stay zero).
func (p *RTMPPublisher) Stats() Stats { return p.stats() }

// Close stops the sending, closes the connection and waits for every
// goroutine of the publisher to end. It may be called more than once.
func (p *RTMPPublisher) Close() {
	p.closeOnce.Do(func() {
		p.finish(ErrClosed)
		p.teardown()
		p.log.Info("closed", "frames", p.frames.Load(), "bytes", p.bytes.Load())
	})
}

// teardown releases everything, after finish: it closes the connection,
// waits for the loops and the reader and frees the encoders.
func (p *RTMPPublisher) teardown() {
	if p.client != nil {
		p.client.Close()
	}
	p.loops.Wait()
	p.reader.Wait()
	if p.venc != nil {
		p.venc.Close()
	}
	if p.aenc != nil {
		p.aenc.Close()
	}
}
