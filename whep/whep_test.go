package whep

import (
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/media"
)

const testComposition = "arn:aws:ivs:us-east-1:123456789012:composition/Comp00000001"

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testMux is an ICE UDP mux on loopback.
func testMux(t *testing.T) ice.UDPMux {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := webrtc.NewICEUDPMux(nil, conn)
	t.Cleanup(func() { m.Close() })
	return m
}

// composition stands in for the worker: a real H.264 Main encoder (a
// keyframe only every minute unless asked) of a solid colour at 30 fps
// and a real Opus encoder of a tone, into a Hub, until the test ends.
type composition struct {
	hub     *Hub
	wantKey atomic.Bool
	stop    chan struct{}
	done    chan struct{}
}

func startComposition(t *testing.T, s *Server, c media.YUV) *composition {
	t.Helper()
	venc, err := av.NewVideoEncoder(av.VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 500_000, KeyframeInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	aenc, err := av.NewAudioEncoder(av.AudioConfig{Codec: "opus"})
	if err != nil {
		t.Fatal(err)
	}
	comp := &composition{stop: make(chan struct{}), done: make(chan struct{})}
	comp.hub, err = s.Open(testComposition, venc.Stream(), func() { comp.wantKey.Store(true) })
	if err != nil {
		t.Fatal(err)
	}
	f := media.NewVideoFrame(320, 180)
	f.Fill(c)
	chunk := media.NewAudioFrame(2, 1600) // 1/30 s
	go func() {
		defer close(comp.done)
		defer venc.Close()
		defer aenc.Close()
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-comp.stop:
				return
			case <-tick.C:
			}
			if comp.wantKey.Swap(false) {
				venc.ForceKeyframe()
			}
			f.PTS = time.Duration(n) * time.Second / 30
			_ = venc.Encode(f, comp.hub.WritePacket)
			if comp.hub.Watched() {
				for i := range chunk.Samples {
					chunk.Samples[i] = float32(0.2 * math.Sin(2*math.Pi*440*float64(n*1600+i/2)/48000))
				}
				chunk.PTS = f.PTS
				_ = aenc.Encode(chunk, comp.hub.WriteAudio)
			}
		}
	}()
	t.Cleanup(func() {
		close(comp.stop)
		<-comp.done
		comp.hub.Close()
	})
	return comp
}

// testViewer is a Go WHEP client: it decodes the H.264 it gets and counts
// the Opus packets.
type testViewer struct {
	pc       *webrtc.PeerConnection
	location string
	mu       sync.Mutex
	picture  *media.VideoFrame // the last decoded
	decoded  int
	audio    int
	first    time.Time // the first picture decoded
}

func (v *testViewer) state() (decoded, audio int, pic *media.VideoFrame, first time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.decoded, v.audio, v.picture, v.first
}

// watch offers to receive and posts to url with token; it returns the
// HTTP status and, on 201, the viewer, which decodes the video.
func watch(t *testing.T, url, token string) (int, *testViewer) {
	t.Helper()
	return watchVideo(t, url, token, webrtc.NewAPI(), nil)
}

// watchVideo is watch through api, with video read by video instead if
// not nil.
func watchVideo(t *testing.T, url, token string, api *webrtc.API, video func(*webrtc.TrackRemote)) (int, *testViewer) {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	v := &testViewer{pc: pc}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeAudio {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				v.mu.Lock()
				v.audio++
				v.mu.Unlock()
			}
		}
		if video != nil {
			video(tr)
			return
		}
		v.decodeVideo(t, tr)
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	req, _ := http.NewRequest("POST", url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Logf("POST %s: %d %s", url, resp.StatusCode, body)
		return resp.StatusCode, nil
	}
	v.location = resp.Header.Get("Location")
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(body)}); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, v
}

// decodeVideo depacketizes H.264 and decodes it.
func (v *testViewer) decodeVideo(t *testing.T, tr *webrtc.TrackRemote) {
	dec, err := av.NewVideoDecoder("h264", 1)
	if err != nil {
		t.Error(err)
		return
	}
	defer dec.Close()
	var depack codecs.H264Packet
	var au []byte
	for {
		p, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		nal, err := depack.Unmarshal(p.Payload)
		if err == nil {
			au = append(au, nal...)
		}
		if !p.Marker {
			continue
		}
		f, err := dec.Decode(au, 0, media.NewVideoFrame)
		au = au[:0]
		if err != nil || f == nil {
			continue
		}
		v.mu.Lock()
		if v.decoded == 0 {
			v.first = time.Now()
		}
		v.decoded++
		v.picture = f
		v.mu.Unlock()
	}
}

