package worker

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/ingest"
	"github.com/tessera-media/tessera/output"
)

// RecordParticipant is the worker's contract.ParticipantRecorderFactory:
// it records spec's publisher (open on its stage) through its own spool
// into the worker's storage, waiting up to participantKeyWait for a
// keyframe.
func (w *Worker) RecordParticipant(ctx context.Context, spec contract.ParticipantRecordingSpec, r contract.Reporter) (contract.ParticipantRecording, error) {
	p, err := w.publisher(spec)
	if err != nil {
		return nil, err
	}
	// One work folder and spool per recording: a participant may publish
	// again in the same session while its last recording is finalized.
	name := fmt.Sprintf("participant-%s-%s-%d", spec.SessionID, spec.ParticipantID, time.Now().UnixNano())
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
	rec, err := recordParticipant(ctx, p, cfg, spec.AudioOnly, participantKeyWait)
	if err != nil {
		_ = spool.Close()
		return nil, err
	}
	r.Active()
	return &recordedParticipant{w: w, spec: spec, rec: rec, spool: spool}, nil
}

// participantKeyWait bounds the wait for a publish's first keyframe.
const participantKeyWait = 10 * time.Second

// publisher is spec's participant on its open stage.
func (w *Worker) publisher(spec contract.ParticipantRecordingSpec) (*ingest.Participant, error) {
	stage := w.cfg.Ingest.Stage(spec.StageARN)
	if stage == nil {
		return nil, fmt.Errorf("worker: stage %s is not open", spec.StageARN)
	}
	p := stage.Participant(spec.ParticipantID)
	if p == nil {
		return nil, fmt.Errorf("worker: participant %s is not on stage %s", spec.ParticipantID, spec.StageARN)
	}
	return p, nil
}

// recordedParticipant is the contract.ParticipantRecording of one publisher.
type recordedParticipant struct {
	w     *Worker
	spec  contract.ParticipantRecordingSpec
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

// Resume goes on with the participant's new publish on its stage.
func (p *recordedParticipant) Resume(ctx context.Context) error {
	pub, err := p.w.publisher(p.spec)
	if err != nil {
		return err
	}
	return p.rec.Resume(ctx, pub, participantKeyWait)
}
