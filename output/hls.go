package output

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/internal/durable"
	"github.com/tessera-media/tessera/media"
)

// RecordingConfig configures an HLS recording destination. Zero values
// take the defaults.
type RecordingConfig struct {
	Name     string // the destination in logs and metrics
	Spool    *Spool // uploads (one spool per destination)
	Bucket   string
	Prefix   string // <stageId>/<compositionId>/<destinationId>/composite
	StageARN string
	// Streams are the encoders' streams, video first.
	Streams []av.StreamInfo
	// Container is the segments' container: MPEG-TS (the default) or
	// fragmented MP4.
	Container SegmentContainer
	// SessionID and ParticipantID make this an individual participant
	// recording: IVS's layout (the rendition and thumbnails under "high")
	// and events naming the session and participant, without resolutions.
	SessionID, ParticipantID string
	// TargetSegment is targetSegmentDurationSeconds (2–10 s; default 2 s
	// for MPEG-TS, 6 s for fragmented MP4).
	TargetSegment time.Duration
	// KeyframeInterval is the video encoder's (default 2 s).
	KeyframeInterval time.Duration
	// ThumbnailInterval is targetIntervalSeconds; 0 means no thumbnails.
	ThumbnailInterval time.Duration
	// ThumbnailSequential and ThumbnailLatest are the thumbnail storage
	// modes SEQUENTIAL and LATEST.
	ThumbnailSequential, ThumbnailLatest bool
	// WorkDir is the recording's own work folder (required; created if
	// needed, one per recording): the segment being written and the
	// manifest and journal RecoverRecording finishes the recording from
	// after a crash. It is removed once the recording's final objects are
	// in the spool.
	WorkDir  string
	QueueLen int // packets between the encoder and the segment writer (default 2048)
	OnState  StateFunc
	Logger   *slog.Logger
}

// Recording records a composition as HLS into storage, with the key layout,
// playlists and events of an IVS composite recording. Packets are written
// into segments cut on keyframes — MPEG-TS, or fragmented MP4 after an
// initialization section that goes to storage first — segments go to the
// spool (disk first, then storage), and the media playlist lists a segment only once
// storage has it. Stop finishes the last segment, writes the VOD playlist
// and recording-ended.json (recording-failed.json if anything was lost) and
// waits until storage has everything before it reports STOPPED. What it
// has not finished when the process dies, RecoverRecording finishes from
// the work folder.
type Recording struct {
	cfg     RecordingConfig
	keys    recordingKeys
	info    recordingInfo
	queue   chan queued
	frames  chan *media.VideoFrame // a copy of a canvas due for a thumbnail
	spare   chan *media.VideoFrame // the copy, when nobody uses it
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	journal *journal
	started time.Time

	state     stateCell
	dropped   atomic.Uint64
	lost      atomic.Bool  // a segment or thumbnail could not be recorded
	nextThumb atomic.Int64 // PTS (ns) from which the next thumbnail is due

	// The segment writer's own (run's goroutine):
	carry     *av.Muxer // fMP4: the muxer, between a segment and the next
	carryPath string    // the file it writes into
	gapNext   bool      // the next segment follows a gap

	mu       sync.Mutex // guards what the spool's callbacks touch
	playlist mediaPlaylist
	codecs   string // the multivariant playlist's CODECS: known from the first keyframe when the video has no global header
	failMsg  string
}

