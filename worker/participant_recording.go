package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/internal/av"
	"github.com/tessera-media/tessera/media"
	"github.com/tessera-media/tessera/output"
)

// participantRecorder records one publisher as HLS with fragmented-MP4
// segments, its H.264 packaged as received (no re-encode) and its sound
// encoded once to AAC.
type participantRecorder struct {
	p     *ingest.Participant
	cfg   output.RecordingConfig
	log   *slog.Logger
	video *ingest.VideoPackets
	audio *ingest.AudioSubscription
	enc   *av.AudioEncoder
	rec   *output.Recording
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

// recordParticipant starts recording p with cfg (Spool, WorkDir, Bucket,
// Prefix, TargetSegment…; Streams and Container are set here) once its
// first keyframe arrives, bounded by wait.
func recordParticipant(ctx context.Context, p *ingest.Participant, cfg output.RecordingConfig, wait time.Duration) (*participantRecorder, error) {
	r := &participantRecorder{p: p, cfg: cfg, log: cfg.Logger, stop: make(chan struct{}), done: make(chan struct{})}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.video = p.SubscribeVideoPackets()
	r.audio = p.SubscribeAudio()
	var first []ingest.VideoPacket
	deadline := time.Now().Add(wait)
	for len(first) == 0 {
		if time.Now().After(deadline) {
			r.close()
			return nil, fmt.Errorf("worker: participant %s: no keyframe within %v", p.ID(), wait)
		}
		select {
		case <-ctx.Done():
			r.close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		r.video.Drain(func(pk ingest.VideoPacket) { first = append(first, pk) })
	}
	key := first[0]
	if key.Codec != "h264" {
		r.close()
		return nil, fmt.Errorf("worker: participant %s: %s video is transcoded, not packaged", p.ID(), key.Codec)
	}
	enc, err := av.NewAudioEncoder(av.AudioConfig{Codec: "aac"})
	if err != nil {
		r.close()
		return nil, err
	}
	r.enc = enc
	cfg.Container = output.SegmentsFMP4
	cfg.Streams = []av.StreamInfo{
		{Kind: av.Video, Codec: "h264", Width: key.Width, Height: key.Height, FrameRateNum: 30, FrameRateDen: 1, Extradata: av.H264ParameterSets(key.Data)},
		enc.Stream(),
	}
	if r.rec, err = output.NewRecording(cfg); err != nil {
		r.close()
		return nil, err
	}
	for _, pk := range first {
		r.writeVideo(pk)
	}
	go r.run()
	return r, nil
}

func (r *participantRecorder) writeVideo(pk ingest.VideoPacket) {
	r.rec.WritePacket(av.Packet{Kind: av.Video, Data: pk.Data, PTS: pk.PTS, DTS: pk.PTS, Keyframe: pk.Keyframe})
}

// run moves packets and sound into the recording until Stop.
func (r *participantRecorder) run() {
	defer close(r.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	emit := func(pk av.Packet) { r.rec.WritePacket(pk) }
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		r.video.Drain(r.writeVideo)
		r.audio.Drain(func(a *media.AudioFrame) {
			if err := r.enc.Encode(a, emit); err != nil {
				r.log.Warn("participant recording: audio", "err", err)
			}
		})
	}
}

// Stop ends the recording and waits until storage has it.
func (r *participantRecorder) Stop(ctx context.Context) error {
	r.once.Do(func() {
		close(r.stop)
		<-r.done
		_ = r.enc.Flush(func(pk av.Packet) { r.rec.WritePacket(pk) })
		r.err = r.rec.Stop(ctx)
		r.close()
	})
	return r.err
}

func (r *participantRecorder) close() {
	r.video.Close()
	r.audio.Close()
	if r.enc != nil {
		r.enc.Close()
	}
}

// RecordParticipant is the worker's contract.ParticipantRecorderFactory:
// it records spec's publisher (open on its stage) through its own spool
// into the worker's storage, waiting up to 10 s for a keyframe.
func (w *Worker) RecordParticipant(ctx context.Context, spec contract.ParticipantRecordingSpec, r contract.Reporter) (contract.ParticipantRecording, error) {
	if spec.AudioOnly {
		return nil, errors.New("worker: audio-only participant recordings are not made yet")
	}
	stage := w.cfg.Ingest.Stage(spec.StageARN)
	if stage == nil {
		return nil, fmt.Errorf("worker: stage %s is not open", spec.StageARN)
	}
	p := stage.Participant(spec.ParticipantID)
	if p == nil {
		return nil, fmt.Errorf("worker: participant %s is not on stage %s", spec.ParticipantID, spec.StageARN)
	}
	name := "participant-" + spec.SessionID + "-" + spec.ParticipantID
	so := w.cfg.Spool
	so.Name, so.Logger = spec.ParticipantID, w.log
	spool, err := output.NewSpool(filepath.Join(w.cfg.SpoolDir, name), w.cfg.Storage, so)
	if err != nil {
		return nil, err
	}
	cfg := output.RecordingConfig{Name: spec.ParticipantID, Spool: spool, Bucket: spec.Bucket, Prefix: spec.Prefix,
		StageARN: spec.StageARN, SessionID: spec.SessionID, ParticipantID: spec.ParticipantID, TargetSegment: spec.TargetSegment,
		ThumbnailInterval: spec.ThumbnailInterval, WorkDir: filepath.Join(w.cfg.WorkDir, name), Logger: w.log.With("participant", spec.ParticipantID),
		OnState: func(s contract.State, err error) {
			reason := ""
			if err != nil {
				reason = err.Error()
			}
			r.Destination(spec.ParticipantID, s, reason)
		}}
	for _, s := range spec.ThumbnailStorage {
		cfg.ThumbnailSequential = cfg.ThumbnailSequential || s == "SEQUENTIAL"
		cfg.ThumbnailLatest = cfg.ThumbnailLatest || s == "LATEST"
	}
	rec, err := recordParticipant(ctx, p, cfg, 10*time.Second)
	if err != nil {
		_ = spool.Close()
		return nil, err
	}
	r.Active()
	return &recordedParticipant{rec: rec, spool: spool}, nil
}

// recordedParticipant is the contract.ParticipantRecording of one publisher.
type recordedParticipant struct {
	rec   *participantRecorder
	spool *output.Spool
}

func (p *recordedParticipant) Stop(ctx context.Context) error {
	err := p.rec.Stop(ctx)
	if cerr := p.spool.Close(); err == nil {
		err = cerr
	}
	return err
}

func (p *recordedParticipant) Resume(context.Context) error {
	return errors.New("worker: resuming a participant recording is not supported yet")
}
