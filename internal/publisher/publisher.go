package publisher

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/pionlog"
	"github.com/tessera-media/tessera/media"
)

// Payload types and formats the publisher offers. H.264 is constrained
// baseline level 3.1 (up to 1280×720 at 30 fps) in packetization mode 1
// (FU-A and STAP-A), as browsers send it. Opus is stereo, with in-band FEC.
const (
	h264FMTP = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	opusFMTP = "minptime=10;useinbandfec=1;sprop-stereo=1;stereo=1"
	ptH264   = 102
	ptVP8    = 96
	ptOpus   = 111
)

// audioChunk is the audio the publisher generates at a time: 20 ms, one
// Opus packet.
const audioChunk = media.SampleRate / 50

// sentRing is how many recent frames SentAt remembers (over 30 s at 30 fps).
const sentRing = 1024

// Publisher is one synthetic participant publishing over WHIP. Its methods
// are safe for concurrent use.
type Publisher struct {
	cfg      Config
	log      *slog.Logger
	whip     *whipClient
	pc       *webrtc.PeerConnection
	loss     *lossInjector
	location string

	gen    *Generator
	venc   videoEncoder
	aenc   audioEncoder
	vtrack *webrtc.TrackLocalStaticSample
	atrack *webrtc.TrackLocalStaticSample

	pli       chan struct{} // PLI/FIR seen; the video loop forces a keyframe
	connected chan struct{} // closed once the PeerConnection is connected
	connOnce  sync.Once

	done     chan struct{} // closed by finish
	doneOnce sync.Once
	errMu    sync.Mutex
	err      error

	loops   sync.WaitGroup // the video and audio loops
	readers sync.WaitGroup // the RTCP readers; they end when pc closes

	closeOnce sync.Once
	closeErr  error

	sentMu sync.Mutex
	sent   [sentRing]sentFrame

	frames, keyframes, forced, plis, audioPackets, bytes atomic.Uint64
}

type sentFrame struct {
	n  uint32
	at time.Time
	ok bool
}

// Stats counts what a Publisher has done so far.
type Stats struct {
	// Frames is the number of video frames encoded and handed to the
	// track; Keyframes how many of the coded pictures were keyframes.
	Frames, Keyframes uint64
	// PLIs counts the PLI and FIR messages received; KeyframesForced the
	// keyframes they forced (several arriving within one frame force one).
	PLIs, KeyframesForced uint64
	// AudioPackets is the number of Opus packets handed to the track.
	AudioPackets uint64
	// Bytes is the encoded bytes (video and audio) handed to the tracks.
	Bytes uint64
	// RTPSent and RTPDropped count the RTP packets the loss injector let
	// through and dropped; RTPBytes is the size of those let through,
	// headers included.
	RTPSent, RTPDropped, RTPBytes uint64
}

// LossRate is the fraction of RTP packets the loss injector dropped.
func (s Stats) LossRate() float64 {
	if s.RTPSent+s.RTPDropped == 0 {
		return 0
	}
	return float64(s.RTPDropped) / float64(s.RTPSent+s.RTPDropped)
}

