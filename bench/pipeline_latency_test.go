package bench

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/worker"
)

// latencyStage is the stage of BenchmarkPipelineLatency.
const latencyStage = "arn:aws:ivs:us-east-1:123456789012:stage/BenchLatency1"

// BenchmarkPipelineLatency measures glass-to-encoder latency in one
// process: ingest and the worker (as `tessera serve` wires them, the A/V
// delay each composition finds from its publishers' lag) with six live 640×360 publishers drawing a frame-number stamp
// into every picture (encoded live, so capture includes their x264), one
// 1280×720 grid composition recording HLS into a folder, and a tap on the
// encoder (worker.Config.Tap) that sees every packet as it leaves for the
// destination. The publishers publish over WHIP (whip: H.264 and Opus over
// WebRTC) or over RTMP (rtmp: H.264 and AAC, ing.ServeRTMP on a loopback
// listener, each publisher an ingest configuration's participant). The
// tapped H.264 is decoded and each participant's stamp read at its tile
// (layout.Arrange and layout.Fit, as the worker places it); the latency of
// a publisher frame is the time its first encoded packet left, minus the
// time the publisher captured it (SentAt). Reported: p50-ms, p95-ms and
// max-ms over the frames of the measured window; av-delay-ms, the
// composition's A/V delay at the window's end, which is part of it
// (canvases show pictures captured at least that long ago, so that every
// participant's picture for the tick has arrived), and late-frames, the
// pictures it showed none of because they came after their tick; and
// first-packet-ms, worker.Start → the first
// video packet out of the encoder (in process: no API call in front).
func BenchmarkPipelineLatency(b *testing.B) {
	b.Run("whip", func(b *testing.B) { benchLatency(b, (*latencyRig).publishWHIP) })
	b.Run("rtmp", func(b *testing.B) { benchLatency(b, (*latencyRig).publishRTMP) })
}

// The publishers of BenchmarkPipelineLatency.
const (
	latencyPubs    = 6
	latencyPubW    = 640
	latencyPubH    = 360
	latencyFPS     = 30.0
	latencyBitrate = 600_000
)

// latencyRig is the in-process ingest of BenchmarkPipelineLatency, taking
// WHIP on an HTTP server and RTMP on a listener, both on 127.0.0.1.
type latencyRig struct {
	ctx     context.Context
	beeper  string // the publisher that beeps (Config.Beeps); the others are silent
	ing     *ingest.Server
	key     *ingest.TokenKey
	whipURL string // the WHIP endpoint
	rtmpURL string // rtmp://host:port/app/
}

// capturer is a publisher as the measurement sees it: when it captured
// each frame, and when its timeline (its audio's first sample) started.
type capturer interface {
	SentAt(n uint32) (time.Time, bool)
	StartedAt() time.Time
}

// sound returns the tone and beeps of publisher name.
func (r *latencyRig) sound(name string) (float64, bool) {
	if name == r.beeper {
		return publisher.DefaultToneHz, true
	}
	return 0, false
}

// publishWHIP starts a live WHIP publisher, name its participant and user
// id, stopped in Cleanup.
func (r *latencyRig) publishWHIP(b *testing.B, name string) capturer {
	now := time.Now()
	tok, err := r.key.Sign(ingest.Claims{ParticipantID: name, UserID: name, StageARN: latencyStage,
		Capabilities: ingest.Capabilities{AllowPublish: true}, Version: ingest.TokenVersion,
		IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix()})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	hz, beeps := r.sound(name)
	p, err := publisher.Start(ctx, publisher.Config{WHIP: r.whipURL, Token: tok, Name: name, Width: latencyPubW, Height: latencyPubH,
		FPS: latencyFPS, Bitrate: latencyBitrate, ToneHz: hz, Beeps: beeps, Logger: quietLog()})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	})
	return p
}

