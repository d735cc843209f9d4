package testsrv_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// mediaTimeout bounds each wait of these tests for Chromium: to connect,
// to send media.
const mediaTimeout = 20 * time.Second

// whipAnswerer is a minimal WHIP server made with pion, on 127.0.0.1: it
// answers POST /whip carrying one of its tokens with a receive-only
// RTCPeerConnection, inspects the RTP of every track it receives, and
// ends the session on DELETE of its Location.
type whipAnswerer struct {
	api    *webrtc.API
	log    *testsrv.SyncBuffer // pion's log, printed when a wait fails
	srv    *httptest.Server
	tokens []string

	mu       sync.Mutex
	sessions []*whipSession
}

type whipSession struct {
	token    string
	location string
	pc       *webrtc.PeerConnection
	mu       sync.Mutex
	tracks   []*recvTrack
	deleted  bool
}

// recvTrack is what the answerer saw of one received track (one rid of a
// simulcast track).
type recvTrack struct {
	kind, mime, rid string

	packets atomic.Int64
	bytes   atomic.Int64

	mu        sync.Mutex
	nalTypes  map[uint8]bool // H.264 NAL unit types seen
	vp8Frames []string       // VP8 key frames' sizes, "WxH"
}

func (r *recvTrack) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := fmt.Sprintf("%s rid=%q %d packets %d bytes", r.mime, r.rid, r.packets.Load(), r.bytes.Load())
	if len(r.vp8Frames) > 0 {
		s += fmt.Sprintf(" VP8 key frames %v", r.vp8Frames)
	}
	if len(r.nalTypes) > 0 {
		var ts []int
		for k := range r.nalTypes {
			ts = append(ts, int(k))
		}
		slices.Sort(ts)
		s += fmt.Sprintf(" H.264 NAL types %v", ts)
	}
	return s
}

// loopbackConn drops the UDP packets that do not come from a loopback
// address, and refuses to send to any other: Chromium also gathers host
// candidates on the machine's other interfaces, and checks them against
// the answerer's 127.0.0.1 candidate; pion would answer those checks
// (peer-reflexive candidates) on that interface's address.
type loopbackConn struct{ net.PacketConn }

func (c loopbackConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if ua, ok := addr.(*net.UDPAddr); err != nil || (ok && ua.IP.IsLoopback()) {
			return n, addr, err
		}
	}
}

func (c loopbackConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || !ua.IP.IsLoopback() {
		return 0, fmt.Errorf("loopbackConn: refusing to send to %v", addr)
	}
	return c.PacketConn.WriteTo(b, addr)
}

func startWHIPAnswerer(t *testing.T, tokens ...string) *whipAnswerer {
	t.Helper()
	// No RTX, as in ingest: pion (v4.2.26) hands a track's first read an
	// RTX packet that arrived before any media packet, rewritten to payload
	// type 0, and then drops the track ("codec not found") — under load
	// Chromium's RTX padding probes win that race. The page offers RTX;
	// the answer leaves it out.
	me := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, PayloadType: 102},
	} {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			t.Fatal(err)
		}
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"},
		PayloadType:        111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	// NACK, RTCP reports, TWCC feedback (Chromium's bandwidth estimate
	// needs it to send all simulcast layers) and the mid, rid and
	// repaired-rid header extensions of rid-based simulcast.
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		t.Fatal(err)
	}

	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpMux := webrtc.NewICEUDPMux(nil, loopbackConn{udp})
	t.Cleanup(func() { udpMux.Close() })
	pionLog := &testsrv.SyncBuffer{}
	logs := logging.NewDefaultLoggerFactory()
	logs.DefaultLogLevel, logs.Writer = logging.LogLevelInfo, pionLog
	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(udpMux)
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)

	a := &whipAnswerer{
		log:    pionLog,
		api:    webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)),
		tokens: tokens,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whip", a.servePost)
	mux.HandleFunc("DELETE /whip/session/{n}", a.serveDelete)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		a.srv.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, s := range a.sessions {
			s.pc.Close()
		}
	})
	return a
}

func (a *whipAnswerer) URL() string { return a.srv.URL + "/whip" }