// Start publishes one synthetic participant: it builds the PeerConnection
// (loopback only), POSTs the offer to cfg.WHIP, applies the answer, waits
// until the connection is up and starts sending. Every step is bounded by
// ctx and cfg.Timeout. A non-201 answer is a *WHIPError. On any error
// nothing is left behind (the session is DELETEd if it was created).
// ctx bounds only Start; Close ends the publishing.
func Start(ctx context.Context, cfg Config) (_ *Publisher, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	p := &Publisher{
		cfg:       cfg,
		log:       cfg.Logger.With("publisher", cfg.Name),
		whip:      newWHIPClient(cfg.WHIP, cfg.Token, cfg.UserAgent, cfg.Timeout),
		loss:      newLossInjector(cfg.Loss, cfg.LossSeed),
		pli:       make(chan struct{}, 1),
		connected: make(chan struct{}),
		done:      make(chan struct{}),
	}
	defer func() {
		if err != nil {
			p.finish(err)
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.Timeout)
			defer cancel()
			_ = p.teardown(cctx)
			var we *WHIPError
			if !errors.As(err, &we) {
				err = fmt.Errorf("publisher: %w", err)
			}
		}
	}()

	if !cfg.NoVideo && cfg.Clip == nil {
		p.gen = NewGenerator(cfg.Width, cfg.Height, cfg.Name, cfg.Color)
		if p.venc, err = newVideoEncoder(cfg); err != nil {
			return nil, err
		}
	}
	if !cfg.NoAudio && cfg.Clip == nil {
		if p.aenc, err = newAudioEncoder(); err != nil {
			return nil, err
		}
	}
	if p.pc, err = p.newPeerConnection(); err != nil {
		return nil, err
	}
	if err = p.addTracks(); err != nil {
		return nil, err
	}
	p.pc.OnConnectionStateChange(p.onState)

	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return nil, fmt.Errorf("creating the offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err = p.pc.SetLocalDescription(offer); err != nil {
		return nil, fmt.Errorf("setting the offer: %w", err)
	}
	if err = wait(ctx, cfg.Timeout, gathered, "ICE gathering"); err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	answer, location, err := p.whip.offer(pctx, p.pc.LocalDescription().SDP)
	cancel()
	if err != nil {
		return nil, err
	}
	p.location = location
	p.log.Debug("WHIP session created", "location", redactLocation(location))
	if err = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return nil, fmt.Errorf("applying the answer: %w", err)
	}
	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	select {
	case <-p.connected:
	case <-p.done:
		return nil, fmt.Errorf("waiting for the connection: %w", p.Err())
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the connection: %w", context.Cause(ctx))
	case <-timer.C:
		return nil, fmt.Errorf("waiting for the connection: no connection after %v", cfg.Timeout)
	}
	start := time.Now()
	switch {
	case p.venc != nil:
		p.loops.Go(func() { p.videoLoop(start) })
	case p.vtrack != nil:
		p.loops.Go(func() { p.replayVideo(start) })
	}
	switch {
	case p.aenc != nil:
		p.loops.Go(func() { p.audioLoop(start) })
	case p.atrack != nil:
		p.loops.Go(func() { p.replayAudio(start) })
	}
	p.log.Info("publishing", "whip", cfg.WHIP, "codec", cfg.Codec, "size", fmt.Sprintf("%dx%d", cfg.Width, cfg.Height),
		"fps", cfg.FPS, "audio", !cfg.NoAudio, "video", !cfg.NoVideo, "loss", cfg.Loss, "replay", cfg.Clip != nil)
	return p, nil
}

// wait waits for ch, bounded by ctx and timeout.
func wait(ctx context.Context, timeout time.Duration, ch <-chan struct{}, what string) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, context.Cause(ctx))
	case <-t.C:
		return fmt.Errorf("%s: not done after %v", what, timeout)
	}
}

// loopback is the only address the publisher gathers candidates on and
// the only one it accepts from the server.
var loopback = net.IPv4(127, 0, 0, 1)

// newPeerConnection builds the PeerConnection: the codecs of cfg, the loss
// injector then pion's default interceptors (NACK responder, RTCP
// reports, TWCC), and ICE on 127.0.0.1 over UDP only, without mDNS.
func (p *Publisher) newPeerConnection() (*webrtc.PeerConnection, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	var vc webrtc.RTPCodecParameters
	if p.cfg.Codec == "vp8" {
		vc = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: ptVP8}
	} else {
		vc = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FMTP, RTCPFeedback: fb}, PayloadType: ptH264}
	}
	if err := m.RegisterCodec(vc, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	ac := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFMTP}, PayloadType: ptOpus}
	if err := m.RegisterCodec(ac, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	reg.Add(p.loss) // first: innermost, next to the network
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(loopbackSettings(p.log))).
		NewPeerConnection(webrtc.Configuration{})
}

// loopbackSettings confines ICE to 127.0.0.1 over UDP: loopback candidates
// included, every other local address filtered out, every remote candidate
// but 127.0.0.1 ignored, no mDNS; pion logs to log.
func loopbackSettings(log *slog.Logger) webrtc.SettingEngine {
	var s webrtc.SettingEngine
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetIPFilter(func(ip net.IP) bool { return ip.Equal(loopback) })
	s.SetRemoteIPFilter(func(ip net.IP) bool { return ip.Equal(loopback) })
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetICETimeouts(3*time.Second, 6*time.Second, time.Second)
	s.LoggerFactory = pionlog.New(log)
	return s
}

// streamID makes a media stream id out of the name.
var notID = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// addTracks adds the send-only tracks and starts their RTCP readers.
func (p *Publisher) addTracks() error {
	stream := "tessera-publisher"
	if id := notID.ReplaceAllString(p.cfg.Name, "-"); id != "" && id != "-" {
		stream = id
	}
	add := func(track *webrtc.TrackLocalStaticSample, video bool) error {
		tr, err := p.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("adding the %s track: %w", track.Kind(), err)
		}
		sender := tr.Sender()
		p.readers.Go(func() { p.readRTCP(sender, video) })
		return nil
	}
	var err error
	if !p.cfg.NoVideo {
		capab := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FMTP}
		if p.cfg.Codec == "vp8" {
			capab = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		}
		if p.vtrack, err = webrtc.NewTrackLocalStaticSample(capab, "video", stream); err != nil {
			return err
		}
		if err = add(p.vtrack, true); err != nil {
			return err
		}
	}
	if !p.cfg.NoAudio {
		capab := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFMTP}
		if p.atrack, err = webrtc.NewTrackLocalStaticSample(capab, "audio", stream); err != nil {
			return err
		}
		if err = add(p.atrack, false); err != nil {
			return err
		}
	}
	return nil
}

