package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
)

// pipelineScenario is one whole-pipeline configuration: publishers of one
// size replaying a clip into one stage, one grid composition of the given
// output recording HLS into a folder bucket.
type pipelineScenario struct {
	name             string
	outW, outH       int
	fps              float64
	outBitrate       int
	pubs, pubW, pubH int
	pubBitrate       int
}

// The publishers' bitrates are what browsers send at those sizes; the
// output bitrates are IVS's default (720p) and a usual 1080p30 rate.
var pipelineScenarios = []pipelineScenario{
	{name: "720p30-6x360p", outW: 1280, outH: 720, fps: 30, outBitrate: 2_500_000, pubs: 6, pubW: 640, pubH: 360, pubBitrate: 600_000},
	{name: "1080p30-12x720p", outW: 1920, outH: 1080, fps: 30, outBitrate: 6_000_000, pubs: 12, pubW: 1280, pubH: 720, pubBitrate: 1_500_000},
}

// clipLength is the length of the replayed clips (one GOP each).
const clipLength = 4 * time.Second

var (
	clipsMu sync.Mutex
	clips   = map[clipKey]*publisher.Clip{}
)

// clipKey names a shared clip.
type clipKey struct {
	codec         string
	w, h, bitrate int
}

// clipFor returns the shared H.264 clip of w×h at 30 fps and bitrate,
// encoding it the first time.
func clipFor(b *testing.B, w, h, bitrate int) *publisher.Clip {
	return codecClip(b, "h264", w, h, bitrate)
}

// codecClip is clipFor in codec ("h264" or "vp8").
func codecClip(b *testing.B, codec string, w, h, bitrate int) *publisher.Clip {
	b.Helper()
	clipsMu.Lock()
	defer clipsMu.Unlock()
	key := clipKey{codec, w, h, bitrate}
	if c := clips[key]; c != nil {
		return c
	}
	c, err := publisher.NewClip(publisher.Config{Name: fmt.Sprintf("%dp", h), Codec: codec, Width: w, Height: h, FPS: 30, Bitrate: bitrate,
		ToneHz: publisher.DefaultToneHz}, clipLength)
	if err != nil {
		b.Fatal(err)
	}
	clips[key] = c
	return c
}

const mib = 1 << 20

