package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

const stageARN = "arn:aws:ivs:us-east-1:123456789012:stage/WorkerStage1"

type reporter struct {
	mu       sync.Mutex
	active   bool
	activeAt time.Time // when the first canvas was out (the frame clock starts)
	states   map[string][]contract.State
	failed   string
}

func (r *reporter) Active() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.active {
		r.active, r.activeAt = true, time.Now()
	}
}
func (r *reporter) Destination(id string, state contract.State, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.states == nil {
		r.states = map[string][]contract.State{}
	}
	r.states[id] = append(r.states[id], state)
}
func (r *reporter) Failed(reason string) { r.mu.Lock(); r.failed = reason; r.mu.Unlock() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// series gathers reg into name{label="value",…} → value (labels sorted by
// name; counters, gauges, and histograms as their sample counts).
func series(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			out[f.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// matching returns the series whose key contains every one of parts.
func matching(all map[string]float64, parts ...string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range all {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(k, p)
		}
		if ok {
			out[k] = v
		}
	}
	return out
}

// closedPort returns a loopback TCP port nobody listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// Two Go publishers (solid colours, tones) on a stage; a composition
// records HLS into a folder for three seconds: the recording is complete,
// at the encoder configuration's size and rate, with AAC audio. Its
// metrics move while it runs (canvases, output bytes, speed, the
// recording's state and uploads, the failing channel's connect attempts)
// and its series are gone once it stopped.
func TestCompositionRecords(t *testing.T) {
	ts := startStage(t)
	for i, c := range []media.YUV{media.RGBToYUV(200, 30, 30), media.RGBToYUV(30, 30, 200)} {
		ts.publish(t, "p"+string(rune('1'+i)), publisher.Config{Color: &c, ToneHz: 440 * float64(i+1)})
	}
	ts.waitRoster(t, 2)
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	w := ts.newWorker(t, dir, reg, nil)
	spec := contract.CompositionSpec{ARN: "arn:aws:ivs:us-east-1:123456789012:composition/Comp00000001", ID: "Comp00000001",
		StageARN: stageARN, Layout: layout.Config{}.WithDefaults(),
		Destinations: []contract.DestinationSpec{{ID: "Dest00000001", Bucket: "rec", RecordingPrefix: "WorkerStage1/Comp00000001/Dest00000001/composite",
			Encoder:       contract.EncoderSpec{Width: 640, Height: 360, Framerate: 30, Bitrate: 1_000_000},
			TargetSegment: 2 * time.Second, ThumbnailInterval: time.Second, ThumbnailStorage: []string{"SEQUENTIAL"}},
			// A channel nobody listens on: it keeps trying to connect.
			{ID: "Dest00000002", ChannelURL: fmt.Sprintf("rtmp://127.0.0.1:%d/live/key", closedPort(t)),
				Encoder: contract.EncoderSpec{Width: 640, Height: 360, Framerate: 30, Bitrate: 1_000_000}}}}
	var r reporter
	start := time.Now()
	p, err := w.Start(context.Background(), spec, &r)
	if err != nil {
		t.Fatal(err)
	}
	const comp = `composition="Comp00000001"`
	recActive := `tessera_destination_state{` + comp + `,destination="Dest00000001",state="ACTIVE",type="s3"}`
	var m map[string]float64
	var elapsed time.Duration
	// Until the recording stores its first segment (ACTIVE), and at least
	// 3 s: the recording is STARTING or ACTIVE all along.
	for elapsed < 3*time.Second || m[recActive] != 1 {
		if elapsed > 30*time.Second {
			t.Fatalf("recording not ACTIVE after %v: %v", elapsed, matching(m, "tessera_destination_state", "Dest00000001"))
		}
		time.Sleep(100 * time.Millisecond)
		m, elapsed = series(t, reg), time.Since(start)
		if m[`tessera_destination_state{`+comp+`,destination="Dest00000001",state="STARTING",type="s3"}`]+m[recActive] != 1 {
			t.Fatalf("recording neither STARTING nor ACTIVE: %v", matching(m, "tessera_destination_state", "Dest00000001"))
		}
	}
	// Every tick of the 30 fps clock, which starts once the first canvas
	// is out, is accounted for: composed, or skipped because the machine
	// was too busy to keep up (how many of each depends on the load, so
	// only the sum is checked, within a few ticks and the ticks a clock
	// may owe before it skips: maxBehind).
	composed, skipped := m[`tessera_composition_frames_total{`+comp+`}`], m[`tessera_composition_frames_skipped_total{`+comp+`}`]
	r.mu.Lock()
	clocked := start.Add(elapsed).Sub(r.activeAt) // up to when m was gathered
	r.mu.Unlock()
	if ticks := 1 + clocked.Seconds()*30; composed < 1 || composed+skipped < ticks-8-maxBehind.Seconds()*30 || composed+skipped > ticks+1 {
		t.Errorf("%v canvases composed and %v skipped in %v at 30 fps (%.0f ticks)", composed, skipped, clocked, ticks)
	}
	if n := testutil.CollectAndCount(w.metrics.compose); n != 1 {
		t.Errorf("%d compose-time series, want 1", n)
	}
	// Video and audio left the encoder, faster than real time.
	for _, kind := range []string{"video", "audio"} {
		if n := m[`tessera_composition_output_bytes_total{`+comp+`,kind="`+kind+`"}`]; n <= 0 {
			t.Errorf("no %s bytes counted", kind)
		}
	}
	if v := m[`tessera_composition_speed{`+comp+`}`]; v <= 0 {
		t.Errorf("speed %v, want > 0", v)
	}
	// The A/V delay the composition found for itself: its publishers'
	// lag on loopback (receiving, reassembling, decoding) and the margin,
	// within the bounds. How low it is depends on the machine's load (a
	// busy one's publishers lag more): BenchmarkPipelineLatency measures
	// it; delay_test.go checks how it follows the lag.
	if d := m[`tessera_composition_av_delay_seconds{`+comp+`}`]; d < DefaultMinDelay.Seconds() || d > DefaultMaxDelay.Seconds() {
		t.Errorf("A/V delay %.3f s, want %v to %v", d, DefaultMinDelay, DefaultMaxDelay)
	} else {
		t.Logf("A/V delay %.1f ms", d*1000)
	}
	// The kernel set the compositions run: the fastest this CPU has.
	if set := compositor.KernelSets()[0]; m[`tessera_compositor_kernels{set="`+set+`"}`] != 1 {
		t.Errorf("kernel set series %v, want %s", matching(m, "tessera_compositor_kernels"), set)
	}
	// One late-pictures series per participant.
	if late := matching(m, "tessera_composition_late_frames_total", comp); len(late) != 2 {
		t.Errorf("late-picture series %v, want p1 and p2", late)
	} else {
		t.Logf("late pictures %v, speed %.1f", late, m[`tessera_composition_speed{`+comp+`}`])
	}
	// The recording is ACTIVE (its first segment is stored) and uploads.
	if n := m[`tessera_uploads_total{bucket="rec"}`]; n < 1 {
		t.Errorf("%v uploads counted", n)
	}
	if _, ok := m[`tessera_destination_upload_queue_depth{`+comp+`,destination="Dest00000001"}`]; !ok {
		t.Error("no upload queue depth for the recording")
	}
	// The channel is still STARTING, trying to connect.
	if m[`tessera_destination_state{`+comp+`,destination="Dest00000002",state="STARTING",type="channel"}`] != 1 {
		t.Errorf("channel states %v", matching(m, "tessera_destination_state", "Dest00000002"))
	}
	if n := m[`tessera_channel_connect_failures_total{destination="Dest00000002"}`]; n < 1 {
		t.Errorf("%v connect failures counted", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ran := time.Since(start)
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	states, active := r.states["Dest00000001"], r.active
	r.mu.Unlock()
	if !active || len(states) == 0 || states[len(states)-1] != "STOPPED" {
		t.Fatalf("active %v, destination states %v", active, states)
	}
	// Every series of the composition and its channel is gone; the
	// per-bucket upload counters stay.
	m = series(t, reg)
	if left := matching(m, comp); len(left) != 0 {
		t.Errorf("series left after Stop: %v", left)
	}
	if left := matching(m, "Dest0000000"); len(left) != 0 {
		t.Errorf("destination series left after Stop: %v", left)
	}
	if n := m[`tessera_uploads_total{bucket="rec"}`]; n < 3 {
		t.Errorf("%v uploads counted after the recording ended", n)
	}
	root := filepath.Join(dir, "buckets", "rec", "WorkerStage1/Comp00000001/Dest00000001/composite")
	if _, err := os.Stat(filepath.Join(root, "events", "recording-ended.json")); err != nil {
		t.Fatal(err)
	}
	var playlist string
	_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "playlist.m3u8" {
			playlist = path
		}
		return nil
	})
	b, err := os.ReadFile(playlist)
	if err != nil || !strings.Contains(string(b), "#EXT-X-ENDLIST") {
		t.Fatalf("playlist %s: %v\n%s", playlist, err, b)
	}
	probe := testsrv.FFprobe(t, filepath.Join(filepath.Dir(playlist), "0.ts"))
	v, okV := probe.Stream("video")
	a, okA := probe.Stream("audio")
	if !okV || v.Width != 640 || v.Height != 360 || !okA || a.CodecName != "aac" || a.SampleRate != 48000 {
		t.Errorf("segment 0: %+v", probe)
	}
	full := testsrv.FFprobe(t, playlist)
	// The recording covers the run (its timestamps follow the frame clock,
	// composed or skipped).
	if d := full.Format.Duration; d < ran.Seconds()-1 || d > ran.Seconds()+0.3 {
		t.Errorf("recorded %.2f s in %v", d, ran)
	}
}
