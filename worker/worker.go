package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tessera-media/tessera/capacity"
	"github.com/tessera-media/tessera/compositor"
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/layout"
	"github.com/tessera-media/tessera/output"
	"github.com/tessera-media/tessera/whep"
)

// Config configures a Worker.
type Config struct {
	// Ingest is where the compositions' stages are open: a composition
	// finds its stage's roster there by ARN, and composes on its clock
	// (ingest.Server.Now), which the participants' frames are timed on.
	// Required.
	Ingest *ingest.Server
	// Storage receives recordings (S3 or a folder). Required for s3
	// destinations.
	Storage output.Storage
	// SpoolDir holds recordings on their way to storage: one spool folder
	// per recording destination.
	SpoolDir string
	// WorkDir holds the recordings' work folders (the segment being
	// written, the manifest and journal recovery needs); default
	// "recordings" beside SpoolDir.
	WorkDir string
	// Delay, when above 0, is how far behind real time every canvas is
	// composed, fixed (the A/V sync budget). At 0 each composition finds
	// its own: the longest its participants' pictures and sound recently
	// took from capture to being ready (ingest's Participant.Lag), plus
	// half a frame interval (each canvas shows the picture captured
	// nearest its time, up to half a frame after it) and 10 ms, within
	// MinDelay and MaxDelay (defaults DefaultMinDelay and
	// DefaultMaxDelay); it grows at once and shrinks by at most 1 ms a
	// frame.
	Delay              time.Duration
	MinDelay, MaxDelay time.Duration
	// Preset is the x264 speed preset of the compositions' encoders
	// (default "veryfast"): faster presets cost less CPU per frame and
	// give less quality per bit.
	Preset string
	// CAFile trusts an extra CA for rtmps:// channels (tests, private CAs).
	CAFile string
	// Channel and Spool tune the destinations (zero: output's defaults).
	Channel output.ChannelConfig
	Spool   output.SpoolOptions
	Logger  *slog.Logger
	// Registerer receives the worker's metrics (per composition, per
	// destination, the channels' and the upload spools'); nil registers
	// none.
	Registerer prometheus.Registerer
	// Tap, when set, is asked for an extra sink for every encoder a
	// composition starts (one per encoder configuration); the sink sees
	// every packet the destinations see, as they leave the encoder. Nil
	// sinks are ignored. For benchmarks, previews and monitoring.
	Tap func(composition string, streams []av.StreamInfo) output.PacketSink
	// Views, when set, serves a live view (WHEP) of every composition: of
	// its first encoder configuration.
	Views *whep.Server
}

// Worker starts composition pipelines.
type Worker struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics

	drains drainer // Recover's spools
	// local names the work and spool folders Recover found
	// (<composition>-<destination>): recordings finished from this
	// server's own files.
	local struct {
		sync.Mutex
		names map[string]bool
	}

	mu      sync.Mutex
	running map[*pipeline]struct{}
}

// New returns a Worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Ingest == nil {
		return nil, errors.New("worker: Config.Ingest is required")
	}
	if cfg.Delay < 0 {
		cfg.Delay = 0
	}
	if cfg.MinDelay <= 0 {
		cfg.MinDelay = DefaultMinDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	if cfg.MaxDelay < cfg.MinDelay {
		return nil, fmt.Errorf("worker: the largest A/V delay (%v) is below the smallest (%v)", cfg.MaxDelay, cfg.MinDelay)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WorkDir == "" && cfg.SpoolDir != "" {
		cfg.WorkDir = filepath.Join(filepath.Dir(cfg.SpoolDir), "recordings")
	}
	if cfg.Preset != "" {
		if err := av.CheckPreset(cfg.Preset); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, log: cfg.Logger.With("component", "worker"), metrics: m, running: map[*pipeline]struct{}{}}
	w.log.Info("compositor kernels", "set", compositor.KernelSets()[0], "available", strings.Join(compositor.KernelSets(), ","))
	w.drains.ctx, w.drains.cancel = context.WithCancel(context.Background())
	if cfg.Channel.Metrics == nil {
		w.cfg.Channel.Metrics = m.channel
	}
	if cfg.Spool.Metrics == nil {
		w.cfg.Spool.Metrics = m.spool
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(uploadCollector{w}); err != nil {
			return nil, fmt.Errorf("worker: metrics: %w", err)
		}
	}
	return w, nil
}

// pipelines returns the running compositions.
func (w *Worker) pipelines() []*pipeline {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*pipeline, 0, len(w.running))
	for p := range w.running {
		out = append(out, p)
	}
	return out
}

var _ contract.PipelineFactory = (*Worker)(nil).Start