// BenchmarkPipeline measures the whole server — WebRTC ingest and H.264
// decoding of every publisher, composing, audio mixing, x264 encoding
// and an HLS recording — as a child process (`tessera serve`), driven
// through the ivs-realtime API, with publishers replaying pre-encoded
// clips from this process (so that they take next to nothing from the
// server's CPU). Each iteration starts the composition, lets it warm up,
// measures a window and stops it. Reported:
//
//   - cpu-s/s-output: the server's CPU seconds (utime + stime, all
//     threads) per second of output produced (canvases / fps): how many
//     cores the stage and its composition take;
//   - ingest-cpu-s/s: the same with the publishers connected and no
//     composition (receiving and decoding only); comp-cpu-s/s is the
//     difference, what the composition adds (compose, mix, encode,
//     recording);
//   - rss-MB: the server's largest resident size in the window;
//     comp-rss-MB: that minus the largest without the composition;
//   - skipped-frames and out-fps: frame clock ticks skipped, and canvases
//     per second (real time is fps and no skips);
//   - first-packet-ms: StartComposition call → the API reporting ACTIVE,
//     which the worker reports once the first canvas is encoded and its
//     packet handed to the destination;
//   - pub-cpu-s/s: CPU of this process (publishers, the API client and
//     the measuring), shared with the server on the same machine;
//
// and, measured next in the same run, once the publishers and the server
// have stopped, over a window as long as the server's after the same
// warm-up, on the publishers' own clip (see ffmpegPipeline):
//
//   - ffmpeg-cpu-s/s-output: the ffmpeg command line doing the same
//     composition — every input looped at its rate (-re), decoded with
//     one thread as ingest does, cropped and scaled with bilinear to the
//     tiles layout.Arrange gives, placed by xstack, the sound mixed by
//     amix, encoded as the server encodes (libx264 Main with the same
//     preset, zerolatency, no B-frames, an IDR every 2 s, the VBV at the
//     bitrate, the server's thread count; AAC 128 kbit/s) and recorded as
//     2 s HLS segments into a folder; the benchmark fails unless it wrote
//     the segments with the server's x264 options (stated in its first
//     picture), and the table says so when it fell behind real time (made
//     fewer than 99 % of the frames);
//   - floor-cpu-s/s-output, the sum of floor-decode-cpu-s/s (the same
//     inputs only decoded, video and sound, to the null muxer) and
//     floor-encode-cpu-s/s (the same encoding of the composition's own
//     output: the ffmpeg peer's grid and mix rendered once for one loop
//     of the clip into raw yuv4mpeg and WAV, looped at its rate, so that
//     the encoder sees the same pictures and reading them costs next to
//     nothing): what no compositor can avoid;
//   - tessera/ffmpeg and tessera/floor: cpu-s/s-output over those. The
//     server's figure also pays for receiving WebRTC (SRTP, RTP, jitter
//     buffers), which the command line, reading files, does not.
//   - psnr-dB: the server's encoding (its x264 options, thread count
//     included) of that rendered composition against it, and
//     psnr-vs-threaded-dB against the same encoding with x264's own
//     threads, as the server encoded every output before it chose one
//     thread for small ones (the benchmark fails below 40 dB).
//
// Every CPU figure is per second of output (frames made / fps), so one
// that fell behind real time still tells the cost of its work (though
// the server's ingest still decodes every frame: its figure is then too
// high). After the run, a table gives the scenarios' figures, with the
// server's parts over the floor's (ingest over decoding, the composition
// over encoding), and names what fell behind.
func BenchmarkPipeline(b *testing.B) {
	bin := buildTessera(b)
	for _, sc := range pipelineScenarios {
		b.Run(sc.name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			clip := clipFor(b, sc.pubW, sc.pubH, sc.pubBitrate)
			s := startServer(b, bin)
			idle := s.measure(ctx, 2*time.Second)
			stage, whip := s.stage(ctx, "bench")
			pubs := s.publish(ctx, stage, whip, "p", sc.pubs, clip)
			s.waitDecoding(ctx, sc.pubs, sc.fps)
			perf := s.perfRecord(b.Name()+"-ingest", min(*pipelineWindow, 5*time.Second))
			base := s.measure(ctx, min(*pipelineWindow, 5*time.Second))
			perf()
			b.Logf("%s: idle server %.0f MB, %.3f cores; with the %d publishers and no composition %.0f MB, %.3f cores (decoding %.1f fps)",
				sc.name, float64(idle.rssMax)/mib, idle.cores(), sc.pubs, float64(base.rssMax)/mib, base.cores(), base.decoded/base.wall.Seconds())
			dest := s.destination(ctx, sc.outW, sc.outH, sc.fps, sc.outBitrate)
			var sum struct {
				cores, rss, comp, skipped, fps, first, self float64
				n                                           int
				realTime                                    bool // every window
			}
			sum.realTime = true
			for b.Loop() {
				arn, first := s.startComposition(ctx, stage, dest)
				time.Sleep(*pipelineWarmup)
				perf := s.perfRecord(b.Name(), *pipelineWindow)
				w := s.measure(ctx, *pipelineWindow)
				perf()
				s.stopComposition(ctx, arn)
				out := w.composed / sc.fps // seconds of output
				b.Logf("%s: %.3f cores over %.1f s (%.0f canvases, %.0f skipped; ingest decoded %.1f fps, %g errors); RSS %.0f MB (%.0f MB without the composition); first packet %v; publishers' process %.3f cores",
					sc.name, w.cpu.Seconds()/out, w.wall.Seconds(), w.composed, w.skipped, w.decoded/w.wall.Seconds(), w.decErr,
					float64(w.rssMax)/mib, float64(base.rssMax)/mib, first.Round(time.Millisecond), w.self.Seconds()/w.wall.Seconds())
				sum.cores += w.cpu.Seconds() / out
				sum.rss += float64(w.rssMax) / mib
				sum.comp += float64(w.rssMax-base.rssMax) / mib
				sum.skipped += w.skipped
				sum.fps += w.composed / w.wall.Seconds()
				sum.first += float64(first) / float64(time.Millisecond)
				sum.self += w.self.Seconds() / w.wall.Seconds()
				sum.realTime = sum.realTime && realTime(w, sc.fps)
				sum.n++
			}
			// The recording is there: at least a 2 s segment per window.
			segs := s.recorded(".ts")
			if len(segs) < sum.n*int(*pipelineWindow/(2*time.Second)) {
				b.Errorf("%d HLS segments recorded in %d windows of %v", len(segs), sum.n, *pipelineWindow)
			}
			n := float64(sum.n)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(sum.cores/n, "cpu-s/s-output")
			b.ReportMetric(base.cores(), "ingest-cpu-s/s")
			b.ReportMetric(sum.cores/n-base.cores(), "comp-cpu-s/s")
			b.ReportMetric(sum.rss/n, "rss-MB")
			b.ReportMetric(sum.comp/n, "comp-rss-MB")
			b.ReportMetric(sum.skipped/n, "skipped-frames")
			b.ReportMetric(sum.fps/n, "out-fps")
			b.ReportMetric(sum.first/n, "first-packet-ms")
			b.ReportMetric(sum.self/n, "pub-cpu-s/s")
			// The peer and the floor, then, alone on the machine as the
			// server was, with the x264 options it used (x264 states them
			// in the first picture of a recording: its first segment's).
			if len(segs) == 0 {
				b.FailNow()
			}
			x264, err := x264Options(segs[0])
			if err != nil {
				b.Fatal(err)
			}
			closePublishers(ctx, pubs)
			s.stop()
			r := pipelineFigures{name: sc.name, tessera: sum.cores / n, ingest: base.cores()}
			if !sum.realTime {
				r.late = append(r.late, "tessera")
			}
			if *pipelinePeer {
				pipelineResults = append(pipelineResults, ffmpegFigures(ctx, b, sc, clip, x264, r))
			}
		})
	}
}

