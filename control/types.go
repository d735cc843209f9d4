package control

import (
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/layout"
)

// The wire types of the resources, named and shaped as in the ivs-realtime
// model. Timestamps are RFC 3339 UTC strings; optional members are
// pointers or omitempty so that responses carry exactly what IVS sends.

// Stage is the API's Stage.
type Stage struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	ActiveSessionID string            `json:"activeSessionId,omitempty"`
	Tags            map[string]string `json:"tags"`
	Endpoints       StageEndpoints    `json:"endpoints"`
}

// StageEndpoints are where participants connect; whip is Tessera's WHIP
// endpoint.
type StageEndpoints struct {
	Events string `json:"events,omitempty"`
	WHIP   string `json:"whip,omitempty"`
	RTMP   string `json:"rtmp,omitempty"`
	RTMPS  string `json:"rtmps,omitempty"`
}

// StageSummary is the API's StageSummary.
type StageSummary struct {
	ARN             string            `json:"arn"`
	Name            string            `json:"name"`
	ActiveSessionID string            `json:"activeSessionId,omitempty"`
	Tags            map[string]string `json:"tags"`
}

// ParticipantTokenConfiguration is a token request (CreateStage,
// CreateParticipantToken).
type ParticipantTokenConfiguration struct {
	Duration     *int              `json:"duration,omitempty"`
	UserID       string            `json:"userId,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
}

// ParticipantToken is the API's ParticipantToken.
type ParticipantToken struct {
	ParticipantID  string            `json:"participantId"`
	Token          string            `json:"token"`
	UserID         string            `json:"userId,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
	Duration       int               `json:"duration"`
	Capabilities   []string          `json:"capabilities"`
	ExpirationTime string            `json:"expirationTime"`
}

// Video is an encoder configuration's video settings.
type Video struct {
	Width     *int     `json:"width,omitempty"`
	Height    *int     `json:"height,omitempty"`
	Framerate *float64 `json:"framerate,omitempty"`
	Bitrate   *int     `json:"bitrate,omitempty"`
}

// EncoderConfiguration is the API's EncoderConfiguration.
type EncoderConfiguration struct {
	ARN   string            `json:"arn"`
	Name  string            `json:"name"`
	Video Video             `json:"video"`
	Tags  map[string]string `json:"tags"`
}

// S3StorageConfiguration names the bucket.
type S3StorageConfiguration struct {
	BucketName string `json:"bucketName"`
}

// StorageConfiguration is the API's StorageConfiguration.
type StorageConfiguration struct {
	ARN  string                  `json:"arn"`
	Name string                  `json:"name"`
	S3   *S3StorageConfiguration `json:"s3,omitempty"`
	Tags map[string]string       `json:"tags"`
}

// ChannelDestinationConfiguration pushes to a channel.
type ChannelDestinationConfiguration struct {
	ChannelARN              string `json:"channelArn"`
	EncoderConfigurationARN string `json:"encoderConfigurationArn,omitempty"`
}

// HLSConfiguration is CompositionRecordingHlsConfiguration.
type HLSConfiguration struct {
	TargetSegmentDurationSeconds *int `json:"targetSegmentDurationSeconds,omitempty"`
}

// RecordingConfiguration is an s3 destination's recording format.
type RecordingConfiguration struct {
	HLSConfiguration *HLSConfiguration `json:"hlsConfiguration,omitempty"`
	Format           string            `json:"format,omitempty"`
}

// ThumbnailConfiguration is CompositionThumbnailConfiguration.
type ThumbnailConfiguration struct {
	TargetIntervalSeconds *int     `json:"targetIntervalSeconds,omitempty"`
	Storage               []string `json:"storage,omitempty"`
}

// S3DestinationConfiguration records HLS into a storage configuration.
type S3DestinationConfiguration struct {
	StorageConfigurationARN  string                   `json:"storageConfigurationArn"`
	EncoderConfigurationARNs []string                 `json:"encoderConfigurationArns"`
	RecordingConfiguration   *RecordingConfiguration  `json:"recordingConfiguration,omitempty"`
	ThumbnailConfigurations  []ThumbnailConfiguration `json:"thumbnailConfigurations,omitempty"`
}

// DestinationConfiguration is one requested destination.
type DestinationConfiguration struct {
	Name    string                           `json:"name,omitempty"`
	Channel *ChannelDestinationConfiguration `json:"channel,omitempty"`
	S3      *S3DestinationConfiguration      `json:"s3,omitempty"`
}

// Destination is a composition's destination.
type Destination struct {
	ID            string                   `json:"id"`
	State         contract.State           `json:"state"`
	StartTime     string                   `json:"startTime,omitempty"`
	EndTime       string                   `json:"endTime,omitempty"`
	Configuration DestinationConfiguration `json:"configuration"`
	Detail        *DestinationDetail       `json:"detail,omitempty"`
}

// DestinationDetail carries the recording prefix of s3 destinations.
type DestinationDetail struct {
	S3 *S3Detail `json:"s3,omitempty"`
}

// S3Detail is where a recording lands.
type S3Detail struct {
	RecordingPrefix string `json:"recordingPrefix"`
}

// Composition is the API's Composition.
type Composition struct {
	ARN          string            `json:"arn"`
	StageARN     string            `json:"stageArn"`
	State        contract.State    `json:"state"`
	Layout       layout.Config     `json:"layout"`
	Destinations []Destination     `json:"destinations"`
	Tags         map[string]string `json:"tags"`
	StartTime    string            `json:"startTime,omitempty"`
	EndTime      string            `json:"endTime,omitempty"`
}

// DestinationSummary is the API's DestinationSummary.
type DestinationSummary struct {
	ID        string         `json:"id"`
	State     contract.State `json:"state"`
	StartTime string         `json:"startTime,omitempty"`
	EndTime   string         `json:"endTime,omitempty"`
}

// CompositionSummary is the API's CompositionSummary.
type CompositionSummary struct {
	ARN          string               `json:"arn"`
	StageARN     string               `json:"stageArn"`
	Destinations []DestinationSummary `json:"destinations"`
	State        contract.State       `json:"state"`
	Tags         map[string]string    `json:"tags"`
	StartTime    string               `json:"startTime,omitempty"`
	EndTime      string               `json:"endTime,omitempty"`
}

// Participant is the API's Participant (and, with fewer members shown,
// ParticipantSummary).
type Participant struct {
	ParticipantID string            `json:"participantId"`
	UserID        string            `json:"userId,omitempty"`
	State         string            `json:"state"`
	FirstJoinTime string            `json:"firstJoinTime,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	Published     bool              `json:"published"`
	Protocol      string            `json:"protocol,omitempty"`
}

// ParticipantEvent is the API's Event.
type ParticipantEvent struct {
	Name                string `json:"name"`
	ParticipantID       string `json:"participantId"`
	EventTime           string `json:"eventTime"`
	RemoteParticipantID string `json:"remoteParticipantId,omitempty"`
	ErrorCode           string `json:"errorCode,omitempty"`
}
