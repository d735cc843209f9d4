package bench

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/tessera-media/tessera/internal/testsrv"
)

// liveViewers is how many viewers BenchmarkLiveView adds.
const liveViewers = 20

// BenchmarkLiveView measures what watching a composition live (WHEP)
// costs on `tessera serve`: a 720p30 grid of six 360p publishers, measured
// over -pipeline.window without viewers, then with 20 viewers (pion
// clients in this process, receiving, not decoding). Reported:
// cpu-s/s-per-viewer and rss-MB-per-viewer (the server's, the difference
// over the viewers), and the video packets a viewer received per second.
func BenchmarkLiveView(b *testing.B) {
	bin := buildTessera(b)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sc := pipelineScenarios[0]
	clip := clipFor(b, sc.pubW, sc.pubH, sc.pubBitrate)
	s := startServer(b, bin)
	stage, whip := s.stage(ctx, "live")
	s.publish(ctx, stage, whip, "p", sc.pubs, clip)
	s.waitDecoding(ctx, sc.pubs, sc.fps)
	arn, _ := s.startComposition(ctx, stage, s.destination(ctx, sc.outW, sc.outH, sc.fps, sc.outBitrate))
	time.Sleep(*pipelineWarmup)
	var per, rss, pps float64
	n := 0
	for b.Loop() {
		base := s.measure(ctx, *pipelineWindow)
		var tok struct {
			ViewerToken struct{ Token, WhepUrl string }
		}
		if st, body, err := testsrv.CallExtension(ctx, s.url, devAccessKeyID, devSecretAccessKey, "CreateViewerToken",
			map[string]any{"compositionArn": arn}, &tok); err != nil || st != http.StatusOK {
			b.Fatalf("CreateViewerToken: %d %s %v", st, body, err)
		}
		var video atomic.Int64
		var pcs []*webrtc.PeerConnection
		for range liveViewers {
			pcs = append(pcs, benchViewer(ctx, b, tok.ViewerToken.WhepUrl, tok.ViewerToken.Token, &video))
		}
		time.Sleep(2 * time.Second) // connected, keyframe in
		v0 := video.Load()
		perf := s.perfRecord(b.Name()+"-viewers", *pipelineWindow)
		w := s.measure(ctx, *pipelineWindow)
		perf()
		got := float64(video.Load()-v0) / w.wall.Seconds() / liveViewers
		for _, pc := range pcs {
			_ = pc.Close()
		}
		b.Logf("%d viewers: server %.3f → %.3f cores, RSS %.0f → %.0f MB; %.0f video packets/s per viewer",
			liveViewers, base.cores(), w.cores(), float64(base.rssMax)/mib, float64(w.rssMax)/mib, got)
		if got < sc.fps {
			b.Errorf("a viewer got %.0f video packets/s, fewer than the %v frames/s composed", got, sc.fps)
		}
		per += (w.cores() - base.cores()) / liveViewers
		rss += float64(w.rssMax-base.rssMax) / mib / liveViewers
		pps += got
		n++
		time.Sleep(2 * time.Second) // the viewers gone
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per/float64(n), "cpu-s/s-per-viewer")
	b.ReportMetric(rss/float64(n), "rss-MB-per-viewer")
	b.ReportMetric(pps/float64(n), "video-pkts/s-per-viewer")
}

// benchViewer watches url with token, counting the video RTP packets it
// receives in video; it is closed by the caller.
func benchViewer(ctx context.Context, b *testing.B, url, token string, video *atomic.Int64) *webrtc.PeerConnection {
	b.Helper()
	// Loopback only, as the server takes media from loopback only.
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		b.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if _, err := pc.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			b.Fatal(err)
		}
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			if tr.Kind() == webrtc.RTPCodecTypeVideo {
				video.Add(1)
			}
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		b.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		b.Fatal(err)
	}
	<-gathered
	req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(pc.LocalDescription().SDP))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("WHEP POST: %d %s", resp.StatusCode, answer)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: string(answer)}); err != nil {
		b.Fatal(err)
	}
	return pc
}