func startServer(t *testing.T) (*Server, *httptest.Server, *prometheus.Registry) {
	t.Helper()
	tokens, err := NewTokens()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s, err := New(Config{Tokens: tokens, Mux: testMux(t), Loopback: true, Logger: quiet(), Registerer: reg, MaxViewers: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs, reg
}

// A Go viewer with a token watches a running composition: it decodes the
// composition's colour within a second of connecting although the encoder
// makes keyframes only every minute (the join asked for one), and gets
// its Opus sound. Viewers are refused without a token, with a bad,
// expired or another composition's token, for a composition not running,
// and past the cap; DELETE needs the session's token.
func TestWatch(t *testing.T) {
	s, hs, reg := startServer(t)
	green := media.RGBToYUV(40, 190, 60)
	startComposition(t, s, green)
	url := hs.URL + "/view/Comp00000001"
	token, err := s.cfg.Tokens.Sign(testComposition, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	status, v := watch(t, url, token)
	if status != http.StatusCreated || !strings.HasPrefix(v.location, "/view/sessions/") {
		t.Fatalf("status %d", status)
	}
	connected := make(chan struct{})
	v.pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			close(connected)
		}
	})
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected after 10 s")
	}
	at := time.Now()
	deadline := time.Now().Add(10 * time.Second)
	for {
		decoded, audio, pic, first := v.state()
		if decoded >= 30 && audio >= 25 {
			if d := first.Sub(at); d > time.Second {
				t.Errorf("first picture %v after connecting, want within 1 s", d)
			}
			c := media.YUV{Y: pic.Row(0, 90)[160], U: pic.Row(1, 45)[80], V: pic.Row(2, 45)[80]}
			if math.Abs(float64(c.Y)-float64(green.Y)) > 6 || math.Abs(float64(c.U)-float64(green.U)) > 6 || math.Abs(float64(c.V)-float64(green.V)) > 6 {
				t.Errorf("picture colour %+v, want %+v", c, green)
			}
			t.Logf("%d pictures and %d Opus packets; first picture %v after connecting", decoded, audio, first.Sub(at).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %d pictures, %d Opus packets", decoded, audio)
		}
		time.Sleep(20 * time.Millisecond)
	}

	other, _ := s.cfg.Tokens.Sign("arn:aws:ivs:us-east-1:123456789012:composition/Other0000001", time.Now().Add(time.Minute))
	expired, _ := s.cfg.Tokens.Sign(testComposition, time.Now().Add(-time.Second))
	foreign, _ := NewTokens()
	forged, _ := foreign.Sign(testComposition, time.Now().Add(time.Minute))
	for _, c := range []struct {
		name, url, token string
		want             int
	}{
		{"no token", url, "", http.StatusUnauthorized},
		{"garbage", url, "nope", http.StatusUnauthorized},
		{"another server's", url, forged, http.StatusUnauthorized},
		{"expired", url, expired, http.StatusUnauthorized},
		{"another composition's", url, other, http.StatusUnauthorized},
		{"not running", hs.URL + "/view/Other0000001", other, http.StatusNotFound},
	} {
		if status, _ := watch(t, c.url, c.token); status != c.want {
			t.Errorf("%s: %d, want %d", c.name, status, c.want)
		}
	}
	// The cap (3): two more, then refused.
	for i := range 3 {
		want := http.StatusCreated
		if i == 2 {
			want = http.StatusServiceUnavailable
		}
		if status, _ := watch(t, url, token); status != want {
			t.Errorf("viewer %d: %d, want %d", i+2, status, want)
		}
	}
	if n := gauge(t, reg, "tessera_whep_viewers"); n != 3 {
		t.Errorf("tessera_whep_viewers %v, want 3", n)
	}

	del := func(tok string) int {
		req, _ := http.NewRequest("DELETE", hs.URL+v.location, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := del(other); st != http.StatusNotFound {
		t.Errorf("DELETE with another token: %d", st)
	}
	if st := del(token); st != http.StatusOK {
		t.Errorf("DELETE: %d", st)
	}
	if n := gauge(t, reg, "tessera_whep_viewers"); n != 2 {
		t.Errorf("tessera_whep_viewers %v after DELETE, want 2", n)
	}
}

// gauge sums a metric's series.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// A viewer's NACK is answered from the hub's history: the packet asked
// for comes again to that viewer, and to no other. (The viewers keep
// every packet they get, resent ones too.)
func TestNACK(t *testing.T) {
	s, hs, _ := startServer(t)
	startComposition(t, s, media.RGBToYUV(40, 190, 60))
	url := hs.URL + "/view/Comp00000001"
	token, err := s.cfg.Tokens.Sign(testComposition, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// seen counts each viewer's video packets by sequence number.
	type seen struct {
		mu   sync.Mutex
		seq  map[uint16]int
		ssrc uint32
	}
	read := func(sn *seen) func(*webrtc.TrackRemote) {
		return func(tr *webrtc.TrackRemote) {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				sn.mu.Lock()
				sn.seq[p.SequenceNumber]++
				sn.ssrc = uint32(tr.SSRC())
				sn.mu.Unlock()
			}
		}
	}
	// SRTP's replay protection would drop a packet received twice.
	var se webrtc.SettingEngine
	se.DisableSRTPReplayProtection(true)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	asking, other := &seen{seq: map[uint16]int{}}, &seen{seq: map[uint16]int{}}
	_, v := watchVideo(t, url, token, api, read(asking))
	watchVideo(t, url, token, api, read(other))
	if v == nil {
		t.Fatal("not watching")
	}
	var lost uint16
	var ssrc uint32
	testsrv.WaitFor(t, 10*time.Second, "30 video packets", func() bool {
		asking.mu.Lock()
		defer asking.mu.Unlock()
		for seq := range asking.seq {
			lost, ssrc = seq, asking.ssrc
		}
		return len(asking.seq) >= 30
	})
	if err := v.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{MediaSSRC: ssrc,
		Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{lost})}}); err != nil {
		t.Fatal(err)
	}
	testsrv.WaitFor(t, 10*time.Second, "the packet asked for again", func() bool {
		asking.mu.Lock()
		defer asking.mu.Unlock()
		return asking.seq[lost] == 2
	})
	other.mu.Lock()
	defer other.mu.Unlock()
	for seq, n := range other.seq {
		if n != 1 {
			t.Errorf("the other viewer got packet %d %d times", seq, n)
		}
	}
}
