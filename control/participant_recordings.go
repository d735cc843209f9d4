package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
)

// Individual participant recordings: on a stage whose
// autoParticipantRecordingConfiguration names a storage configuration, every
// publisher is recorded through Config.ParticipantRecorders, under
// <stageId>/<sessionId>/<participantId>/<start time> in the storage
// configuration's bucket, from its publish to its end
// (participant_recording_table.go: the reconnect window, stage deletion,
// Close). The participant's record carries the recording's state, bucket
// and prefix: DISABLED, "" and "" on a stage that does not record (or
// with mediaTypes NONE, which records nothing), else STARTING → ACTIVE →
// STOPPING → STOPPED or FAILED. Each recording sends IVS Participant
// Recording State Change events: Recording Start (ACTIVE), Recording End
// (STOPPED), Recording Start Failure (the recorder did not start),
// Recording End Failure (FAILED).

// recordingTimeLayout is the start time in an individual recording's
// prefix, as IVS writes it.
const recordingTimeLayout = "2006-01-02T15-04-05Z"

// startParticipantRecording records a participant that began publishing at,
// when its stage is so configured; it returns at once. A participant not
// recorded shows DISABLED.
func (s *Server) startParticipantRecording(ctx context.Context, stageARN, sessionID, participantID string, at time.Time) {
	k := recordingKey{stageARN, participantID}
	if !s.recs.start(k, sessionID, at, func() (recordingPlan, bool) { return s.recordingPlan(ctx, stageARN, sessionID, participantID) }) {
		s.disableRecording(ctx, stageARN, sessionID, participantID)
	}
}

// stopParticipantRecording is a participant's publish ending.
func (s *Server) stopParticipantRecording(stageARN, sessionID, participantID string) {
	s.recs.stopped(recordingKey{stageARN, participantID}, sessionID)
}

// recordingPlan resolves a stage's configuration for a participant's
// recording; false when the stage records nobody.
func (s *Server) recordingPlan(ctx context.Context, stageARN, sessionID, participantID string) (recordingPlan, bool) {
	if s.cfg.ParticipantRecorders == nil {
		return recordingPlan{}, false
	}
	var st Stage
	if _, e := s.getDoc(ctx, store.KindStage, stageARN, &st); e != nil {
		return recordingPlan{}, false
	}
	c := st.AutoParticipantRecording.withDefaults()
	if c.StorageConfigurationARN == "" || slices.Contains(c.MediaTypes, "NONE") {
		return recordingPlan{}, false
	}
	var sc StorageConfiguration
	if _, e := s.getDoc(ctx, store.KindStorageConfiguration, c.StorageConfigurationARN, &sc); e != nil || sc.S3 == nil {
		s.log.Warn("participant recording: no storage configuration", "stage", stageARN, "storage", c.StorageConfigurationARN)
		return recordingPlan{}, false
	}
	spec := contract.ParticipantRecordingSpec{StageARN: stageARN, SessionID: sessionID, ParticipantID: participantID,
		Bucket: sc.S3.BucketName, Prefix: path.Join(path.Base(stageARN), sessionID, participantID),
		AudioOnly: slices.Contains(c.MediaTypes, "AUDIO_ONLY"), TargetSegment: time.Duration(*c.HLSConfiguration.TargetSegmentDurationSeconds) * time.Second,
		ThumbnailStorage: c.ThumbnailConfiguration.Storage}
	if c.ThumbnailConfiguration.RecordingMode == "INTERVAL" {
		spec.ThumbnailInterval = time.Duration(*c.ThumbnailConfiguration.TargetIntervalSeconds) * time.Second
	}
	return recordingPlan{spec: spec, storage: c.StorageConfigurationARN,
		window: time.Duration(*c.RecordingReconnectWindowSeconds) * time.Second}, true
}

// recordingState is the table's recordingSink: the participant record's
// recording fields.
func (s *Server) recordingState(k recordingKey, session, state, bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.updateRecording(ctx, k.stage, session, k.participant, func(p *Participant) {
		p.RecordingState, p.RecordingS3BucketName, p.RecordingS3Prefix = state, bucket, prefix
	})
}

// recordingEvent is the table's recordingSink: the webhooks' event.
func (s *Server) recordingEvent(k recordingKey, session, name, bucket, prefix string) {
	d := ParticipantRecordingDetail{SessionID: session, EventName: name, ParticipantID: k.participant, BucketName: bucket, KeyPrefix: prefix}
	s.notifier.Notify(s.newEvent(DetailParticipantRecordingStateChange, k.stage, time.Now(), k.stage, d))
}

// failLeftRecordings marks FAILED the recordings of a stage session that
// a stopped server left unfinished (STARTING, ACTIVE or STOPPING): their
// recorders are gone, and the worker's recovery finalizes what they
// stored as ended with failure.
func (s *Server) failLeftRecordings(ctx context.Context, stageARN, sessionID string) error {
	after := ""
	for {
		page, next, err := s.store.List(ctx, store.ListQuery{Kind: store.KindParticipant, Parent: sessionKey(stageARN, sessionID), After: after, Limit: 100})
		if err != nil {
			return fmt.Errorf("control: failing the participant recordings of %s: %w", stageARN, err)
		}
		for _, r := range page {
			var p Participant
			if err := json.Unmarshal(r.Doc, &p); err != nil || !unfinished(p.RecordingState) {
				continue
			}
			s.log.Warn("participant recording was running when the server stopped; marking it FAILED", "stage", stageARN, "participant", r.ID)
			s.updateRecording(ctx, stageARN, sessionID, r.ID, func(p *Participant) {
				if unfinished(p.RecordingState) {
					p.RecordingState = recordingFailed
				}
			})
		}
		if next == "" {
			return nil
		}
		after = next
	}
}

// unfinished reports whether a recordingState is a running recording's.
func unfinished(state string) bool {
	return state == recordingStarting || state == recordingActive || state == recordingStopping
}

// disableRecording shows a participant that is not recorded as DISABLED,
// unless a recording of an earlier publish shows.
func (s *Server) disableRecording(ctx context.Context, stageARN, sessionID, participantID string) {
	s.updateRecording(ctx, stageARN, sessionID, participantID, func(p *Participant) {
		if p.RecordingState == "" {
			p.RecordingState = recordingDisabled
		}
	})
}

// updateRecording changes a participant record.
func (s *Server) updateRecording(ctx context.Context, stageARN, sessionID, participantID string, fn func(*Participant)) {
	err := s.store.Update(ctx, participantKey(stageARN, sessionID, participantID), func(r *store.Resource) error {
		var p Participant
		if err := json.Unmarshal(r.Doc, &p); err != nil {
			return err
		}
		fn(&p)
		r.Doc, _ = json.Marshal(p)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("recording a participant's recording state", "err", err)
	}
}
