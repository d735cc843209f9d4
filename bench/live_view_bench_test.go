package bench

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// liveViewers is how many viewers BenchmarkLiveView adds.
const liveViewers = 20

var liveViewPairs = flag.Int("liveview.pairs", 6, "pairs of windows (without, with the viewers) BenchmarkLiveView compares")

// BenchmarkLiveView measures what watching a composition live (WHEP)
// costs on `tessera serve`: a 720p30 grid of six 360p publishers, and
// -liveview.pairs pairs of windows of -pipeline.window (rounded to whole
// replays of the publishers' clip: 12 s by default), one without
// viewers and one with 20 (pion clients in this process, receiving, not
// decoding; connected before the window, gone after it), in alternating
// order (AB BA AB…) so that a drift of the machine's load cancels out. A
// pair counts only if the composition kept real time in both windows (on
// a loaded machine more are made, up to three times as many). Each pair
// gives a difference of the server's CPU time per second: its mean is
// reported as cpu-s/s-20-viewers (and per viewer, cpu-s/s-per-viewer),
// the half width of its 95 % confidence interval (Student's t) as
// cpu-s/s-20-viewers-ci95, the pairs counted as pairs. Memory:
// heap-MB-per-viewer (the Go heap live after the last collection, at the
// windows' ends, mean difference) and rss-MB-per-viewer (the first
// pair's, its window without viewers coming first).
// video-pkts/s-per-viewer is what a viewer received.
//
// With perf on PATH, one more window of each kind is recorded with
// `perf record -g` (into -pipeline.perf if set), and the server's CPU is
// attributed by call stack: whep-cpu-s/s is the CPU of the WHEP path
// with the viewers (the hub's fan-out — packetizing, pion's interceptors,
// SRTP, the UDP writes —, the viewers' RTCP and NACKs and the Opus
// encoding of the mix, which runs only while someone watches), and
// pion-other-cpu-s/s the growth, with the viewers, of the rest of pion
// (ICE, DTLS, the UDP mux's reading, interceptor timers), which the
// publishers share. On loopback the kernel delivers each datagram to the
// receiving socket in the sender's system call, so the UDP writes
// include the viewers' receiving (logged apart).
func BenchmarkLiveView(b *testing.B) {
	bin := buildTessera(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	sc := pipelineScenarios[0]
	clip := clipFor(b, sc.pubW, sc.pubH, sc.pubBitrate)
	s := startServer(b, bin)
	stage, whip := s.stage(ctx, "live")
	s.publish(ctx, stage, whip, "p", sc.pubs, clip)
	s.waitDecoding(ctx, sc.pubs, sc.fps)
	arn, _ := s.startComposition(ctx, stage, s.destination(ctx, sc.outW, sc.outH, sc.fps, sc.outBitrate))
	time.Sleep(*pipelineWarmup)
	// The publishers replay a clip: windows of whole replays see the same
	// pictures.
	lv := &liveView{s: s, arn: arn, fps: sc.fps, window: max(clipLength, pipelineWindow.Round(clipLength))}
	var cpu, heap, pps []float64
	var rss float64
	for b.Loop() {
		for i := 0; len(cpu) < *liveViewPairs && i < 3**liveViewPairs; i++ {
			var base, with window
			var got float64
			if i%2 == 0 {
				base = lv.without(ctx)
				with, got = lv.with(ctx)
			} else {
				with, got = lv.with(ctx)
				base = lv.without(ctx)
			}
			if i == 0 {
				rss = float64(with.rssMax-base.rssMax) / mib / liveViewers
			}
			d := with.cores() - base.cores()
			dh := (lv.heap[1] - lv.heap[0]) / mib
			b.Logf("pair %d: server %.3f cores without viewers, %.3f with %d: %+.3f; Go heap live %+.1f MB; %.0f video packets/s per viewer",
				i+1, base.cores(), with.cores(), liveViewers, d, dh, got)
			if !realTime(base, sc.fps) || !realTime(with, sc.fps) {
				b.Logf("pair %d left out: the composition was not kept in real time (%.0f, %.0f frames composed, %.0f, %.0f ticks skipped)",
					i+1, base.composed, with.composed, base.skipped, with.skipped)
				continue
			}
			if got < sc.fps {
				b.Errorf("a viewer got %.0f video packets/s, fewer than the %v frames/s composed", got, sc.fps)
			}
			cpu, heap, pps = append(cpu, d), append(heap, dh/liveViewers), append(pps, got)
		}
		if len(cpu) < *liveViewPairs {
			b.Logf("only %d pairs of windows in real time", len(cpu))
		}
		lv.attribute(ctx, b)
	}
	mean, ci := meanCI95(cpu)
	b.Logf("%d viewers add %.3f cores (95 %% interval ±%.3f; pairs from %.3f to %.3f)", liveViewers, mean, ci, minOf(cpu), maxOf(cpu))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(len(cpu)), "pairs")
	b.ReportMetric(mean, fmt.Sprintf("cpu-s/s-%d-viewers", liveViewers))
	b.ReportMetric(ci, fmt.Sprintf("cpu-s/s-%d-viewers-ci95", liveViewers))
	b.ReportMetric(mean/liveViewers, "cpu-s/s-per-viewer")
	h, _ := meanCI95(heap)
	b.ReportMetric(h, "heap-MB-per-viewer")
	b.ReportMetric(rss, "rss-MB-per-viewer")
	p, _ := meanCI95(pps)
	b.ReportMetric(p, "video-pkts/s-per-viewer")
	if lv.whepCores >= 0 {
		b.ReportMetric(lv.whepCores, "whep-cpu-s/s")
		b.ReportMetric(lv.pionCores, "pion-other-cpu-s/s")
	}
}

