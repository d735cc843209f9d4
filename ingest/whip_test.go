package ingest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	tmedia "github.com/tessera-media/tessera/media"
)

const sdpHead = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"

func TestCheckOffer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sdp    string
		status int
		reason string
	}{
		{"garbage", "hello", http.StatusBadRequest, "malformed SDP"},
		{"no media", sdpHead, http.StatusBadRequest, "no audio or video"},
		{"vp9 only", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=sendonly\r\na=rtpmap:98 VP9/90000\r\n", http.StatusNotAcceptable, "H264 (constrained baseline, packetization-mode=1) or VP8"},
		{"h264 high only", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 100\r\na=sendonly\r\na=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=1;profile-level-id=640c1f\r\n", http.StatusNotAcceptable, "accepted: H264"},
		{"h264 mode 0", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 100\r\na=sendonly\r\na=rtpmap:100 H264/90000\r\na=fmtp:100 profile-level-id=42e01f\r\n", http.StatusNotAcceptable, "packetization-mode=1"},
		{"pcmu only", sdpHead + "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=sendonly\r\na=rtpmap:0 PCMU/8000\r\n", http.StatusNotAcceptable, "accepted: opus"},
		{"recvonly", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\na=rtpmap:96 VP8/90000\r\n", http.StatusBadRequest, "must send"},
		{"two videos", sdpHead + strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n", 2), http.StatusBadRequest, "at most one audio and one video"},
		{"fine", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reason := checkOffer([]byte(tc.sdp))
			if status != tc.status || !strings.Contains(reason, tc.reason) {
				t.Errorf("got %d %q, want %d %q", status, reason, tc.status, tc.reason)
			}
		})
	}
}

// The HTTP side of WHIP: status codes and reasons for bad requests, CORS.
func TestWHIPRequests(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	tok := ts.token(t, "x", nil)
	vp9 := sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=sendonly\r\na=rtpmap:98 VP9/90000\r\n"
	for _, tc := range []struct {
		name, method, path, token, ctype, body string
		status                                 int
		reason                                 string
	}{
		{"malformed SDP", "POST", "/whip", tok, "application/sdp", "v=0\r\nbogus", 400, "malformed SDP"},
		{"pion refuses", "POST", "/whip", tok, "application/sdp", sdpHead + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n", 400, "invalid offer"},
		{"unsupported codec", "POST", "/whip", tok, "application/sdp", vp9, 406, "accepted: H264"},
		{"wrong content type", "POST", "/whip", tok, "application/json", "{}", 415, "application/sdp"},
		{"too large", "POST", "/whip", tok, "application/sdp", sdpHead + strings.Repeat("a=x:y\r\n", 1000), 413, "larger than 4096"},
		{"PATCH", "PATCH", "/whip/sessions/abc", "", "application/trickle-ice-sdpfrag", "a=candidate", 405, "trickle"},
		{"DELETE unknown", "DELETE", "/whip/sessions/abc", "", "", "", 404, "no such session"},
		{"GET", "GET", "/whip", "", "", "", 405, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := post(t, tc.method, ts.url+tc.path, tc.token, tc.ctype, tc.body)
			if status != tc.status || !strings.Contains(body, tc.reason) {
				t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.reason)
			}
			if strings.Count(strings.TrimSpace(body), "\n") > 0 {
				t.Errorf("reason is not one line: %q", body)
			}
		})
	}
	if !hasEvent(ts.stage, "x", EventPublishError, ErrorInvalidVideoCodec) {
		t.Error("no PUBLISH_ERROR INVALID_VIDEO_CODEC event")
	}
	if p := ts.stage.Participant("x"); p != nil {
		t.Error("a refused offer left a participant behind")
	}
	status, _, h := post(t, "OPTIONS", ts.url+"/whip", "", "", "")
	if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Location") || h.Get("Accept-Post") != "application/sdp" {
		t.Errorf("OPTIONS: %d %v", status, h)
	}
}

// rawPublisher sends prepared H.264 access units over WebRTC, looping
// them, for streams the synthetic publisher does not make (B-frames,
// oversized pictures).
type rawPublisher struct {
	pc       *webrtc.PeerConnection
	done     chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// halt stops sending (the connection stays up).
func (r *rawPublisher) halt() { r.stopOnce.Do(func() { close(r.stop) }) }

// rawPeer returns a pion PeerConnection with pion's default codecs whose
// ICE gathers IPv4 UDP on loopback only.
func rawPeer(t *testing.T) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

func startRaw(t *testing.T, whip, token string, aus [][]byte) *rawPublisher {
	t.Helper()
	pc := rawPeer(t)
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "raw")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, _ := pc.CreateOffer(nil)
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	status, answer, _ := post(t, "POST", whip, token, "application/sdp", pc.LocalDescription().SDP)
	if status != http.StatusCreated {
		t.Fatalf("WHIP answered %d %s", status, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
	r := &rawPublisher{pc: pc, done: make(chan struct{}), stop: make(chan struct{})}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected {
			select {
			case <-r.done:
			default:
				close(r.done)
			}
		}
	})
	go func() {
		tick := time.NewTicker(33 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-r.stop:
				return
			case <-tick.C:
			}
			_ = track.WriteSample(media.Sample{Data: aus[i%len(aus)], Duration: 33 * time.Millisecond})
		}
	}()
	t.Cleanup(func() {
		r.halt()
		_ = pc.Close()
	})
	return r
}