// NewRecording writes recording-started.json and starts recording.
func NewRecording(cfg RecordingConfig) (*Recording, error) {
	if !cfg.Container.valid() {
		return nil, fmt.Errorf("output: unknown segment container %q", cfg.Container)
	}
	cfg.TargetSegment = or(cfg.TargetSegment, cfg.Container.defaultTarget())
	cfg.KeyframeInterval = or(cfg.KeyframeInterval, 2*time.Second)
	cfg.QueueLen = or(cfg.QueueLen, 2048)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Logger = cfg.Logger.With("destination", cfg.Name)
	if cfg.Spool == nil || len(cfg.Streams) == 0 || cfg.WorkDir == "" {
		return nil, errors.New("output: a recording needs a spool, a work folder and its streams")
	}
	if cfg.Streams[0].Kind != av.Video && (len(cfg.Streams) > 1 || cfg.ParticipantID == "") {
		return nil, errors.New("output: a recording's video stream comes first; only a participant's recording may be audio alone")
	}
	v := cfg.Streams[0]
	bandwidth, codecs := 0, codecsOf(cfg.Streams)
	for _, s := range cfg.Streams {
		bandwidth += s.Bitrate
	}
	fps := float64(v.FrameRateNum) / float64(max(v.FrameRateDen, 1))
	r := &Recording{
		cfg:     cfg,
		queue:   make(chan queued, cfg.QueueLen),
		frames:  make(chan *media.VideoFrame, 1),
		spare:   make(chan *media.VideoFrame, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		started: time.Now(),
	}
	rend := rendition{width: v.Width, height: v.Height, frameRate: fps, bandwidth: bandwidth, codecs: codecs, container: cfg.Container,
		individual: cfg.ParticipantID != ""}
	r.keys = recordingKeys{prefix: cfg.Prefix, r: rend}
	r.info = recordingInfo{stageARN: cfg.StageARN, sessionID: cfg.SessionID, participant: cfg.ParticipantID, r: rend,
		sequential: cfg.ThumbnailSequential, latest: cfg.ThumbnailLatest}
	r.playlist.container, r.playlist.target = cfg.Container, cfg.TargetSegment
	r.codecs = codecs
	r.state.init(cfg.Logger, cfg.OnState)
	j, err := createJournal(cfg.WorkDir, recordingManifest{Version: 1, Name: cfg.Name, Bucket: cfg.Bucket, Prefix: cfg.Prefix,
		StageARN: cfg.StageARN, StartedAt: r.started.UTC(), TargetSegment: cfg.TargetSegment,
		Width: rend.width, Height: rend.height, FrameRate: rend.frameRate, Bandwidth: rend.bandwidth, Codecs: rend.codecs, Container: cfg.Container,
		Sequential: r.info.sequential, Latest: r.info.latest, SessionID: cfg.SessionID, ParticipantID: cfg.ParticipantID, Streams: cfg.Streams})
	if err != nil {
		_ = os.RemoveAll(cfg.WorkDir)
		return nil, fmt.Errorf("output: recording folder: %w", err)
	}
	r.journal = j
	if cfg.ThumbnailInterval > 0 && (cfg.ThumbnailSequential || cfg.ThumbnailLatest) && v.Kind == av.Video {
		r.spare <- media.NewVideoFrame(v.Width, v.Height)
	}
	started := r.info.event(RecordingStarted, "", r.started, time.Time{}, 0)
	if err := cfg.Spool.Enqueue(cfg.Bucket, r.keys.started(), started, "", nil); err != nil {
		r.removeWorkDir()
		return nil, fmt.Errorf("output: recording-started.json: %w", err)
	}
	go r.run()
	return r, nil
}

// State returns the current state.
func (r *Recording) State() contract.State { return r.state.get() }

// Dropped returns how many packets were not recorded (queue overflow, or
// before the first keyframe).
func (r *Recording) Dropped() uint64 { return r.dropped.Load() }

// queued is a packet for the segment writer, or a gap.
type queued struct {
	p   av.Packet
	gap bool
}

// WritePacket queues a packet without blocking.
func (r *Recording) WritePacket(p av.Packet) {
	select {
	case r.queue <- queued{p: p}:
	default:
		r.dropped.Add(1)
		r.lose("the segment writer fell behind; packets were dropped")
	}
}

// Gap tells the recording that its media stopped and goes on after a gap
// (a participant's publish ended and a new one resumed the recording):
// the open segment ends with its last frame, and the next begins after an
// EXT-X-DISCONTINUITY. It waits for room in the queue (bounded by ctx).
func (r *Recording) Gap(ctx context.Context) error {
	select {
	case r.queue <- queued{gap: true}:
		return nil
	case <-r.done:
		return errors.New("output: the recording has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Frame offers a picture for a thumbnail; it copies the frame only when
// a thumbnail is due, and never blocks. A composite's pictures are its
// canvas; a participant's may change size (the thumbnail does with it).
func (r *Recording) Frame(f *media.VideoFrame) {
	if int64(f.PTS) < r.nextThumb.Load() {
		return
	}
	select {
	case c := <-r.spare:
		if c.Width != f.Width || c.Height != f.Height {
			if r.cfg.ParticipantID == "" {
				r.spare <- c
				return
			}
			c = media.NewVideoFrame(f.Width, f.Height)
		}
		copyFrame(c, f)
		r.nextThumb.Store(int64(f.PTS + r.cfg.ThumbnailInterval))
		r.frames <- c
	default: // no thumbnails, or the last one is still being encoded
	}
}

func copyFrame(dst, src *media.VideoFrame) {
	for p := range 3 {
		for y := range src.PlaneHeight(p) {
			copy(dst.Row(p, y), src.Row(p, y))
		}
	}
	dst.PTS = src.PTS
}

// Stop ends the recording and waits (bounded by ctx) until storage has
// every segment, the VOD playlist and the final events file.
func (r *Recording) Stop(ctx context.Context) error {
	r.once.Do(func() { close(r.stop) })
	select {
	case <-r.done:
	case <-ctx.Done():
		return fmt.Errorf("output: recording %s did not finish: %w", r.cfg.Name, ctx.Err())
	}
	err := r.cfg.Spool.Drain(ctx)
	r.journal.close() // a work folder still there is RecoverRecording's
	if err != nil {
		r.setState(contract.StateFailed, err)
		return err
	}
	if r.lost.Load() {
		r.setState(contract.StateFailed, errors.New(r.failMessage()))
		return nil
	}
	r.setState(contract.StateStopped, nil)
	return nil
}

// removeWorkDir removes the work folder: the recording needs it no more
// (its final objects are in the spool, or it never started).
func (r *Recording) removeWorkDir() {
	r.journal.close()
	if err := os.RemoveAll(r.cfg.WorkDir); err != nil {
		r.cfg.Logger.Warn("recording: cannot remove the work folder", "err", err)
	}
}

// journaled logs a journal failure (reported once).
func (r *Recording) journaled(err error) {
	if err != nil {
		r.cfg.Logger.Error("recording", "err", err)
	}
}

func (r *Recording) setState(s contract.State, err error) { r.state.set(s, err) }

// lose records that something could not be recorded.
func (r *Recording) lose(msg string) {
	r.mu.Lock()
	if r.failMsg == "" {
		r.failMsg = msg
		r.cfg.Logger.Error("recording incomplete", "reason", msg)
	}
	r.mu.Unlock()
	r.lost.Store(true)
}

func (r *Recording) failMessage() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failMsg
}

// openSegment is the segment being written.
type openSegment struct {
	seq   int
	path  string
	mux   *av.Muxer // MPEG-TS: the segment's own; fMP4: the recording's, moved on from file to file
	start time.Duration
	last  time.Duration // end of the latest video packet
	all   time.Duration // end of the latest packet of any stream
	disc  bool          // it follows a gap
	// leads counts the lead packets; untimed, whether the latest came
	// without a duration (a publisher's H.264 packaged as received: a
	// frame's duration is not known before the next frame).
	leads   int
	untimed bool
}

// segmentEnd is when seg's media ends: its latest lead packet's end. A
// last packet without a duration lasts the segment's mean frame interval
// (a thirtieth of a second when the segment holds one frame only), so a
// recording's final segment, which no next keyframe ends, does not come
// out a frame short.
func segmentEnd(seg *openSegment) time.Duration {
	switch {
	case seg.last <= seg.start:
		return seg.start + time.Second/30
	case seg.untimed:
		return seg.last + (seg.last-seg.start)/time.Duration(seg.leads-1)
	}
	return seg.last
}

func (r *Recording) run() {
	defer close(r.done)
	var seg *openSegment
	seq := r.cfg.Container.firstSeq()
	var thumbs *thumbnailer
	thumbN := 0
	for {
		select {
		case q := <-r.queue:
			seg, seq = r.take(seg, seq, q)
		case f := <-r.frames:
			if thumbs == nil || thumbs.img.Rect.Dx() != f.Width || thumbs.img.Rect.Dy() != f.Height {
				thumbs = newThumbnailer(f.Width, f.Height, 80)
			}
			r.thumbnail(thumbs, f, thumbN)
			thumbN++
			r.spare <- f
		case <-r.stop:
			r.setState(contract.StateStopping, nil)
			for {
				select {
				case q := <-r.queue:
					seg, seq = r.take(seg, seq, q)
					continue
				default:
				}
				break
			}
			r.finish(seg)
			return
		}
	}
}

// take handles one item of the queue: a packet, or a gap, which ends the
// open segment.
func (r *Recording) take(seg *openSegment, seq int, q queued) (*openSegment, int) {
	if !q.gap {
		return r.write(seg, seq, q.p)
	}
	if seg != nil {
		// Before a gap the segment holds all its media: the sound may run
		// on past the last picture (the publish's video stopped first).
		end := max(segmentEnd(seg), seg.all)
		r.carry, r.carryPath = r.close(seg, end, r.segmentPath(seq)), r.segmentPath(seq)
	}
	r.gapNext = true
	return nil, seq
}

// write adds a packet to the current segment, cutting a new one before a
// keyframe when the segment has reached its length.
func (r *Recording) write(seg *openSegment, seq int, p av.Packet) (*openSegment, int) {
	lead := p.Kind == r.cfg.Streams[0].Kind // video, or the sound of an audio-only recording
	key := lead && (p.Keyframe || p.Kind == av.Audio)
	if seg != nil && key && cutBefore(seg.start, p.PTS, r.cfg.TargetSegment, r.cfg.KeyframeInterval) {
		r.carry, r.carryPath = r.close(seg, p.PTS, r.segmentPath(seq)), r.segmentPath(seq)
		seg = nil
	}
	if seg == nil {
		if !key {
			r.dropped.Add(1) // a segment starts with a keyframe
			return nil, seq
		}
		path := r.segmentPath(seq)
		mux := r.carry // fMP4: the muxer the segment goes on with
		r.carry = nil
		if mux == nil {
			var err error
			if mux, err = r.openMuxer(path, p); err != nil {
				r.lose(fmt.Sprintf("segment %d: %v", seq, err))
				return nil, seq + 1
			}
		}
		seg = &openSegment{seq: seq, path: path, mux: mux, start: p.PTS, disc: r.gapNext}
		if r.gapNext {
			r.journaled(r.journal.gap(seq))
			r.gapNext = false
		}
		seq++
	}
	if err := seg.mux.WritePacket(p); err != nil {
		r.lose(fmt.Sprintf("segment %d: %v", seg.seq, err))
	}
	if lead {
		if end := p.PTS + p.Duration; end >= seg.last {
			seg.last, seg.untimed = end, p.Duration == 0
		}
		seg.leads++
	}
	seg.all = max(seg.all, p.PTS+p.Duration)
	return seg, seq
}

// segmentPath is segment seq's file in the work folder.
func (r *Recording) segmentPath(seq int) string {
	return filepath.Join(r.cfg.WorkDir, r.cfg.Container.segmentName(seq))
}

// openMuxer opens the muxer of a segment at path that starts with
// keyframe. MPEG-TS: the segment's own muxer, which writes every packet
// to the file as it comes (no buffering in the process), so a crash
// leaves all but the last on disk for RecoverRecording to salvage.
// Fragmented MP4: the recording's muxer, whose header — the
// initialization section, written to init.mp4 in the work folder and
// spooled before any segment — declares the H.264 parameter sets (from
// keyframe when the stream has no global header); it writes each
// fragment to the file when the fragment is complete.
func (r *Recording) openMuxer(path string, keyframe av.Packet) (*av.Muxer, error) {
	if !r.cfg.Container.fmp4() {
		return av.NewMuxer("mpegts", path, av.MuxOptions{FormatOptions: map[string]string{"flush_packets": "1"}}, r.cfg.Streams...)
	}
	streams := slices.Clone(r.cfg.Streams)
	if streams[0].Kind == av.Video && len(streams[0].Extradata) == 0 {
		streams[0].Extradata = av.H264ParameterSets(keyframe.Data)
		r.learnCodecs(codecsOf(streams))
	}
	initPath := filepath.Join(r.cfg.WorkDir, initSegment)
	mux, err := av.NewMuxer("mp4", initPath, av.MuxOptions{FormatOptions: av.FragmentedMP4(fragmentDuration)}, streams...)
	if err != nil {
		return nil, err
	}
	if err = mux.NextFile(path); err == nil {
		err = r.spoolInit(initPath)
	}
	if err != nil {
		mux.Interrupt() // no trailer into a file that goes
		_ = mux.Close()
		_ = os.Remove(path)
		return nil, err
	}
	return mux, nil
}

// codecsOf is the CODECS attribute of a rendition of streams.
func codecsOf(streams []av.StreamInfo) string {
	codecs := make([]string, len(streams))
	for i, s := range streams {
		codecs[i] = s.CodecString()
	}
	return strings.Join(codecs, ",")
}

// learnCodecs sets the CODECS of the multivariant playlist, and journals
// them for RecoverRecording.
func (r *Recording) learnCodecs(codecs string) {
	r.mu.Lock()
	changed := codecs != r.codecs
	r.codecs = codecs
	r.mu.Unlock()
	if changed {
		r.journaled(r.journal.codecs(codecs))
	}
}

// multivariant renders the multivariant playlist.
func (r *Recording) multivariant() []byte {
	r.mu.Lock()
	rend := r.keys.r
	rend.codecs = r.codecs
	r.mu.Unlock()
	return multivariant(rend)
}

// spoolInit queues the initialization section, keeping the file in the
// work folder for SalvageSegment.
func (r *Recording) spoolInit(path string) error {
	b, err := os.ReadFile(path)
	if err == nil {
		err = durable.Sync(path)
	}
	if err == nil {
		err = r.cfg.Spool.Enqueue(r.cfg.Bucket, r.keys.init(), b, "", nil)
	}
	return err
}

// close finishes a segment that ends at end and hands it to the spool; the
// playlist lists it once storage has it. A fragmented MP4 muxer goes on
// writing into next, and close returns it (nil if it failed).
func (r *Recording) close(seg *openSegment, end time.Duration, next string) *av.Muxer {
	var carry *av.Muxer
	var err error
	if r.cfg.Container.fmp4() {
		if err = seg.mux.NextFile(next); err != nil {
			_ = seg.mux.Close()
			_ = os.Remove(next)
		} else {
			carry = seg.mux
		}
	} else {
		err = seg.mux.Close()
	}
	if err != nil {
		r.lose(fmt.Sprintf("segment %d: %v", seg.seq, err))
		return nil
	}
	s := segment{seq: seg.seq, duration: end - seg.start, disc: seg.disc}
	r.journaled(r.journal.segment(s.seq, s.duration))
	err = r.cfg.Spool.EnqueueFile(r.cfg.Bucket, r.keys.segment(seg.seq), seg.path, "", func() { r.uploaded(s) })
	if err != nil {
		r.lose(fmt.Sprintf("segment %d: %v", seg.seq, err))
		_ = os.Remove(seg.path)
	}
	return carry
}

// uploaded runs on the spool's goroutine when storage has a segment.
func (r *Recording) uploaded(s segment) {
	r.journaled(r.journal.uploaded(s.seq))
	r.mu.Lock()
	r.playlist.segments = append(r.playlist.segments, s)
	first := len(r.playlist.segments) == 1
	pl := r.playlist.render()
	r.mu.Unlock()
	r.enqueue(r.keys.playlist(), pl)
	if first {
		r.enqueue(r.keys.multivariant(), r.multivariant())
		r.setState(contract.StateActive, nil)
	}
}

func (r *Recording) enqueue(key string, data []byte) {
	if err := r.cfg.Spool.Enqueue(r.cfg.Bucket, key, data, "", nil); err != nil {
		r.lose(fmt.Sprintf("%s: %v", key, err))
	}
}

// finish closes the last segment, then (after it, in the spool's order)
// the VOD playlist and the final events file.
func (r *Recording) finish(seg *openSegment) {
	final := func() {
		r.mu.Lock()
		r.playlist.ended = true
		pl, dur, n := r.playlist.render(), r.playlist.duration(), len(r.playlist.segments)
		r.mu.Unlock()
		if n > 0 {
			r.enqueue(r.keys.playlist(), pl)
			r.enqueue(r.keys.multivariant(), r.multivariant())
		}
		status, key, msg := RecordingEnded, r.keys.ended(), ""
		if r.lost.Load() {
			status, key, msg = RecordingEndedWithFailure, r.keys.failed(), r.failMessage()
		}
		r.enqueue(key, r.info.event(status, msg, r.started, time.Now(), dur))
		r.removeWorkDir()
	}
	if r.carry != nil {
		// A gap left the muxer on the next segment's file: nothing went in.
		r.carry.Interrupt()
		_ = r.carry.Close()
		_ = os.Remove(r.carryPath)
		r.carry = nil
	}
	if seg == nil {
		final()
		return
	}
	end := segmentEnd(seg)
	if err := seg.mux.Close(); err != nil {
		r.lose(fmt.Sprintf("segment %d: %v", seg.seq, err))
		final()
		return
	}
	s := segment{seq: seg.seq, duration: end - seg.start, disc: seg.disc}
	r.journaled(r.journal.segment(s.seq, s.duration))
	err := r.cfg.Spool.EnqueueFile(r.cfg.Bucket, r.keys.segment(seg.seq), seg.path, "", func() {
		r.uploaded(s)
		final()
	})
	if err != nil {
		r.lose(fmt.Sprintf("segment %d: %v", seg.seq, err))
		final()
	}
}

// thumbnail encodes and queues one thumbnail.
func (r *Recording) thumbnail(t *thumbnailer, f *media.VideoFrame, n int) {
	b, err := t.encode(f)
	if err != nil {
		r.cfg.Logger.Warn("thumbnail", "err", err)
		return
	}
	if r.cfg.ThumbnailSequential {
		r.enqueue(r.keys.thumbnail(n), append([]byte(nil), b...))
	}
	if r.cfg.ThumbnailLatest {
		r.enqueue(r.keys.latestThumbnail(), append([]byte(nil), b...))
	}
}
