package av

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tessera-media/tessera/media"
)

func TestVideoConfigErrors(t *testing.T) {
	ok := VideoConfig{Width: 640, Height: 360, FrameRate: 30, Bitrate: 1e6}
	for _, tc := range []struct {
		name string
		edit func(*VideoConfig)
		want string
	}{
		{"odd width", func(c *VideoConfig) { c.Width = 641 }, "641x360"},
		{"odd height", func(c *VideoConfig) { c.Height = 361 }, "640x361"},
		{"zero size", func(c *VideoConfig) { c.Width, c.Height = 0, 0 }, "0x0"},
		{"fps 0", func(c *VideoConfig) { c.FrameRate = 0 }, "frame rate 0"},
		{"fps 61", func(c *VideoConfig) { c.FrameRate = 61 }, "frame rate 61"},
		{"fps NaN", func(c *VideoConfig) { c.FrameRate = math.NaN() }, "frame rate NaN"},
		{"bitrate 0", func(c *VideoConfig) { c.Bitrate = 0 }, "bitrate 0"},
		{"preset", func(c *VideoConfig) { c.Preset = "warp" }, `preset "warp"`},
		{"keyframe interval", func(c *VideoConfig) { c.KeyframeInterval = -time.Second }, "keyframe interval"},
		{"threads", func(c *VideoConfig) { c.Threads = -1 }, "threads -1"},
	} {
		t.Run(tc.name, func(t *testing.T) { checkConfigError(t, ok, tc.edit, tc.want) })
	}
}

func TestVideoEncoderDefaults(t *testing.T) {
	e := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 29.97, Bitrate: 500e3})
	if c := e.Config(); c.Preset != "veryfast" || c.KeyframeInterval != 2*time.Second {
		t.Errorf("defaults: preset %q, keyframe interval %v", c.Preset, c.KeyframeInterval)
	}
	if g := e.GOP(); g != 60 {
		t.Errorf("GOP at 29.97 fps × 2 s = %d, want 60", g)
	}
	s := e.Stream()
	if s.Kind != Video || s.Codec != "h264" || s.Width != 320 || s.Height != 180 || s.FrameRateNum != 2997 || s.FrameRateDen != 100 {
		t.Errorf("stream %+v", s)
	}
	if len(s.Extradata) == 0 {
		t.Fatal("no extradata (SPS/PPS)")
	}
	// Main profile (77 = 0x4d), level chosen by x264.
	if c := s.CodecString(); !strings.HasPrefix(c, "avc1.4d") {
		t.Errorf("codec string %q, want Main profile avc1.4d…", c)
	}
	s.Extradata[0] ^= 0xff
	if e.Stream().Extradata[0] == s.Extradata[0] {
		t.Error("Stream shares its Extradata")
	}
}

// Timestamps map to frame ticks; packets come out one per frame with PTS =
// DTS, one frame long; keyframes come exactly every GOP frames.
func TestVideoEncoderTimestamps(t *testing.T) {
	const fps = 30
	e := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: fps, Bitrate: 300e3, KeyframeInterval: time.Second})
	p := newPanner(320, 180, 3)
	f := media.NewVideoFrame(320, 180)
	var pkts []Packet
	emit := func(k Packet) { pkts = append(pkts, k) }
	const start = 5 * time.Second // the clock need not start at 0
	for i := range 100 {
		p.frame(f, i)
		f.PTS = start + time.Duration(i)*time.Second/fps + time.Millisecond // off the tick: rounds to it
		if err := e.Encode(f, emit); err != nil {
			t.Fatal(err)
		}
		if len(pkts) != i+1 {
			t.Fatalf("after frame %d: %d packets (zerolatency should give one per frame)", i, len(pkts))
		}
	}
	// A frame stamped with the previous frame's time gets the next tick.
	if err := e.Encode(f, emit); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(emit); err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 101 {
		t.Fatalf("%d packets for 101 frames", len(pkts))
	}
	for i, k := range pkts {
		want := start + time.Duration(rescale(int64(i), int64(time.Second), fps))
		if k.Kind != Video || k.PTS != want || k.DTS != k.PTS || len(k.Data) == 0 {
			t.Fatalf("packet %d: kind %v pts %v dts %v (%d bytes), want pts %v", i, k.Kind, k.PTS, k.DTS, len(k.Data), want)
		}
		if d := k.Duration - time.Second/fps; d < -1 || d > 1 {
			t.Errorf("packet %d: duration %v", i, k.Duration)
		}
		if k.Keyframe != (i%fps == 0) {
			t.Errorf("packet %d: keyframe %v", i, k.Keyframe)
		}
	}

	if err := e.Encode(f, emit); err == nil {
		t.Error("Encode after Flush succeeded")
	}
	if err := e.Flush(emit); err != nil {
		t.Errorf("second Flush: %v", err)
	}
	e.Close()
	e.Close()
	if err := e.Encode(f, emit); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
	if err := e.Flush(emit); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
}