// publishRTMP registers an ingest configuration for participant name and
// starts a live RTMP publisher with its stream key, stopped in Cleanup.
func (r *latencyRig) publishRTMP(b *testing.B, name string) capturer {
	k := ingest.IngestKey{ARN: "arn:aws:ivs:us-east-1:123456789012:ingest-configuration/" + name,
		StreamKey: "rt_123456789012_us-east-1_" + name + "_benchLatencyKey", StageARN: latencyStage,
		ParticipantID: name, UserID: name, Insecure: true}
	r.ing.IngestKeys().Set(k)
	ctx, cancel := context.WithTimeout(r.ctx, 20*time.Second)
	hz, beeps := r.sound(name)
	p, err := publisher.StartRTMP(ctx, publisher.RTMPConfig{URL: r.rtmpURL + k.StreamKey, Name: name, Width: latencyPubW, Height: latencyPubH,
		FPS: latencyFPS, Bitrate: latencyBitrate, ToneHz: hz, Beeps: beeps, Logger: quietLog()})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(p.Close)
	return p
}

// benchLatency runs BenchmarkPipelineLatency with publishers that publish
// starts.
func benchLatency(b *testing.B, publish func(r *latencyRig, b *testing.B, name string) capturer) {
	const (
		pubs        = latencyPubs
		pubW, pubH  = latencyPubW, latencyPubH
		outW, outH  = 1280, 720
		fps         = latencyFPS
		outBitrate  = 2_500_000
		compID      = "BenchLatency1"
		compositeAt = "BenchLatency1/comp/dest/composite"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	key, err := ingest.NewTokenKey()
	if err != nil {
		b.Fatal(err)
	}
	ing, err := ingest.New(ingest.Config{Key: key, Loopback: true, LoopbackOnly: true, Registerer: prometheus.NewRegistry(), Logger: quietLog()})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(ing.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = ing.ServeRTMP(ln, false) }()
	b.Cleanup(func() {
		hs.Close()
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = ing.Close(cctx)
	})
	stage, err := ing.OpenStage(latencyStage, ingest.StageOptions{})
	if err != nil {
		b.Fatal(err)
	}
	rig := &latencyRig{ctx: ctx, beeper: "p1", ing: ing, key: key, whipURL: hs.URL + "/whip", rtmpURL: "rtmp://" + ln.Addr().String() + "/app/"}
	byUser := map[string]capturer{}
	for i := range pubs {
		name := fmt.Sprintf("p%d", i+1)
		byUser[name] = publish(rig, b, name)
	}
	// Every publisher decoded at its size.
	var roster []ingest.ParticipantInfo
	deadline := time.Now().Add(20 * time.Second)
	for {
		roster = stage.Roster()
		ready := len(roster) == pubs
		for _, r := range roster {
			ready = ready && !r.VideoStopped && r.Width == pubW && r.Height == pubH
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("publishers not decoded after 20 s: %+v", roster)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Where each publisher's picture lands, as the worker lays it out.
	lay := layout.Config{}.WithDefaults()
	ps := make([]layout.Participant, len(roster))
	for i, r := range roster {
		ps[i] = layout.Participant{ID: r.ID, UserID: r.UserID, Attributes: r.Attributes, Arrival: r.Arrival,
			Video: layout.Size{W: r.Width, H: r.Height}, VideoStopped: r.VideoStopped || r.AudioOnly}
	}
	var tiles []stampTile
	for _, s := range layout.Arrange(layout.Size{W: outW, H: outH}, lay, ps) {
		x, y, scale := pictureAt(s, ps[s.Index].Video)
		tiles = append(tiles, stampTile{pub: byUser[roster[s.Index].UserID], name: roster[s.Index].UserID, x: x, y: y, scale: scale})
	}
	if len(tiles) != pubs {
		b.Fatalf("%d tiles for %d publishers", len(tiles), pubs)
	}

	dir := b.TempDir()
	storage, err := output.NewFolderStorage(filepath.Join(dir, "buckets"))
	if err != nil {
		b.Fatal(err)
	}
	tap := &latencyTap{packets: make(chan tappedPacket, 1024)}
	reg := prometheus.NewRegistry()
	w, err := worker.New(worker.Config{Ingest: ing, Storage: storage, SpoolDir: filepath.Join(dir, "spool"), Preset: *pipelinePreset,
		Logger: quietLog(), Registerer: reg,
		Tap: func(_ string, streams []av.StreamInfo) output.PacketSink {
			tap.extradata, tap.audioConfig = streams[0].Extradata, streams[1].Extradata
			return tap
		}})
	if err != nil {
		b.Fatal(err)
	}
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/" + compID, ID: compID,
		StageARN: latencyStage, Layout: lay,
		Destinations: []contract.DestinationSpec{{ID: "dest", Bucket: "bench", RecordingPrefix: compositeAt,
			Encoder:       contract.EncoderSpec{Width: outW, Height: outH, Framerate: fps, Bitrate: outBitrate},
			TargetSegment: 2 * time.Second, ThumbnailInterval: time.Minute, ThumbnailStorage: []string{"SEQUENTIAL"}, ThumbnailsRecorded: true}}}

	var lat, arrived, captureErr []time.Duration
	var firsts []time.Duration
	var unread, frames int
	var avDelay, late []float64
	var offsets []time.Duration
	for b.Loop() {
		tap.reset()
		started := time.Now()
		pipe, err := w.Start(ctx, spec, failReporter{b})
		if err != nil {
			b.Fatal(err)
		}
		from := started.Add(*pipelineWarmup)
		until := from.Add(*pipelineWindow)
		probe := probeIngest(ing, stage, tiles, from, until)
		res := readStamps(b, tap, tiles, from, until)
		in := probe()
		m := gatherSums(b, reg)
		avDelay = append(avDelay, m["tessera_composition_av_delay_seconds"]*1000)
		late = append(late, m["tessera_composition_late_frames_total"])
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		err = pipe.Stop(sctx)
		scancel()
		if err != nil {
			b.Fatal(err)
		}
		tap.drain()
		firsts = append(firsts, res.first.Sub(started))
		offsets = append(offsets, avOffsets(b, tap, res, tiles, rig.beeper)...)
		lat = append(lat, res.lat...)
		arrived = append(arrived, in.arrived...)
		captureErr = append(captureErr, in.captureErr...)
		unread += res.unread
		frames += res.frames
		b.Logf("%d canvases decoded, %d publisher frames timed, %d tiles unreadable; first packet %v after worker.Start; A/V delay %.1f ms, %.0f late pictures",
			res.frames, len(res.lat), res.unread, res.first.Sub(started).Round(time.Millisecond), avDelay[len(avDelay)-1], late[len(late)-1])
	}
	if len(lat) == 0 {
		b.Fatal("no stamp read back")
	}
	for _, d := range [][]time.Duration{lat, arrived, captureErr} {
		slices.Sort(d)
	}
	b.Logf("publisher capture → packet out (ms): p10 %.1f, p50 %.1f, p90 %.1f, p95 %.1f, p99 %.1f, max %.1f over %d frames",
		percentileMs(lat, 0.1), percentileMs(lat, 0.5), percentileMs(lat, 0.9), percentileMs(lat, 0.95), percentileMs(lat, 0.99), percentileMs(lat, 1), len(lat))
	b.Logf("publisher capture → decoded in ingest (ms): p50 %.1f, p95 %.1f, p99 %.1f, max %.1f over %d frames",
		percentileMs(arrived, 0.5), percentileMs(arrived, 0.95), percentileMs(arrived, 0.99), percentileMs(arrived, 1), len(arrived))
	b.Logf("ingest's capture time − publisher's (ms): p5 %.1f, p50 %.1f, p95 %.1f",
		percentileMs(captureErr, 0.05), percentileMs(captureErr, 0.5), percentileMs(captureErr, 0.95))
	var first time.Duration
	for _, f := range firsts {
		first += f
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(percentileMs(lat, 0.50), "p50-ms")
	b.ReportMetric(percentileMs(lat, 0.95), "p95-ms")
	b.ReportMetric(percentileMs(arrived, 0.95), "ingest-p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/float64(time.Millisecond), "max-ms")
	d, _ := meanCI95(avDelay)
	l, _ := meanCI95(late)
	b.ReportMetric(d, "av-delay-ms")
	if len(offsets) == 0 {
		b.Fatal("no beep heard in the composition's sound")
	}
	var sum, worst time.Duration
	for _, o := range offsets {
		sum += o
		worst = max(worst, o.Abs())
	}
	b.Logf("A/V offset of %s (video − sound, ms) at its %d beeps: %v", rig.beeper, len(offsets), offsets)
	b.ReportMetric(float64(sum)/float64(len(offsets))/float64(time.Millisecond), "av-offset-ms")
	b.ReportMetric(float64(worst)/float64(time.Millisecond), "av-offset-max-ms")
	b.ReportMetric(l, "late-frames")
	b.ReportMetric(float64(first)/float64(len(firsts))/float64(time.Millisecond), "first-packet-ms")
	b.ReportMetric(float64(len(lat)), "frames-timed")
	if frames > 0 && unread > frames*pubs/100 {
		b.Errorf("%d of %d tiles unreadable", unread, frames*pubs)
	}
}

// gatherSums returns each of reg's metric families as the sum of its
// series' values (counters and gauges).
func gatherSums(b *testing.B, reg *prometheus.Registry) map[string]float64 {
	families, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	sums := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			sums[f.GetName()] += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sums
}

// percentileMs returns the p-quantile (0–1) of the sorted durations d in
// milliseconds; 0 for none.
func percentileMs(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	return float64(d[min(len(d)-1, int(p*float64(len(d))))]) / float64(time.Millisecond)
}

// stampTile is where one publisher's picture lies in the canvas, in the
// terms of publisher.ReadStamp.
type stampTile struct {
	pub         capturer
	name        string
	x, y, scale float64
}

// pictureAt returns where a participant's picture of size video, drawn in
// slot, lies in the canvas, in the terms of publisher.ReadStamp: its
// top-left corner (outside the slot when cropped) and by how much it is
// shrunk.
func pictureAt(slot layout.Slot, video layout.Size) (x, y, scale float64) {
	crop, dst := layout.Fit(slot.Rect, video, slot.Fill)
	scale = float64(crop.W) / float64(dst.W)
	return float64(dst.X) - float64(crop.X)/scale, float64(dst.Y) - float64(crop.Y)/scale, scale
}

// tappedPacket is an encoded video packet and when it left the encoder.
type tappedPacket struct {
	at  time.Time
	pkt av.Packet
}

// latencyTap is the extra sink on the composition's encoder: it stamps
// each video packet with the time it leaves and passes it on, never
// blocking the encoder (a full queue drops, counted).
type latencyTap struct {
	extradata   []byte
	audioConfig []byte // AAC AudioSpecificConfig
	packets     chan tappedPacket
	dropped     atomic.Int64

	mu    sync.Mutex
	audio []av.Packet // the sound, in order
}

func (t *latencyTap) WritePacket(p av.Packet) {
	if p.Kind == av.Audio {
		p.Data = slices.Clone(p.Data)
		t.mu.Lock()
		t.audio = append(t.audio, p)
		t.mu.Unlock()
		return
	}
	if p.Kind != av.Video {
		return
	}
	select {
	case t.packets <- tappedPacket{at: time.Now(), pkt: p}:
	default:
		t.dropped.Add(1)
	}
}

// reset empties the queue before a run.
func (t *latencyTap) reset() {
	t.drain()
	t.dropped.Store(0)
	t.mu.Lock()
	t.audio = nil
	t.mu.Unlock()
}

func (t *latencyTap) drain() {
	for {
		select {
		case <-t.packets:
		default:
			return
		}
	}
}

// shownFrame is a publisher frame as the composition showed it first: the
// canvas's output time, and the frame's capture time on the publisher's
// timeline (since its StartedAt).
type shownFrame struct{ out, captured time.Duration }

// stampResult is what readStamps found.
type stampResult struct {
	shown  [][]shownFrame  // per tile: the frames read, when first shown
	first  time.Time       // when the first packet left
	lat    []time.Duration // per publisher frame in the window
	frames int             // canvases decoded in the window
	unread int             // tiles without a readable stamp
}

// readStamps decodes the tapped packets until until, and for the canvases
// whose packet left in [from, until) reads every tile's stamp: the first
// canvas showing a publisher's frame n gives that frame's latency.
func readStamps(b *testing.B, t *latencyTap, tiles []stampTile, from, until time.Time) stampResult {
	b.Helper()
	dec, err := av.NewVideoDecoder("h264", 1)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	var (
		res  = stampResult{shown: make([][]shownFrame, len(tiles))}
		last = make([]uint32, len(tiles))
		seen = make([]bool, len(tiles))
		pool *media.VideoFrame
		au   []byte
	)
	get := func(w, h int) *media.VideoFrame {
		if pool == nil || pool.Width != w || pool.Height != h {
			pool = media.NewVideoFrame(w, h)
		}
		return pool
	}
	timeout := time.NewTimer(time.Until(until) + 10*time.Second)
	defer timeout.Stop()
	for {
		var tp tappedPacket
		select {
		case tp = <-t.packets:
		case <-timeout.C:
			b.Fatal("tap: no packets")
		}
		if res.first.IsZero() {
			res.first = tp.at
		}
		if !tp.at.Before(until) {
			break
		}
		au = au[:0]
		if tp.pkt.Keyframe {
			au = append(au, t.extradata...) // SPS and PPS: the stream's global header
		}
		au = append(au, tp.pkt.Data...)
		f, err := dec.Decode(au, tp.pkt.PTS, get)
		if err != nil {
			b.Fatalf("decoding the composition: %v", err)
		}
		if f == nil || tp.at.Before(from) {
			continue
		}
		res.frames++
		for i, tile := range tiles {
			n, ok := publisher.ReadStamp(f, tile.x, tile.y, tile.scale)
			if !ok {
				res.unread++
				continue
			}
			if seen[i] && n <= last[i] {
				continue // still the same picture (or an older one)
			}
			if sent, ok := tile.pub.SentAt(n); ok && seen[i] {
				res.lat = append(res.lat, tp.at.Sub(sent))
				res.shown[i] = append(res.shown[i], shownFrame{out: tp.pkt.PTS, captured: sent.Sub(tile.pub.StartedAt())})
			}
			last[i], seen[i] = n, true
		}
	}
	if d := t.dropped.Load(); d > 0 {
		b.Fatalf("tap: %d packets dropped", d)
	}
	return res
}

// avOffsets measures the composition's A/V offset for publisher name (the
// one that beeps, silent publishers beside it): for each beep in the
// tapped sound — an onset after at least 200 ms of silence —, the output
// time of the first canvas showing pub's frame captured nearest the beep,
// corrected by how far from the beep that frame was captured, minus the
// output time of the onset. Positive: the picture comes after the sound.
func avOffsets(b *testing.B, t *latencyTap, res stampResult, tiles []stampTile, name string) []time.Duration {
	b.Helper()
	i := slices.IndexFunc(tiles, func(t stampTile) bool { return t.name == name })
	if i < 0 || len(res.shown[i]) == 0 {
		b.Fatalf("the frames of %s, which beeps, were not read", name)
	}
	frames := res.shown[i]
	// The output time of the publisher's timeline, from the video: the
	// median of output time − capture time.
	lags := make([]time.Duration, len(frames))
	for j, f := range frames {
		lags[j] = f.out - f.captured
	}
	slices.Sort(lags)
	lag := lags[len(lags)/2]
	dec, err := av.NewAACDecoder(t.audioConfig, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	t.mu.Lock()
	audio := t.audio
	t.mu.Unlock()
	var buf *media.AudioFrame
	get := func(channels, samples int) *media.AudioFrame {
		if buf == nil || buf.Channels != channels || buf.Len() != samples {
			buf = media.NewAudioFrame(channels, samples)
		}
		return buf
	}
	const silence = 200 * time.Millisecond
	var quiet time.Duration // of silence before the sample
	var offsets []time.Duration
	for _, p := range audio {
		f, err := dec.Decode(p.Data, p.PTS, get)
		if err != nil {
			b.Fatalf("decoding the composition's sound: %v", err)
		}
		if f == nil {
			continue
		}
		step := time.Second / media.SampleRate
		for i := range f.Len() {
			v := f.Samples[i*f.Channels]
			if v > -0.02 && v < 0.02 {
				quiet += step
				continue
			}
			if quiet >= silence {
				onset := f.PTS + time.Duration(i)*step
				// The beep: the whole second of the publisher's timeline
				// the video puts this output time at.
				k := ((onset - lag) + time.Second/2).Truncate(time.Second)
				best := shownFrame{captured: -time.Hour}
				for _, fr := range frames {
					if (fr.captured - k).Abs() < (best.captured - k).Abs() {
						best = fr
					}
				}
				if (best.captured - k).Abs() <= 20*time.Millisecond {
					offsets = append(offsets, best.out-(best.captured-k)-onset)
				}
			}
			quiet = 0
		}
	}
	return offsets
}

// failReporter takes the worker's progress reports and fails the
// benchmark if the composition fails.
type failReporter struct{ b *testing.B }

func (failReporter) Active()                                    {}
func (failReporter) Destination(string, contract.State, string) {}
func (r failReporter) Failed(reason string)                     { r.b.Errorf("composition failed: %s", reason) }

// ingestTimes is what probeIngest saw.
type ingestTimes struct {
	arrived    []time.Duration // publisher capture → picture decoded in ingest
	captureErr []time.Duration // ingest's capture time (VideoFeed PTS) − publisher's
}

// probeIngest watches every publisher's VideoFeed from from to until,
// every millisecond, and for each new picture reads its stamp: how long
// after the publisher captured it was it decoded in ingest, and how far
// the capture time ingest gave it (on the server clock, from RTCP sender
// reports for WHIP, from the stream's timestamps for RTMP) is from the
// publisher's. It splits the latency into the way in
// and the composition's part. The returned function waits for the probe.
func probeIngest(ing *ingest.Server, stage *ingest.Stage, tiles []stampTile, from, until time.Time) func() ingestTimes {
	done := make(chan ingestTimes, 1)
	go func() {
		var res ingestTimes
		feeds := make([]*ingest.VideoFeed, len(tiles))
		for i, t := range tiles {
			if p := stage.Participant(t.name); p != nil {
				feeds[i] = p.Video()
			}
		}
		counts := make([]uint64, len(tiles))
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for now := range tick.C {
			if !now.Before(until) {
				break
			}
			for i, feed := range feeds {
				if feed == nil || feed.Frames() == counts[i] {
					continue
				}
				f := feed.Latest()
				at, server := time.Now(), ing.Now()
				counts[i] = feed.Frames()
				if f == nil {
					continue
				}
				n, ok := publisher.ReadStamp(f.VideoFrame, 0, 0, 1)
				pts := f.PTS
				f.Release()
				if sent, known := tiles[i].pub.SentAt(n); ok && known && !at.Before(from) {
					res.arrived = append(res.arrived, at.Sub(sent))
					res.captureErr = append(res.captureErr, at.Add(pts-server).Sub(sent))
				}
			}
		}
		done <- res
	}()
	return func() ingestTimes { return <-done }
}
