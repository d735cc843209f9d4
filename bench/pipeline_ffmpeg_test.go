package bench

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/media"
)

// ffmpegPipeline is a pipeline scenario's work done by the ffmpeg command
// line (Debian's, on PATH) on the publishers' own clip: the clip's H.264
// and Opus, remuxed once into Matroska, read by every input.
type ffmpegPipeline struct {
	b     *testing.B
	sc    pipelineScenario
	dir   string
	clip  string // the clip in Matroska
	graph string // -filter_complex: the grid into [v], the mix into [a]
	x264  string // the server's x264 options
}

// newFFmpegPipeline writes clip (publisher.Clip's Annex B H.264 and Ogg
// Opus, remuxed without re-encoding into one Matroska file) and the
// filter graph of sc's grid: each tile cropped and scaled with bilinear
// as layout.Arrange and layout.Fit place it for sc.pubs participants,
// the tiles placed by xstack over the compositor's default background,
// and the sound of every input mixed by amix. x264 is the server's
// encoder settings as its recording states them (x264Options): the
// peer's must come out the same.
func newFFmpegPipeline(b *testing.B, sc pipelineScenario, clip *publisher.Clip, x264 string) *ffmpegPipeline {
	b.Helper()
	dir := b.TempDir()
	video, audio, err := clip.WriteFiles(dir)
	if err != nil {
		b.Fatal(err)
	}
	p := &ffmpegPipeline{b: b, sc: sc, dir: dir, clip: filepath.Join(dir, "clip.mkv"), x264: x264}
	p.once("remuxing the clip", "-fflags", "+genpts", "-framerate", strconv.FormatFloat(clip.FPS(), 'f', -1, 64), "-i", video, "-i", audio, "-c", "copy", p.clip)

	canvas, src := layout.Size{W: sc.outW, H: sc.outH}, layout.Size{W: sc.pubW, H: sc.pubH}
	tiles := ffmpegTiles(canvas, src, layout.Config{Grid: &layout.GridConfig{}}, sc.pubs)
	var g strings.Builder
	g.WriteString(ffmpegDescription(canvas, tiles, media.YUV{}, func(_ int, t tile) string { return fmt.Sprintf("%d:v", t.src) }))
	g.WriteString("[v];")
	for i := range sc.pubs {
		fmt.Fprintf(&g, "[%d:a]", i)
	}
	fmt.Fprintf(&g, "amix=inputs=%d[a]", sc.pubs)
	p.graph = g.String()
	return p
}

// inputs are the sc.pubs inputs, each the clip decoded with one thread
// as ingest does; live ones loop forever at the clip's rate (-re), as the
// publishers send it.
func (p *ffmpegPipeline) inputs(live bool) []string {
	var args []string
	for range p.sc.pubs {
		args = append(args, "-threads", "1")
		if live {
			args = append(args, "-re", "-stream_loop", "-1")
		}
		args = append(args, "-i", p.clip)
	}
	return args
}

