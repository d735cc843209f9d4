package bench

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"

	"github.com/tessera-media/tessera/internal/publisher"
	"github.com/tessera-media/tessera/internal/testsrv"
)

// The pipeline benchmarks' windows, settable for short runs during
// development: go test ./bench -run '^$' -bench Pipeline -benchtime 1x
// -args -pipeline.window 4s -pipeline.warmup 2s.
var (
	pipelineWindow = flag.Duration("pipeline.window", 10*time.Second, "measured window of each pipeline benchmark")
	pipelineWarmup = flag.Duration("pipeline.warmup", 3*time.Second, "warm-up of a composition before its measured window")
	pipelineMax    = flag.Int("pipeline.max", 12, "most compositions BenchmarkPipelineCapacity tries")
	pipelinePreset = flag.String("pipeline.preset", "", "x264 speed preset of the server's encoders (tessera serve --encoder-preset); empty: its default, veryfast")
	pipelineArgs   = flag.String("pipeline.serve-args", "", "more flags of the benchmarks' tessera serve, space-separated (A/B runs: -pipeline.serve-args --sched-keeper=false)")
	pipelineBin    = flag.String("pipeline.bin", "", "a tessera binary the benchmarks run instead of building cmd/tessera (A/B runs of two builds)")
	pipelinePeer   = flag.Bool("pipeline.peer", true, "BenchmarkPipeline also runs the ffmpeg peer and the floor (false: the server alone, for quicker A/B runs)")
	pipelinePerf   = flag.String("pipeline.perf", "", "folder to write a `perf record -g` of the server over each measured window of BenchmarkPipeline into (needs perf)")
)

// Development credentials of `tessera serve` (cmd/tessera), accepted on
// loopback only.
const (
	devAccessKeyID     = "AKIATESSERADEV000001"
	devSecretAccessKey = "tessera-development-secret"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// buildTessera builds cmd/tessera into a temporary folder and returns the
// binary's path (-pipeline.bin's, if given). The environment passes through, so GOEXPERIMENT=simd
// builds the server with the vector kernels; the build cache makes every
// build after the first a link.
func buildTessera(b *testing.B) string {
	b.Helper()
	if *pipelineBin != "" {
		return *pipelineBin
	}
	bin, err := testsrv.GoBuild("github.com/tessera-media/tessera/cmd/tessera", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

// server is a `tessera serve` child process on 127.0.0.1, driven through
// the ivs-realtime API, whose CPU time and memory /proc reports.
type server struct {
	b      *testing.B
	cmd    *exec.Cmd
	pid    int
	url    string
	data   string
	log    *logWatcher
	api    *ivsrealtime.Client
	waited chan error
	once   sync.Once // stop
}

// startServer starts `bin serve` on a free port of 127.0.0.1 with its data
// in a temporary folder (recordings go to folders there), the given extra
// flags, and stops it at the end of the benchmark: SIGTERM (compositions
// stop, recordings are finalized), then SIGKILL after 60 s.
func startServer(b *testing.B, bin string, args ...string) *server {
	b.Helper()
	data := b.TempDir()
	lw, err := newLogWatcher(filepath.Join(data, "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	args = append([]string{"serve", "--listen", "127.0.0.1:0", "--rtmp-listen", "127.0.0.1:0", "--rtmps-listen", "127.0.0.1:0", "--data", data, "--log-level", "info",
		"--max-compositions", "64", "--capacity-cores", "0", "--idle-timeout", "10m", "--no-publisher-timeout", "10m"}, args...)
	if *pipelinePreset != "" {
		args = append(args, "--encoder-preset", *pipelinePreset)
	}
	args = append(args, strings.Fields(*pipelineArgs)...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lw, lw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lw.Close()
		b.Fatal(err)
	}
	s := &server{b: b, cmd: cmd, pid: cmd.Process.Pid, data: data, log: lw, waited: make(chan error, 1)}
	go func() { s.waited <- cmd.Wait() }()
	b.Cleanup(s.stop)
	select {
	case addr := <-lw.listen:
		s.url = "http://" + addr
	case err := <-s.waited:
		s.waited <- err
		b.Fatalf("tessera serve exited: %v\n%s", err, lw.tail())
	case <-time.After(60 * time.Second):
		b.Fatalf("tessera serve not listening after 60 s\n%s", lw.tail())
	}
	s.api = ivsrealtime.New(ivsrealtime.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.url),
		Credentials: credentials.NewStaticCredentialsProvider(devAccessKeyID, devSecretAccessKey, "")})
	return s
}

// stop ends the server: SIGTERM, a bounded wait, then SIGKILL. Calls
// after the first do nothing.
func (s *server) stop() { s.once.Do(s.terminate) }

func (s *server) terminate() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.waited:
	case <-time.After(60 * time.Second):
		s.b.Logf("tessera serve still running 60 s after SIGTERM; killing it\n%s", s.log.tail())
		_ = s.cmd.Process.Kill()
		<-s.waited
	}
	s.log.Close()
}