func (a *whipAnswerer) servePost(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !slices.Contains(a.tokens, token) {
		http.Error(w, "unknown token "+strconv.Quote(token), http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/sdp" {
		http.Error(w, "Content-Type "+ct+", want application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	offer, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s := &whipSession{token: token, pc: pc}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { s.receive(tr) })
	answer, err := a.answer(pc, string(offer))
	if err != nil {
		pc.Close()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	s.location = fmt.Sprintf("/whip/session/%d", len(a.sessions))
	a.sessions = append(a.sessions, s)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", s.location)
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, answer)
}

func (a *whipAnswerer) answer(pc *webrtc.PeerConnection, offer string) (string, error) {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		return "", errors.New("ICE gathering not complete after 5 s")
	}
	return pc.LocalDescription().SDP, nil
}

func (a *whipAnswerer) serveDelete(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	a.mu.Lock()
	var s *whipSession
	if err == nil && n >= 0 && n < len(a.sessions) {
		s = a.sessions[n]
	}
	a.mu.Unlock()
	if s == nil {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		http.Error(w, "wrong token", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	s.deleted = true
	s.mu.Unlock()
	s.pc.Close()
	w.WriteHeader(http.StatusOK)
}

// session returns the session published with token, or nil.
func (a *whipAnswerer) session(token string) *whipSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range a.sessions {
		if s.token == token {
			return s
		}
	}
	return nil
}

func (s *whipSession) receive(tr *webrtc.TrackRemote) {
	rt := &recvTrack{kind: tr.Kind().String(), mime: tr.Codec().MimeType, rid: tr.RID(), nalTypes: map[uint8]bool{}}
	s.mu.Lock()
	s.tracks = append(s.tracks, rt)
	s.mu.Unlock()
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		rt.packets.Add(1)
		rt.bytes.Add(int64(len(p.Payload)))
		rt.inspect(p.Payload)
	}
}

// inspect notes the H.264 NAL unit types and the VP8 key frames' sizes
// found in an RTP payload.
func (r *recvTrack) inspect(payload []byte) {
	if len(payload) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch strings.ToLower(r.mime) {
	case "video/h264":
		switch t := payload[0] & 0x1f; t {
		case 24: // STAP-A: 16-bit sizes, each followed by a NAL unit
			for b := payload[1:]; len(b) > 2; {
				n := int(b[0])<<8 | int(b[1])
				if n == 0 || len(b) < 2+n {
					break
				}
				r.nalTypes[b[2]&0x1f] = true
				b = b[2+n:]
			}
		case 28: // FU-A: the type is in the FU header
			if len(payload) > 1 {
				r.nalTypes[payload[1]&0x1f] = true
			}
		default:
			r.nalTypes[t] = true
		}
	case "video/vp8":
		var vp8 codecs.VP8Packet
		b, err := vp8.Unmarshal(payload)
		// The first partition of a key frame: start of a frame with
		// the key frame bit clear, then the start code 9d 01 2a.
		if err != nil || vp8.S != 1 || vp8.PID != 0 || len(b) < 10 || b[0]&1 != 0 || b[3] != 0x9d || b[4] != 0x01 || b[5] != 0x2a {
			return
		}
		w := int(b[6]) | int(b[7]&0x3f)<<8
		h := int(b[8]) | int(b[9]&0x3f)<<8
		size := fmt.Sprintf("%dx%d", w, h)
		if !slices.Contains(r.vp8Frames, size) {
			r.vp8Frames = append(r.vp8Frames, size)
		}
	}
}

func (s *whipSession) isDeleted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted
}

// tracksSnapshot returns the session's tracks.
func (s *whipSession) tracksSnapshot() []*recvTrack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tracks)
}

func (s *whipSession) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "session %s (token %q):", s.location, s.token)
	for _, tr := range s.tracksSnapshot() {
		fmt.Fprintf(&b, "\n\t%s", tr)
	}
	return b.String()
}

