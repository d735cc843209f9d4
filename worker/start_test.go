package worker

import (
	"context"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
)

// ptsTap is an encoder tap that keeps the video packets' timestamps.
type ptsTap struct {
	mu  sync.Mutex
	pts []time.Duration
}

func (t *ptsTap) WritePacket(p av.Packet) {
	if p.Kind != av.Video {
		return
	}
	t.mu.Lock()
	t.pts = append(t.pts, p.PTS)
	t.mu.Unlock()
}

func (t *ptsTap) packets() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]time.Duration(nil), t.pts...)
}

// A composition starts without a hole: its first encoded video packets
// (the first segment of its recordings, the first seconds of its
// channels) step by exactly one frame interval from 0, because the slow
// first compose and encode happen before its frame clock starts; and the
// recording's first segment, as ffprobe reads it from storage, has no gap
// longer than one frame.
func TestCompositionStartsOnTime(t *testing.T) {
	ts := startStage(t)
	red := media.RGBToYUV(200, 30, 30)
	ts.publish(t, "p1", publisher.Config{Color: &red, ToneHz: publisher.DefaultToneHz})
	ts.waitRoster(t, 1)
	tap := &ptsTap{}
	dir := t.TempDir()
	w := ts.newWorker(t, dir, nil, func(string, []av.StreamInfo) output.PacketSink { return tap })
	// A 720p canvas; under the race detector the compositor cannot keep a
	// 720p canvas in real time at all (every other tick is skipped), so
	// there the canvas is 320×180, which it keeps up with.
	enc := contract.EncoderSpec{Width: 1280, Height: 720, Framerate: 30, Bitrate: 2_500_000}
	if raceDetector {
		enc = contract.EncoderSpec{Width: 320, Height: 180, Framerate: 30, Bitrate: 500_000}
	}
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/Comp00000003", ID: "Comp00000003",
		StageARN: stageARN, Layout: layout.Config{}.WithDefaults(),
		Destinations: []contract.DestinationSpec{{ID: "Dest00000003", Bucket: "rec", RecordingPrefix: "WorkerStage1/Comp00000003/Dest00000003/composite",
			Encoder: enc, TargetSegment: 2 * time.Second, ThumbnailInterval: time.Second, ThumbnailStorage: []string{"SEQUENTIAL"}}}}
	p, err := w.Start(context.Background(), spec, &reporter{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(tap.packets()) < 30 {
		if time.Now().After(deadline) {
			t.Fatalf("%d video packets after 20 s", len(tap.packets()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := p.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "buckets", "rec", spec.Destinations[0].RecordingPrefix, "media", "hls", "*", "0.ts"))
	if len(segs) != 1 {
		t.Fatalf("first segments in storage: %v; want one", segs)
	}
	first := segs[0]
	pkts := testsrv.VideoPackets(t, first)
	if len(pkts) < 30 || !pkts[0].Key {
		t.Fatalf("%s: %d video packets, first a keyframe: %v; want ≥ 30 from a keyframe", first, len(pkts), len(pkts) > 0 && pkts[0].Key)
	}
	times := make([]float64, len(pkts))
	for i, p := range pkts {
		times[i] = p.Time
	}
	slices.Sort(times) // presentation order
	for i := 1; i < len(times); i++ {
		if gap := times[i] - times[i-1]; gap > 1.5/30 {
			t.Errorf("%s: a gap of %.3f s after %.3f s; want none longer than one frame", first, gap, times[i-1]-times[0])
		}
	}
	pts := tap.packets()[:30]
	interval := time.Second / 30
	if pts[0] != 0 {
		t.Errorf("first packet at %v, want 0", pts[0])
	}
	for i := 1; i < len(pts); i++ {
		if d := pts[i] - pts[i-1]; d < interval-time.Millisecond || d > interval+time.Millisecond {
			t.Fatalf("packets %d→%d: %v → %v, a step of %v; want one frame (%v)\n%v", i-1, i, pts[i-1], pts[i], d, interval, pts)
		}
	}
}