// procStats is what /proc says about a process at one moment.
type procStats struct {
	at  time.Time
	cpu time.Duration // user + system, all threads
	rss int64         // resident bytes
}

// stats reads the server's CPU time (utime + stime of /proc/<pid>/stat)
// and resident memory (VmRSS of /proc/<pid>/status).
func (s *server) stats() procStats {
	s.b.Helper()
	st, err := readProc(s.pid)
	if err != nil {
		s.b.Fatal(err)
	}
	return st
}

func readProc(pid int) (procStats, error) {
	at := time.Now()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStats{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return procStats{}, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return procStats{}, fmt.Errorf("/proc/%d/stat: %q", pid, stat)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procStats{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStats{}, err
	}
	var rss int64 = -1
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return procStats{}, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, v)
			}
			rss = kb << 10
		}
	}
	if rss < 0 {
		return procStats{}, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return procStats{at: at, cpu: time.Duration(utime+stime) * clockTick, rss: rss}, nil
}

// selfCPU is the CPU time this process (the benchmark and its publishers)
// has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// metrics scrapes the server's /metrics and sums each metric's series
// (labels dropped) by name.
func (s *server) metrics(ctx context.Context) map[string]float64 {
	s.b.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.b.Fatalf("/metrics: %d %v", resp.StatusCode, err)
	}
	return parseMetrics(string(body))
}

// parseMetrics sums the samples of the Prometheus text format by metric
// name; a series with a kind="…" label also counts under name{kind=…}.
func parseMetrics(text string) map[string]float64 {
	m := map[string]float64{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		series := line[:sp]
		name, labels, _ := strings.Cut(series, "{")
		m[name] += v
		if k := kindLabel.FindStringSubmatch(labels); k != nil {
			m[name+"{kind="+k[1]+"}"] += v
		}
	}
	return m
}

var kindLabel = regexp.MustCompile(`kind="([^"]*)"`)

// stage creates a stage and returns its ARN and WHIP endpoint.
func (s *server) stage(ctx context.Context, name string) (arn, whip string) {
	s.b.Helper()
	st, err := s.api.CreateStage(ctx, &ivsrealtime.CreateStageInput{Name: aws.String(name)})
	if err != nil {
		s.b.Fatal(err)
	}
	return *st.Stage.Arn, *st.Stage.Endpoints.Whip
}

// publish starts n publishers replaying clip on the stage (user ids
// <prefix>1 …), closed at the end of the benchmark.
func (s *server) publish(ctx context.Context, stageARN, whip, prefix string, n int, clip *publisher.Clip) []*publisher.Publisher {
	s.b.Helper()
	var pubs []*publisher.Publisher
	for i := range n {
		pubs = append(pubs, s.publishAs(ctx, stageARN, whip, fmt.Sprintf("%s%d", prefix, i+1), publisher.Config{Clip: clip}))
	}
	return pubs
}

// publishAs starts a publisher of cfg, with a participant token of user
// on the stage, whip its endpoint and user its name; it is closed at the
// end of the benchmark.
func (s *server) publishAs(ctx context.Context, stageARN, whip, user string, cfg publisher.Config) *publisher.Publisher {
	s.b.Helper()
	tok, err := s.api.CreateParticipantToken(ctx, &ivsrealtime.CreateParticipantTokenInput{StageArn: aws.String(stageARN), UserId: aws.String(user)})
	if err != nil {
		s.b.Fatal(err)
	}
	cfg.WHIP, cfg.Token, cfg.Name, cfg.Logger = whip, *tok.ParticipantToken.Token, user, quietLog()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	p, err := publisher.Start(pctx, cfg)
	cancel()
	if err != nil {
		s.b.Fatalf("publishing %s: %v", user, err)
	}
	s.b.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	})
	return p
}

// closePublishers closes pubs, each within 15 s.
func closePublishers(ctx context.Context, pubs []*publisher.Publisher) {
	for _, p := range pubs {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		_ = p.Close(cctx)
		cancel()
	}
}

