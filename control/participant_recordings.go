package control

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
)

// Individual participant recordings: on a stage whose
// autoParticipantRecordingConfiguration names a storage configuration, every
// publisher is recorded from PUBLISH_STARTED to PUBLISH_STOPPED through
// Config.ParticipantRecorders, under
// <stageId>/<sessionId>/<participantId>/<start time> in the storage
// configuration's bucket. The participant's record carries the
// recording's state, bucket and prefix.

// recordingKey names a participant's recording.
type recordingKey struct{ stage, participant string }

// participantRecording is a running one.
type participantRecording struct {
	pipe contract.ParticipantRecording
}

// recordingTimeLayout is the start time in an individual recording's
// prefix, as IVS writes it.
const recordingTimeLayout = "2006-01-02T15-04-05Z"

// startParticipantRecording starts recording a participant that began
// publishing, when its stage is so configured; it returns at once.
func (s *Server) startParticipantRecording(stageARN, sessionID, participantID string, at time.Time) {
	if s.cfg.ParticipantRecorders == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		defer cancel()
		var st Stage
		if _, e := s.getDoc(ctx, store.KindStage, stageARN, &st); e != nil {
			return
		}
		c := st.AutoParticipantRecording.withDefaults()
		if c.StorageConfigurationARN == "" || slices.Contains(c.MediaTypes, "NONE") {
			return
		}
		var sc StorageConfiguration
		if _, e := s.getDoc(ctx, store.KindStorageConfiguration, c.StorageConfigurationARN, &sc); e != nil || sc.S3 == nil {
			s.log.Warn("participant recording: no storage configuration", "stage", stageARN, "storage", c.StorageConfigurationARN)
			return
		}
		spec := contract.ParticipantRecordingSpec{StageARN: stageARN, SessionID: sessionID, ParticipantID: participantID,
			Bucket: sc.S3.BucketName, Prefix: path.Join(path.Base(stageARN), sessionID, participantID, at.UTC().Format(recordingTimeLayout)),
			AudioOnly: slices.Contains(c.MediaTypes, "AUDIO_ONLY"), TargetSegment: time.Duration(*c.HLSConfiguration.TargetSegmentDurationSeconds) * time.Second,
			ThumbnailStorage: c.ThumbnailConfiguration.Storage}
		if c.ThumbnailConfiguration.RecordingMode == "INTERVAL" {
			spec.ThumbnailInterval = time.Duration(*c.ThumbnailConfiguration.TargetIntervalSeconds) * time.Second
		}
		s.setRecording(ctx, stageARN, sessionID, participantID, "STARTING", spec.Bucket, spec.Prefix)
		rep := &recordingReporter{s: s, stage: stageARN, session: sessionID, participant: participantID}
		pipe, err := s.cfg.ParticipantRecorders(ctx, spec, rep)
		if err != nil {
			s.log.Warn("participant recording did not start", "stage", stageARN, "participant", participantID, "err", err)
			s.setRecording(ctx, stageARN, sessionID, participantID, "FAILED", spec.Bucket, spec.Prefix)
			return
		}
		s.recMu.Lock()
		if s.recordings == nil {
			s.recordings = map[recordingKey]*participantRecording{}
		}
		s.recordings[recordingKey{stageARN, participantID}] = &participantRecording{pipe: pipe}
		s.recMu.Unlock()
	}()
}

// stopParticipantRecording finalizes a participant's recording, if any.
func (s *Server) stopParticipantRecording(stageARN, participantID string) {
	s.recMu.Lock()
	k := recordingKey{stageARN, participantID}
	r := s.recordings[k]
	delete(s.recordings, k)
	s.recMu.Unlock()
	if r == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := r.pipe.Stop(ctx); err != nil {
			s.log.Warn("finalizing a participant recording", "stage", stageARN, "participant", participantID, "err", err)
		}
	}()
}

// setRecording keeps the participant record's recording fields current.
func (s *Server) setRecording(ctx context.Context, stageARN, sessionID, participantID, state, bucket, prefix string) {
	err := s.store.Update(ctx, participantKey(stageARN, sessionID, participantID), func(r *store.Resource) error {
		var p Participant
		if err := json.Unmarshal(r.Doc, &p); err != nil {
			return err
		}
		p.RecordingState, p.RecordingS3BucketName, p.RecordingS3Prefix = state, bucket, prefix
		r.Doc, _ = json.Marshal(p)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("recording a participant's recording state", "err", err)
	}
}

// recordingReporter turns a participant recording's progress into the
// participant record's recordingState.
type recordingReporter struct {
	s                           *Server
	stage, session, participant string
}

func (r *recordingReporter) Active() {}
func (r *recordingReporter) Destination(_ string, state contract.State, _ string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p Participant
	if _, e := r.s.getDoc(ctx, store.KindParticipant, participantKey(r.stage, r.session, r.participant), &p); e != nil {
		return
	}
	r.s.setRecording(ctx, r.stage, r.session, r.participant, string(state), p.RecordingS3BucketName, p.RecordingS3Prefix)
}
func (r *recordingReporter) Failed(string) {}