// liveView is BenchmarkLiveView's composition and its windows.
type liveView struct {
	s      *server
	arn    string
	fps    float64
	window time.Duration
	heap   [2]float64 // the Go heap live (marked by the last collection) at the end of the last window without, with viewers

	whepCores, pionCores float64 // attributed by perf, cores; -1 without perf
}

// without measures a window without viewers.
func (lv *liveView) without(ctx context.Context) window {
	lv.s.b.Helper()
	if n := lv.s.metrics(ctx)["tessera_whep_viewers"]; n != 0 {
		lv.s.b.Fatalf("%v viewers left before a window without", n)
	}
	w := lv.s.measure(ctx, lv.window)
	lv.heap[0] = lv.s.metrics(ctx)["go_gc_heap_live_bytes"]
	return w
}

// with connects the viewers, measures a window, and disconnects them
// (DELETE, then waiting until the server has none); it returns the
// window and the video packets a viewer received per second.
func (lv *liveView) with(ctx context.Context) (window, float64) {
	return lv.watched(ctx, nil)
}

// realTime tells whether the composition kept real time over w: no tick
// skipped, 99 % of the frames composed.
func realTime(w window, fps float64) bool {
	return w.skipped == 0 && w.composed >= 0.99*fps*w.wall.Seconds()
}

