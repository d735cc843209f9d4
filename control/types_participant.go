package control

import (
	"time"

	"github.com/tessera-media/tessera/ingest"
)

// Participant is the API's Participant.
type Participant struct {
	ParticipantID string            `json:"participantId"`
	UserID        string            `json:"userId,omitempty"`
	State         string            `json:"state"`
	FirstJoinTime string            `json:"firstJoinTime,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Published     bool              `json:"published"`
	Protocol      string            `json:"protocol,omitempty"`
	// Individual recording (participant_recordings.go); the bucket and
	// prefix are "" when the participant is not recorded, as IVS.
	RecordingState        string `json:"recordingState,omitempty"`
	RecordingS3BucketName string `json:"recordingS3BucketName"`
	RecordingS3Prefix     string `json:"recordingS3Prefix"`
	// IngestConfigurationARN names an RTMP(S) participant's ingest
	// configuration.
	IngestConfigurationARN string `json:"ingestConfigurationArn,omitempty"`
	// The publisher's client, from its User-Agent header (useragent.go).
	BrowserName    string `json:"browserName,omitempty"`
	BrowserVersion string `json:"browserVersion,omitempty"`
	OSName         string `json:"osName,omitempty"`
	OSVersion      string `json:"osVersion,omitempty"`
	SDKVersion     string `json:"sdkVersion,omitempty"`
}

// ParticipantSummary is the API's ParticipantSummary.
type ParticipantSummary struct {
	ParticipantID  string `json:"participantId"`
	UserID         string `json:"userId,omitempty"`
	State          string `json:"state"`
	FirstJoinTime  string `json:"firstJoinTime,omitempty"`
	Published      bool   `json:"published"`
	RecordingState string `json:"recordingState,omitempty"`
}

// summary is p as ListParticipants shows it.
func (p Participant) summary() ParticipantSummary {
	return ParticipantSummary{ParticipantID: p.ParticipantID, UserID: p.UserID, State: p.State,
		FirstJoinTime: p.FirstJoinTime, Published: p.Published, RecordingState: p.RecordingState}
}

// ParticipantEvent is the API's Event.
type ParticipantEvent struct {
	Name                string `json:"name"`
	ParticipantID       string `json:"participantId"`
	EventTime           string `json:"eventTime"`
	RemoteParticipantID string `json:"remoteParticipantId,omitempty"`
	ErrorCode           string `json:"errorCode,omitempty"`
	// PreviousToken and NewToken describe a TOKEN_EXCHANGED event's tokens.
	PreviousToken *ExchangedParticipantToken `json:"previousToken,omitempty"`
	NewToken      *ExchangedParticipantToken `json:"newToken,omitempty"`
}

// ExchangedParticipantToken is the API's ExchangedParticipantToken.
type ExchangedParticipantToken struct {
	Capabilities   []string          `json:"capabilities"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	UserID         string            `json:"userId,omitempty"`
	ExpirationTime string            `json:"expirationTime,omitempty"`
}

// eventOf is an ingest event as the API shows it.
func eventOf(e ingest.Event) ParticipantEvent {
	return ParticipantEvent{Name: e.Name, ParticipantID: e.ParticipantID, EventTime: timestamp(e.Time), ErrorCode: e.ErrorCode,
		PreviousToken: exchangedToken(e.PreviousToken), NewToken: exchangedToken(e.NewToken)}
}

// exchangedToken describes a token's claims; nil for nil.
func exchangedToken(c *ingest.Claims) *ExchangedParticipantToken {
	if c == nil {
		return nil
	}
	t := &ExchangedParticipantToken{Capabilities: []string{}, Attributes: c.Attributes, UserID: c.UserID,
		ExpirationTime: timestamp(time.Unix(c.ExpiresAt, 0).UTC())}
	if c.Capabilities.AllowPublish {
		t.Capabilities = append(t.Capabilities, "PUBLISH")
	}
	if c.Capabilities.AllowSubscribe {
		t.Capabilities = append(t.Capabilities, "SUBSCRIBE")
	}
	return t
}

type disconnectParticipantRequest struct {
	StageARN      string `json:"stageArn"`
	ParticipantID string `json:"participantId"`
	Reason        string `json:"reason"`
}

type listParticipantsRequest struct {
	StageARN               string `json:"stageArn"`
	SessionID              string `json:"sessionId"`
	FilterByUserID         string `json:"filterByUserId"`
	FilterByPublished      *bool  `json:"filterByPublished"`
	FilterByState          string `json:"filterByState"`
	FilterByRecordingState string `json:"filterByRecordingState"`
	listRequest
}

type listParticipantsResponse struct {
	NextToken    string               `json:"nextToken,omitempty"`
	Participants []ParticipantSummary `json:"participants"`
}

type getParticipantRequest struct {
	StageARN      string `json:"stageArn"`
	SessionID     string `json:"sessionId"`
	ParticipantID string `json:"participantId"`
}

type getParticipantResponse struct {
	Participant Participant `json:"participant"`
}

type listParticipantEventsRequest struct {
	StageARN      string `json:"stageArn"`
	SessionID     string `json:"sessionId"`
	ParticipantID string `json:"participantId"`
	listRequest
}

type listParticipantEventsResponse struct {
	Events    []ParticipantEvent `json:"events"`
	NextToken string             `json:"nextToken,omitempty"`
}
