package ingest

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/pionconf"
	"github.com/tessera-media/tessera/internal/pionlog"
)

// Payload types and formats ingest accepts. Only these are offered in
// answers, so publishers send one of them.
var (
	videoFeedback = []webrtc.RTCPFeedback{
		{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"},
		{Type: "nack", Parameter: "pli"}, {Type: "transport-cc"},
	}
	acceptedCodecs = []struct {
		params webrtc.RTPCodecParameters
		kind   webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
			RTCPFeedback: videoFeedback}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 108, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
			RTCPFeedback: videoFeedback}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1"}}, webrtc.RTPCodecTypeAudio},
	}
)

// acceptedVideo and acceptedAudio describe the accepted codecs in errors.
const (
	acceptedVideo = "H264 (constrained baseline, packetization-mode=1) or VP8"
	acceptedAudio = "opus"
)

// newAPI builds the pion API every session uses: the accepted codecs, the
// interceptors (NACK generation every 20 ms, RTCP receiver reports,
// transport-wide congestion control feedback so browsers ramp their
// bitrate, simulcast header extensions), one UDP port
// for all sessions, and bounded ICE and DTLS timeouts.
func newAPI(cfg Config, mux ice.UDPMux, log *slog.Logger) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range acceptedCodecs {
		if err := m.RegisterCodec(c.params, c.kind); err != nil {
			return nil, fmt.Errorf("ingest: registering %s: %w", c.params.MimeType, err)
		}
	}
	// pion's default interceptors but its stream statistics (nothing
	// reads them; they cost a map lookup and a lock per packet).
	ir := &interceptor.Registry{}
	logs := pionlog.New(log)
	if err := webrtc.ConfigureNackWithOptions(m, ir,
		[]nack.GeneratorOption{nack.GeneratorInterval(20 * time.Millisecond), nack.GeneratorSize(1024), nack.WithGeneratorLoggerFactory(logs)},
		nack.WithResponderLoggerFactory(logs)); err != nil {
		return nil, fmt.Errorf("ingest: interceptors: %w", err)
	}
	if err := webrtc.ConfigureRTCPReportsWithOptions(ir, []report.ReceiverOption{report.WithReceiverLoggerFactory(logs)},
		report.WithSenderLoggerFactory(logs)); err != nil {
		return nil, fmt.Errorf("ingest: interceptors: %w", err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, fmt.Errorf("ingest: interceptors: %w", err)
	}
	if err := webrtc.ConfigureTWCCSenderWithOptions(m, ir, twcc.WithLoggerFactory(logs)); err != nil {
		return nil, fmt.Errorf("ingest: interceptors: %w", err)
	}
	se, err := pionconf.SettingEngine(pionconf.Settings{Mux: mux, Loopback: cfg.Loopback, PublicIPs: cfg.PublicIPs,
		ICEDisconnected: cfg.ICEDisconnectedTimeout, ICEFailed: cfg.ICEFailedTimeout, Connect: cfg.ConnectTimeout, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}