// Start implements contract.PipelineFactory.
func (w *Worker) Start(ctx context.Context, spec contract.CompositionSpec, r contract.Reporter) (contract.Pipeline, error) {
	stage := w.cfg.Ingest.Stage(spec.StageARN)
	if stage == nil {
		return nil, fmt.Errorf("worker: stage %s is not open", spec.StageARN)
	}
	log := w.log.With("composition", spec.ID)
	p := &pipeline{w: w, spec: spec, stage: stage, r: r, log: log, stop: make(chan struct{}), done: make(chan struct{}),
		speed: w.metrics.speed.WithLabelValues(spec.ID)}
	p.layout.Store(&spec.Layout)
	// One encoder (and canvas) per encoder configuration.
	groups := map[string]*group{}
	var order []*group
	for _, d := range spec.Destinations {
		key := fmt.Sprintf("%s|%dx%d@%v/%d", d.Encoder.ARN, d.Encoder.Width, d.Encoder.Height, d.Encoder.Framerate, d.Encoder.Bitrate)
		g := groups[key]
		if g == nil {
			enc, err := output.NewEncoder(av.VideoConfig{Width: d.Encoder.Width, Height: d.Encoder.Height,
				FrameRate: d.Encoder.Framerate, Bitrate: d.Encoder.Bitrate, Preset: w.cfg.Preset,
				Threads: encoderThreads(d.Encoder, w.cfg.Preset)}, av.AudioConfig{})
			if err != nil {
				p.abort(order)
				return nil, fmt.Errorf("worker: encoder %dx%d: %w", d.Encoder.Width, d.Encoder.Height, err)
			}
			g = &group{p: p, enc: enc, spec: d.Encoder, done: make(chan struct{}), relay: make(chan struct{}, 1)}
			enc.Attach(byteCounter{video: w.metrics.output.WithLabelValues(spec.ID, "video"),
				audio: w.metrics.output.WithLabelValues(spec.ID, "audio")})
			if w.cfg.Tap != nil {
				if s := w.cfg.Tap(spec.ID, enc.Streams()); s != nil {
					enc.Attach(s)
				}
			}
			groups[key] = g
			order = append(order, g)
		}
		if err := g.addDestination(d); err != nil {
			p.abort(order)
			return nil, err
		}
	}
	p.groups = order
	if len(order) > 0 {
		order[0].openView()
	}
	w.mu.Lock()
	w.running[p] = struct{}{}
	w.mu.Unlock()
	for _, g := range order {
		go g.run()
	}
	return p, nil
}

// pipeline is one running composition.
type pipeline struct {
	w      *Worker
	spec   contract.CompositionSpec
	stage  *ingest.Stage
	r      contract.Reporter
	log    *slog.Logger
	groups []*group
	stop   chan struct{}
	done   chan struct{}
	// layout is the layout the groups arrange (SetLayout replaces it).
	layout atomic.Pointer[layout.Config]

	mmu       sync.Mutex       // the fields below
	forgotten bool             // the series are deleted: create no more
	speed     prometheus.Gauge // the slowest group's speed
}

// abort releases what Start built before failing.
func (p *pipeline) abort(gs []*group) {
	for _, g := range gs {
		_ = g.enc.Close()
		for _, d := range g.dests {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = d.stop(ctx)
			cancel()
		}
	}
	p.forget(gs)
}

// forget deletes the composition's series and its channels'; later
// reports go nowhere.
func (p *pipeline) forget(gs []*group) {
	p.mmu.Lock()
	p.forgotten = true
	p.w.metrics.forget(p.spec.ID)
	p.mmu.Unlock()
	for _, g := range gs {
		for _, d := range g.dests {
			if d.channel {
				p.w.cfg.Channel.Metrics.Forget(d.id)
			}
		}
	}
}

// lateCounter returns the late-pictures counter of a participant.
func (p *pipeline) lateCounter(participant string) prometheus.Counter {
	p.mmu.Lock()
	defer p.mmu.Unlock()
	if p.forgotten {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "unregistered"})
	}
	return p.w.metrics.late.WithLabelValues(p.spec.ID, participant)
}

// reportSpeed records a group's latest speed; the composition's is the
// slowest group's.
func (p *pipeline) reportSpeed(g *group, v float64) {
	p.mmu.Lock()
	defer p.mmu.Unlock()
	g.speed = v
	slowest := v
	for _, o := range p.groups {
		if o.speed > 0 {
			slowest = min(slowest, o.speed)
		}
	}
	p.speed.Set(slowest)
}

