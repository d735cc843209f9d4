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
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/pionlog"
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

// Publisher is one synthetic participant publishing over WHIP. Its methods
// are safe for concurrent use.
type Publisher struct {
	publishing
	cfg      Config
	whip     *whipClient
	pc       *webrtc.PeerConnection
	loss     *lossInjector
	location string

	gen    *Generator
	venc   videoEncoder
	aenc   audioEncoder
	vtrack *captureTrack
	atrack *captureTrack

	pli       chan struct{} // PLI/FIR seen; the video loop forces a keyframe
	connected chan struct{} // closed once the PeerConnection is connected
	connOnce  sync.Once

	loops   sync.WaitGroup // the video and audio loops
	readers sync.WaitGroup // the RTCP readers; they end when pc closes

	closeOnce sync.Once
	closeErr  error
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
		publishing: newPublishing(cfg.Logger.With("publisher", cfg.Name)),
		cfg:        cfg,
		whip:       newWHIPClient(cfg.WHIP, cfg.Token, cfg.UserAgent, cfg.Timeout),
		loss:       newLossInjector(cfg.Loss, cfg.LossSeed),
		pli:        make(chan struct{}, 1),
		connected:  make(chan struct{}),
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
	start := p.begin()
	for _, t := range []*captureTrack{p.vtrack, p.atrack} {
		if t != nil {
			t.begin(start)
		}
	}
	p.loops.Go(p.reportLoop)
	switch {
	case p.venc != nil:
		p.loops.Go(func() {
			p.videoLoop(start, cfg.FPS, p.gen, p.venc, p.pli, func(pkt av.Packet) bool {
				return p.writeSample(p.vtrack, pkt.Data, pkt.PTS)
			})
		})
	case p.vtrack != nil:
		p.loops.Go(func() { p.replayVideo(start) })
	}
	switch {
	case p.aenc != nil:
		p.loops.Go(func() {
			p.audioLoop(start, tone{hz: cfg.ToneHz, beeps: cfg.Beeps}, p.aenc, func(pkt av.Packet) bool {
				return p.writeSample(p.atrack, pkt.Data, pkt.PTS)
			})
		})
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
// injector then pion's NACK responder, header extensions and TWCC (the
// sender reports are the tracks' own: captureTrack, reportLoop), and ICE
// on 127.0.0.1 over UDP only, without mDNS.
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
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
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
	add := func(track *captureTrack, video bool) error {
		tr, err := p.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return fmt.Errorf("adding the %s track: %w", track.Kind(), err)
		}
		sender := tr.Sender()
		track.ssrc = uint32(sender.GetParameters().Encodings[0].SSRC)
		p.readers.Go(func() { p.readRTCP(sender, video) })
		return nil
	}
	var err error
	if !p.cfg.NoVideo {
		capab := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FMTP}
		if p.cfg.Codec == "vp8" {
			capab = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		}
		if p.vtrack, err = newCaptureTrack(capab, "video", stream); err != nil {
			return err
		}
		if err = add(p.vtrack, true); err != nil {
			return err
		}
	}
	if !p.cfg.NoAudio {
		capab := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: opusFMTP}
		if p.atrack, err = newCaptureTrack(capab, "audio", stream); err != nil {
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
	s := p.stats()
	s.RTPSent, s.RTPDropped, s.RTPBytes = p.loss.sent.Load(), p.loss.dropped.Load(), p.loss.bytes.Load()
	return s
}

// writeSample hands one packet, captured at pts, to a track; false means
// stop (the connection is gone).
func (p *Publisher) writeSample(track *captureTrack, data []byte, pts time.Duration) bool {
	if err := track.writeSample(data, pts); err != nil {
		if errors.Is(err, io.ErrClosedPipe) {
			return false
		}
		p.log.Debug("writing a sample", "track", track.Kind().String(), "err", err)
	}
	p.bytes.Add(uint64(len(data)))
	return true
}

// reportInterval is how often each track sends an RTCP sender report
// (pion's and browsers' pace).
const reportInterval = time.Second

// reportLoop sends each track's sender report every reportInterval, the
// first at once, until Done.
func (p *Publisher) reportLoop() {
	ticker := time.NewTicker(reportInterval)
	defer ticker.Stop()
	for {
		now := time.Now()
		var pkts []rtcp.Packet
		for _, t := range []*captureTrack{p.vtrack, p.atrack} {
			if sr, ok := t.report(now); ok {
				pkts = append(pkts, sr)
			}
		}
		if len(pkts) > 0 {
			if err := p.pc.WriteRTCP(pkts); err != nil {
				p.log.Debug("sending sender reports", "err", err)
			}
		}
		select {
		case <-p.done:
			return
		case <-ticker.C:
		}
	}
}