// H.264 with B-frames: PUBLISH_ERROR B_FRAME_PRESENT, and the publisher is
// disconnected, as IVS does.
func TestBFramesDisconnect(t *testing.T) {
	ts := startServer(t, nil)
	raw := startRaw(t, ts.url+"/whip", ts.token(t, "bframes", nil), h264Frames(t, "testdata/high1080b.h264"))
	testsrv.WaitFor(t, 10*time.Second, "B_FRAME_PRESENT", func() bool {
		return hasEvent(ts.stage, "bframes", EventPublishError, ErrorBFramePresent)
	})
	testsrv.WaitFor(t, 10*time.Second, "the participant to be gone", func() bool { return ts.stage.Participant("bframes") == nil })
	select {
	case <-raw.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the publisher's connection stayed up")
	}
}

// Video above 1080p is not decoded: the participant is rendered audio-only
// (and stays connected); RESOLUTION_EXCEEDED is recorded.
func TestOversizedVideoAudioOnly(t *testing.T) {
	enc, err := av.NewVideoEncoder(av.VideoConfig{Codec: "h264-baseline", Width: 2560, Height: 1440, FrameRate: 30, Bitrate: 2_000_000, Preset: "ultrafast"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	f := tmedia.NewVideoFrame(2560, 1440)
	var aus [][]byte
	for i := range 10 {
		f.Fill(tmedia.RGBToYUV(byte(i*20), 100, 50))
		f.PTS = time.Duration(i) * 33 * time.Millisecond
		if err := enc.Encode(f, func(p av.Packet) { aus = append(aus, p.Data) }); err != nil {
			t.Fatal(err)
		}
	}
	ts := startServer(t, nil)
	startRaw(t, ts.url+"/whip", ts.token(t, "big", nil), aus[:1]) // the keyframe, again and again
	testsrv.WaitFor(t, 10*time.Second, "RESOLUTION_EXCEEDED", func() bool {
		return hasEvent(ts.stage, "big", EventPublishError, ErrorResolutionExceeded)
	})
	p := ts.stage.Participant("big")
	if p == nil {
		t.Fatal("participant disconnected; want it kept, audio-only")
	}
	if info := p.Info(); !info.AudioOnly || !info.VideoStopped || p.Video().Frames() != 0 {
		t.Errorf("roster %+v, %d pictures; want audio-only, none decoded", info, p.Video().Frames())
	}
}

// DisconnectParticipant ends the session and refuses the token afterwards;
// a token exchange changes attributes live; a full stage refuses more.
func TestStageControls(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxPublishers = 1 })
	changes, stop := ts.stage.Watch()
	defer stop()
	tok := ts.token(t, "carol", nil)
	pub := startPublisher(t, publisher.Config{WHIP: ts.url + "/whip", Token: tok, NoAudio: true})
	testsrv.WaitFor(t, 10*time.Second, "carol", func() bool { return ts.stage.Participant("carol") != nil })
	select {
	case <-changes:
	case <-time.After(5 * time.Second):
		t.Fatal("no roster change notification on join")
	}

	// Full: a second publisher is refused.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := publisher.Start(ctx, publisher.Config{WHIP: ts.url + "/whip", Token: ts.token(t, "dave", nil), NoAudio: true, Logger: testLogger(t)})
	var we *publisher.WHIPError
	if !errors.As(err, &we) || we.Status != http.StatusForbidden || !strings.Contains(we.Reason, "at most 1 publishers") {
		t.Fatalf("second publisher: %v", err)
	}
	if !hasEvent(ts.stage, "dave", EventJoinError, ErrorQuotaExceeded) {
		t.Error("no JOIN_ERROR QUOTA_EXCEEDED")
	}

	// Token exchange: same user, new attributes.
	newTok := ts.token(t, "carol2", func(c *Claims) {
		c.UserID = "user-carol"
		c.Attributes = map[string]string{"featured": "false", "seat": "3"}
	})
	if err := pub.ExchangeToken(ctx, newTok); err != nil {
		t.Fatalf("token exchange: %v", err)
	}
	if a := ts.stage.Participant("carol").Info().Attributes; a["seat"] != "3" || a["featured"] != "false" {
		t.Errorf("attributes after exchange %v", a)
	}
	if !hasEvent(ts.stage, "carol", EventTokenExchanged, "") {
		t.Error("no TOKEN_EXCHANGED event")
	}
	otherUser := ts.token(t, "eve", nil)
	if err := pub.ExchangeToken(ctx, otherUser); !errors.As(err, &we) || we.Status != http.StatusForbidden {
		t.Errorf("exchange to another user's token: %v, want 403", err)
	}

	// Disconnect: the session ends, the token is refused from now on.
	if !ts.stage.Disconnect("carol", "test") {
		t.Fatal("Disconnect found nobody")
	}
	select {
	case <-pub.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("publisher still connected after Disconnect")
	}
	_, err = publisher.Start(ctx, publisher.Config{WHIP: ts.url + "/whip", Token: tok, NoAudio: true, Logger: testLogger(t)})
	if !errors.As(err, &we) || we.Status != http.StatusForbidden || !strings.Contains(we.Reason, "disconnected") {
		t.Fatalf("republishing after Disconnect: %v", err)
	}
}

// A participant whose video stops is marked stopped within StaleAfter.
func TestStaleVideo(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.StaleAfter = 300 * time.Millisecond })
	raw := startRaw(t, ts.url+"/whip", ts.token(t, "still", nil), h264Frames(t, "testdata/base180.h264"))
	var p *Participant
	testsrv.WaitFor(t, 10*time.Second, "pictures", func() bool {
		p = ts.stage.Participant("still")
		return p != nil && !p.Info().VideoStopped
	})
	raw.halt()
	testsrv.WaitFor(t, 5*time.Second, "the video to be marked stopped", func() bool { return p.Info().VideoStopped })
	if p.Stats().Freezes != 1 {
		t.Errorf("freezes %d, want 1", p.Stats().Freezes)
	}
}
