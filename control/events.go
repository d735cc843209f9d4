package control

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/control/store"
	"github.com/tessera-media/tessera/ingest"
)

// The events the server sends to its webhooks, shaped as IVS sends them to
// Amazon EventBridge: source "aws.ivs", a detail-type, the resources they
// concern and a detail object.

// Detail types.
const (
	DetailCompositionStateChange = "IVS Composition State Change"
	DetailStageUpdate            = "IVS Stage Update"
	// DetailParticipantRecordingStateChange is an individual participant
	// recording's (participant_recordings.go).
	DetailParticipantRecordingStateChange = "IVS Participant Recording State Change"
)

// Composition event names (DetailCompositionStateChange).
const (
	EventSessionStart            = "Session Start"
	EventSessionEnd              = "Session End"
	EventSessionFailure          = "Session Failure"
	EventDestinationStart        = "Destination Start"
	EventDestinationEnd          = "Destination End"
	EventDestinationFailure      = "Destination Failure"
	EventDestinationReconnecting = "Destination Reconnecting"
)

// Stage event names (DetailStageUpdate).
const (
	EventParticipantPublished    = "Participant Published"
	EventParticipantUnpublished  = "Participant Unpublished"
	EventParticipantPublishError = "Participant Publish Error"
	EventTokenExchanged          = "Token Exchanged"
)

// Participant recording event names (DetailParticipantRecordingStateChange).
const (
	EventRecordingStart        = "Recording Start"
	EventRecordingEnd          = "Recording End"
	EventRecordingStartFailure = "Recording Start Failure"
	EventRecordingEndFailure   = "Recording End Failure"
)

// stageEventNames maps the participant events that IVS also sends to
// EventBridge to their event names there. Joins, leaves and subscriptions
// exist only in ListParticipantEvents.
var stageEventNames = map[string]string{
	ingest.EventPublishStarted: EventParticipantPublished,
	ingest.EventPublishStopped: EventParticipantUnpublished,
	ingest.EventPublishError:   EventParticipantPublishError,
	ingest.EventTokenExchanged: EventTokenExchanged,
}

// Event is an EventBridge-shaped event.
type Event struct {
	Version    string   `json:"version"` // "0"
	ID         string   `json:"id"`      // a UUID
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"` // "aws.ivs"
	Account    string   `json:"account"`
	Time       string   `json:"time"` // RFC 3339, seconds
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
	// Detail is an EventDetail, a StageUpdateDetail or a
	// ParticipantRecordingDetail.
	Detail any `json:"detail"`

	// stage orders delivery: the events of one stage reach a webhook in
	// the order they happened.
	stage string
}

// EventDetail is the detail of a composition event: resources holds the
// composition's ARN.
type EventDetail struct {
	EventName      string `json:"event_name"`
	StageARN       string `json:"stage_arn,omitempty"`
	DestinationID  string `json:"destination_id,omitempty"`
	DestinationARN string `json:"destination_arn,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// StageUpdateDetail is the detail of a stage event: resources holds the
// stage's ARN. ErrorCode, an EventErrorCode of the API, is set on Participant
// Publish Error only.
type StageUpdateDetail struct {
	SessionID     string `json:"session_id"`
	EventName     string `json:"event_name"`
	UserID        string `json:"user_id"`
	ParticipantID string `json:"participant_id"`
	EventTime     string `json:"event_time"`
	ErrorCode     string `json:"error_code,omitempty"`
}

// ParticipantRecordingDetail is the detail of a participant recording
// event: resources holds the stage's ARN; the bucket and key prefix are
// the recording's.
type ParticipantRecordingDetail struct {
	SessionID     string `json:"session_id"`
	EventName     string `json:"event_name"`
	ParticipantID string `json:"participant_id"`
	BucketName    string `json:"recording_s3_bucket_name"`
	KeyPrefix     string `json:"recording_s3_key_prefix"`
}

// eventName is an event's detail's event_name.
func (e Event) eventName() string {
	switch d := e.Detail.(type) {
	case EventDetail:
		return d.EventName
	case StageUpdateDetail:
		return d.EventName
	case ParticipantRecordingDetail:
		return d.EventName
	}
	return ""
}

// newEvent makes an event of this server's account and region.
func (s *Server) newEvent(detailType, stage string, at time.Time, resource string, detail any) Event {
	return Event{Version: "0", ID: newUUID(), DetailType: detailType, Source: "aws.ivs", Account: s.cfg.AccountID,
		Time: at.UTC().Format(time.RFC3339), Region: s.cfg.Region, Resources: []string{resource}, Detail: detail, stage: stage}
}

// compositionEvent sends a composition state change.
func (s *Server) compositionEvent(spec contract.CompositionSpec, name, dest, reason string) {
	d := EventDetail{EventName: name, StageARN: spec.StageARN, DestinationID: dest, Reason: reason}
	for _, ds := range spec.Destinations {
		if ds.ID == dest {
			d.DestinationARN = ds.ChannelARN + ds.StorageARN
		}
	}
	s.notifier.Notify(s.newEvent(DetailCompositionStateChange, spec.StageARN, time.Now(), spec.ARN, d))
}

// stageEvent sends the stage update of a participant event, if IVS sends
// one for it; the caller holds the stage session's lock, which orders a
// stage's events.
func (s *Server) stageEvent(ctx context.Context, stageARN, sessionID string, e ingest.Event) {
	name, ok := stageEventNames[e.Name]
	if !ok {
		return
	}
	d := StageUpdateDetail{SessionID: sessionID, EventName: name, ParticipantID: e.ParticipantID, EventTime: timestamp(e.Time), ErrorCode: e.ErrorCode}
	var p Participant
	r, err := s.store.Get(ctx, participantKey(stageARN, sessionID, e.ParticipantID))
	if err == nil {
		err = json.Unmarshal(r.Doc, &p)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("loading participant", "err", err)
	}
	d.UserID = p.UserID
	s.notifier.Notify(s.newEvent(DetailStageUpdate, stageARN, e.Time, stageARN, d))
}