// BenchmarkPipelineCapacity starts 720p30 compositions of six 360p
// publishers each (every composition on a stage of its own, so each pays
// for its decoding too) one after another on one `tessera serve`, and
// measures a window after each start. It stops at the first count the
// server no longer keeps in real time — a frame clock tick skipped,
// fewer canvases than 30 a second per composition (1 % slack), or fewer
// frames decoded than the publishers sent (3 % slack) — or at
// -pipeline.max. Reported: compositions, the largest count kept in real
// time; at that count, cpu-s/s-per-comp (the server's CPU per second per
// composition), rss-MB-per-comp (the server's resident size above the
// idle server's, per composition, decoders included) and pub-cpu-s/s
// (this process: the 6×count publishers, on the same two cores).
func BenchmarkPipelineCapacity(b *testing.B) {
	sc := pipelineScenarios[0]
	bin := buildTessera(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	clip := clipFor(b, sc.pubW, sc.pubH, sc.pubBitrate)
	s := startServer(b, bin)
	idle := s.measure(ctx, 2*time.Second)
	b.Logf("idle server: %.0f MB, %.3f cores", float64(idle.rssMax)/mib, idle.cores())
	dest := s.destination(ctx, sc.outW, sc.outH, sc.fps, sc.outBitrate)
	best, bestW := *pipelineMax+1, window{}
	for b.Loop() {
		k, w := capacityRamp(ctx, b, s, sc, clip, dest)
		if k < best {
			best, bestW = k, w
		}
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(best), "compositions")
	if best > 0 {
		b.ReportMetric(bestW.cores()/float64(best), "cpu-s/s-per-comp")
		b.ReportMetric(float64(bestW.rssMax-idle.rssMax)/mib/float64(best), "rss-MB-per-comp")
		b.ReportMetric(bestW.self.Seconds()/bestW.wall.Seconds(), "pub-cpu-s/s")
	}
}

// capacityRamp adds compositions (each with its stage and publishers) until
// the server falls behind real time, then stops them all and closes the
// publishers. It returns the largest count kept in real time and the
// window measured at that count.
func capacityRamp(ctx context.Context, b *testing.B, s *server, sc pipelineScenario, clip *publisher.Clip, dest types.DestinationConfiguration) (int, window) {
	var (
		pubs  []*publisher.Publisher
		comps []string
		best  int
		bestW window
	)
	defer func() {
		for _, arn := range comps {
			s.stopComposition(ctx, arn)
		}
		closePublishers(ctx, pubs)
	}()
	sent := func() (n uint64) {
		for _, p := range pubs {
			n += p.Stats().Frames
		}
		return n
	}
	for k := 1; k <= *pipelineMax; k++ {
		stage, whip := s.stage(ctx, fmt.Sprintf("capacity-%d", k))
		pubs = append(pubs, s.publish(ctx, stage, whip, fmt.Sprintf("s%dp", k), sc.pubs, clip)...)
		time.Sleep(2 * time.Second) // connected, first keyframe decoded
		arn, first := s.startComposition(ctx, stage, dest)
		comps = append(comps, arn)
		time.Sleep(*pipelineWarmup)
		sent0 := sent()
		w := s.measure(ctx, *pipelineWindow)
		sentFrames := float64(sent() - sent0)
		secs := w.wall.Seconds()
		realtime := w.skipped == 0 && w.composed >= 0.99*sc.fps*float64(k)*secs && w.decoded >= 0.97*sentFrames
		b.Logf("%2d compositions: server %.3f cores, RSS %.0f MB; %.1f canvases/s per composition, %.0f skipped; decoded %.0f of %.0f frames sent (%.1f fps per publisher); first packet %v; publishers' process %.3f cores; real time: %v",
			k, w.cores(), float64(w.rssMax)/mib, w.composed/secs/float64(k), w.skipped, w.decoded, sentFrames,
			sentFrames/secs/float64(len(pubs)), first.Round(time.Millisecond), w.self.Seconds()/secs, realtime)
		if !realtime {
			break
		}
		best, bestW = k, w
	}
	return best, bestW
}
