package publisher

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// answerer is a minimal WHIP endpoint for the tests: an httptest server on
// 127.0.0.1 that answers offers with a pion PeerConnection (H.264, VP8 and
// Opus; loopback ICE; no interceptors, so it sends no NACKs and every
// packet loss stays visible) and records the RTP it receives.
//
// POST /whip wants "Authorization: Bearer good" (401 otherwise; "Bearer
// forbidden" gets 403), Content-Type application/sdp (415), an SDP offer
// (400) offering one of the video codecs in accept (406). DELETE on the
// Location closes that session.
type answerer struct {
	t      *testing.T
	srv    *httptest.Server
	api    *webrtc.API
	accept []string // video MIME subtypes accepted, e.g. "H264", "VP8"

	mu       sync.Mutex
	sessions map[string]*session
	next     int
	posts    atomic.Int32
	// hangUp makes the answerer close each PeerConnection right after
	// answering, so that no connection can come up.
	hangUp  atomic.Bool
	deletes atomic.Int32
	wg      sync.WaitGroup // the track readers
}

// session is one published PeerConnection.
type session struct {
	id     string
	pc     *webrtc.PeerConnection
	mu     sync.Mutex
	tracks []*recvTrack
	gotTrk chan struct{} // signalled on each new track
}

// recvTrack is what arrived on one track.
type recvTrack struct {
	mime string
	ssrc uint32

	mu      sync.Mutex
	packets []recvPacket
	reports []rtcp.SenderReport // the sender reports of ssrc, as they came
}

// recvPacket keeps the header and a copy of the payload of one packet,
// with the time it arrived.
type recvPacket struct {
	at      time.Time
	hdr     rtp.Header
	payload []byte
}

func newAnswerer(t *testing.T, accept ...string) *answerer {
	t.Helper()
	if len(accept) == 0 {
		accept = []string{"H264", "VP8"}
	}
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	for _, c := range []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264FMTP, RTCPFeedback: fb}, PayloadType: 102}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 96}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			t.Fatal(err)
		}
	}
	a := &answerer{
		t:        t,
		api:      webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(&interceptor.Registry{}), webrtc.WithSettingEngine(loopbackSettings(testLogger(t).With("side", "answerer")))),
		accept:   accept,
		sessions: map[string]*session{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /whip", a.post)
	mux.HandleFunc("DELETE /whip/session/{id}", a.remove)
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.close)
	return a
}

// URL is the WHIP endpoint.
func (a *answerer) URL() string { return a.srv.URL + "/whip" }