// encoding is what the server's encoder does (internal/av's VideoEncoder
// and AudioEncoder): libx264 Main with the benchmark's preset, tune
// zerolatency, no B-frames, an IDR every 2 s and only there, the VBV at
// maxrate = bufsize = bitrate, as many threads as the server's x264 had;
// AAC-LC at 128 kbit/s, 48 kHz stereo.
func (p *ffmpegPipeline) encoding() []string {
	preset := cmp.Or(*pipelinePreset, "veryfast")
	rate := strconv.Itoa(p.sc.outBitrate)
	threads := "0"
	for _, o := range strings.Fields(p.x264) {
		if n, ok := strings.CutPrefix(o, "threads="); ok {
			threads = n
		}
	}
	return []string{"-c:v", "libx264", "-threads:v", threads, "-preset", preset, "-tune", "zerolatency", "-profile:v", "main", "-pix_fmt", "yuv420p",
		"-r", strconv.FormatFloat(p.sc.fps, 'f', -1, 64), "-g", strconv.Itoa(int(math.Round(2 * p.sc.fps))), "-bf", "0",
		"-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-forced-idr", "1", "-x264-params", "scenecut=0:open-gop=0",
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2"}
}

// compose runs the whole composition as a user of FFmpeg would write it:
// the looping inputs, the grid and the mix, encoded and recorded as HLS
// (2 s MPEG-TS segments, as the server's recording with IVS's defaults)
// into a folder. It fails the benchmark unless segments were written.
func (p *ffmpegPipeline) compose(ctx context.Context) cliWindow {
	hls := filepath.Join(p.dir, "hls")
	if err := os.Mkdir(hls, 0o755); err != nil {
		p.b.Fatal(err)
	}
	args := append(p.inputs(true), "-filter_complex", p.graph, "-map", "[v]", "-map", "[a]")
	args = append(args, p.encoding()...)
	args = append(args, "-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-hls_segment_type", "mpegts",
		"-hls_segment_filename", filepath.Join(hls, "%d.ts"), filepath.Join(hls, "index.m3u8"))
	w := p.measure(ctx, "ffmpeg", args)
	if !w.realTime(p.sc.fps) {
		// Its figure is per second of output, so it still tells the cost
		// of the work; the table names it among those that fell behind.
		p.b.Logf("ffmpeg made %.2f frames/s over the window, not the real time %g (speed %s)", w.fps, p.sc.fps, w.speed)
	}
	segs, _ := filepath.Glob(filepath.Join(hls, "*.ts"))
	if want := int(*pipelineWindow / (2 * time.Second)); len(segs) < want {
		p.b.Fatalf("ffmpeg wrote %d HLS segments in %v, want at least %d", len(segs), w.wall, want)
	}
	if got, err := x264Options(filepath.Join(hls, "0.ts")); err != nil || got != p.x264 {
		p.b.Errorf("ffmpeg's x264 options differ from the server's (%v):\nffmpeg: %s\nserver: %s", err, got, p.x264)
	}
	return w
}

// x264Options returns the options x264 states in the first video packet
// of the media file at path (its user data SEI: "… options: cabac=1 …").
func x264Options(path string) (string, error) {
	var opts []byte
	err := av.ReadPackets(path, func(pk av.Packet) error {
		if pk.Kind != av.Video {
			return nil
		}
		if _, after, ok := bytes.Cut(pk.Data, []byte(" - options: ")); ok {
			opts, _, _ = bytes.Cut(after, []byte{0})
		}
		return io.EOF
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	if opts == nil {
		return "", fmt.Errorf("%s: no x264 options in the first video packet", path)
	}
	return string(opts), nil
}

// floor runs what no compositor can avoid, one after the other: decoding
// the live inputs (video and sound, to the null muxer), then encoding the
// composition's own output — the composed grid and mix, rendered once
// for one loop of the clip into raw yuv4mpeg and WAV so that reading
// them costs next to nothing — looped at its rate with the same
// encoding, to the null muxer.
func (p *ffmpegPipeline) floor(ctx context.Context) (decode, encode cliWindow) {
	args := p.inputs(true)
	for i := range p.sc.pubs {
		args = append(args, "-map", fmt.Sprintf("%d:v", i), "-map", fmt.Sprintf("%d:a", i))
	}
	decode = p.measure(ctx, "decoding", append(args, "-f", "null", "-"))

	canvas, mix := filepath.Join(p.dir, "canvas.y4m"), filepath.Join(p.dir, "mix.wav")
	frames := strconv.Itoa(int(math.Round(clipLength.Seconds() * p.sc.fps)))
	args = append(p.inputs(false), "-filter_complex", p.graph, "-map", "[v]", "-frames:v", frames, "-pix_fmt", "yuv420p", canvas,
		"-map", "[a]", "-t", strconv.FormatFloat(clipLength.Seconds(), 'f', -1, 64), "-ar", "48000", "-ac", "2", mix)
	p.once("rendering the composition", args...)
	args = []string{"-re", "-stream_loop", "-1", "-i", canvas, "-re", "-stream_loop", "-1", "-i", mix, "-map", "0:v", "-map", "1:a"}
	encode = p.measure(ctx, "encoding", append(append(args, p.encoding()...), "-f", "null", "-"))
	return decode, encode
}

// quality encodes the rendered composition (floor's canvas.y4m, one loop
// of the clip) with the server's encoding as it is, with the x264 thread
// count the server's recording states (one thread up to 720p30 at the
// fast presets), and with x264's own threads (slice threads, as every
// encode was before that choice), and returns the PSNR (dB, all planes,
// ffmpeg's psnr filter) of each decoded result against the canvas and of
// the one against the other.
func (p *ffmpegPipeline) quality() (server, threaded, between float64) {
	p.b.Helper()
	canvas := filepath.Join(p.dir, "canvas.y4m")
	encode := func(name, threads string) string {
		out := filepath.Join(p.dir, name+".mp4")
		args := append([]string{"-i", canvas}, p.encoding()...)
		for i, a := range args {
			if a == "-threads:v" && threads != "" {
				args[i+1] = threads
			}
		}
		p.once("encoding the canvas ("+name+")", append(args, "-an", out)...)
		return out
	}
	srv, thr := encode("server", ""), encode("threaded", "0")
	return p.psnr(srv, canvas), p.psnr(thr, canvas), p.psnr(srv, thr)
}

// psnr is the average PSNR of a's pictures against b's, all planes, as
// ffmpeg's psnr filter states it ("… average:41.23 …"; inf, identical,
// as 100 dB).
func (p *ffmpegPipeline) psnr(a, b string) float64 {
	p.b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-nostdin", "-i", a, "-i", b, "-lavfi", "[0:v][1:v]psnr", "-f", "null", "-").CombinedOutput()
	if err != nil {
		p.b.Fatalf("ffmpeg psnr of %s against %s: %v\n%s", a, b, err, out)
	}
	_, after, ok := bytes.Cut(out, []byte(" average:"))
	if !ok {
		p.b.Fatalf("no average PSNR in ffmpeg's output:\n%s", out)
	}
	v, _, _ := bytes.Cut(after, []byte(" "))
	if string(v) == "inf" {
		return 100
	}
	db, err := strconv.ParseFloat(string(v), 64)
	if err != nil {
		p.b.Fatalf("average PSNR %q: %v", v, err)
	}
	return db
}

// once runs ffmpeg with args to its end (bounded), failing the benchmark
// if it fails.
func (p *ffmpegPipeline) once(what string, args ...string) {
	p.b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", append([]string{"-hide_banner", "-nostdin", "-v", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		p.b.Fatalf("ffmpeg, %s: %v\n%s", what, err, out)
	}
}

// cliWindow is what an ffmpeg process did over a measured window.
type cliWindow struct {
	wall   time.Duration
	cpu    time.Duration // utime + stime, all threads
	rssMax int64
	fps    float64 // output frames per second, from its -progress reports
	speed  string  // its own speed estimate at the end of the window
}

// output is the seconds of output produced in the window at fps.
func (w cliWindow) output(fps float64) float64 { return w.fps * w.wall.Seconds() / fps }

// realTime reports whether the window kept up with fps (1 % slack).
func (w cliWindow) realTime(fps float64) bool { return w.fps >= 0.99*fps }

// measure starts ffmpeg with args (its -progress reports on stdout),
// waits for its first frame and the warm-up, measures a window of
// -pipeline.window as the server's, and stops it (SIGINT, as q does:
// HLS closes its playlist; SIGKILL after 10 s). The benchmark fails if
// the process ends early.
func (p *ffmpegPipeline) measure(ctx context.Context, name string, args []string) cliWindow {
	p.b.Helper()
	args = append([]string{"-hide_banner", "-nostdin", "-v", "error", "-nostats", "-stats_period", "0.1", "-progress", "pipe:1"}, args...)
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer // read once the process has been waited for
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		p.b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		p.b.Fatal(err)
	}
	prog := &progress{first: make(chan struct{})}
	read := make(chan struct{})
	go func() { defer close(read); prog.read(out) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(os.Interrupt)
		t := time.AfterFunc(10*time.Second, func() { _ = cmd.Process.Kill() })
		<-read
		_ = cmd.Wait()
		t.Stop()
	}
	p.b.Cleanup(stop)
	select {
	case <-prog.first:
	case <-read:
		stop()
		p.b.Fatalf("%s: ffmpeg ended before its first frame: %s", name, stderr.String())
	case <-time.After(60 * time.Second):
		p.b.Fatalf("%s: no frame from ffmpeg after 60 s", name)
	}
	time.Sleep(*pipelineWarmup)
	pid := cmd.Process.Pid
	p0, err := readProc(pid)
	if err != nil {
		p.b.Fatal(err)
	}
	w := cliWindow{rssMax: p0.rss}
	for end := p0.at.Add(*pipelineWindow); time.Until(end) > 0; {
		select {
		case <-ctx.Done():
			p.b.Fatal(ctx.Err())
		case <-read:
			stop()
			p.b.Fatalf("%s: ffmpeg ended in the measured window: %s", name, stderr.String())
		case <-time.After(min(250*time.Millisecond, time.Until(end))):
		}
		if st, err := readProc(pid); err == nil {
			w.rssMax = max(w.rssMax, st.rss)
		}
	}
	p1, err := readProc(pid)
	if err != nil {
		p.b.Fatal(err)
	}
	stop()
	w.wall, w.cpu = p1.at.Sub(p0.at), p1.cpu-p0.cpu
	w.fps, w.speed = prog.rate(p0.at, p1.at)
	return w
}

// progress follows ffmpeg's -progress reports: each block's frame count
// and the time it arrived.
type progress struct {
	mu      sync.Mutex
	reports []report
	first   chan struct{} // closed at the first report with a frame
	started bool
}

type report struct {
	at     time.Time
	frames int
	speed  string
}

func (p *progress) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	var cur report
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "frame":
			cur.frames, _ = strconv.Atoi(v)
		case "speed":
			cur.speed = strings.TrimSpace(v)
		case "progress":
			cur.at = time.Now()
			p.mu.Lock()
			p.reports = append(p.reports, cur)
			if cur.frames > 0 && !p.started {
				p.started = true
				close(p.first)
			}
			p.mu.Unlock()
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// rate is the frame rate over the reports that arrived in [from, to]
// (the least-squares slope of frames over time, which the bursts in which
// ffmpeg counts frames do not bias the way two end points would), and the
// speed of the last.
func (p *progress) rate(from, to time.Time) (float64, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var n, st, sf, stt, stf float64
	speed := ""
	for _, r := range p.reports {
		if r.at.Before(from) || r.at.After(to) {
			continue
		}
		t, f := r.at.Sub(from).Seconds(), float64(r.frames)
		n, st, sf, stt, stf = n+1, st+t, sf+f, stt+t*t, stf+t*f
		speed = r.speed
	}
	if d := n*stt - st*st; n >= 2 && d > 0 {
		return (n*stf - st*sf) / d, speed
	}
	return 0, speed
}

// ffmpegFigures runs sc's ffmpeg peer and floor on clip with the
// server's x264 options, logs and reports their figures beside the
// server's (r: its name, tessera, ingest and late), and returns r with
// them.
func ffmpegFigures(ctx context.Context, b *testing.B, sc pipelineScenario, clip *publisher.Clip, x264 string, r pipelineFigures) pipelineFigures {
	b.Helper()
	ff := newFFmpegPipeline(b, sc, clip, x264)
	peer := ff.compose(ctx)
	decode, encode := ff.floor(ctx)
	r.psnr, r.psnrThreaded, r.psnrBetween = ff.quality()
	b.Logf("%s: PSNR of the server's encoding of the composition %.2f dB (with x264's own threads %.2f dB), %.2f dB between the two",
		sc.name, r.psnr, r.psnrThreaded, r.psnrBetween)
	if r.psnrBetween < 40 {
		b.Errorf("the server's encoding is %.2f dB from the threaded one's: the output changed (want ≥ 40 dB)", r.psnrBetween)
	}
	b.ReportMetric(r.psnr, "psnr-dB")
	b.ReportMetric(r.psnrBetween, "psnr-vs-threaded-dB")
	r.ffmpeg = peer.cpu.Seconds() / peer.output(sc.fps)
	r.decode = decode.cpu.Seconds() / decode.output(sc.fps)
	r.encode = encode.cpu.Seconds() / encode.output(sc.fps)
	b.Logf("%s: ffmpeg %.3f cores (%.2f fps, speed %s, RSS %.0f MB); floor: decoding %.3f cores (%.2f fps), encoding %.3f cores (%.2f fps)",
		sc.name, r.ffmpeg, peer.fps, peer.speed, float64(peer.rssMax)/mib, r.decode, decode.fps, r.encode, encode.fps)
	for _, kept := range []struct {
		what string
		ok   bool
	}{{"ffmpeg", peer.realTime(sc.fps)}, {"decode", decode.realTime(sc.fps)}, {"encode", encode.realTime(sc.fps)}} {
		if !kept.ok {
			r.late = append(r.late, kept.what)
		}
	}
	b.ReportMetric(r.ffmpeg, "ffmpeg-cpu-s/s-output")
	b.ReportMetric(r.decode+r.encode, "floor-cpu-s/s-output")
	b.ReportMetric(r.decode, "floor-decode-cpu-s/s")
	b.ReportMetric(r.encode, "floor-encode-cpu-s/s")
	b.ReportMetric(r.tessera/r.ffmpeg, "tessera/ffmpeg")
	b.ReportMetric(r.tessera/(r.decode+r.encode), "tessera/floor")
	return r
}

// pipelineFigures is one scenario's CPU per second of output: the server,
// the ffmpeg peer, and the floor's two parts; and which kept real time.
type pipelineFigures struct {
	name    string
	tessera float64  // the server with its composition
	ingest  float64  // the server with the publishers and no composition
	ffmpeg  float64  // the peer
	decode  float64  // the floor's decoding
	encode  float64  // the floor's encoding
	late    []string // what did not keep real time
	// psnr, psnrThreaded: the encoding of the rendered composition, as the
	// server does and with x264's own threads, against it; psnrBetween:
	// one against the other (dB).
	psnr, psnrThreaded, psnrBetween float64
}

// pipelineResults are the figures of the BenchmarkPipeline scenarios run,
// for TestMain's table.
var pipelineResults []pipelineFigures

// printPipelineTable writes the scenarios' CPU per second of output: the
// server, the ffmpeg peer, the floor and its parts, their ratios, and the
// server's two parts over the floor's (ingest over decoding, the
// composition over encoding).
func printPipelineTable(f *os.File) {
	w := tabwriter.NewWriter(f, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "cores\ttessera\tffmpeg\tdecode\tencode\tfloor\ttessera÷ffmpeg\ttessera÷floor\tingest÷decode\tcomp÷encode\tPSNR dB\tvs threaded\tnot in real time\t")
	for _, r := range pipelineResults {
		floor := r.decode + r.encode
		fmt.Fprintf(w, "%s\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", r.name, r.tessera, r.ffmpeg, r.decode, r.encode, floor,
			r.tessera/r.ffmpeg, r.tessera/floor, r.ingest/r.decode, (r.tessera-r.ingest)/r.encode, r.psnr, r.psnrBetween, cmp.Or(strings.Join(r.late, ", "), "-"))
	}
	w.Flush()
}
