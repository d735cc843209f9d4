package control

import (
	"github.com/tessera-media/tessera/contract"
	"github.com/tessera-media/tessera/layout"
)

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

// startCompositionRequest is StartComposition's input. Its JSON encoding
// (without the token, tags never null) identifies a request for
// idempotency: the stored hashes depend on its members and their order.
type startCompositionRequest struct {
	StageARN         string                     `json:"stageArn"`
	IdempotencyToken string                     `json:"idempotencyToken"`
	Layout           *layout.Config             `json:"layout"`
	Destinations     []DestinationConfiguration `json:"destinations"`
	Tags             map[string]string          `json:"tags"`
}

// compositionResponse is StartComposition's and GetComposition's output.
type compositionResponse struct {
	Composition Composition `json:"composition"`
}

type listCompositionsRequest struct {
	FilterByStageARN                string `json:"filterByStageArn"`
	FilterByEncoderConfigurationARN string `json:"filterByEncoderConfigurationArn"`
	listRequest
}

type listCompositionsResponse struct {
	Compositions []CompositionSummary `json:"compositions"`
	NextToken    string               `json:"nextToken,omitempty"`
}

// summary is c as ListCompositions shows it.
func (c Composition) summary() CompositionSummary {
	sum := CompositionSummary{ARN: c.ARN, StageARN: c.StageARN, State: c.State, Tags: c.Tags,
		StartTime: c.StartTime, EndTime: c.EndTime, Destinations: []DestinationSummary{}}
	for _, d := range c.Destinations {
		sum.Destinations = append(sum.Destinations, DestinationSummary{ID: d.ID, State: d.State, StartTime: d.StartTime, EndTime: d.EndTime})
	}
	return sum
}