func (a *answerer) post(w http.ResponseWriter, r *http.Request) {
	a.posts.Add(1)
	switch r.Header.Get("Authorization") {
	case "Bearer good":
	case "Bearer forbidden":
		http.Error(w, "publishing to this room is forbidden", http.StatusForbidden)
		return
	default:
		http.Error(w, "invalid or missing bearer token", http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Type") != "application/sdp" {
		http.Error(w, "want application/sdp", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !strings.HasPrefix(string(body), "v=0") {
		http.Error(w, "offer is not SDP", http.StatusBadRequest)
		return
	}
	ok := false
	for _, c := range a.accept {
		ok = ok || strings.Contains(string(body), " "+c+"/90000")
	}
	if !ok {
		http.Error(w, "no acceptable video codec offered (want "+strings.Join(a.accept, " or ")+")", http.StatusNotAcceptable)
		return
	}
	pc, err := a.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	a.mu.Lock()
	a.next++
	s := &session{id: fmt.Sprint(a.next), pc: pc, gotTrk: make(chan struct{}, 4)}
	a.sessions[s.id] = s
	a.mu.Unlock()
	pc.OnTrack(func(tr *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		rt := &recvTrack{mime: tr.Codec().MimeType, ssrc: uint32(tr.SSRC())}
		s.mu.Lock()
		s.tracks = append(s.tracks, rt)
		s.mu.Unlock()
		s.gotTrk <- struct{}{}
		a.wg.Go(func() {
			for {
				pkts, _, err := recv.ReadRTCP()
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if sr, ok := pk.(*rtcp.SenderReport); ok && sr.SSRC == rt.ssrc {
						rt.mu.Lock()
						rt.reports = append(rt.reports, *sr)
						rt.mu.Unlock()
					}
				}
			}
		})
		a.wg.Go(func() {
			for {
				pkt, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				rt.mu.Lock()
				rt.packets = append(rt.packets, recvPacket{at: time.Now(), hdr: pkt.Header, payload: append([]byte(nil), pkt.Payload...)})
				rt.mu.Unlock()
			}
		})
	})
	fail := func(err error) {
		_ = pc.Close()
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(body)}); err != nil {
		fail(err)
		return
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		fail(err)
		return
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		fail(err)
		return
	}
	select {
	case <-gathered:
	case <-time.After(5 * time.Second):
		fail(fmt.Errorf("gathering timed out"))
		return
	}
	w.Header().Set("Content-Type", "application/sdp")
	w.Header().Set("Location", "/whip/session/"+s.id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, pc.LocalDescription().SDP)
	if a.hangUp.Load() {
		_ = pc.Close()
	}
}

func (a *answerer) remove(w http.ResponseWriter, r *http.Request) {
	a.deletes.Add(1)
	if r.Header.Get("Authorization") != "Bearer good" {
		http.Error(w, "invalid or missing bearer token", http.StatusUnauthorized)
		return
	}
	s := a.session(r.PathValue("id"))
	if s == nil {
		http.Error(w, "no such session", http.StatusNotFound)
		return
	}
	_ = s.pc.Close()
	w.WriteHeader(http.StatusOK)
}

// session returns the session with id ("" for the only one).
func (a *answerer) session(id string) *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	if id == "" && len(a.sessions) == 1 {
		for _, s := range a.sessions {
			return s
		}
	}
	return a.sessions[id]
}

// close closes every session and the server and waits for the readers.
func (a *answerer) close() {
	a.mu.Lock()
	for _, s := range a.sessions {
		_ = s.pc.Close()
	}
	a.mu.Unlock()
	a.srv.Close()
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		a.t.Error("answerer: track readers still running 10 s after close")
	}
}

// track waits (bounded) for the session's track of the given kind
// ("video" or "audio").
func (s *session) track(t *testing.T, kind string) *recvTrack {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		for _, tr := range s.tracks {
			if strings.HasPrefix(tr.mime, kind+"/") {
				s.mu.Unlock()
				return tr
			}
		}
		s.mu.Unlock()
		select {
		case <-s.gotTrk:
		case <-deadline:
			t.Fatalf("no %s track after 5 s", kind)
		}
	}
}

// pli asks the publisher for a keyframe of the track.
func (s *session) pli(t *testing.T, tr *recvTrack) {
	t.Helper()
	if err := s.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: tr.ssrc}}); err != nil {
		t.Fatal("sending PLI:", err)
	}
}

// snapshot returns a copy of the packets so far.
func (tr *recvTrack) snapshot() []recvPacket {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]recvPacket(nil), tr.packets...)
}

// senderReports returns a copy of the sender reports so far.
func (tr *recvTrack) senderReports() []rtcp.SenderReport {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]rtcp.SenderReport(nil), tr.reports...)
}

func (tr *recvTrack) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.packets)
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testLogger logs at Warn and above into the test's log, until the
// test's cleanup (pion's goroutines may outlive a test by a moment).
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.w = nil
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		return len(b), nil
	}
	return w.w.Write(b)
}

// startTest publishes to a with the test defaults (320×180, 30 fps) and
// closes the publisher at the end of the test.
func startTest(t *testing.T, a *answerer, cfg Config) *Publisher {
	t.Helper()
	if cfg.WHIP == "" {
		cfg.WHIP = a.URL()
	}
	if cfg.Token == "" {
		cfg.Token = "good"
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	p, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}
