package worker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
)

// packetTap keeps a copy of every video packet of a composition's encoder.
type packetTap struct {
	extradata []byte
	mu        sync.Mutex
	packets   []av.Packet
}

func (t *packetTap) WritePacket(p av.Packet) {
	if p.Kind != av.Video {
		return
	}
	p.Data = append([]byte(nil), p.Data...)
	t.mu.Lock()
	t.packets = append(t.packets, p)
	t.mu.Unlock()
}

// canvases decodes the tapped packets and passes each canvas to fn.
func (t *packetTap) canvases(tb testing.TB, fn func(*media.VideoFrame)) {
	dec, err := av.NewVideoDecoder("h264", 1)
	if err != nil {
		tb.Fatal(err)
	}
	defer dec.Close()
	var pool *media.VideoFrame
	get := func(w, h int) *media.VideoFrame {
		if pool == nil || pool.Width != w || pool.Height != h {
			pool = media.NewVideoFrame(w, h)
		}
		return pool
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var au []byte
	for _, p := range t.packets {
		au = au[:0]
		if p.Keyframe {
			au = append(au, t.extradata...)
		}
		au = append(au, p.Data...)
		f, err := dec.Decode(au, p.PTS, get)
		if err != nil {
			tb.Fatalf("decoding the composition at %v: %v", p.PTS, err)
		}
		if f != nil {
			fn(f)
		}
	}
}

// startTapped starts composition Comp0000000<n> of the test stage with
// layout cfg, recording a size canvas at 30 fps into a folder, and returns
// it with the tap that keeps its video packets and its reporter.
func (s *testStage) startTapped(t *testing.T, n string, size layout.Size, bitrate int, cfg layout.Config) (contract.Pipeline, *packetTap, *reporter) {
	t.Helper()
	tap := &packetTap{}
	w := s.newWorker(t, t.TempDir(), nil, func(_ string, streams []av.StreamInfo) output.PacketSink {
		tap.extradata = streams[0].Extradata
		return tap
	})
	comp, dest := "Comp0000000"+n, "Dest0000000"+n
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/" + comp, ID: comp,
		StageARN: stageARN, Layout: cfg,
		Destinations: []contract.DestinationSpec{{ID: dest, Bucket: "rec", RecordingPrefix: "WorkerStage1/" + comp + "/" + dest + "/composite",
			Encoder:       contract.EncoderSpec{Width: size.W, Height: size.H, Framerate: 30, Bitrate: bitrate},
			TargetSegment: 2 * time.Second, ThumbnailInterval: time.Minute, ThumbnailStorage: []string{"SEQUENTIAL"}}}}
	r := &reporter{}
	pipe, err := w.Start(context.Background(), spec, r)
	if err != nil {
		t.Fatal(err)
	}
	return pipe, tap, r
}

// colourNear reports whether the pixel at (x, y) is within 24 of c in
// each of Y, U and V.
func colourNear(f *media.VideoFrame, x, y int, c media.YUV) bool {
	near := func(a, b byte) bool { return int(a)-int(b) <= 24 && int(b)-int(a) <= 24 }
	return near(f.Row(0, y)[x], c.Y) && near(f.Row(1, y/2)[x/2], c.U) && near(f.Row(2, y/2)[x/2], c.V)
}