// destination creates an encoder configuration of the given size, rate
// and bitrate and a storage configuration (a folder bucket under the
// server's data) and returns the S3 destination recording with them.
func (s *server) destination(ctx context.Context, w, h int, fps float64, bitrate int) types.DestinationConfiguration {
	s.b.Helper()
	enc, err := s.api.CreateEncoderConfiguration(ctx, &ivsrealtime.CreateEncoderConfigurationInput{Name: aws.String(fmt.Sprintf("bench-%dx%d", w, h)),
		Video: &types.Video{Width: aws.Int32(int32(w)), Height: aws.Int32(int32(h)), Framerate: aws.Float32(float32(fps)), Bitrate: aws.Int32(int32(bitrate))}})
	if err != nil {
		s.b.Fatal(err)
	}
	sc, err := s.api.CreateStorageConfiguration(ctx, &ivsrealtime.CreateStorageConfigurationInput{S3: &types.S3StorageConfiguration{BucketName: aws.String("bench")}})
	if err != nil {
		s.b.Fatal(err)
	}
	return types.DestinationConfiguration{S3: &types.S3DestinationConfiguration{
		StorageConfigurationArn: sc.StorageConfiguration.Arn, EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn}}}
}

// startComposition starts a grid composition of the stage with dest and
// waits until the API reports it ACTIVE, which the worker reports right
// after its first canvas was encoded and the packet handed to the
// destinations. It returns the ARN and the time from the StartComposition
// call to the first GetComposition answering ACTIVE (polled every 5 ms).
func (s *server) startComposition(ctx context.Context, stageARN string, dest types.DestinationConfiguration) (string, time.Duration) {
	s.b.Helper()
	began := time.Now()
	c, err := s.api.StartComposition(ctx, &ivsrealtime.StartCompositionInput{StageArn: aws.String(stageARN),
		Destinations: []types.DestinationConfiguration{dest}, Layout: &types.LayoutConfiguration{Grid: &types.GridConfiguration{}}})
	if err != nil {
		s.b.Fatal(err)
	}
	arn := *c.Composition.Arn
	deadline := time.Now().Add(15 * time.Second)
	for {
		g, err := s.api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			s.b.Fatal(err)
		}
		switch g.Composition.State {
		case types.CompositionStateActive:
			return arn, time.Since(began)
		case types.CompositionStateStarting:
		default:
			s.b.Fatalf("composition %s is %s\n%s", arn, g.Composition.State, s.log.tail())
		}
		if time.Now().After(deadline) {
			s.b.Fatalf("composition %s not ACTIVE after 15 s\n%s", arn, s.log.tail())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// viewerToken creates a viewer token for the composition (the extension
// operation CreateViewerToken) and returns its WHEP endpoint and token.
func (s *server) viewerToken(ctx context.Context, compositionARN string) (whepURL, token string) {
	s.b.Helper()
	var tok struct {
		ViewerToken struct{ Token, WhepUrl string }
	}
	if st, body, err := testsrv.CallExtension(ctx, s.url, devAccessKeyID, devSecretAccessKey, "CreateViewerToken",
		map[string]any{"compositionArn": compositionARN}, &tok); err != nil || st != http.StatusOK {
		s.b.Fatalf("CreateViewerToken: %d %s %v", st, body, err)
	}
	return tok.ViewerToken.WhepUrl, tok.ViewerToken.Token
}

// stopComposition stops a composition and waits (bounded) until it is
// STOPPED, its recording finalized.
func (s *server) stopComposition(ctx context.Context, arn string) {
	s.b.Helper()
	if _, err := s.api.StopComposition(ctx, &ivsrealtime.StopCompositionInput{Arn: aws.String(arn)}); err != nil {
		s.b.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		g, err := s.api.GetComposition(ctx, &ivsrealtime.GetCompositionInput{Arn: aws.String(arn)})
		if err != nil {
			s.b.Fatal(err)
		}
		switch g.Composition.State {
		case types.CompositionStateStopped:
			return
		case types.CompositionStateFailed:
			s.b.Fatalf("composition %s failed\n%s", arn, s.log.tail())
		}
		if time.Now().After(deadline) {
			s.b.Fatalf("composition %s not stopped after 60 s", arn)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// perfRecord starts `perf record -g` on the server for d into
// <-pipeline.perf>/<name>.perf.data, if that flag is set; the returned
// function waits for it.
func (s *server) perfRecord(name string, d time.Duration) func() {
	if *pipelinePerf == "" {
		return func() {}
	}
	out := filepath.Join(*pipelinePerf, strings.ReplaceAll(name, "/", "_")+".perf.data")
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	cmd := exec.CommandContext(ctx, "perf", "record", "-g", "-q", "-o", out, "-p", strconv.Itoa(s.pid), "--", "sleep", strconv.FormatFloat(d.Seconds(), 'f', 3, 64))
	if err := cmd.Start(); err != nil {
		cancel()
		s.b.Logf("perf record: %v", err)
		return func() {}
	}
	return func() {
		defer cancel()
		if err := cmd.Wait(); err != nil {
			s.b.Logf("perf record: %v", err)
			return
		}
		s.b.Logf("perf profile of the server: %s (perf report -i %s)", out, out)
	}
}

// segments counts the files ending in ext (".ts", ".mp4") recorded into
// the server's folder buckets, to check that the recordings did their work.
func (s *server) segments(ext string) int {
	return len(s.recorded(ext))
}

// recorded lists the files ending in ext recorded into the server's
// folder buckets, in lexical order (a recording's first segment first).
func (s *server) recorded(ext string) []string {
	var paths []string
	_ = filepath.WalkDir(filepath.Join(s.data, "buckets"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ext) {
			paths = append(paths, path)
		}
		return nil
	})
	return paths
}

// window is what happened in the server over a measured window.
type window struct {
	wall     time.Duration
	cpu      time.Duration // the server's
	self     time.Duration // this process's: the publishers
	rssMax   int64         // largest resident size sampled
	rssEnd   int64
	composed float64 // canvases composed (all compositions)
	skipped  float64 // frame clock ticks skipped
	decoded  float64 // video frames decoded by ingest
	decErr   float64 // decode errors
}

// cores is CPU time per second of wall time.
func (w window) cores() float64 { return w.cpu.Seconds() / w.wall.Seconds() }

// measure watches the server for d: CPU time, resident memory (sampled
// every 250 ms), and the composition and ingest counters.
func (s *server) measure(ctx context.Context, d time.Duration) window {
	s.b.Helper()
	m0, self0, p0 := s.metrics(ctx), selfCPU(), s.stats()
	w := window{rssMax: p0.rss}
	end := p0.at.Add(d)
	for {
		wait := min(250*time.Millisecond, time.Until(end))
		if wait <= 0 {
			break
		}
		select {
		case <-ctx.Done():
			s.b.Fatal(ctx.Err())
		case <-time.After(wait):
		}
		w.rssMax = max(w.rssMax, s.stats().rss)
	}
	p1, self1, m1 := s.stats(), selfCPU(), s.metrics(ctx)
	w.wall, w.cpu, w.self, w.rssEnd = p1.at.Sub(p0.at), p1.cpu-p0.cpu, self1-self0, p1.rss
	w.rssMax = max(w.rssMax, p1.rss)
	delta := func(name string) float64 { return m1[name] - m0[name] }
	w.composed = delta("tessera_composition_frames_total")
	w.skipped = delta("tessera_composition_frames_skipped_total")
	w.decoded = delta("tessera_ingest_frames_decoded_total{kind=video}")
	w.decErr = delta("tessera_ingest_decode_errors_total")
	return w
}

// logWatcher keeps the server's log in a file, finds the address it
// listens on, and keeps the last lines for error messages.
type logWatcher struct {
	mu     sync.Mutex
	f      *os.File
	part   []byte
	last   []string
	listen chan string
	found  bool
}

var listenLine = regexp.MustCompile(`msg="tessera serving" listen=(\S+)`)

func newLogWatcher(path string) (*logWatcher, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &logWatcher{f: f, listen: make(chan string, 1)}, nil
}

func (l *logWatcher) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_, _ = l.f.Write(p)
	}
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		line := string(l.part[:i])
		l.part = l.part[i+1:]
		if l.last = append(l.last, line); len(l.last) > 40 {
			l.last = l.last[1:]
		}
		if m := listenLine.FindStringSubmatch(line); m != nil && !l.found {
			l.found = true
			l.listen <- m[1]
		}
	}
	return len(p), nil
}

// tail returns the last lines of the log.
func (l *logWatcher) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

func (l *logWatcher) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

// quietLog drops the publishers' logs.
func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitDecoding waits (bounded) until the server decodes about fps video
// frames a second from each of n publishers, measured over a second.
func (s *server) waitDecoding(ctx context.Context, n int, fps float64) {
	s.b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		m0 := s.metrics(ctx)["tessera_ingest_frames_decoded_total{kind=video}"]
		time.Sleep(time.Second)
		m1 := s.metrics(ctx)["tessera_ingest_frames_decoded_total{kind=video}"]
		if m1-m0 >= 0.9*fps*float64(n) {
			return
		}
		if time.Now().After(deadline) {
			s.b.Fatalf("%d publishers: %.0f frames decoded in a second, want about %.0f\n%s", n, m1-m0, fps*float64(n), s.log.tail())
		}
	}
}