// waitMedia waits, at most mediaTimeout, until the answerer's session with
// token has received enough of every track ok accepts, ok being called
// with the session's tracks until it returns nil.
func (a *whipAnswerer) waitMedia(t *testing.T, token string, ok func([]*recvTrack) error) *whipSession {
	t.Helper()
	deadline := time.Now().Add(mediaTimeout)
	for {
		s := a.session(token)
		err := errors.New("no WHIP session")
		if s != nil {
			err = ok(s.tracksSnapshot())
		}
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Logf("pion's log:\n%s", a.log.String())
			if s != nil {
				t.Fatalf("after %v: %v\n%s\ninbound RTP: %s", mediaTimeout, err, s, inboundStats(s.pc))
			}
			t.Fatalf("after %v: token %q: %v", mediaTimeout, token, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inboundStats lists what pc counted per received RTP stream: a stream
// with packets but no track means pion never fired OnTrack for it.
func inboundStats(pc *webrtc.PeerConnection) string {
	var b strings.Builder
	for _, st := range pc.GetStats() {
		if in, ok := st.(webrtc.InboundRTPStreamStats); ok {
			fmt.Fprintf(&b, "\n\t%s ssrc %d rid %q: %d packets %d bytes", in.Kind, in.SSRC, in.Rid, in.PacketsReceived, in.BytesReceived)
		}
	}
	return b.String()
}

// track returns the track of kind and rid, or nil.
func track(ts []*recvTrack, kind, rid string) *recvTrack {
	for _, tr := range ts {
		if tr.kind == kind && tr.rid == rid {
			return tr
		}
	}
	return nil
}

// minPackets checks that the track of kind and rid uses mime and has
// brought n packets.
func minPackets(ts []*recvTrack, kind, rid, mime string, n int64) error {
	tr := track(ts, kind, rid)
	switch {
	case tr == nil:
		return fmt.Errorf("no %s track with rid %q", kind, rid)
	case !strings.EqualFold(tr.mime, mime):
		return fmt.Errorf("%s track rid %q negotiated %s, want %s", kind, rid, tr.mime, mime)
	case tr.packets.Load() < n:
		return fmt.Errorf("%s track rid %q: %d packets, want %d", kind, rid, tr.packets.Load(), n)
	}
	return nil
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), mediaTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitStats waits for a stats report of id that ok accepts.
func waitStats(t *testing.T, page *testsrv.WHIPPage, id string, ok func(*testsrv.Stats) bool) testsrv.Report {
	t.Helper()
	r, err := page.WaitReport(waitCtx(t), id, func(r testsrv.Report) bool { return r.Stats != nil && ok(r.Stats) })
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// colorNear reports whether "#rrggbb" colours a and b differ by at most
// tol in each component (the canvas goes through YUV on its way).
func colorNear(a, b string, tol int) bool {
	if len(a) != 7 || len(b) != 7 {
		return false
	}
	for i := 1; i < 7; i += 2 {
		x, err1 := strconv.ParseUint(a[i:i+2], 16, 8)
		y, err2 := strconv.ParseUint(b[i:i+2], 16, 8)
		if err1 != nil || err2 != nil || max(x, y)-min(x, y) > uint64(tol) {
			return false
		}
	}
	return true
}

// TestChromiumWHIP runs two Chromium publishers at once against a pion
// WHIP answerer: the fake camera and microphone in VP8, and a solid
// colour with a tone in H.264. Each must connect, the answerer must get
// the codec asked for with real frames in it, and Opus; then each
// unpublishes with a DELETE.
func TestChromiumWHIP(t *testing.T) {
	ans := startWHIPAnswerer(t, "tok-vp8", "tok-h264")
	page := testsrv.StartWHIPPage(t)
	vp8 := testsrv.PublishParams{WHIP: ans.URL(), Token: "tok-vp8", Codec: "vp8", Width: 320, Height: 180, FPS: 15, Audio: true, ID: "vp8"}
	h264 := testsrv.PublishParams{WHIP: ans.URL(), Token: "tok-h264", Codec: "h264", Color: "#d02090", Width: 320, Height: 180, FPS: 15, Audio: true, ID: "h264"}
	start := time.Now()
	browsers := []*testsrv.Chromium{testsrv.StartChromium(t, page.URL(vp8)), page.Publish(t, h264)}
	for _, id := range []string{"vp8", "h264"} {
		r, err := page.WaitStatus(waitCtx(t), id, "connected")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: connected %v after StartChromium", id, r.Received.Sub(start).Round(time.Millisecond))
	}

	ans.waitMedia(t, "tok-vp8", func(ts []*recvTrack) error {
		if err := minPackets(ts, "video", "", webrtc.MimeTypeVP8, 30); err != nil {
			return err
		}
		if tr := track(ts, "video", ""); !slices.Contains(tr.vp8Frames, "320x180") {
			return errors.New("no 320x180 VP8 key frame")
		}
		return minPackets(ts, "audio", "", webrtc.MimeTypeOpus, 25)
	})
	ans.waitMedia(t, "tok-h264", func(ts []*recvTrack) error {
		if err := minPackets(ts, "video", "", webrtc.MimeTypeH264, 30); err != nil {
			return err
		}
		tr := track(ts, "video", "")
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, nal := range []uint8{7, 8, 5} { // SPS, PPS, IDR slice
			if !tr.nalTypes[nal] {
				return fmt.Errorf("no H.264 NAL unit of type %d", nal)
			}
		}
		return minPackets(ts, "audio", "", webrtc.MimeTypeOpus, 25)
	})

	r := waitStats(t, page, "vp8", func(s *testsrv.Stats) bool {
		v := s.Video()
		return len(v) == 1 && v[0].FramesEncoded > 0
	})
	t.Logf("vp8 stats: %s", r.Stats)
	if v := r.Stats.Video()[0]; v.MimeType != "video/VP8" || v.FrameWidth != 320 || v.FrameHeight != 180 {
		t.Errorf("vp8 publisher sends %s %dx%d, want video/VP8 320x180", v.MimeType, v.FrameWidth, v.FrameHeight)
	}
	if a := r.Stats.Audio(); len(a) != 1 || a[0].MimeType != "audio/opus" {
		t.Errorf("vp8 publisher's audio: %+v, want one audio/opus", a)
	}
	if !strings.HasPrefix(r.Stats.Pair, "127.0.0.1:") || !strings.Contains(r.Stats.Pair, "-> 127.0.0.1:") {
		t.Errorf("vp8 publisher's candidate pair %q is not on 127.0.0.1", r.Stats.Pair)
	}
	r = waitStats(t, page, "h264", func(s *testsrv.Stats) bool {
		v := s.Video()
		return len(v) == 1 && v[0].FramesEncoded > 0 && s.FrameColor != ""
	})
	t.Logf("h264 stats: %s", r.Stats)
	if v := r.Stats.Video()[0]; v.MimeType != "video/H264" || !strings.Contains(v.EncoderImplementation, "OpenH264") {
		t.Errorf("h264 publisher sends %s with encoder %q, want video/H264 by OpenH264", v.MimeType, v.EncoderImplementation)
	}
	if !colorNear(r.Stats.FrameColor, h264.Color, 6) {
		t.Errorf("h264 publisher's frames are %s, want %s", r.Stats.FrameColor, h264.Color)
	}

	for _, id := range []string{"vp8", "h264"} {
		r, err := page.Unpublish(id)
		if err != nil {
			t.Fatal(err)
		}
		if r.HTTPStatus != http.StatusOK {
			t.Errorf("%s: DELETE answered %d (%s), want 200", id, r.HTTPStatus, r.Detail)
		}
		if s := ans.session("tok-" + id); s == nil || !s.isDeleted() {
			t.Errorf("%s: the answerer's session was not deleted", id)
		}
	}
	for _, c := range browsers {
		pid := c.Pid()
		c.Stop()
		if !c.Exited() {
			t.Errorf("chromium %d still running after Stop", pid)
		}
	}
}

// TestChromiumWHIPSimulcast publishes the fake camera in VP8 simulcast:
// the answerer must receive the three rids at a quarter, half and full
// size.
func TestChromiumWHIPSimulcast(t *testing.T) {
	ans := startWHIPAnswerer(t, "tok")
	page := testsrv.StartWHIPPage(t)
	pp := testsrv.PublishParams{WHIP: ans.URL(), Token: "tok", Codec: "vp8", Width: 640, Height: 360, FPS: 15, Simulcast: true, ID: "sim"}
	page.Publish(t, pp)
	if _, err := page.WaitStatus(waitCtx(t), "sim", "connected"); err != nil {
		t.Fatal(err)
	}
	sizes := map[string]string{"q": "160x90", "h": "320x180", "f": "640x360"}
	ans.waitMedia(t, "tok", func(ts []*recvTrack) error {
		for _, rid := range []string{"q", "h", "f"} {
			if err := minPackets(ts, "video", rid, webrtc.MimeTypeVP8, 10); err != nil {
				return err
			}
			tr := track(ts, "video", rid)
			tr.mu.Lock()
			ok := slices.Contains(tr.vp8Frames, sizes[rid])
			tr.mu.Unlock()
			if !ok {
				return fmt.Errorf("rid %q: no %s VP8 key frame", rid, sizes[rid])
			}
		}
		return nil
	})
	r := waitStats(t, page, "sim", func(s *testsrv.Stats) bool { return len(s.ActiveRIDs()) == 3 })
	t.Logf("simulcast stats: %s", r.Stats)
}

// TestChromiumWHIPRejected starts two publishers whose
// POSTs the WHIP server refuses: a bad token (401) and a wrong endpoint
// (404). WaitStatus must fail at once with the server's status and text,
// and the pages must still unpublish cleanly, without a DELETE.
func TestChromiumWHIPRejected(t *testing.T) {
	ans := startWHIPAnswerer(t, "good")
	page := testsrv.StartWHIPPage(t)
	bad := testsrv.PublishParams{WHIP: ans.URL(), Token: "bad", Color: "#00ff00", Width: 160, Height: 90, FPS: 5, ID: "bad"}
	lost := testsrv.PublishParams{WHIP: ans.URL() + "/nowhere", Token: "good", Width: 160, Height: 90, FPS: 5, ID: "lost"}
	page.Publish(t, bad)
	page.Publish(t, lost)
	for _, c := range []struct {
		id     string
		status int
		body   string
	}{
		{"bad", http.StatusUnauthorized, `unknown token "bad"`},
		{"lost", http.StatusNotFound, "404 page not found"},
	} {
		r, err := page.WaitStatus(waitCtx(t), c.id, "connected")
		if !errors.Is(err, testsrv.ErrPublish) {
			t.Fatalf("%s: WaitStatus: %v, want an ErrPublish", c.id, err)
		}
		t.Logf("%s: rejected as expected: %v", c.id, err)
		if r.HTTPStatus != c.status || !strings.Contains(r.Body, c.body) || !strings.Contains(err.Error(), strconv.Itoa(c.status)) {
			t.Errorf("%s: report %+v: want HTTP %d with body %q", c.id, r, c.status, c.body)
		}
		r, err = page.Unpublish(c.id)
		if err != nil {
			t.Fatal(err)
		}
		if r.HTTPStatus != 0 {
			t.Errorf("%s: unpublishing a refused publication sent a DELETE: %+v", c.id, r)
		}
	}
	if s := ans.session("bad"); s != nil {
		t.Errorf("the answerer made a session for a bad token: %s", s)
	}
}

// TestChromiumExitNoticed checks that a wait on a publisher started with
// Publish ends as soon as its browser exits, saying so, and that Stop
// leaves no process of it behind.
func TestChromiumExitNoticed(t *testing.T) {
	ans := startWHIPAnswerer(t, "tok")
	page := testsrv.StartWHIPPage(t)
	c := page.Publish(t, testsrv.PublishParams{WHIP: ans.URL(), Token: "tok", Width: 160, Height: 90, FPS: 5, ID: "gone"})
	if _, err := page.WaitStatus(waitCtx(t), "gone", "loaded"); err != nil {
		t.Fatal(err)
	}
	c.Stop()
	if !c.Exited() {
		t.Fatal("chromium still running after Stop")
	}
	out, err := exec.Command("ps", "-o", "pid=,stat=,comm=", "-g", strconv.Itoa(c.Pid())).Output()
	if err == nil {
		for l := range strings.Lines(string(out)) {
			if f := strings.Fields(l); len(f) >= 2 && !strings.HasPrefix(f[1], "Z") {
				t.Errorf("process of chromium's group %d left after Stop: %s", c.Pid(), l)
			}
		}
	}
	start := time.Now()
	_, err = page.WaitStatus(waitCtx(t), "gone", "no such status")
	if err == nil || !strings.Contains(err.Error(), "chromium exited") {
		t.Fatalf("WaitStatus after the browser exited: %v, want a \"chromium exited\" error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("WaitStatus took %v to notice the browser had exited", d)
	}
	t.Logf("as expected: %v", err)
}