// watched is with, running during(window length) alongside the window
// if given.
func (lv *liveView) watched(ctx context.Context, during func(time.Duration) func()) (window, float64) {
	b := lv.s.b
	b.Helper()
	whep, token := lv.s.viewerToken(ctx, lv.arn)
	var video atomic.Int64
	count := func(tr *webrtc.TrackRemote) {
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
			}
			video.Add(1)
		}
	}
	var vs []*benchViewer
	for range liveViewers {
		vs = append(vs, watchLive(ctx, b, whep, token, count))
	}
	time.Sleep(2 * time.Second) // connected, keyframe in
	if n := lv.s.metrics(ctx)["tessera_whep_viewers"]; n != liveViewers {
		b.Fatalf("%v viewers on the server, want %d", n, liveViewers)
	}
	v0 := video.Load()
	done := func() {}
	if during != nil {
		done = during(lv.window)
	}
	w := lv.s.measure(ctx, lv.window)
	done()
	lv.heap[1] = lv.s.metrics(ctx)["go_gc_heap_live_bytes"]
	got := float64(video.Load()-v0) / w.wall.Seconds() / liveViewers
	for _, v := range vs {
		v.close(ctx, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for lv.s.metrics(ctx)["tessera_whep_viewers"] != 0 {
		if time.Now().After(deadline) {
			b.Fatal("viewers still on the server 10 s after leaving")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // the sessions' goroutines gone
	return w, got
}

// attribute records one window without and one with viewers with perf
// and sets lv.whepCores and lv.pionCores (-1 without perf).
func (lv *liveView) attribute(ctx context.Context, b *testing.B) {
	lv.whepCores, lv.pionCores = -1, -1
	if _, err := exec.LookPath("perf"); err != nil {
		b.Logf("no perf: the server's CPU is not attributed (%v)", err)
		return
	}
	dir := *pipelinePerf
	if dir == "" {
		dir = b.TempDir()
	}
	var prof [2]profile
	var err error
	record := func(i int, name string) func(time.Duration) func() {
		return func(d time.Duration) func() {
			out := filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+"-"+name+".perf.data")
			cmd := exec.CommandContext(ctx, "perf", "record", "-g", "-q", "-o", out, "-p", strconv.Itoa(lv.s.pid),
				"--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
			if err = cmd.Start(); err != nil {
				return func() {}
			}
			return func() {
				if err = cmd.Wait(); err == nil {
					prof[i], err = readProfile(ctx, out)
				}
			}
		}
	}
	done := record(0, "without")(lv.window)
	wb := lv.without(ctx)
	done()
	var ww window
	if err == nil {
		ww, _ = lv.watched(ctx, record(1, "with"))
	}
	if err != nil {
		b.Logf("perf: %v", err)
		return
	}
	for _, w := range []window{wb, ww} {
		if !realTime(w, lv.fps) {
			b.Logf("perf: the composition was not kept in real time (%.0f frames composed, %.0f ticks skipped)", w.composed, w.skipped)
		}
	}
	base := func(p stackPart) float64 { return prof[0].share(p) * wb.cores() }
	with := func(p stackPart) float64 { return prof[1].share(p) * ww.cores() }
	b.Logf("perf, without viewers (%d samples, %.3f cores): whep %.4f cores, other pion %.4f", prof[0].total, wb.cores(), base(whepPath), base(pionOther))
	b.Logf("perf, %d viewers (%d samples, %.3f cores): whep %.4f cores (fan-out %.4f, of it SRTP encryption %.4f and UDP writes %.4f, "+
		"of those the viewers' loopback receiving %.4f; RTCP and NACKs %.4f; Opus %.4f), other pion %.4f",
		liveViewers, prof[1].total, ww.cores(), with(whepPath), with(fanOut), with(srtpWrite), with(udpWrite), with(loopbackRx),
		with(viewerRTCP), with(opusMix), with(pionOther))
	lv.whepCores = with(whepPath)
	lv.pionCores = with(pionOther) - base(pionOther)
}

// stackPart is a part of the server's work perf tells apart, by the
// frames of a sample's call stack (symbols, innermost first).
type stackPart int

const (
	fanOut     stackPart = iota // the hub's sending
	srtpWrite                   // of it, SRTP encryption
	udpWrite                    // of it, the UDP writes
	loopbackRx                  // of those, the viewers' receiving, which loopback charges to the sender
	viewerRTCP                  // the viewers' RTCP: keyframe requests, NACKs and resending
	opusMix                     // the mix encoded to Opus while watched
	whepPath                    // all of the above
	pionOther                   // the rest of pion
	stackParts
)

// in tells whether stack is in part p.
func (p stackPart) in(stack []string) bool {
	has := func(names ...string) bool {
		for _, f := range stack {
			for _, n := range names {
				if strings.Contains(f, n) {
					return true
				}
			}
		}
		return false
	}
	send := has("whep.(*Hub).send")
	switch p {
	case fanOut:
		return send
	case srtpWrite:
		return send && has("srtp/v3.(*Context).encryptRTP")
	case udpWrite:
		return send && has("net.(*UDPConn).WriteTo", "ingest.(*batchConn).flush")
	case loopbackRx:
		return send && has("net_rx_action")
	case viewerRTCP:
		return has("whep.(*viewer).readRTCP")
	case opusMix:
		return has("worker.(*group).viewAudio")
	case whepPath:
		return has("/tessera/whep.", "worker.(*group).viewAudio")
	case pionOther:
		return has("github.com/pion/") && !whepPath.in(stack)
	}
	return false
}

// profile counts a perf profile's samples by part.
type profile struct {
	total int
	parts [stackParts]int
}

// share is the fraction of samples in part p.
func (p profile) share(part stackPart) float64 {
	if p.total == 0 {
		return 0
	}
	return float64(p.parts[part]) / float64(p.total)
}

// readProfile reads a `perf record -g` file's call stacks (perf script:
// a sample's frames one a line, address then symbol, samples apart by
// blank lines).
func readProfile(ctx context.Context, file string) (profile, error) {
	var p profile
	cmd := exec.CommandContext(ctx, "perf", "script", "-i", file, "-F", "ip,sym")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return p, err
	}
	if err := cmd.Start(); err != nil {
		return p, err
	}
	var stack []string
	count := func() {
		if len(stack) == 0 {
			return
		}
		p.total++
		for part := range stackParts {
			if part.in(stack) {
				p.parts[part]++
			}
		}
		stack = stack[:0]
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			stack = append(stack, line)
		} else {
			count()
		}
	}
	count()
	if err := cmd.Wait(); err != nil {
		return p, fmt.Errorf("perf script: %w", err)
	}
	return p, sc.Err()
}

// meanCI95 returns the mean of xs and the half width of its 95 %
// confidence interval (Student's t; 0 for fewer than two).
func meanCI95(xs []float64) (mean, half float64) {
	n := float64(len(xs))
	if n == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, studentT975(len(xs)-1) * math.Sqrt(ss/(n-1)/n)
}

// studentT975 is the 97.5th percentile of Student's t with df degrees of
// freedom.
func studentT975(df int) float64 {
	t := []float64{12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086}
	if df <= len(t) {
		return t[df-1]
	}
	return 1.96 + 2.4/float64(df) // within 0.01 of the table beyond 20
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// benchViewer is a WHEP viewer of BenchmarkLiveView.
type benchViewer struct {
	pc             *webrtc.PeerConnection
	session, token string
}

// close ends the session (DELETE) and the peer connection.
func (v *benchViewer) close(ctx context.Context, b *testing.B) {
	req, _ := http.NewRequestWithContext(ctx, "DELETE", v.session, nil)
	req.Header.Set("Authorization", "Bearer "+v.token)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		b.Error(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("WHEP DELETE: %d", resp.StatusCode)
		}
	}
	_ = v.pc.Close()
}

// watchLive watches whep with token, handing the video track to onVideo
// (its own goroutine, until the track ends; audio is read and dropped).
func watchLive(ctx context.Context, b *testing.B, whep, token string, onVideo func(*webrtc.TrackRemote)) *benchViewer {
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
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			onVideo(tr)
			return
		}
		buf := make([]byte, 1500)
		for {
			if _, _, err := tr.Read(buf); err != nil {
				return
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
	req, _ := http.NewRequestWithContext(ctx, "POST", whep, strings.NewReader(pc.LocalDescription().SDP))
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
	loc, err := url.Parse(whep)
	if err != nil {
		b.Fatal(err)
	}
	session, err := loc.Parse(resp.Header.Get("Location"))
	if err != nil {
		b.Fatal(err)
	}
	return &benchViewer{pc: pc, session: session.String(), token: token}
}
