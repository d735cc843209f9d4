package contract

import (
	"context"
	"time"
)

// ParticipantRecordingSpec is one publisher's individual recording, as the
// control plane resolved it from its stage's autoParticipantRecordingConfiguration.
type ParticipantRecordingSpec struct {
	StageARN, SessionID, ParticipantID string
	Bucket                             string
	// Prefix is <stageId>/<sessionId>/<participantId>/<timestamp>.
	Prefix string
	// AudioOnly records no video (mediaTypes AUDIO_ONLY).
	AudioOnly bool
	// TargetSegment is hlsConfiguration.targetSegmentDurationSeconds.
	TargetSegment time.Duration
	// ThumbnailInterval is 0 when thumbnails are DISABLED.
	ThumbnailInterval time.Duration
	// ThumbnailStorage holds "SEQUENTIAL" and/or "LATEST".
	ThumbnailStorage []string
}

// ParticipantRecording is a running individual recording. Stop finalizes
// it in storage (it is called once). Resume continues it, after a gap, with the participant's
// new publish (same stage and participant id): the merge of
// recordingReconnectWindowSeconds. Between a publish ending and Resume or
// Stop the recording holds its segments open and records nothing.
type ParticipantRecording interface {
	Stop(ctx context.Context) error
	Resume(ctx context.Context) error
}

// ParticipantRecorderFactory starts a participant's recording. The
// Reporter's Destination reports the recording's state under the
// participant id.
type ParticipantRecorderFactory func(ctx context.Context, spec ParticipantRecordingSpec, r Reporter) (ParticipantRecording, error)