// A publisher that is killed (SIGKILL: nothing more from it, not even a
// goodbye) and publishes again within a second, five times over, while a
// composition renders it between two others: the composition stays
// ACTIVE; every canvas shows the other two in their tiles (so the grid
// never reorders or reflows: the rejoining publisher keeps its place); its
// own tile never shows one picture for 3 s or more (composition time, 90
// canvases: a frozen tile); and once killed for good its tile turns into
// its placeholder within that time too.
func TestFlappingPublisher(t *testing.T) {
	killable := testsrv.BuildKillablePublisher(t)
	ts := startStage(t)
	stage := ts.stage
	red, blue := media.RGBToYUV(200, 30, 30), media.RGBToYUV(30, 30, 200)
	ts.publish(t, "a", publisher.Config{Color: &red, NoAudio: true})
	ts.waitRoster(t, 1)
	tokenB := ts.token(t, "b")
	b := killable.Start(t, ts.whip, tokenB)
	ts.waitRoster(t, 2)
	ts.publish(t, "c", publisher.Config{Color: &blue, NoAudio: true})
	ts.waitRoster(t, 3)

	// Where each participant's tile lies, and where b's stamp is.
	roster := stage.Roster()
	size := layout.Size{W: 640, H: 360}
	ps := make([]layout.Participant, len(roster))
	for i, r := range roster {
		ps[i] = layout.Participant{ID: r.ID, UserID: r.UserID, Arrival: r.Arrival, Video: layout.Size{W: r.Width, H: r.Height}}
	}
	centre := map[string][2]int{}
	var stampX, stampY, stampScale float64
	for _, s := range layout.Arrange(size, layout.Config{}.WithDefaults(), ps) {
		centre[s.Participant] = [2]int{s.Rect.X + s.Rect.W/2, s.Rect.Y + s.Rect.H/2}
		if s.Participant == "b" {
			crop, dst := layout.Fit(s.Rect, ps[s.Index].Video, s.Fill)
			stampScale = float64(crop.W) / float64(dst.W)
			stampX, stampY = float64(dst.X)-float64(crop.X)/stampScale, float64(dst.Y)-float64(crop.Y)/stampScale
		}
	}

	pipe, tap, r := ts.startTapped(t, "4", size, 1_000_000, layout.Config{}.WithDefaults())
	hasVideo := func(p *ingest.Participant) func() bool {
		return func() bool { return p != nil && stage.Participant("b") == p && !p.Info().VideoStopped }
	}
	time.Sleep(time.Second)
	var rejoin []time.Duration
	for range 5 {
		before := stage.Participant("b")
		if err := b.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		b = killable.Start(t, ts.whip, tokenB)
		rejoin = append(rejoin, time.Since(killed).Round(time.Millisecond))
		var now *ingest.Participant
		testsrv.WaitFor(t, 10*time.Second, "b's pictures after it published again", func() bool {
			now = stage.Participant("b")
			return now != before && hasVideo(now)()
		})
		time.Sleep(time.Second)
	}
	t.Logf("b published again %v after each kill", rejoin)
	if err := b.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	last := stage.Participant("b")
	testsrv.WaitFor(t, 10*time.Second, "b's video stopped after the last kill", func() bool { return last.Info().VideoStopped })
	time.Sleep(4 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := pipe.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	active, failed := r.active, r.failed
	r.mu.Unlock()
	if !active || failed != "" {
		t.Errorf("composition active %v, failed %q", active, failed)
	}

	// Every canvas: a and c where they were; b's tile never frozen.
	const frozen = 3 * time.Second
	var canvases, misplaced, stamped int
	var run struct {
		n          uint32
		from, last time.Duration
		ok         bool
	}
	var longest, lastStamp, end time.Duration
	tap.canvases(t, func(f *media.VideoFrame) {
		canvases++
		end = f.PTS
		if ca, cc := centre["a"], centre["c"]; !colourNear(f, ca[0], ca[1], red) || !colourNear(f, cc[0], cc[1], blue) {
			misplaced++
		}
		n, ok := publisher.ReadStamp(f, stampX, stampY, stampScale)
		if !ok {
			run.ok = false
			return
		}
		stamped++
		lastStamp = f.PTS
		if run.ok && n == run.n {
			run.last = f.PTS
			longest = max(longest, run.last-run.from)
			return
		}
		run.n, run.from, run.last, run.ok = n, f.PTS, f.PTS, true
	})
	t.Logf("%d canvases, %d with b's stamp, the longest run of one picture %v; b's last picture at %v", canvases, stamped, longest, lastStamp)
	if misplaced != 0 {
		t.Errorf("%d of %d canvases show a or c out of their tiles", misplaced, canvases)
	}
	if stamped < 30 {
		t.Fatalf("%d canvases, %d with b's picture in its tile: too few", canvases, stamped)
	}
	if longest >= frozen {
		t.Errorf("b's tile showed one picture for %v", longest)
	}
	if end-lastStamp < 3*time.Second {
		t.Errorf("b's picture shown until %v of %v, after it was killed for good", lastStamp, end)
	}
}