func TestVideoEncoderBadFrames(t *testing.T) {
	e := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3})
	if err := e.Encode(nil, nil); err == nil {
		t.Error("nil frame accepted")
	}
	if err := e.Encode(media.NewVideoFrame(320, 182), nil); err == nil || !strings.Contains(err.Error(), "320x182") {
		t.Errorf("wrong size: %v", err)
	}
	short := media.NewVideoFrame(320, 180)
	short.Planes[0] = short.Planes[0][:100]
	if err := e.Encode(short, nil); err == nil {
		t.Error("short plane accepted")
	}
	// Still usable.
	if err := e.Encode(media.NewVideoFrame(320, 180), nil); err != nil {
		t.Error(err)
	}
}

// At 1 Mbps, 10 s of moving 640×360 video comes within ±20 % of the
// target, and no second goes far over it (the VBV).
func TestVideoBitrate(t *testing.T) {
	const fps, rate = 30, 1_000_000
	e := newVideoEncoder(t, VideoConfig{Width: 640, Height: 360, FrameRate: fps, Bitrate: rate})
	var total int
	perSecond := make([]int, 10)
	newAVSource(t, 640, 360, fps).run(10*time.Second, e, nil, func(k Packet) {
		total += len(k.Data)
		perSecond[min(int(k.PTS/time.Second), 9)] += len(k.Data)
	})
	got := float64(total*8) / 10
	t.Logf("10 s at %d bps: %.0f bps (%+.1f %%); per second: %v bytes", rate, got, 100*(got/rate-1), perSecond)
	if got < 0.8*rate || got > 1.2*rate {
		t.Errorf("bitrate %.0f bps, want %d ± 20 %%", got, rate)
	}
	for s, n := range perSecond {
		if bps := n * 8; bps > 2*rate {
			t.Errorf("second %d: %d bps, more than twice the target", s, bps)
		}
	}
}

// In the steady state Encode allocates only Packet.Data.
func TestVideoEncoderAllocs(t *testing.T) {
	e := newVideoEncoder(t, VideoConfig{Width: 320, Height: 180, FrameRate: 30, Bitrate: 300e3, Threads: 1})
	p := newPanner(320, 180, 5)
	f := media.NewVideoFrame(320, 180)
	var n int
	emit := func(Packet) { n++ }
	i := 0
	encode := func() {
		p.frame(f, i)
		f.PTS = time.Duration(i) * time.Second / 30
		i++
		if err := e.Encode(f, emit); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		encode()
	}
	if a := testing.AllocsPerRun(50, encode); a > 1 {
		t.Errorf("%v allocations per frame, want 1 (Packet.Data)", a)
	}
	if n != i {
		t.Errorf("%d packets for %d frames", n, i)
	}
}

// BenchmarkEncode720p and BenchmarkEncode1080p measure libx264 (veryfast,
// zerolatency) on panning natural pictures, reporting frames per second
// and the process's CPU time per frame (every thread's, the panning
// pictures' drawing included);
// "threads=auto" is x264's own choice, "threads=1" one core's worth.
func BenchmarkEncode720p(b *testing.B) { benchmarkEncode(b, 1280, 720, 2_500_000) }

func BenchmarkEncode1080p(b *testing.B) { benchmarkEncode(b, 1920, 1080, 6_000_000) }

func benchmarkEncode(b *testing.B, w, h, rate int) {
	for _, threads := range []int{0, 1} {
		name := "threads=auto"
		if threads > 0 {
			name = fmt.Sprintf("threads=%d", threads)
		}
		b.Run(name, func(b *testing.B) {
			e := newVideoEncoder(b, VideoConfig{Width: w, Height: h, FrameRate: 30, Bitrate: rate, Threads: threads})
			p := newPanner(w, h, 11)
			f := media.NewVideoFrame(w, h)
			var bytes int
			emit := func(k Packet) { bytes += len(k.Data) }
			i := 0
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := processCPU(b)
			for b.Loop() {
				p.frame(f, i)
				f.PTS = time.Duration(i) * time.Second / 30
				i++
				if err := e.Encode(f, emit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "fps")
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/float64(i), "cpu-ms/frame")
			b.ReportMetric(float64(bytes*8)/(float64(i)/30), "bps")
		})
	}
}

// checkConfigError checks that NewVideoEncoder refuses ok after edit with
// an error that says want, and returns no encoder.
func checkConfigError(t *testing.T, ok VideoConfig, edit func(*VideoConfig), want string) {
	t.Helper()
	c := ok
	edit(&c)
	e, err := NewVideoEncoder(c)
	if err == nil {
		e.Close()
		t.Fatalf("NewVideoEncoder(%+v) succeeded", c)
	}
	if e != nil {
		t.Error("an encoder came back with the error")
	}
	if !strings.Contains(err.Error(), "av: new video encoder: ") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// processCPU returns the CPU time this process used so far (user and
// system, every thread).
func processCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