// Stop ends the composition: the clocks stop, the encoders flush, and the
// destinations finish (recordings finalized) within ctx.
func (p *pipeline) Stop(ctx context.Context) error {
	close(p.stop)
	defer func() {
		p.w.mu.Lock()
		delete(p.w.running, p)
		p.w.mu.Unlock()
		p.forget(p.groups)
	}()
	var errs []error
	for _, g := range p.groups {
		select {
		case <-g.done:
		case <-ctx.Done():
			return fmt.Errorf("worker: stop: %w", ctx.Err())
		}
		if err := g.enc.Close(); err != nil {
			errs = append(errs, err)
		}
		for _, d := range g.dests {
			if err := d.stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("destination %s: %w", d.id, err))
			}
		}
	}
	return errors.Join(errs...)
}

// destination is a channel or a recording attached to an encoder.
type destination struct {
	id      string
	sink    output.PacketSink
	rec     *output.Recording
	stop    func(ctx context.Context) error
	spool   *output.Spool
	channel bool
}

func (g *group) addDestination(d contract.DestinationSpec) error {
	p := g.p
	kind := "channel"
	if d.ChannelURL == "" {
		kind = "s3"
	}
	state := p.w.metrics.newDestState(p.spec.ID, d.ID, kind)
	onState := func(s contract.State, err error) {
		reason := ""
		if err != nil {
			reason = err.Error()
		}
		state.set(s)
		p.r.Destination(d.ID, s, reason)
	}
	streams := g.enc.Streams()
	switch {
	case d.ChannelURL != "":
		cc := p.w.cfg.Channel
		cc.Name, cc.OnState, cc.Logger = d.ID, onState, p.log
		url, ca := d.ChannelURL, p.w.cfg.CAFile
		cc.Dial = func(ctx context.Context) (output.PacketWriter, error) {
			return av.NewMuxer("flv", url, av.MuxOptions{DialContext: ctx, CAFile: ca}, streams...)
		}
		ch := output.NewChannel(cc)
		g.enc.Attach(ch)
		g.dests = append(g.dests, &destination{id: d.ID, sink: ch, stop: ch.Stop, channel: true})
	case d.Bucket != "":
		if p.w.cfg.Storage == nil {
			return fmt.Errorf("worker: destination %s: no storage configured for recordings", d.ID)
		}
		so := p.w.cfg.Spool
		so.Name, so.Logger = d.ID, p.log
		name := p.spec.ID + "-" + d.ID
		spool, err := output.NewSpool(filepath.Join(p.w.cfg.SpoolDir, name), p.w.cfg.Storage, so)
		if err != nil {
			return fmt.Errorf("worker: destination %s: %w", d.ID, err)
		}
		rc := output.RecordingConfig{Name: d.ID, Spool: spool, WorkDir: filepath.Join(p.w.cfg.WorkDir, name), Bucket: d.Bucket, Prefix: d.RecordingPrefix,
			StageARN: p.spec.StageARN, Streams: streams, TargetSegment: d.TargetSegment,
			ThumbnailInterval: d.ThumbnailInterval, OnState: onState, Logger: p.log}
		for _, s := range d.ThumbnailStorage {
			switch s {
			case "SEQUENTIAL":
				rc.ThumbnailSequential = true
			case "LATEST":
				rc.ThumbnailLatest = true
			}
		}
		rec, err := output.NewRecording(rc)
		if err != nil {
			_ = spool.Close()
			return fmt.Errorf("worker: destination %s: %w", d.ID, err)
		}
		g.enc.Attach(rec)
		g.dests = append(g.dests, &destination{id: d.ID, sink: rec, rec: rec, spool: spool, stop: func(ctx context.Context) error {
			err := rec.Stop(ctx)
			if cerr := spool.Close(); err == nil {
				err = cerr
			}
			return err
		}})
	default:
		return fmt.Errorf("worker: destination %s has neither a channel nor a bucket", d.ID)
	}
	return nil
}

// singleThreadCores is the estimated cost (capacity's model) up to which a
// composition's x264 runs on one thread: there it spends 5–6 % less CPU
// per frame than with the slice threads x264 picks from the core count
// (720p30 at veryfast: 8.4 against 9.0 ms; BenchmarkEncode720p) and still
// encodes a frame in a third of its interval. Larger or slower encodes
// keep x264's threads, which they need to keep real time.
const singleThreadCores = 0.4

// encoderThreads returns the x264 threads of an encoder configuration:
// 1, or 0 (x264's choice).
func encoderThreads(e contract.EncoderSpec, preset string) int {
	if capacity.Composition(e.Width, e.Height, e.Framerate, preset) <= singleThreadCores {
		return 1
	}
	return 0
}