// readRTCP reads what the server sends about one track until the sender
// stops; reading is also what runs the interceptors' RTCP handling (NACK
// responder, reports). For video, PLI and FIR ask the video loop for a
// keyframe.
func (p *Publisher) readRTCP(sender *webrtc.RTPSender, video bool) {
	buf := make([]byte, 1500)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		if !video {
			continue
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			p.log.Debug("bad RTCP from the server", "err", err)
			continue
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				p.plis.Add(1)
				select {
				case p.pli <- struct{}{}:
				default: // one is pending already
				}
			}
		}
	}
}

// onState follows the PeerConnection: connected starts the sending;
// failed or closed ends the publishing.
func (p *Publisher) onState(s webrtc.PeerConnectionState) {
	p.log.Debug("connection state", "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		p.connOnce.Do(func() { close(p.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		if p.finish(fmt.Errorf("%w: connection %s", ErrDisconnected, s)) {
			p.log.Warn("connection lost", "state", s.String())
		}
	}
}

// finish records why the publishing ended, the first time it is called,
// and closes Done; it reports whether this call was the first.
func (p *Publisher) finish(err error) (first bool) {
	p.doneOnce.Do(func() {
		p.errMu.Lock()
		p.err = err
		p.errMu.Unlock()
		close(p.done)
		first = true
	})
	return first
}

// Done is closed when the publishing ends: Close was called, the
// connection failed or the server closed it, or sending failed. Close must
// still be called to release everything.
func (p *Publisher) Done() <-chan struct{} { return p.done }

// Err returns nil while Done is open, then why it closed: ErrClosed after
// Close, an error wrapping ErrDisconnected when the connection ended, or
// the error that stopped the sending.
func (p *Publisher) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// Location returns the URL of the WHIP session.
func (p *Publisher) Location() string { return p.location }

// ExchangeToken sends token to the session's token exchange (POST
// <Location>/token, authorized by Config.Token), bounded by ctx and
// Config.Timeout: the server takes the new token's attributes. An answer
// other than 2xx is a *WHIPError. Config.Token stays the publisher's
// token for the DELETE in Close (the server accepts either).
func (p *Publisher) ExchangeToken(ctx context.Context, token string) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	return p.whip.exchange(ctx, p.location, token)
}

// Close stops the sending, DELETEs the WHIP session (bounded by ctx and
// Config.Timeout), closes the PeerConnection and waits for every goroutine
// of the publisher to end. It may be called more than once; every call
// returns the first one's result: nil, or why the DELETE or the close
// failed.
func (p *Publisher) Close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.finish(ErrClosed)
		cctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
		defer cancel()
		p.closeErr = p.teardown(cctx)
		p.log.Info("closed", "frames", p.frames.Load(), "forced_keyframes", p.forced.Load(),
			"rtp_sent", p.loss.sent.Load(), "rtp_dropped", p.loss.dropped.Load())
	})
	return p.closeErr
}

// teardown releases everything, after finish: it waits for the loops,
// DELETEs the session if there is one, closes the PeerConnection, waits
// for the readers and frees the encoders.
func (p *Publisher) teardown(ctx context.Context) error {
	p.loops.Wait()
	var errs []error
	if p.location != "" {
		if err := p.whip.remove(ctx, p.location); err != nil {
			errs = append(errs, fmt.Errorf("publisher: DELETE %s: %w", redactLocation(p.location), err))
		}
	}
	if p.pc != nil {
		if err := p.pc.Close(); err != nil {
			errs = append(errs, fmt.Errorf("publisher: closing the connection: %w", err))
		}
	}
	p.readers.Wait()
	p.whip.http.CloseIdleConnections()
	if p.venc != nil {
		p.venc.Close()
	}
	if p.aenc != nil {
		p.aenc.Close()
	}
	return errors.Join(errs...)
}

// Stats returns the counters so far.
func (p *Publisher) Stats() Stats {
	return Stats{
		Frames:          p.frames.Load(),
		Keyframes:       p.keyframes.Load(),
		PLIs:            p.plis.Load(),
		KeyframesForced: p.forced.Load(),
		AudioPackets:    p.audioPackets.Load(),
		Bytes:           p.bytes.Load(),
		RTPSent:         p.loss.sent.Load(),
		RTPDropped:      p.loss.dropped.Load(),
		RTPBytes:        p.loss.bytes.Load(),
	}
}

// SentAt returns when frame n (the number in its stamp) was captured: the
// moment just before it was drawn and encoded. Only the last 1,024 frames
// are remembered. A publisher replaying a Clip stamps clip frame numbers
// (0 … Frames()-1, over again each loop): SentAt(n) is when clip frame n
// was last sent, which identifies the picture as long as it is read back
// within a loop.
func (p *Publisher) SentAt(n uint32) (time.Time, bool) {
	p.sentMu.Lock()
	defer p.sentMu.Unlock()
	s := p.sent[n%sentRing]
	if !s.ok || s.n != n {
		return time.Time{}, false
	}
	return s.at, true
}

func (p *Publisher) markSent(n uint32, at time.Time) {
	p.sentMu.Lock()
	p.sent[n%sentRing] = sentFrame{n: n, at: at, ok: true}
	p.sentMu.Unlock()
}

// sampleClock turns encoder packets into samples whose RTP timestamps
// follow the packets' PTS: each sample's Duration (by which pion advances
// the timestamp of the next) is chosen so the next sample lands where the
// next packet is expected, which also absorbs frames skipped when the
// machine is late.
type sampleClock struct {
	started bool
	base    time.Duration // PTS of the first packet
	written time.Duration // RTP time handed out so far
}

func (c *sampleClock) duration(pts, nominal time.Duration) time.Duration {
	if !c.started {
		c.started, c.base = true, pts
	}
	d := max(0, pts-c.base+nominal-c.written)
	c.written += d
	return d
}

// writeSample hands one packet to a track; false means stop (the
// connection is gone).
func (p *Publisher) writeSample(track *webrtc.TrackLocalStaticSample, data []byte, d time.Duration) bool {
	if err := track.WriteSample(pionmedia.Sample{Data: data, Duration: d}); err != nil {
		if errors.Is(err, io.ErrClosedPipe) {
			return false
		}
		p.log.Debug("writing a sample", "track", track.Kind().String(), "err", err)
	}
	p.bytes.Add(uint64(len(data)))
	return true
}

// videoLoop draws, encodes and sends a frame every tick until Done.
func (p *Publisher) videoLoop(start time.Time) {
	interval := time.Duration(float64(time.Second) / p.cfg.FPS)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	f := media.NewVideoFrame(p.cfg.Width, p.cfg.Height)
	var clock sampleClock
	var n uint32
	ok := true
	emit := func(pkt av.Packet) {
		if !ok {
			return
		}
		if pkt.Keyframe {
			p.keyframes.Add(1)
		}
		ok = p.writeSample(p.vtrack, pkt.Data, clock.duration(pkt.PTS, interval))
	}
	for {
		select {
		case <-p.pli:
			p.venc.ForceKeyframe()
			p.forced.Add(1)
		default:
		}
		now := time.Now()
		p.markSent(n, now)
		p.gen.Draw(f, n)
		f.PTS = now.Sub(start)
		if err := p.venc.Encode(f, emit); err != nil {
			p.fail(fmt.Errorf("publisher: encoding video frame %d: %w", n, err))
			return
		}
		if !ok {
			return
		}
		p.frames.Add(1)
		n++
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}

// audioLoop generates, encodes and sends 20 ms of audio per tick until
// Done, catching up after a late tick so that the audio keeps pace with
// the clock.
func (p *Publisher) audioLoop(start time.Time) {
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	gen := tone{hz: p.cfg.ToneHz}
	a := media.NewAudioFrame(2, audioChunk)
	var clock sampleClock
	ok := true
	emit := func(pkt av.Packet) {
		if !ok {
			return
		}
		p.audioPackets.Add(1)
		ok = p.writeSample(p.atrack, pkt.Data, clock.duration(pkt.PTS, pkt.Duration))
	}
	for {
		due := int64(time.Since(start)*media.SampleRate/time.Second) + audioChunk
		for gen.next+audioChunk <= due {
			gen.fill(a)
			if err := p.aenc.Encode(a, emit); err != nil {
				p.fail(fmt.Errorf("publisher: encoding audio: %w", err))
				return
			}
			if !ok {
				return
			}
		}
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}

// fail ends the publishing because sending failed.
func (p *Publisher) fail(err error) {
	if p.finish(err) {
		p.log.Error("publishing stopped", "err", err)
	}
}
